package schedule

import (
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	tests := []struct {
		name      string
		frequency string
		last      string // "" = no snapshot yet
		now       string
		want      Decision
	}{
		// The five cases of ebs_snapper's test_should_perform_snapshot.
		{
			name: "a: no snapshot yet is due, even with a cron", frequency: "0 1 ? * SUN",
			now:  "2016-07-24 02:05:00",
			want: Decision{Due: true, Reason: "no snapshot yet"},
		},
		{
			name: "b: cron fired before the last snapshot", frequency: "0 1 ? * SUN",
			last: "2016-07-24 01:05:00", now: "2016-07-24 02:05:00",
			want: Decision{Next: at("2016-07-31 01:00:00"),
				Reason: `not due until 2016-07-31T01:00:00Z (last snapshot 2016-07-24T01:05:00Z, cron "0 1 ? * SUN")`},
		},
		{
			name: "c: cron fired since the last snapshot", frequency: "0 1 ? * SUN",
			last: "2016-07-17 01:05:00", now: "2016-07-24 02:05:00",
			want: Decision{Due: true, Next: at("2016-07-24 01:00:00"),
				Reason: `due: cron "0 1 ? * SUN" fired at 2016-07-24T01:00:00Z after last snapshot 2016-07-17T01:05:00Z`},
		},
		{
			name: "d: hourly, last snapshot a week ago", frequency: "@hourly",
			last: "2016-07-17 02:05:00", now: "2016-07-24 02:05:00",
			want: Decision{Due: true, Next: at("2016-07-17 03:00:00"),
				Reason: `due: cron "@hourly" fired at 2016-07-17T03:00:00Z after last snapshot 2016-07-17T02:05:00Z`},
		},
		{
			// The last snapshot is later than now (clock skew); the first
			// fire after it is 03:00, still ahead.
			name: "e: hourly, last snapshot after now", frequency: "@hourly",
			last: "2016-07-24 02:35:00", now: "2016-07-24 02:05:00",
			want: Decision{Next: at("2016-07-24 03:00:00"),
				Reason: `not due until 2016-07-24T03:00:00Z (last snapshot 2016-07-24T02:35:00Z, cron "@hourly")`},
		},
		// parse-crontab's own example (test_parse_snapshot_setting_crontab).
		{
			name: "cron 30 past, from 11:25", frequency: "30 * * * *",
			last: "2011-07-17 11:25:00", now: "2011-07-17 11:30:30",
			want: Decision{Due: true, Next: at("2011-07-17 11:30:00"),
				Reason: `due: cron "30 * * * *" fired at 2011-07-17T11:30:00Z after last snapshot 2011-07-17T11:25:00Z`},
		},
		{
			name: "cron 30 past, from 11:35", frequency: "30 * * * *",
			last: "2011-07-17 11:35:00", now: "2011-07-17 12:29:59",
			want: Decision{Next: at("2011-07-17 12:30:00"),
				Reason: `not due until 2011-07-17T12:30:00Z (last snapshot 2011-07-17T11:35:00Z, cron "30 * * * *")`},
		},
		{
			name: "cron fire at the same minute as the last snapshot does not count", frequency: "0 10 * * *",
			last: "2026-11-20 10:00:00", now: "2026-11-20 10:30:00",
			want: Decision{Next: at("2026-11-21 10:00:00"),
				Reason: `not due until 2026-11-21T10:00:00Z (last snapshot 2026-11-20T10:00:00Z, cron "0 10 * * *")`},
		},
		{
			name: "cron fire exactly now is not yet due (strict, as the original)", frequency: "0 10 * * *",
			last: "2026-11-19 10:00:00", now: "2026-11-20 10:00:00",
			want: Decision{Next: at("2026-11-20 10:00:00"),
				Reason: `not due until 2026-11-20T10:00:00Z (last snapshot 2026-11-19T10:00:00Z, cron "0 10 * * *")`},
		},
		{
			name: "cron that never fires again", frequency: "0 0 1 1 * 2030",
			last: "2030-06-01 00:00:00", now: "2031-01-02 00:00:00",
			want: Decision{Reason: `frequency "0 0 1 1 * 2030" never fires after 2030-06-01T00:00:00Z`},
		},
		{
			name: "duration passed", frequency: "12 hours",
			last: "2026-11-20 10:00:00", now: "2026-11-20 22:00:01",
			want: Decision{Due: true, Next: at("2026-11-20 22:00:00"),
				Reason: "due: last snapshot 2026-11-20T10:00:00Z + 12h0m0s passed at 2026-11-20T22:00:00Z"},
		},
		{
			name: "duration reached exactly is not yet due (strict)", frequency: "12 hours",
			last: "2026-11-20 10:00:00", now: "2026-11-20 22:00:00",
			want: Decision{Next: at("2026-11-20 22:00:00"),
				Reason: "not due until 2026-11-20T22:00:00Z (last snapshot 2026-11-20T10:00:00Z, every 12h0m0s)"},
		},
		{
			name: "duration not passed", frequency: "12 hours",
			last: "2026-11-21 10:00:00", now: "2026-11-21 12:00:00",
			want: Decision{Next: at("2026-11-21 22:00:00"),
				Reason: "not due until 2026-11-21T22:00:00Z (last snapshot 2026-11-21T10:00:00Z, every 12h0m0s)"},
		},
		{
			name: "duration with seconds in the last snapshot", frequency: "1d12h",
			last: "2026-11-20 10:00:07", now: "2026-11-22 00:00:00",
			want: Decision{Due: true, Next: at("2026-11-21 22:00:07"),
				Reason: "due: last snapshot 2026-11-20T10:00:07Z + 36h0m0s passed at 2026-11-21T22:00:07Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.ParseFrequency(tt.frequency)
			if err != nil {
				t.Fatal(err)
			}
			var last time.Time
			if tt.last != "" {
				last = at(tt.last)
			}
			got := Due(f, last, tt.last != "", at(tt.now))
			if got.Due != tt.want.Due || got.Reason != tt.want.Reason || !got.Next.Equal(tt.want.Next) {
				t.Errorf("Due() = %+v\nwant    %+v", got, tt.want)
			}
		})
	}
}

func TestDueUsesUTC(t *testing.T) {
	f, err := config.ParseFrequency("0 1 * * *")
	if err != nil {
		t.Fatal(err)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	// 09:30 and 09:59 in Tokyo are 00:30 and 00:59 UTC: the 01:00 UTC fire
	// is still ahead, though 01:00 Tokyo time has passed.
	last := time.Date(2026, 3, 2, 9, 30, 0, 0, tokyo)
	got := Due(f, last, true, time.Date(2026, 3, 2, 9, 59, 0, 0, tokyo))
	want := "not due until 2026-03-02T01:00:00Z (last snapshot 2026-03-02T00:30:00Z, cron \"0 1 * * *\")"
	if got.Due || got.Reason != want {
		t.Errorf("Due() = %+v, want not due: %s", got, want)
	}
}
