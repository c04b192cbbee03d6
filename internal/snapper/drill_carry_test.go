package snapper

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// A volume drilled every 30 days whose snapshots are kept 7: the drilled
// snapshot is deleted long before the next drill is due. Its record must
// outlive it, or the volume looks never drilled, is drilled again at once
// (every retention instead of every drill.every, at that cost) and the
// report flags it "never". A drill run that does not drill the volume
// carries its last record to the volume's newest snapshot (the record
// names the snapshot drilled), and the GiB cap counts that drill once.
func TestDrillRecordOutlivesTheDrilledSnapshot(t *testing.T) {
	f := drillFleet(now)
	drilled := DrillRecord{At: now.Add(-10 * 24 * time.Hour), Outcome: DrillPassed, Seconds: 5, SnapshotID: "snap-a1old"}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1old", VolumeID: "vol-a1", StartTime: now.Add(-11 * 24 * time.Hour), VolumeSize: 100,
		Tags: []inventory.Tag{{Key: "DeleteOn", Value: "2026-11-21"}, {Key: LastDrillTag, Value: drilled.String()}}}, "")
	p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{Every: 30 * 24 * time.Hour})}, 0)
	c := ebs.New(f, "us-east-1")
	opts := engineOptions(now)
	opts.Scope = Scope{Volumes: []string{"vol-a1"}}
	rep := runUseCase(t.Context(), useDrill, []EC2{c}, p, opts)
	if d := rep.Regions[0].Drills; len(d) != 1 || d[0].Action != ActionSkip || d[0].CarryTo != "snap-a1" {
		t.Fatalf("drills %+v: want vol-a1 not due, its record carried to snap-a1", d)
	}
	if s, _ := f.Snapshot("snap-a1"); !hasTag(s, LastDrillTag, drilled.String()) {
		t.Errorf("snap-a1 tags %v, want %s=%q", s.Tags, LastDrillTag, drilled.String())
	}
	// clean deletes the drilled snapshot, its retention passed.
	if _, err := f.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-a1old")}); err != nil {
		t.Fatal(err)
	}
	rep = runUseCase(t.Context(), useDrill, []EC2{c}, p, opts)
	d := rep.Regions[0].Drills
	if len(d) != 1 || d[0].Action != ActionSkip || d[0].LastDrill == nil || *d[0].LastDrill != drilled || d[0].CarryTo != "" {
		t.Errorf("drills %+v: want vol-a1 not due, last drilled as recorded on snap-a1old, nothing to carry", d)
	}
	// The same drill on two snapshots counts once against the daily cap.
	today := DrillRecord{At: now, Outcome: DrillPassed, Seconds: 5, SnapshotID: "snap-x"}
	snaps := []inventory.Snapshot{
		{ID: "snap-x", VolumeID: "vol-a1", VolumeSize: 100, Tags: []inventory.Tag{{Key: LastDrillTag, Value: today.String()}}},
		{ID: "snap-y", VolumeID: "vol-a1", VolumeSize: 100, Tags: []inventory.Tag{{Key: LastDrillTag, Value: today.String()}}},
	}
	if got := drilledToday(snaps, map[string][]string{"vol-a1": {"daily"}}, "daily", now); got != 100 {
		t.Errorf("drilled today %d GiB, want 100", got)
	}
}

func hasTag(s inventory.Snapshot, k, v string) bool {
	got, ok := s.Tag(k)
	return ok && got == v
}

// A volume type that cannot hold the snapshot's size (EC2 refuses an sc1
// volume under 125 GiB, a standard one over 1,024 GiB) would fail the
// drill of a sound snapshot: the drill restores it as gp3 and says so.
func TestDrillVolumeTypeFitsTheSnapshot(t *testing.T) {
	for _, tt := range []struct {
		want string
		size int32
		got  string
	}{
		{"sc1", 100, "gp3"}, {"sc1", 125, "sc1"}, {"st1", 8, "gp3"}, {"st1", 16384, "st1"},
		{"standard", 1024, "standard"}, {"standard", 1025, "gp3"}, {"gp2", 8, "gp2"}, {"gp3", 16384, "gp3"},
	} {
		got, note := drillVolumeType(tt.want, tt.size)
		if got != tt.got || (got != tt.want) != (note != "") {
			t.Errorf("%s for %d GiB: %s, %q; want %s", tt.want, tt.size, got, note, tt.got)
		}
	}
	opts := engineOptions(now)
	opts.DryRun = true
	rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(drillFleet(now), "us-east-1")}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{VolumeType: "sc1"})}, 0), opts)
	if len(rep.Regions[0].Drills) != 2 {
		t.Fatalf("drills %+v", rep.Regions[0].Drills)
	}
	for _, d := range rep.Regions[0].Drills {
		if d.VolumeType != "gp3" || !strings.Contains(d.Reason, "restored as gp3: sc1 volumes are 125 to 16384 GiB") {
			t.Errorf("plan of %s (%d GiB, sc1): %s, %q", d.VolumeID, d.SizeGiB, d.VolumeType, d.Reason)
		}
	}
}

// A last-drill record dated in the future is a forged tag, not a drill:
// it does not keep the volume from being due, and is not carried on.
func TestDrillIgnoresARecordFromTheFuture(t *testing.T) {
	f := drillFleet(now)
	forged := DrillRecord{At: now.Add(365 * 24 * time.Hour), Outcome: DrillPassed, Seconds: 1, SnapshotID: "snap-a1"}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1old", VolumeID: "vol-a1", StartTime: now.Add(-2 * time.Hour), VolumeSize: 100,
		Tags: []inventory.Tag{{Key: LastDrillTag, Value: forged.String()}}}, "")
	opts := engineOptions(now)
	opts.DryRun = true
	opts.Scope = Scope{Volumes: []string{"vol-a1"}}
	rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
	if d := rep.Regions[0].Drills; len(d) != 1 || d[0].Action != ActionDrill || d[0].LastDrill != nil || d[0].CarryTo != "" {
		t.Errorf("drills %+v: want vol-a1 due, never drilled", d)
	}
}
