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
			want: Decision{Next: at("2016-07-31 00:50:00"),
				Reason: `not due until 2016-07-31T00:50:00Z (cron "0 1 ? * SUN" fires at 2016-07-31T01:00:00Z, 10m slack; last snapshot 2016-07-24T01:05:00Z)`},
		},
		{
			name: "c: cron fired since the last snapshot", frequency: "0 1 ? * SUN",
			last: "2016-07-17 01:05:00", now: "2016-07-24 02:05:00",
			want: Decision{Due: true, Next: at("2016-07-24 00:50:00"),
				Reason: `due: cron "0 1 ? * SUN" fires at 2016-07-24T01:00:00Z (10m slack), the first fire after last snapshot 2016-07-17T01:05:00Z`},
		},
		{
			name: "d: hourly, last snapshot a week ago", frequency: "@hourly",
			last: "2016-07-17 02:05:00", now: "2016-07-24 02:05:00",
			want: Decision{Due: true, Next: at("2016-07-17 02:54:00"),
				Reason: `due: cron "@hourly" fires at 2016-07-17T03:00:00Z (6m slack), the first fire after last snapshot 2016-07-17T02:05:00Z`},
		},
		{
			// The last snapshot is later than now (clock skew); the first
			// fire after it is 03:00, still ahead.
			name: "e: hourly, last snapshot after now", frequency: "@hourly",
			last: "2016-07-24 02:35:00", now: "2016-07-24 02:05:00",
			want: Decision{Next: at("2016-07-24 02:54:00"),
				Reason: `not due until 2016-07-24T02:54:00Z (cron "@hourly" fires at 2016-07-24T03:00:00Z, 6m slack; last snapshot 2016-07-24T02:35:00Z)`},
		},
		// parse-crontab's own example (test_parse_snapshot_setting_crontab).
		{
			// The original's example was due here; with the slack (6
			// minutes for an hourly cron) a snapshot 5 minutes before the
			// 11:30 fire is that fire's snapshot.
			name: "cron 30 past, from 11:25: within the slack, counts for the 11:30 fire", frequency: "30 * * * *",
			last: "2011-07-17 11:25:00", now: "2011-07-17 11:30:30",
			want: Decision{Next: at("2011-07-17 12:24:00"),
				Reason: `not due until 2011-07-17T12:24:00Z (cron "30 * * * *" fires at 2011-07-17T12:30:00Z, 6m slack; last snapshot 2011-07-17T11:25:00Z)`},
		},
		{
			name: "cron 30 past, from 11:23: before the slack, due at 11:30", frequency: "30 * * * *",
			last: "2011-07-17 11:23:59", now: "2011-07-17 11:30:30",
			want: Decision{Due: true, Next: at("2011-07-17 11:24:00"),
				Reason: `due: cron "30 * * * *" fires at 2011-07-17T11:30:00Z (6m slack), the first fire after last snapshot 2011-07-17T11:23:59Z`},
		},
		{
			name: "daily cron: a snapshot 10 minutes early counts for the fire", frequency: "0 5 * * *",
			last: "2026-11-20 04:50:00", now: "2026-11-20 05:30:00",
			want: Decision{Next: at("2026-11-21 04:50:00"),
				Reason: `not due until 2026-11-21T04:50:00Z (cron "0 5 * * *" fires at 2026-11-21T05:00:00Z, 10m slack; last snapshot 2026-11-20T04:50:00Z)`},
		},
		{
			name: "cron 30 past, from 11:35", frequency: "30 * * * *",
			last: "2011-07-17 11:35:00", now: "2011-07-17 12:23:59",
			want: Decision{Next: at("2011-07-17 12:24:00"),
				Reason: `not due until 2011-07-17T12:24:00Z (cron "30 * * * *" fires at 2011-07-17T12:30:00Z, 6m slack; last snapshot 2011-07-17T11:35:00Z)`},
		},
		{
			name: "cron fire at the same minute as the last snapshot does not count", frequency: "0 10 * * *",
			last: "2026-11-20 10:00:00", now: "2026-11-20 10:30:00",
			want: Decision{Next: at("2026-11-21 09:50:00"),
				Reason: `not due until 2026-11-21T09:50:00Z (cron "0 10 * * *" fires at 2026-11-21T10:00:00Z, 10m slack; last snapshot 2026-11-20T10:00:00Z)`},
		},
		{
			name: "cron: due from the slack before the fire", frequency: "0 10 * * *",
			last: "2026-11-19 10:00:00", now: "2026-11-20 09:50:00",
			want: Decision{Due: true, Next: at("2026-11-20 09:50:00"),
				Reason: `due: cron "0 10 * * *" fires at 2026-11-20T10:00:00Z (10m slack), the first fire after last snapshot 2026-11-19T10:00:00Z`},
		},
		{
			name: "cron: not due just before the slack", frequency: "0 10 * * *",
			last: "2026-11-19 10:00:00", now: "2026-11-20 09:49:59",
			want: Decision{Next: at("2026-11-20 09:50:00"),
				Reason: `not due until 2026-11-20T09:50:00Z (cron "0 10 * * *" fires at 2026-11-20T10:00:00Z, 10m slack; last snapshot 2026-11-19T10:00:00Z)`},
		},
		{
			name: "cron that never fires again", frequency: "0 0 1 1 * 2030",
			last: "2030-06-01 00:00:00", now: "2031-01-02 00:00:00",
			want: Decision{Reason: `frequency "0 0 1 1 * 2030" never fires after 2030-06-01T00:00:00Z`},
		},
		{
			name: "duration passed", frequency: "12 hours",
			last: "2026-11-20 10:00:00", now: "2026-11-20 22:00:01",
			want: Decision{Due: true, Next: at("2026-11-20 21:50:00"),
				Reason: "due: last snapshot 2026-11-20T10:00:00Z + 12h - 10m slack passed at 2026-11-20T21:50:00Z"},
		},
		{
			name: "duration less the slack reached exactly is due", frequency: "12 hours",
			last: "2026-11-20 10:00:00", now: "2026-11-20 21:50:00",
			want: Decision{Due: true, Next: at("2026-11-20 21:50:00"),
				Reason: "due: last snapshot 2026-11-20T10:00:00Z + 12h - 10m slack passed at 2026-11-20T21:50:00Z"},
		},
		{
			name: "duration not passed", frequency: "12 hours",
			last: "2026-11-21 10:00:00", now: "2026-11-21 21:49:59",
			want: Decision{Next: at("2026-11-21 21:50:00"),
				Reason: "not due until 2026-11-21T21:50:00Z (last snapshot 2026-11-21T10:00:00Z, every 12h - 10m slack)"},
		},
		{
			// Issue 10, item 5: run daily at 06:00:00, the snapshot is
			// stamped a second later; the next day's run must not skip.
			name: "daily run at the same clock time is due", frequency: "1 day",
			last: "2026-11-20 06:00:01", now: "2026-11-21 06:00:00",
			want: Decision{Due: true, Next: at("2026-11-21 05:50:01"),
				Reason: "due: last snapshot 2026-11-20T06:00:01Z + 1d - 10m slack passed at 2026-11-21T05:50:01Z"},
		},
		{
			name: "short period: slack is 10 % of it", frequency: "1 hour",
			last: "2026-11-20 06:00:00", now: "2026-11-20 06:53:59",
			want: Decision{Next: at("2026-11-20 06:54:00"),
				Reason: "not due until 2026-11-20T06:54:00Z (last snapshot 2026-11-20T06:00:00Z, every 1h - 6m slack)"},
		},
		{
			name: "duration with seconds in the last snapshot", frequency: "1d12h",
			last: "2026-11-20 10:00:07", now: "2026-11-22 00:00:00",
			want: Decision{Due: true, Next: at("2026-11-21 21:50:07"),
				Reason: "due: last snapshot 2026-11-20T10:00:07Z + 1d12h - 10m slack passed at 2026-11-21T21:50:07Z"},
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
	// 09:30 and 09:49 in Tokyo are 00:30 and 00:49 UTC: the 01:00 UTC fire
	// (due from 00:50 with the slack) is still ahead, though 01:00 Tokyo
	// time has passed.
	last := time.Date(2026, 3, 2, 9, 30, 0, 0, tokyo)
	got := Due(f, last, true, time.Date(2026, 3, 2, 9, 49, 0, 0, tokyo))
	want := `not due until 2026-03-02T00:50:00Z (cron "0 1 * * *" fires at 2026-03-02T01:00:00Z, 10m slack; last snapshot 2026-03-02T00:30:00Z)`
	if got.Due || got.Reason != want {
		t.Errorf("Due() = %+v, want not due: %s", got, want)
	}
}
