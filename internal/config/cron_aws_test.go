package config

import (
	"strings"
	"testing"
)

// The examples of the EventBridge User Guide ("Cron expressions
// reference" and EventBridge Scheduler's "Schedule types"), each with the
// next fire times EventBridge documents for it. 2024-01-01 is a Monday.
func TestNextEventBridgeExamples(t *testing.T) {
	tests := []struct {
		expr, meaning, from string
		want                []string // the next fire times, in order; "" = none
	}{
		{"0 10 * * ? *", "10:00 every day", "2024-01-01 10:00:00",
			[]string{"2024-01-02 10:00:00", "2024-01-03 10:00:00"}},
		{"15 12 * * ? *", "12:15 every day", "2024-01-01 00:00:00",
			[]string{"2024-01-01 12:15:00", "2024-01-02 12:15:00"}},
		{"0 18 ? * MON-FRI *", "18:00 Monday to Friday", "2024-01-04 19:00:00",
			[]string{"2024-01-05 18:00:00", "2024-01-08 18:00:00"}},
		{"0 8 1 * ? *", "08:00 on the first of the month", "2024-01-01 08:00:00",
			[]string{"2024-02-01 08:00:00", "2024-03-01 08:00:00"}},
		{"0/15 * * * ? *", "every 15 minutes", "2024-01-01 00:50:00",
			[]string{"2024-01-01 01:00:00", "2024-01-01 01:15:00", "2024-01-01 01:30:00", "2024-01-01 01:45:00", "2024-01-01 02:00:00"}},
		{"0/10 * ? * MON-FRI *", "every 10 minutes Monday to Friday", "2024-01-05 23:45:00",
			[]string{"2024-01-05 23:50:00", "2024-01-08 00:00:00", "2024-01-08 00:10:00"}},
		{"0/5 8-17 ? * MON-FRI *", "every 5 minutes from 08:00 to 17:55 Monday to Friday", "2024-01-08 17:50:00",
			[]string{"2024-01-08 17:55:00", "2024-01-09 08:00:00"}},
		{"0 9 ? * 2#1 *", "09:00 on the first Monday of the month", "2024-01-01 09:00:00",
			[]string{"2024-02-05 09:00:00", "2024-03-04 09:00:00"}},
		{"0 12 ? * 3#2 *", "12:00 on the second Tuesday (3#2)", "2024-01-01 00:00:00",
			[]string{"2024-01-09 12:00:00", "2024-02-13 12:00:00"}},
		{"15 10 ? * 6L 2019-2022", "10:15 on the last Friday of the month, 2019 to 2022", "2019-01-01 00:00:00",
			[]string{"2019-01-25 10:15:00", "2019-02-22 10:15:00"}},
		{"15 10 ? * 6L 2019-2022", "… and never after 2022", "2022-12-30 10:15:00", []string{""}},
		// The example: 2-6 is Monday to Friday, never Saturday.
		{"0 5 ? * 2-6 *", "05:00 Monday to Friday", "2024-01-05 05:00:00",
			[]string{"2024-01-08 05:00:00", "2024-01-09 05:00:00", "2024-01-10 05:00:00", "2024-01-11 05:00:00", "2024-01-12 05:00:00", "2024-01-15 05:00:00"}},
		// The README's example.
		{"0 5 ? * MON-FRI *", "05:00 Monday to Friday", "2024-01-05 05:00:00",
			[]string{"2024-01-08 05:00:00", "2024-01-09 05:00:00"}},
		{"0 0 ? * 1 *", "1 is Sunday", "2024-01-01 00:00:00", []string{"2024-01-07 00:00:00", "2024-01-14 00:00:00"}},
		{"0 0 ? * 7 *", "7 is Saturday", "2024-01-01 00:00:00", []string{"2024-01-06 00:00:00", "2024-01-13 00:00:00"}},
		{"0 0 ? * 1,7 *", "the weekend", "2024-01-01 00:00:00", []string{"2024-01-06 00:00:00", "2024-01-07 00:00:00", "2024-01-13 00:00:00"}},
		{"0 0 ? * L *", "L alone: the week's last day, Saturday", "2024-01-01 00:00:00", []string{"2024-01-06 00:00:00", "2024-01-13 00:00:00"}},
		{"0 0 ? * FRIL *", "the last Friday, by name", "2024-01-01 00:00:00", []string{"2024-01-26 00:00:00", "2024-02-23 00:00:00"}},
		{"0 0 L * ? *", "the month's last day", "2024-02-01 00:00:00", []string{"2024-02-29 00:00:00", "2024-03-31 00:00:00"}},
		{"0 1 ? * SUN#1 *", "the first Sunday, by name", "2024-01-01 00:00:00", []string{"2024-01-07 01:00:00", "2024-02-04 01:00:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" from "+tt.from, func(t *testing.T) {
			f, err := ParseFrequency(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			from := utc(tt.from)
			for i, want := range tt.want {
				got, ok := f.Next(from)
				if want == "" {
					if ok {
						t.Errorf("%s (%s): fire %d = %v, want none", tt.expr, tt.meaning, i+1, got)
					}
					return
				}
				if !ok || !got.Equal(utc(want)) {
					t.Fatalf("%s (%s): fire %d after %v = %v, %v; want %s", tt.expr, tt.meaning, i+1, from, got, ok, want)
				}
				from = got
			}
		})
	}
}

// The five-field (Unix) dialect is unchanged: 0 and 7 are Sunday, 2-6 is
// Tuesday to Saturday, L5 the last Friday.
func TestFiveFieldDialectUnchanged(t *testing.T) {
	tests := []struct{ expr, from, want string }{
		{"0 5 * * 2-6", "2024-01-05 05:00:00", "2024-01-06 05:00:00"},
		{"0 0 * * 0", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
		{"0 0 * * 7", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
		{"0 0 * * L5", "2024-01-01 00:00:00", "2024-01-26 00:00:00"},
		{"0 1 ? * 1#1", "2024-01-02 00:00:00", "2024-02-05 01:00:00"},
		{"@weekly", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
	}
	for _, tt := range tests {
		f, err := ParseFrequency(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := f.Next(utc(tt.from)); !ok || !got.Equal(utc(tt.want)) {
			t.Errorf("%s from %s = %v, %v; want %s", tt.expr, tt.from, got, ok, tt.want)
		}
	}
}

func TestParseFrequencyRejectsWhatEventBridgeRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0 5 ? * 0 *", `day-of-week "0": "0": 0 is not a weekday in the six-field (EventBridge) dialect, where 1 is SUN and 7 is SAT; write SUN, or use five fields where 0 is Sunday`},
		{"0 5 ? * 0-4 *", `0 is not a weekday in the six-field (EventBridge) dialect`},
		{"0 5 ? * 8 *", `day-of-week "8": "8": 8 is out of range 1-7 (1 = SUN … 7 = SAT)`},
		{"0 0 ? * 3#1,6#3 *", `"3#1": a <weekday>#<week> must be the only item of day-of-week (EventBridge rejects "3#1,6#3")`},
		{"0 0 ? * */2 *", `"*/2": EventBridge does not allow / in day-of-week; list the days, e.g. MON,WED,FRI`},
		{"0 0 ? * L6 *", `"l6": in the six-field (EventBridge) dialect the last such weekday of the month is <weekday>L, e.g. 6L for the last Friday`},
		{"0 0 ? * 6#6 *", `"6#6": the week after # must be 1 to 5`},
		{"0 0 ? * FRI-MON *", `"fri-mon": range start FRI is after its end MON (the week runs SUN to SAT)`},
		{"0 0 ? * funday *", `"funday": "funday" is not a weekday: use 1-7 (1 = SUN) or SUN-SAT`},
		{"0 0 15W * ? *", `day-of-month "15w": "15w": W (nearest weekday) is not supported`},
		{"0 0 LW * ? *", `"lw": W (nearest weekday) is not supported`},
		{"0 0 L-2 * ? *", `"l-2": only L alone (the month's last day) is supported in day-of-month`},
		{"0 0 ?,1 * MON *", `day-of-month "?,1": "?" must stand alone in its field`},
		{"0 0 1 * ?,1 *", `day-of-week "?,1": "?" must stand alone in its field`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFrequency(tt.in)
			if err == nil {
				t.Fatalf("ParseFrequency(%q) = %v, want an error", tt.in, f)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFrequency(%q) error\ngot  %s\nwant it to contain %s", tt.in, err, tt.want)
			}
		})
	}
}
