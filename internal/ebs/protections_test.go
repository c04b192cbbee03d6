package ebs_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// TestProtectionListings: locks (active ones only), the default and
// latest versions of launch templates, and Recycle Bin rules, each one
// listing for the region.
func TestProtectionListings(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	for _, id := range []string{"snap-gov", "snap-comp", "snap-old"} {
		f.AddSnapshot(inventory.Snapshot{ID: id, VolumeID: "vol-1"}, "")
	}
	c := ebs.New(f, region)
	until := now.AddDate(0, 0, 30)
	if err := c.LockSnapshot(t.Context(), "snap-gov", inventory.Lock{Mode: inventory.LockGovernance, Until: until}); err != nil {
		t.Fatal(err)
	}
	if err := c.LockSnapshot(t.Context(), "snap-comp", inventory.Lock{Mode: inventory.LockCompliance, Until: until, CoolOff: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := c.LockSnapshot(t.Context(), "snap-old", inventory.Lock{Mode: inventory.LockGovernance, Until: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	locks, err := c.LockedSnapshots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]inventory.Protection{
		"snap-gov":  {Kind: inventory.ProtectedByLock, Mode: "governance", Until: until},
		"snap-comp": {Kind: inventory.ProtectedByLock, Mode: "compliance-cooloff", Until: until},
	}
	if diff := cmp.Diff(want, locks); diff != "" {
		t.Errorf("LockedSnapshots (-want +got):\n%s", diff)
	}
	if got := locks["snap-comp"].String(); got != "locked in compliance-cooloff mode until 2026-12-31T00:00:00Z" {
		t.Errorf("lock reason %q", got)
	}

	// Version 1 is the default, 3 the latest; version 2 protects nothing.
	f.AddLaunchTemplate(ec2fake.LaunchTemplate{ID: "lt-1", Name: "web", Default: 1,
		Versions: [][]string{{"snap-v1"}, {"snap-v2"}, {"snap-v3", "snap-v1"}}})
	used, err := c.LaunchTemplateSnapshots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	lt := func(version string) inventory.Protection {
		return inventory.Protection{Kind: inventory.ProtectedByLaunchTemplate, Resource: "lt-1", Name: "web", Version: version}
	}
	wantLT := map[string][]inventory.Protection{"snap-v1": {lt("1 (default)"), lt("3 (latest)")}, "snap-v3": {lt("3 (latest)")}}
	if diff := cmp.Diff(wantLT, used); diff != "" {
		t.Errorf("LaunchTemplateSnapshots (-want +got):\n%s", diff)
	}

	rule := inventory.RecycleBinRule{ID: "rule-1", Retention: 14 * 24 * time.Hour, Exclude: []inventory.Tag{{Key: "scratch", Value: "yes"}}}
	f.AddRecycleBinRule(rule)
	rules, err := c.RecycleBinRules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.RecycleBinRule{rule}, rules); diff != "" {
		t.Errorf("RecycleBinRules (-want +got):\n%s", diff)
	}
	if f.Calls(ec2fake.OpGetRule) != 1 {
		t.Errorf("GetRule called %d times, want once per rule", f.Calls(ec2fake.OpGetRule))
	}
}

func TestRecycleBinRuleCovers(t *testing.T) {
	snap := func(tags ...inventory.Tag) inventory.Snapshot { return inventory.Snapshot{ID: "snap-1", Tags: tags} }
	env := inventory.Tag{Key: "env", Value: "prod"}
	for _, tc := range []struct {
		name string
		rule inventory.RecycleBinRule
		snap inventory.Snapshot
		want bool
	}{
		{"region-level covers everything", inventory.RecycleBinRule{}, snap(), true},
		{"region-level excludes a tagged one", inventory.RecycleBinRule{Exclude: []inventory.Tag{env}}, snap(env), false},
		{"tag-level needs one of its pairs", inventory.RecycleBinRule{Tags: []inventory.Tag{env}}, snap(), false},
		{"tag-level covers its pair", inventory.RecycleBinRule{Tags: []inventory.Tag{env}}, snap(env), true},
		{"a key without value matches any value", inventory.RecycleBinRule{Tags: []inventory.Tag{{Key: "env"}}}, snap(env), true},
		{"another value does not match", inventory.RecycleBinRule{Tags: []inventory.Tag{{Key: "env", Value: "dev"}}}, snap(env), false},
	} {
		if got := tc.rule.Covers(tc.snap); got != tc.want {
			t.Errorf("%s: Covers = %v, want %v", tc.name, got, tc.want)
		}
	}
}
