package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// A principal allowed only ec2:CreateTags tags real, detached volumes
// restored from snapshots with the drill tags (the snapshot tag naming
// each one's own SnapshotId, so EC2's record agrees with it): the sweep
// must not delete them. One carries a tag of its own, which CreateTags
// cannot remove; one carries no other tag and was not made by a drill
// request (its size is not the snapshot's); one carries a run token
// whose time is later than the volume's creation.
func TestDrillSweepLeavesForgedVolumesAlone(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", drillStanza)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0]
	snap := e.snapshot(inst.VolumeIDs[0], date(7))
	restore := func(size int32, kv ...string) string {
		in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(snap)}
		if size > 0 {
			in.Size = aws.Int32(size)
		}
		if len(kv) > 0 {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume,
				Tags: []ec2types.Tag{{Key: aws.String(kv[0]), Value: aws.String(kv[1])}}}}
		}
		v, err := e.ec2.CreateVolume(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(v.VolumeId)
	}
	owned := restore(0, "team", "db") // a restored data volume, kept detached
	bigger := restore(500)            // restored to a larger size, untagged
	early := restore(0)               // untagged, of the snapshot's size
	forge := func(id, token string) {
		e.tag(id, snapper.DrillRunTag, token, snapper.DrillSnapshotTag, snap, "Name", "ebs-snapper restore drill of "+snap)
	}
	forge(owned, "20261101T000000Z-00000000000000aa")
	forge(bigger, "20261101T000000Z-00000000000000aa")
	// A run token of a run that started after the volume was created.
	forge(early, snapper.NewRunToken(time.Now().Add(time.Hour)))

	out := e.run(ExitOK, "drill", "--now", at(3*time.Hour), "--unsafe-now")
	for _, id := range []string{owned, bigger, early} {
		if !e.volumeExists(id) {
			t.Errorf("the sweep deleted %s, a volume a tag writer made look like a drill volume", id)
		}
	}
	left := map[string]string{}
	for _, sv := range out.Regions[0].Swept {
		left[sv.VolumeID] = sv.Status + ": " + sv.Reason
		t.Logf("swept %s: %s: %s", sv.VolumeID, sv.Status, sv.Reason)
	}
	for _, id := range []string{owned, bigger, early} {
		if s, ok := left[id]; !ok || !strings.HasPrefix(s, snapper.ActionSkip+": ") {
			t.Errorf("swept %s: %q, want it reported and left alone", id, s)
		}
	}
}

func (e *engineEnv) volumeExists(id string) bool {
	e.t.Helper()
	out, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{id}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(out.Volumes) == 1
}

// A volume drilled yesterday is not due; the run copies its record to the
// volume's newest snapshot, so that it outlives the snapshot drilled
// (which clean deletes after its retention, often before the next drill).
func TestDrillCarriesTheRecordThroughTheBinary(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", drillStanza)
	vol := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0].VolumeIDs[0]
	a, b := e.snapshot(vol, date(7)), e.snapshot(vol, date(7))
	newest := drillRows(e.run(ExitOK, "drill", "--dry-run"))[vol].SnapshotID
	older := map[string]string{a: b, b: a}[newest]
	rec := snapper.DrillRecord{At: time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second), Outcome: snapper.DrillPassed, Seconds: 3, SnapshotID: older}
	e.tag(older, snapper.LastDrillTag, rec.String())
	r := drillRows(e.run(ExitOK, "drill"))[vol]
	if r.Action != snapper.ActionSkip || r.CarryTo != newest || r.Error != "" {
		t.Errorf("drill of %s: %+v, want not due and its record carried to %s", vol, r, newest)
	}
	if got := e.lastDrill(newest); got != rec.String() {
		t.Errorf("%s carries %q, want %q", newest, got, rec.String())
	}
	if len(e.drillVolumes()) != 0 {
		t.Errorf("drill volumes made: %v", e.drillVolumes())
	}
}
