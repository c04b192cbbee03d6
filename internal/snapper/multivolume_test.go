package snapper

import (
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// A multi_volume stanza makes one CreateSnapshots per instance, each
// snapshot with the tags a single snapshot gets; an instance whose volume
// tags would come out differently falls back to one CreateSnapshot per
// volume and says why.
func TestRunMultiVolumeSets(t *testing.T) {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-b1", Tags: tags("Service", "Baz")}) // overrides i-b's Service
	f.AddVolume(inventory.Volume{ID: "vol-d2", Tags: tags("Disk", "data")})   // a key of its own: copied
	f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes", "Name", "A"), VolumeIDs: []string{"vol-a1", "vol-a2"}})
	f.AddInstance(inventory.Instance{ID: "i-b", ImageID: "ami-1", Tags: tags("backup", "yes", "Service", "Bar"), VolumeIDs: []string{"vol-b1", "vol-b2"}})
	f.AddInstance(inventory.Instance{ID: "i-d", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-d1", "vol-d2"}})
	s := stanza(t, "daily", "12 hours", 5)
	s.MultiVolume = true
	p := NewPolicy([]config.Stanza{s}, 0)

	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	if got := rep.Regions[0].Summary; got != (Summary{Created: 6}) {
		t.Fatalf("summary = %+v, want 6 created", got)
	}
	if got := f.Calls(ec2fake.OpCreateSnapshots); got != 2 {
		t.Errorf("CreateSnapshots calls = %d, want 2 (i-a, i-d)", got)
	}
	if got := f.Calls(ec2fake.OpCreateSnapshot); got != 2 {
		t.Errorf("CreateSnapshot calls = %d, want 2 (i-b's fallback)", got)
	}
	instTags := map[string][]inventory.Tag{"vol-a1": tags("backup", "yes", "Name", "A"), "vol-a2": tags("backup", "yes", "Name", "A"),
		"vol-b1": tags("backup", "yes", "Service", "Bar"), "vol-b2": tags("backup", "yes", "Service", "Bar"),
		"vol-d1": tags("backup", "yes"), "vol-d2": tags("backup", "yes")}
	volTags := map[string][]inventory.Tag{"vol-b1": tags("Service", "Baz"), "vol-d2": tags("Disk", "data")}
	for _, snap := range f.Snapshots() {
		want := WithRunTag(SnapshotTags("2026-11-30", "daily", instTags[snap.VolumeID], volTags[snap.VolumeID]), testRun)
		if !sameTags(want, snap.Tags) {
			t.Errorf("%s tags = %v, want %v", snap.VolumeID, snap.Tags, want)
		}
	}
	for _, r := range rep.Regions[0].Snapshots {
		fellBack := strings.Contains(r.Reason, "not a multi-volume set")
		if fellBack != (r.InstanceID == "i-b") {
			t.Errorf("%s reason = %q; want the fallback said for i-b only", r.VolumeID, r.Reason)
		}
	}
}

// exclude_boot_volume leaves the root volume out, with the reason.
func TestPlanExcludeBootVolume(t *testing.T) {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1", "vol-a2"}})
	s := stanza(t, "daily", "12 hours", 5)
	s.MultiVolume, s.ExcludeBootVolume = true, true
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{s}, 0), engineOptions(now))
	rows := rep.Regions[0].Snapshots
	if len(rows) != 2 || rows[0].Action != Skip || rows[0].Reason != reasonBootExcluded || rows[1].Status != StatusDone {
		t.Fatalf("rows = %+v; want vol-a1 skipped as the boot volume, vol-a2 created", rows)
	}
	if got := f.Calls(ec2fake.OpCreateSnapshots); got != 1 {
		t.Errorf("CreateSnapshots calls = %d, want 1", got)
	}
}

// A volume restored from a replica carries the replica's tags; EC2's
// CopyTagsFromSource would copy them all, so its instance's set falls back
// to one CreateSnapshot per volume, and no backup carries them.
func TestMultiVolumeSetsNeverCopyTheToolsTags(t *testing.T) {
	// Each guard on its own: a tool tag whose key the shared tags hold
	// (ebs-snapper:config-id), and tool tags they do not (replication_*,
	// ebs-snapper:origin), which only the comparison with a single
	// snapshot's tags catches.
	for _, second := range [][]inventory.Tag{
		tags("ebs-snapper:config-id", "other", "Disk", "data"),
		tags("ebs-snapper:origin", "restore", "Disk", "data"),
	} {
		multiVolumeToolTags(t, second)
	}
}

func multiVolumeToolTags(t *testing.T, second []inventory.Tag) {
	t.Helper()
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-r1", Tags: tags("replication_src_region", "us-east-1", "replication_snapshot_id", "snap-0a", "Disk", "root")})
	f.AddVolume(inventory.Volume{ID: "vol-r2", Tags: second})
	f.AddInstance(inventory.Instance{ID: "i-r", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-r1", "vol-r2"}})
	s := stanza(t, "daily", "12 hours", 5)
	s.MultiVolume = true
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{s}, 0), engineOptions(now))
	if got := rep.Regions[0].Summary; got != (Summary{Created: 2}) {
		t.Fatalf("summary = %+v, want 2 created", got)
	}
	if got := f.Calls(ec2fake.OpCreateSnapshots); got != 0 {
		t.Errorf("CreateSnapshots calls = %d, want 0: CopyTagsFromSource would copy the tool's tags", got)
	}
	for _, snap := range f.Snapshots() {
		for _, tg := range snap.Tags {
			if ToolTag(tg.Key) && tg.Key != "DeleteOn" && tg.Key != "ebs-snapper:run" && !(tg.Key == "ebs-snapper:config-id" && tg.Value == "daily") {
				t.Errorf("%s: inherited %s=%s", snap.VolumeID, tg.Key, tg.Value)
			}
		}
		if v, _ := snap.Tag("Disk"); v == "" {
			t.Errorf("%s: lost its volume's Disk tag: %v", snap.VolumeID, snap.Tags)
		}
	}
}
