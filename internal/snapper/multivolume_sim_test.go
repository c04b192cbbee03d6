package snapper

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
)

// simMultiFleet seeds 3 instances × 3 volumes tagged backup=yes: i-0's
// volumes all override the instance's Service (one tag set for the whole
// call), i-1's each carry a key of their own (copied from the volume,
// CopyTagsFromSource) and i-2's have no tags. It returns the volumes'
// tags and their instance's, by volume.
func simMultiFleet(f *ec2fake.Fake) (volTags, instTags map[string][]inventory.Tag) {
	volTags, instTags = map[string][]inventory.Tag{}, map[string][]inventory.Tag{}
	for i := range 3 {
		inst := inventory.Instance{ID: fmt.Sprintf("i-%d", i), ImageID: "ami-1",
			Tags: tags("backup", "yes", "Name", fmt.Sprintf("web-%d", i), "Service", "Bar")}
		for v := range 3 {
			vol := fmt.Sprintf("vol-%d%d", i, v)
			inst.VolumeIDs = append(inst.VolumeIDs, vol)
			switch i {
			case 0:
				volTags[vol] = tags("Service", "Baz")
			case 1:
				volTags[vol] = tags("Disk", fmt.Sprintf("data-%d", v))
			}
			f.AddVolume(inventory.Volume{ID: vol, Tags: volTags[vol]})
			instTags[vol] = inst.Tags
		}
		f.AddInstance(inst)
	}
	return volTags, instTags
}

// A multi_volume stanza over the simulator, through the product's client
// and the SDK over HTTP on 127.0.0.1: exactly one CreateSnapshots per
// instance (the simulator's count), none per volume, and every snapshot
// with the tags the same fleet's snapshots get from one CreateSnapshot
// each (a single-volume run on a twin simulator), which are DeleteOn,
// ebs-snapper:config-id, the run tag and the inherited tags.
func TestSimMultiVolumeSets(t *testing.T) {
	var volTags, instTags map[string][]inventory.Tag
	run := func(multi bool) (*ec2sim.Sim, Summary) {
		sim := ec2sim.New(ec2sim.Options{Regions: []string{simRegion}, Now: func() time.Time { return now }})
		volTags, instTags = simMultiFleet(sim.Region(simRegion))
		s := stanza(t, "web", "12 hours", 2)
		s.MultiVolume = multi
		region := []EC2{ebs.New(ec2sim.Client(sim.Start(t), simRegion), simRegion)}
		rep := runUseCase(t.Context(), useSnapshot, region, NewPolicy([]config.Stanza{s}, 0), engineOptions(now))
		if rep.Regions[0].Error != "" {
			t.Fatalf("multi_volume=%v: region failed: %s", multi, rep.Regions[0].Error)
		}
		return sim, rep.Regions[0].Summary
	}
	multi, sum := run(true)
	if sum != (Summary{Created: 9}) {
		t.Fatalf("summary = %+v, want 9 created", sum)
	}
	counts := multi.Counts()
	if got := counts["CreateSnapshots"]; got.Calls != 3 || got.Errors != 0 || got.Throttled != 0 {
		t.Errorf("CreateSnapshots = %+v, want 3 calls (one per instance) without error", got)
	}
	if got := counts["CreateSnapshot"].Calls; got != 0 {
		t.Errorf("CreateSnapshot calls = %d, want 0", got)
	}
	single, sum := run(false)
	if sum != (Summary{Created: 9}) || single.Counts()["CreateSnapshot"].Calls != 9 {
		t.Fatalf("single-volume run: %+v, %d CreateSnapshot calls; want 9 and 9", sum, single.Counts()["CreateSnapshot"].Calls)
	}
	singleTags := map[string][]inventory.Tag{}
	for _, snap := range single.Region(simRegion).Snapshots() {
		singleTags[snap.VolumeID] = snap.Tags
	}
	const deleteOn = "2026-11-30" // 4 days' retention from now, as TestRunMultiVolumeSets
	seen := 0
	for _, snap := range multi.Region(simRegion).Snapshots() {
		seen++
		want := WithRunTag(SnapshotTags(deleteOn, "web", instTags[snap.VolumeID], volTags[snap.VolumeID]), testRun)
		if !sameTags(snap.Tags, want) {
			t.Errorf("%s (%s) tags = %v, want %v", snap.VolumeID, snap.ID, snap.Tags, want)
		}
		if !sameTags(snap.Tags, singleTags[snap.VolumeID]) {
			t.Errorf("%s tags = %v, but a single CreateSnapshot gives %v", snap.VolumeID, snap.Tags, singleTags[snap.VolumeID])
		}
	}
	if seen != 9 {
		t.Errorf("%d snapshots in the simulator, want 9", seen)
	}
}
