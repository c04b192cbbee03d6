package ec2fake

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// testRestoreDrillVolume is a restore drill's calls: a volume restored from
// a snapshot, tagged in the creating call, idempotent by client token,
// listed by its tag, deleted (twice: gone counts as deleted), and the
// outcome tagged on the snapshot; a snapshot that is gone is
// inventory.ErrSnapshotGone for both CreateVolume and TagSnapshot.
func testRestoreDrillVolume(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	snap, err := c.CreateSnapshot(ctx, vol, "drilled", tags("DeleteOn", "2026-12-01"))
	if err != nil {
		t.Fatal(err)
	}
	zones, err := c.AvailabilityZones(ctx)
	if err != nil || len(zones) == 0 || !strings.HasPrefix(zones[0], suiteRegion) {
		t.Fatalf("availability zones %v, %v; want some of %s", zones, err, suiteRegion)
	}
	req := inventory.VolumeRequest{SnapshotID: snap.ID, AvailabilityZone: zones[0], Type: "gp3",
		Tags: tags("ebs-snapper:drill-run", "run-1", "ebs-snapper:drill-snapshot", snap.ID), ClientToken: "run-1-" + snap.ID}
	if _, err := c.CreateVolume(ctx, inventory.VolumeRequest{SnapshotID: snap.ID, AvailabilityZone: zones[0]}); !errors.Is(err, ebs.ErrNoTags) {
		t.Fatalf("untagged create: got %v, want ErrNoTags", err)
	}
	v1, err := c.CreateVolume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := c.CreateVolume(ctx, req)
	if err != nil || v2.ID != v1.ID {
		t.Errorf("repeat with the same client token: %s, %v; want %s again", v2.ID, err, v1.ID)
	}
	listed, err := c.VolumesMatching(ctx, []inventory.Filter{{Name: "tag:ebs-snapper:drill-run", Values: []string{"run-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 {
		t.Fatalf("listed %+v, want only %s", listed, v1.ID)
	}
	got := listed[0]
	if got.ID != v1.ID || got.SnapshotID != snap.ID || got.Type != "gp3" || got.State != inventory.VolumeAvailable || got.Attached ||
		got.AvailabilityZone != zones[0] || got.CreateTime.IsZero() {
		t.Errorf("listed %+v: want %s from %s, gp3, available, not attached, in %s, with a create time", got, v1.ID, snap.ID, zones[0])
	}
	if v, _ := inventory.TagValue(got.Tags, "ebs-snapper:drill-snapshot"); v != snap.ID {
		t.Errorf("tags %v: the creating call's tags are missing", got.Tags)
	}
	if err := c.TagSnapshot(ctx, snap.ID, tags("ebs-snapper:last-drill", "2026-11-25T12:00:00Z passed 3s")); err != nil {
		t.Fatal(err)
	}
	snaps, err := c.Snapshots(ctx)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v, %v", snaps, err)
	}
	if v, _ := snaps[0].Tag("ebs-snapper:last-drill"); v != "2026-11-25T12:00:00Z passed 3s" {
		t.Errorf("snapshot tags %v: want the drill's outcome added", snaps[0].Tags)
	}
	if _, ok := snaps[0].Tag("DeleteOn"); !ok {
		t.Errorf("snapshot tags %v: TagSnapshot dropped DeleteOn", snaps[0].Tags)
	}
	gone := "snap-0123456789abcdef0"
	if err := c.TagSnapshot(ctx, gone, tags("k", "v")); !errors.Is(err, inventory.ErrSnapshotGone) {
		t.Errorf("tag a missing snapshot: got %v, want ErrSnapshotGone", err)
	}
	req.SnapshotID, req.ClientToken = gone, ""
	if _, err := c.CreateVolume(ctx, req); !errors.Is(err, inventory.ErrSnapshotGone) {
		t.Errorf("restore a missing snapshot: got %v, want ErrSnapshotGone", err)
	}
	for i := range 2 {
		if err := c.DeleteVolume(ctx, v1.ID); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	if left, err := c.VolumesMatching(ctx, []inventory.Filter{{Name: "tag-key", Values: []string{"ebs-snapper:drill-run"}}}); err != nil || len(left) != 0 {
		t.Errorf("after delete: %+v, %v; want none", left, err)
	}
}
