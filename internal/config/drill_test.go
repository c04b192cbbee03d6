package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDrill(t *testing.T) {
	for _, tt := range []struct {
		extra string
		want  Drill
	}{
		{``, Drill{}},
		{`, "drill": {"every": "30 days"}`, Drill{Every: 30 * 24 * time.Hour, VolumeType: "gp3", Timeout: 10 * time.Minute}},
		{`, "drill": {"every": "1 week", "sample": 3, "volume_type": "sc1", "timeout": "2 hours", "max_gib_per_day": 500}`,
			Drill{Every: 7 * 24 * time.Hour, SampleCount: 3, VolumeType: "sc1", Timeout: 2 * time.Hour, MaxGiBPerDay: 500}},
		{`, "drill": {"every": "7 days", "sample": "10%"}`, Drill{Every: 7 * 24 * time.Hour, SamplePercent: 10, VolumeType: "gp3", Timeout: 10 * time.Minute}},
	} {
		s, err := Parse("s", []byte(`{`+lifecycleBase+tt.extra+`}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.extra, err)
		}
		if s.Drill != tt.want {
			t.Errorf("%s: drill %+v, want %+v", tt.extra, s.Drill, tt.want)
		}
		if s.Drill.On() != (tt.extra != "") {
			t.Errorf("%s: On() = %v", tt.extra, s.Drill.On())
		}
	}
}

func TestParseDrillProblems(t *testing.T) {
	for _, tt := range []struct{ extra, want string }{
		{`"drill": true`, `s: drill: must be an object such as {"every": "30 days"`},
		{`"drill": {}`, `s: drill.every: is required`},
		{`"drill": {"every": "12 hours"}`, `s: drill.every: must be at least 1 day (a drill restores a whole volume), got "12 hours"`},
		{`"drill": {"every": 30}`, `s: drill.every: must be a duration string`},
		{`"drill": {"every": "30 days", "sample": 0}`, `s: drill.sample: must be a count of at least 1 or a percentage such as "10%" (1% to 100%), got 0`},
		{`"drill": {"every": "30 days", "sample": "150%"}`, `s: drill.sample: must be a count of at least 1 or a percentage`},
		{`"drill": {"every": "30 days", "sample": "ten"}`, `s: drill.sample: must be a count`},
		{`"drill": {"every": "30 days", "volume_type": "io2"}`, `s: drill.volume_type: must be one of gp2, gp3, st1, sc1, standard, got "io2"`},
		{`"drill": {"every": "30 days", "timeout": "10 seconds"}`, `s: drill.timeout: must be between 1 minute and 24 hours, got "10 seconds"`},
		{`"drill": {"every": "30 days", "timeout": "2 days"}`, `s: drill.timeout: must be between 1 minute and 24 hours`},
		{`"drill": {"every": "30 days", "max_gib_per_day": 0}`, `s: drill.max_gib_per_day: must be an integer of at least 1, got 0`},
		{`"drill": {"every": "30 days", "often": 1}`, `s: drill.often: unknown key (known: every, sample, volume_type, timeout, max_gib_per_day), got 1`},
	} {
		_, err := Parse("s", []byte(`{`+lifecycleBase+`, `+tt.extra+`}`))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.extra, err, tt.want)
		}
	}
}
