package retention

import (
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// Copies whose Description records no volume (another tool's, an
// encrypting copy, a copy tagged replication_volume_id by anyone) are each
// a group of their own, their own newest: under ignore_retention, which
// deletes due snapshots of unknown volumes, none of them is deleted, and a
// copy the Description ties to vol-1 is counted with vol-1's snapshots
// only.
func TestCopiesWithoutAVolumeOfRecordAreTheirOwnGroups(t *testing.T) {
	copyOf := func(id string, day int, desc string, tags ...inventory.Tag) inventory.Snapshot {
		s := at(id, utc(2026, 10, day, 0))
		s.VolumeID, s.Description = provenance.PlaceholderVolume, desc
		s.Tags = append(s.Tags, tags...)
		return s
	}
	snaps := []inventory.Snapshot{
		copyOf("enc-a", 1, "encrypted copy"),
		copyOf("enc-b", 2, "encrypted copy"),
		copyOf("tagged", 3, "", inventory.Tag{Key: "replication_volume_id", Value: "vol-1"}),
		copyOf("ours-old", 4, provenance.CopyDescription(provenance.Copy{SourceRegion: "us-east-1", SourceID: "snap-0a", VolumeID: "vol-1"}, "")),
		copyOf("ours-new", 5, provenance.CopyDescription(provenance.Copy{SourceRegion: "us-east-1", SourceID: "snap-0b", VolumeID: "vol-1"}, "")),
	}
	in := Input{Now: utc(2026, 10, 10, 0), Snapshots: snaps, IgnoreRetention: true}
	got := map[string]Decision{}
	for _, d := range planChecked(t, in) {
		got[d.SnapshotID] = d
	}
	for _, id := range []string{"enc-a", "enc-b", "tagged"} {
		if d := got[id]; d.Action != Keep || d.Reason != keptNewest(provenance.PlaceholderVolume) {
			t.Errorf("%s: %s (%s), want kept as the newest of its own group", id, d.Action, d.Reason)
		}
	}
	if d := got["ours-old"]; d.Action != Delete || d.VolumeID != "vol-1" {
		t.Errorf("ours-old: %s of %s (%s), want deleted under ignore_retention as vol-1's older copy", d.Action, d.VolumeID, d.Reason)
	}
	if d := got["ours-new"]; d.Action != Keep || d.Reason != keptNewest("vol-1") {
		t.Errorf("ours-new: %s (%s), want kept as vol-1's newest", d.Action, d.Reason)
	}
}
