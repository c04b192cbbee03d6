package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseProtectionKeys(t *testing.T) {
	for _, tt := range []struct {
		extra    string
		lock     SnapshotLock
		ignoreLT bool
	}{
		{`"lock": {"mode": "governance"}`, SnapshotLock{Mode: "governance"}, false},
		{`"lock": {"mode": "governance", "duration": "retention"}, "launch_templates": "keep"`, SnapshotLock{Mode: "governance"}, false},
		{`"lock": {"mode": "compliance", "duration": "30 days", "cool_off": "24 hours"}, "launch_templates": "ignore"`,
			SnapshotLock{Mode: "compliance", Duration: 30 * 24 * time.Hour, CoolOff: 24 * time.Hour}, true},
	} {
		s, err := Parse("s", []byte(`{`+lifecycleBase+`, `+tt.extra+`}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.extra, err)
		}
		if s.Lock != tt.lock || s.IgnoreLaunchTemplates != tt.ignoreLT {
			t.Errorf("%s: lock %+v, ignore launch templates %v; want %+v, %v", tt.extra, s.Lock, s.IgnoreLaunchTemplates, tt.lock, tt.ignoreLT)
		}
	}
}

func TestLockUntil(t *testing.T) {
	now := time.Date(2026, 12, 6, 21, 30, 0, 0, time.UTC)
	if got := (SnapshotLock{Mode: "governance"}).Until(now, "2026-12-10"); !got.Equal(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("retention lock until %s, want the DeleteOn date's midnight", got)
	}
	if got := (SnapshotLock{Mode: "governance", Duration: 48 * time.Hour}).Until(now, "2026-12-10"); !got.Equal(now.Add(48 * time.Hour)) {
		t.Errorf("48-hour lock until %s", got)
	}
}

func TestParseProtectionProblems(t *testing.T) {
	for _, tt := range []struct{ extra, want string }{
		{`"lock": "governance"`, `s: lock: must be an object such as {"mode": "governance", "duration": "retention"}, got "governance"`},
		{`"lock": {}`, `s: lock.mode: must be "governance" or "compliance"`},
		{`"lock": {"mode": "legal-hold"}`, `s: lock.mode: must be "governance" or "compliance", got "legal-hold"`},
		{`"lock": {"mode": "governance", "duration": "12 hours"}`, `s: lock.duration: must be "retention" or between 1 day and 36500 days (EC2's bounds), got "12 hours"`},
		{`"lock": {"mode": "governance", "duration": "101 years"}`, `s: lock.duration: not a duration`},
		{`"lock": {"mode": "governance", "cool_off": "2 hours"}`, `s: lock.cool_off: is for "compliance" mode only, got "2 hours"`},
		{`"lock": {"mode": "compliance", "cool_off": "73 hours"}`, `s: lock.cool_off: must be whole hours, 1 to 72 (EC2's bounds), got "73 hours"`},
		{`"lock": {"mode": "compliance", "cool_off": "90 minutes"}`, `s: lock.cool_off: must be whole hours, 1 to 72`},
		{`"lock": {"mode": "governance", "days": 3}`, `s: lock.days: unknown key (known: mode, duration, cool_off), got 3`},
		{`"launch_templates": "delete"`, `s: launch_templates: must be "keep" (the default`},
		{`"launch_templates": false`, `s: launch_templates: must be "keep"`},
	} {
		_, err := Parse("s", []byte(`{`+lifecycleBase+`, `+tt.extra+`}`))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.extra, err, tt.want)
		}
	}
}
