package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

const lifecycleBase = `"match": {"tag:backup": "yes"}, "snapshot": {"retention": "1 day", "minimum": 3, "frequency": "1 day"}`

func TestParseLifecycleKeys(t *testing.T) {
	data := `{` + lifecycleBase + `,
		"retention_tiers": {"keep_last": 2, "keep_hourly": 24, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 3, "keep_within": "2 days"},
		"orphans": {"keep_last": 2},
		"exclude": {"tag:NoBackup": "true"},
		"exclude_volumes": {"tag:Scratch": "*", "volume-type": ["st1", "sc1"]},
		"adopt": {"tag:dlm:managed": "true"},
		"archive_after": "90 days"}`
	for _, parse := range []func() (Stanza, error){
		func() (Stanza, error) { return Parse("s", []byte(data)) },
		func() (Stanza, error) { s, _, err := ParseStored("s", []byte(data)); return s, err },
	} {
		s, err := parse()
		if err != nil {
			t.Fatal(err)
		}
		want := Stanza{
			Tiers:          retention.Tiers{Last: 2, Hourly: 24, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 3, Within: 48 * time.Hour},
			Orphans:        Orphans{Mode: OrphansKeepLast, KeepLast: 2},
			Exclude:        []inventory.Filter{{Name: "tag:NoBackup", Values: []string{"true"}}},
			ExcludeVolumes: []inventory.Filter{{Name: "tag:Scratch", Values: []string{"*"}}, {Name: "volume-type", Values: []string{"st1", "sc1"}}},
			Adopt:          Adopt{Filters: []inventory.Filter{{Name: "tag:dlm:managed", Values: []string{"true"}}}},
			ArchiveAfter:   90 * 24 * time.Hour,
		}
		got := Stanza{Tiers: s.Tiers, Orphans: s.Orphans, Exclude: s.Exclude, ExcludeVolumes: s.ExcludeVolumes, Adopt: s.Adopt, ArchiveAfter: s.ArchiveAfter}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lifecycle keys (-want +got):\n%s", diff)
		}
	}
	for raw, want := range map[string]Orphans{`"keep"`: {Mode: OrphansKeep}, `"retain"`: {Mode: OrphansRetain}} {
		s, err := Parse("s", []byte(`{`+lifecycleBase+`, "orphans": `+raw+`}`))
		if err != nil || s.Orphans != want {
			t.Errorf("orphans %s = %+v, %v; want %+v", raw, s.Orphans, err, want)
		}
	}
	s, err := Parse("s", []byte(`{`+lifecycleBase+`, "adopt": true}`))
	if err != nil || !s.Adopt.All {
		t.Errorf("adopt true = %+v, %v", s.Adopt, err)
	}
	// Without the new keys a stanza means what it meant before.
	s, err = Parse("s", []byte(`{`+lifecycleBase+`}`))
	if err != nil || !s.Tiers.Empty() || s.Orphans.Mode != "" || s.Exclude != nil || s.ExcludeVolumes != nil || s.Adopt.On() || s.ArchiveAfter != 0 {
		t.Errorf("stanza without lifecycle keys = %+v, %v", s, err)
	}
}

func TestParseLifecycleProblems(t *testing.T) {
	tests := []struct{ extra, want string }{
		{`"retention_tiers": [7]`, `s: retention_tiers: must be an object such as {"keep_daily": 7, "keep_weekly": 4}, got [7]`},
		{`"retention_tiers": {"keep_daily": -1}`, `s: retention_tiers.keep_daily: must be an integer of at least 0, got -1`},
		{`"retention_tiers": {"keep_weekly": "4"}`, `s: retention_tiers.keep_weekly: must be an integer of at least 0, got "4"`},
		{`"retention_tiers": {"keep_within": "1 month"}`, `s: retention_tiers.keep_within: not a duration: months and years are not supported; use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h", got "1 month"`},
		{`"retention_tiers": {"keep_dayly": 7}`, `s: retention_tiers.keep_dayly: unknown key (known: keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within), got 7`},
		{`"orphans": "delete"`, `s: orphans: must be "keep", "retain" or {"keep_last": N}, got "delete"`},
		{`"orphans": {"keep_last": 0}`, `s: orphans.keep_last: must be an integer of at least 1, got 0`},
		{`"exclude": {"tags:NoBackup": "true"}`, `s: exclude["tags:NoBackup"]: is not an EC2 DescribeInstances filter name`},
		{`"exclude_volumes": {"type": "st1"}`, `s: exclude_volumes["type"]: is not an EC2 DescribeVolumes filter name`},
		{`"exclude_volumes": {"volume-type": 1}`, `s: exclude_volumes["volume-type"]: must be a string or a list of strings, got 1`},
		{`"adopt": "yes"`, `s: adopt: must be true, false or an object of EC2 DescribeSnapshots filter names`},
		{`"adopt": {}`, `s: adopt: must name at least one EC2 filter`},
		{`"archive_after": "0 days"`, `s: archive_after: must be longer than zero, got "0 days"`},
		{`"archive_after": 90`, `s: archive_after: must be a duration string, e.g. "90 days", got 90`},
	}
	for _, tt := range tests {
		t.Run(tt.extra, func(t *testing.T) {
			for name, parse := range map[string]func([]byte) error{
				"Parse":       func(b []byte) error { _, err := Parse("s", b); return err },
				"ParseStored": func(b []byte) error { _, _, err := ParseStored("s", b); return err },
			} {
				err := parse([]byte(`{` + lifecycleBase + `, ` + tt.extra + `}`))
				if strings.Contains(tt.want, "unknown key") && name == "ParseStored" {
					continue // a warning there
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s error = %v, want it to contain %q", name, err, tt.want)
				}
			}
		})
	}
}
