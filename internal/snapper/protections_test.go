package snapper

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// TestInventoryAttachesProtections: with NeedImages each snapshot carries
// what protects it, in a fixed order; without, only AWS Backup's (read
// from the snapshot itself).
func TestInventoryAttachesProtections(t *testing.T) {
	f := webFleet()
	until := now.AddDate(0, 1, 0)
	for _, id := range []string{"snap-ami", "snap-lock", "snap-lt", "snap-plain"} {
		f.AddSnapshot(inventory.Snapshot{ID: id, VolumeID: "vol-a1", StartTime: now.Add(-time.Hour)}, "")
	}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-bak", VolumeID: "vol-a1", Tags: tags("aws:backup:source-resource", "arn:vol-a1")}, "")
	f.AddImage("ami-9", "snap-ami")
	f.DisableImage("ami-9")
	f.AddLaunchTemplate(ec2fake.LaunchTemplate{ID: "lt-1", Name: "web", Versions: [][]string{{"snap-lt", "snap-ami"}}})
	c := client(f, "us-east-1")
	if err := c.LockSnapshot(t.Context(), "snap-lock", inventory.Lock{Mode: inventory.LockGovernance, Until: until}); err != nil {
		t.Fatal(err)
	}
	stanzas := []config.Stanza{stanza(t, "daily", "1 day", 1)}
	got := func(need Need) map[string][]inventory.Protection {
		inv, err := BuildInventory(t.Context(), c, stanzas, need)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]inventory.Protection{}
		for _, s := range inv.Snapshots {
			if len(s.Protections) > 0 {
				out[s.ID] = s.Protections
			}
		}
		return out
	}
	lt := inventory.Protection{Kind: inventory.ProtectedByLaunchTemplate, Resource: "lt-1", Name: "web", Version: "1 (default)"}
	backup := inventory.Protection{Kind: inventory.ProtectedByAWSBackup, Resource: "arn:vol-a1"}
	want := map[string][]inventory.Protection{
		"snap-ami":  {{Kind: inventory.ProtectedByAMI, Resource: "ami-9", Disabled: true}, lt},
		"snap-lock": {{Kind: inventory.ProtectedByLock, Mode: "governance", Until: until}},
		"snap-lt":   {lt},
		"snap-bak":  {backup},
	}
	if diff := cmp.Diff(want, got(NeedSnapshots|NeedImages)); diff != "" {
		t.Errorf("with NeedImages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]inventory.Protection{"snap-bak": {backup}}, got(NeedSnapshots)); diff != "" {
		t.Errorf("without NeedImages (-want +got):\n%s", diff)
	}
}

// TestProtectionListingFailsTheRegion: a plan without the locks or the
// templates could send deletes EC2 refuses or break launches; Recycle Bin
// rules only change what a delete costs, so their failure is reported and
// the run goes on.
func TestProtectionListingFailsTheRegion(t *testing.T) {
	boom := &smithy.GenericAPIError{Code: "InternalError", Message: "boom"}
	stanzas := []config.Stanza{stanza(t, "daily", "1 day", 1)}
	for _, op := range []string{ec2fake.OpDescribeImages, ec2fake.OpDescribeLockedSnapshots, ec2fake.OpDescribeLaunchTemplateVersions} {
		f := webFleet()
		f.Fail(op, 1, boom)
		if _, err := BuildInventory(t.Context(), client(f, "us-east-1"), stanzas, NeedSnapshots|NeedImages); !errors.As(err, new(smithy.APIError)) {
			t.Errorf("%s failing: inventory error %v, want the region failed", op, err)
		}
	}
	f := webFleet()
	f.Fail(ec2fake.OpListRules, 1, boom)
	inv, err := BuildInventory(t.Context(), client(f, "us-east-1"), stanzas, NeedSnapshots|NeedRecycleBin)
	if err != nil || inv.RecycleBinError == "" {
		t.Errorf("ListRules failing: %v, RecycleBinError %q; want the inventory with the error noted", err, inv.RecycleBinError)
	}
}

func TestLockForSaferReading(t *testing.T) {
	mk := func(id string, l config.SnapshotLock) config.Stanza {
		s := stanza(t, id, "1 day", 1)
		s.Lock = l
		return s
	}
	p := NewPolicy([]config.Stanza{
		mk("gov-long", config.SnapshotLock{Mode: "governance", Duration: 60 * 24 * time.Hour}),
		mk("comp", config.SnapshotLock{Mode: "compliance", CoolOff: 48 * time.Hour}),
		mk("comp-short-cool", config.SnapshotLock{Mode: "compliance", CoolOff: 2 * time.Hour}),
		mk("none", config.SnapshotLock{}),
	}, 0)
	if l := p.lockFor([]string{"none"}, now, "2026-11-30"); l != nil {
		t.Errorf("no lock asked: %+v", l)
	}
	retention := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if l := p.lockFor([]string{"comp"}, now, "2026-11-30"); l == nil || *l != (inventory.Lock{Mode: "compliance", Until: retention, CoolOff: 48 * time.Hour}) {
		t.Errorf("retention lock %+v", l)
	}
	want := inventory.Lock{Mode: "compliance", Until: now.Add(60 * 24 * time.Hour), CoolOff: 2 * time.Hour}
	if l := p.lockFor([]string{"comp", "comp-short-cool", "gov-long", "none"}, now, "2026-11-30"); l == nil || *l != want {
		t.Errorf("several stanzas: %+v, want %+v", l, want)
	}
}

func TestRunCleanHoldsDeletesInRecycleBin(t *testing.T) {
	f := webFleet()
	for i, id := range []string{"snap-1", "snap-2", "snap-3"} {
		f.AddSnapshot(inventory.Snapshot{ID: id, VolumeID: "vol-a1", VolumeSize: 8, StartTime: now.AddDate(0, 0, -10).Add(time.Duration(i) * time.Hour),
			Tags: tags("DeleteOn", "2026-11-20")}, "")
	}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-4", VolumeID: "vol-a1", VolumeSize: 8, StartTime: now.AddDate(0, 0, -9),
		Tags: tags("DeleteOn", "2026-11-20", "scratch", "yes")}, "")
	f.AddRecycleBinRule(inventory.RecycleBinRule{ID: "r-7", Retention: 7 * 24 * time.Hour, Exclude: []inventory.Tag{{Key: "scratch", Value: "yes"}}})
	f.AddRecycleBinRule(inventory.RecycleBinRule{ID: "r-30", Retention: 30 * 24 * time.Hour, Tags: []inventory.Tag{{Key: "DeleteOn"}}})
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "1 day", 1)}, 0)
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	rr := rep.Regions[0]
	want := &RecycleBinSummary{Rules: 2, Snapshots: 3, GiB: 24, Until: now.Add(30 * 24 * time.Hour)}
	if diff := cmp.Diff(want, rr.RecycleBin); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	for _, r := range rr.Clean {
		if r.Status == StatusDone && (r.RecycleBin == nil || r.RecycleBin.Rule != "r-30") {
			t.Errorf("%s deleted with hold %+v, want the longest rule r-30", r.SnapshotID, r.RecycleBin)
		}
	}
}
