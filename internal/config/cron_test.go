package config

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseFrequency(t *testing.T) {
	tests := []struct {
		in    string
		cron  bool
		every time.Duration
	}{
		{in: "12 hours", every: 12 * time.Hour},
		{in: "1d12h", every: 36 * time.Hour},
		{in: "1:30", every: 90 * time.Second},
		{in: "0 days"},
		{in: "-1 day", every: -24 * time.Hour},
		{in: "0 1 ? * SUN", cron: true},
		{in: "0 5 * * ? *", cron: true},
		{in: "@hourly", cron: true},
		{in: " @Daily ", cron: true},
		{in: "30 * * * *", cron: true},
		{in: "0 0 L * *", cron: true},
		{in: "0 0 * * L5", cron: true},
		{in: "0 1 ? * sun#1", cron: true},
		{in: "0 0 * * * 2001", cron: true}, // fired once; Next says when it cannot any more
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFrequency(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.String() != tt.in || f.IsCron() != tt.cron || f.Every() != tt.every {
				t.Errorf("got String %q IsCron %v Every %v; want %q %v %v", f, f.IsCron(), f.Every(), tt.in, tt.cron, tt.every)
			}
		})
	}
}

func TestParseFrequencyRejects(t *testing.T) {
	const hint = `use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h", or a cron expression in UTC, e.g. "0 1 * * sun"`
	tests := []struct{ in, want string }{
		{"5", "not a duration or cron expression: a number needs a unit; " + hint},
		{"1 month", "not a duration or cron expression: months and years are not supported; " + hint},
		{"weekly", "not a duration or cron expression: " + hint},
		{"@fortnightly", "bad cron expression: a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (and year), got 1"},
		{"0 0 1 1 * * *", "bad cron expression: 7 fields (with seconds) are not supported: use minute hour day-of-month month day-of-week [year]"},
		{"0 0 30 2 *", "bad cron expression: never fires between 1970 and 2099"},
		{"0 0 31 4,6,9,11 *", "bad cron expression: never fires between 1970 and 2099"},
		{"0 0 * * * 1969", `bad cron expression: year "1969": 1969 is out of range 1970-2099`},
		{"60 * * * *", `bad cron expression: minute "60": 60 is out of range 0-59`},
		{"* 24 * * *", `bad cron expression: hour "24": 24 is out of range 0-23`},
		{"* * 0 * *", `bad cron expression: day-of-month "0": 0 is out of range 1-31`},
		{"* * * 13 *", `bad cron expression: month "13": 13 is out of range 1-12`},
		{"* * * * 8", `bad cron expression: day-of-week "8": 8 is out of range 0-7`},
		{"* * * foo *", `bad cron expression: month "foo": "foo" is not a number or a name`},
		{"? * * * *", `bad cron expression: minute "?": "?" is only allowed in day-of-month and day-of-week`},
		{"5-1 * * * *", `bad cron expression: minute "5-1": "5-1": range start 5 is after its end 1`},
		{"*/0 * * * *", `bad cron expression: minute "*/0": "*/0": the step after / must be a positive number`},
		{"1,,2 * * * *", `bad cron expression: minute "1,,2": "" is not a number`},
		{"0 0 * * L", `bad cron expression: day-of-week "l": "l": L must be followed by a weekday number 0-7 or a range of them, e.g. L5 (last Friday)`},
		{"0 0 * * L5-3", `bad cron expression: day-of-week "l5-3": "l5-3": L must be followed by a weekday number 0-7 or a range of them, e.g. L5 (last Friday)`},
		{"0 0 L5 * *", `bad cron expression: day-of-month "l5": "l5": L alone (last day of the month) belongs in day-of-month, L<weekday> (e.g. L5, the last Friday) in day-of-week`},
		{"0 0 * * 5L", `bad cron expression: day-of-week "5l": "5l": write the last such weekday of the month as L<weekday>, e.g. L5 for the last Friday`},
		{"0 0 15W * *", `bad cron expression: day-of-month "15w": "15w": W (nearest weekday) is not supported`},
		{"0 0 1#2 * *", `bad cron expression: day-of-month "1#2": "1#2": # belongs in day-of-week, as <weekday>#<week>, e.g. sun#1`},
		{"0 0 * * 5#6", `bad cron expression: day-of-week "5#6": "5#6": the week after # must be 1 to 5`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFrequency(tt.in)
			if err == nil {
				t.Fatalf("ParseFrequency(%q) = %v, want error", tt.in, f)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseFrequency(%q) error\ngot  %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		expr, from, want string // want "" = no fire
	}{
		// parse-crontab's example: +300 s from 11:25, +3300 s from 11:35.
		{"30 * * * *", "2011-07-17 11:25:00", "2011-07-17 11:30:00"},
		{"30 * * * *", "2011-07-17 11:35:00", "2011-07-17 12:30:00"},
		{"30 * * * *", "2011-07-17 11:30:00", "2011-07-17 12:30:00"}, // strictly after
		{"30 * * * *", "2011-07-17 11:29:59", "2011-07-17 11:30:00"},
		{"0 1 ? * SUN", "2016-07-24 01:05:00", "2016-07-31 01:00:00"},
		{"@hourly", "2016-07-24 02:35:00", "2016-07-24 03:00:00"},
		{"@daily", "2016-12-31 23:59:59", "2017-01-01 00:00:00"},
		{"@weekly", "2016-07-20 00:00:00", "2016-07-24 00:00:00"},
		{"@monthly", "2016-07-01 00:00:00", "2016-08-01 00:00:00"},
		{"@yearly", "2016-07-01 00:00:00", "2017-01-01 00:00:00"},
		{"0 5 * * ? *", "2016-07-24 05:00:00", "2016-07-25 05:00:00"},
		{"0 0 29 2 *", "2021-03-01 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 31 * *", "2024-04-01 00:00:00", "2024-05-31 00:00:00"},
		{"0 0 L * *", "2024-02-01 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 L * *", "2023-02-01 00:00:00", "2023-02-28 00:00:00"},
		{"0 0 L * *", "2024-07-17 00:00:00", "2024-07-31 00:00:00"}, // parse-crontab 0.21.3 said July 30
		{"0 0 L,15 * *", "2024-07-15 00:00:00", "2024-07-31 00:00:00"},
		{"0 0 * * L5", "2024-01-01 00:00:00", "2024-01-26 00:00:00"},
		{"0 0 * * L0-1", "2024-01-01 00:00:00", "2024-01-28 00:00:00"},
		{"0 0 * * L7", "2024-01-29 00:00:00", "2024-02-25 00:00:00"},
		{"0 1 ? * sun#1", "2024-01-01 00:00:00", "2024-01-07 01:00:00"},
		{"0 1 ? * 5#5", "2024-01-01 00:00:00", "2024-03-29 01:00:00"},
		{"0 0 * * sat-sun", "2024-01-01 00:00:00", "2024-01-06 00:00:00"},
		{"0 0 * * 5-0", "2024-01-06 00:00:00", "2024-01-07 00:00:00"},
		{"0 0 * * 7", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
		{"0 0 * * */2", "2024-01-01 00:00:00", "2024-01-02 00:00:00"}, // 0,2,4,6: Tuesday
		{"*/7 * * * *", "2024-01-01 00:56:00", "2024-01-01 01:00:00"},
		{"15/20 * * * *", "2024-01-01 00:56:00", "2024-01-01 01:15:00"},
		{"0 0 * jan-mar,DEC *", "2024-04-01 00:00:00", "2024-12-01 00:00:00"},
		// Both day fields restricted: days must match both, as parse-crontab.
		{"0 0 13 * 5", "2024-01-01 00:00:00", "2024-09-13 00:00:00"},
		{"0 0 1 * 1", "2024-01-01 00:00:00", "2024-04-01 00:00:00"},
		{"59 23 31 12 * 2099", "2099-12-31 23:58:00", "2099-12-31 23:59:00"},
		{"59 23 31 12 * 2099", "2099-12-31 23:59:00", ""},
		{"0 0 1 1 * 2030", "2030-01-01 00:00:00", ""},
		{"0 0 * * * 1970-1975/2", "1960-01-01 00:00:00", "1970-01-01 00:00:00"},
		{"0 0 * * * 1970-1975/2", "1970-12-31 12:00:00", "1972-01-01 00:00:00"},
		{"* * * * *", "2100-01-01 00:00:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" from "+tt.from, func(t *testing.T) {
			f, err := ParseFrequency(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := f.Next(utc(tt.from))
			if tt.want == "" {
				if ok {
					t.Errorf("Next = %v, want none", got)
				}
				return
			}
			if want := utc(tt.want); !ok || !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("Next = %v, %v; want %v", got, ok, want)
			}
		})
	}
}

func TestNextDurationAndZone(t *testing.T) {
	f, _ := ParseFrequency("12 hours")
	from := utc("2026-11-20 10:00:07")
	if got, ok := f.Next(from); !ok || !got.Equal(from.Add(12*time.Hour)) {
		t.Errorf("Next = %v, %v", got, ok)
	}
	c, _ := ParseFrequency("0 1 * * *")
	tokyo := time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
	if got, _ := c.Next(tokyo); !got.Equal(utc("2026-03-02 01:00:00")) {
		t.Errorf("Next from 09:30 JST = %v, want 01:00 UTC the same day", got)
	}
}

// matchesAt is a direct reading of the rules, used to check next's bit
// arithmetic: parse-crontab requires every field to match.
func (c *cronSchedule) matchesAt(t time.Time) bool {
	y, m, d := t.Date()
	if y < cronMinYear || y > cronMaxYear || t.Second() != 0 || t.Nanosecond() != 0 {
		return false
	}
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	w := t.Weekday()
	dom := c.dom&(1<<d) != 0 || c.lastDom && d == last
	dow := c.dow&(1<<w) != 0 || c.lastDow&(1<<w) != 0 && t.AddDate(0, 0, 7).Month() != m ||
		c.nthDow[w]&(1<<((d-1)/7+1)) != 0
	return c.years[(y-cronMinYear)/64]&(1<<((y-cronMinYear)%64)) != 0 && c.month&(1<<m) != 0 &&
		c.hour&(1<<t.Hour()) != 0 && c.minute&(1<<t.Minute()) != 0 && dom && dow
}

// bruteNext finds the first match at or after t (a whole minute) day by
// day, then minute by minute within the day.
func (c *cronSchedule) bruteNext(t time.Time) (time.Time, bool) {
	if t.Year() < cronMinYear {
		t = time.Date(cronMinYear, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for day := t.Truncate(24 * time.Hour); day.Year() <= cronMaxYear; day = day.AddDate(0, 0, 1) {
		noon := day.Add(12 * time.Hour)
		probe := *c
		probe.hour, probe.minute = 1<<12, 1
		if !probe.matchesAt(noon) {
			continue
		}
		m := day
		if t.After(m) {
			m = t
		}
		for ; m.Before(day.Add(24 * time.Hour)); m = m.Add(time.Minute) {
			if c.matchesAt(m) {
				return m, true
			}
		}
	}
	return time.Time{}, false
}

func randomCron(r *rand.Rand) string {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	num := func(lo, hi int) string { return fmt.Sprint(lo + r.IntN(hi-lo+1)) }
	item := func(lo, hi int, extra ...string) string {
		a, b := lo+r.IntN(hi-lo+1), lo+r.IntN(hi-lo+1)
		return pick(append([]string{"*", num(lo, hi), fmt.Sprintf("%d-%d", min(a, b), max(a, b)),
			"*/" + num(1, 13), num(lo, hi) + "/" + num(1, 9)}, extra...)...)
	}
	list := func(lo, hi int, extra ...string) string {
		parts := make([]string, 1+r.IntN(3))
		for i := range parts {
			parts[i] = item(lo, hi, extra...)
		}
		return strings.Join(parts, ",")
	}
	fields := []string{list(0, 59), list(0, 23), list(1, 31, "L", "?", "L"), list(1, 12),
		list(0, 7, "?", "L"+num(0, 7), "L1-5", num(0, 7)+"#"+num(1, 5), "sat-sun")}
	if r.IntN(3) == 0 {
		fields = append(fields, list(2020, 2099))
	}
	return strings.Join(fields, " ")
}

func TestNextAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 24))
	checked := 0
	for range 400 {
		expr := randomCron(r)
		c, err := parseCron(expr)
		if err != nil {
			continue // e.g. a range that never fires
		}
		for range 3 {
			from := time.Date(2020+r.IntN(80), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
			got, ok := c.next(from)
			want, wantOK := c.bruteNext(from)
			if ok != wantOK || !got.Equal(want) {
				t.Errorf("next(%q, %v) = %v, %v; brute force says %v, %v", expr, from, got, ok, want, wantOK)
			}
			checked++
		}
	}
	if checked < 600 {
		t.Errorf("only %d cases checked", checked)
	}
}

func BenchmarkNext(b *testing.B) {
	from := utc("2026-11-20 10:17:23")
	for _, expr := range []string{"12 hours", "@hourly", "0 1 ? * SUN", "0 0 L * *", "0 0 * * L5", "0 0 29 2 *", "0 0 13 * 5"} {
		f, err := ParseFrequency(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			for b.Loop() {
				if _, ok := f.Next(from); !ok {
					b.Fatal("no fire")
				}
			}
		})
	}
}
