package cli

// Integration tests of forged evidence (docs/security.md): what a
// principal allowed to create snapshots or to tag them writes, against the
// built binary and moto, beside authority_integration_test.go.

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// A principal allowed to create snapshots writes any Description on its
// own snapshot: one naming a stanza ("; stanza last") on a snapshot of a
// volume no stanza governs any more must not bring that stanza's orphans
// policy down on the volume's other snapshots, which name no stanza
// (ebs_snapper's, or ebs-snapper's before it named one): they keep the old
// rule, kept without ignore_retention (docs/security.md, Limits).
func TestAForgedStanzaDescriptionDoesNotChooseTheOrphansPolicyOfOthers(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("last", `{"match": {"tag:none": "none"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}, "orphans": {"keep_last": 1}}`)
	gone := e.launch(seeder.Group{Count: 1})
	vol := gone[0].VolumeIDs[0]
	var python []string
	for _, d := range []int{-9, -8, -7} {
		python = append(python, e.snapshotBy(vol, "", date(d)))
	}
	forged := e.snapshotBy(vol, "last", inventory.Tag{Key: "owner", Value: "mallory"})
	if err := seeder.Terminate(e.ctx, e.ec2, gone[0].ID); err != nil {
		t.Fatal(err)
	}
	e.backdate()
	out := e.run(0, "clean")
	for _, r := range out.Regions[0].Clean {
		if r.Action != "keep" || !(strings.Contains(r.Reason, "names no stanza whose orphans policy applies") || strings.Contains(r.Reason, "newest")) {
			t.Errorf("%s: %s (%s), want kept: it names no stanza", r.SnapshotID, r.Action, r.Reason)
		}
	}
	for _, id := range append(python, forged) {
		if !e.exists(e.ec2, id) {
			t.Errorf("%s was deleted", id)
		}
	}
}

// ebs_snapper's copies carry their original's Description, which is the
// same for every snapshot of one volume: only a later StartTime ties a
// copy to an original. A tag-only principal who points a Python replica at
// a newer snapshot of the same volume that asks for no copy must not get
// it retired as "no longer asks": it was made before that snapshot.
func TestARetaggedPythonReplicaIsNotRetiredForANewerOriginal(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	west := e.west()
	east := e.launch(seeder.Group{Count: 1})
	vol := east[0].VolumeIDs[0]
	desc := "Created from " + east[0].ID + " by EbsSnapper(0.10.6) for ami-12345678 from " + vol
	create := func(kv ...string) string {
		in := &ec2.CreateSnapshotInput{VolumeId: aws.String(vol), Description: aws.String(desc)}
		if len(kv) == 2 {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
				Tags: []ec2types.Tag{{Key: aws.String(kv[0]), Value: aws.String(kv[1])}}}}
		}
		out, err := e.ec2.CreateSnapshot(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SnapshotId)
	}
	asks := create("replication_dst_region", "us-west-2")
	replica := e.copyIn(west, "us-east-1", asks, desc, "replication_src_region", "us-east-1", "replication_snapshot_id", asks)
	newer := create()
	now := time.Now().UTC().Truncate(time.Second)
	e.stage("us-east-1", asks, motoserver.SnapshotStage{StartTime: now.Add(-72 * time.Hour)})
	e.stage("us-west-2", replica, motoserver.SnapshotStage{StartTime: now.Add(-71 * time.Hour), VolumeID: provenance.PlaceholderVolume})
	e.stage("us-east-1", newer, motoserver.SnapshotStage{StartTime: now.Add(-24 * time.Hour)})
	e.tagAs(west, replica, "replication_snapshot_id", newer)

	out := e.runRegions(0, "replication")
	if r := rowsByID(out)[replica+"/replica"]; r.Action != snapper.Keep || !strings.Contains(r.Reason, "made before it") {
		t.Errorf("%s: %s (%s), want kept: it was made before %s", replica, r.Action, r.Reason, newer)
	}
	if !e.exists(west, replica) {
		t.Errorf("Python replica %s, retagged to a newer original, was deleted", replica)
	}
}

// Every snapshot ebs_snapper took of one volume carries the same
// Description, so a later one passes for the copy of an earlier one. A
// tag-only principal who tags the newer backup as the replica of the older,
// in the same region, must not get the backup retired: ebs-snapper copies
// between regions only.
func TestASnapshotTaggedAsAReplicaFromItsOwnRegionIsKept(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	east := e.launch(seeder.Group{Count: 1})
	vol := east[0].VolumeIDs[0]
	desc := "Created from " + east[0].ID + " by EbsSnapper(0.10.6) for ami-12345678 from " + vol
	var ids []string
	for range 2 {
		out, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol), Description: aws.String(desc)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.SnapshotId))
	}
	now := time.Now().UTC().Truncate(time.Second)
	e.stage("us-east-1", ids[0], motoserver.SnapshotStage{StartTime: now.Add(-48 * time.Hour)})
	e.stage("us-east-1", ids[1], motoserver.SnapshotStage{StartTime: now.Add(-24 * time.Hour)})
	e.tagAs(e.ec2, ids[1], "replication_src_region", "us-east-1", "replication_snapshot_id", ids[0])

	out := e.runRegions(0, "replication")
	if r := rowsByID(out)[ids[1]+"/replica"]; r.Action != snapper.Keep || !strings.Contains(r.Reason, "names its own region") {
		t.Errorf("%s: %s (%s), want kept: it names its own region", ids[1], r.Action, r.Reason)
	}
	if !e.exists(e.ec2, ids[1]) {
		t.Errorf("backup %s, tagged as a replica of %s in its own region, was deleted", ids[1], ids[0])
	}
}

// A principal allowed ec2:CreateSnapshot in the destination region gives
// a snapshot of one of its volumes the Description of ebs-snapper's copy
// of an original. That snapshot is no copy (it reads its own volume, every
// copy reads vol-ffffffff): the original is copied all the same, and not
// reported "already copied" for ever.
func TestAForgedCopyDescriptionDoesNotStopACopy(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	east := e.launch(seeder.Group{Count: 1})
	orig := e.snapshot(east[0].VolumeIDs[0], inventory.Tag{Key: "replication_dst_region", Value: "us-west-2"})
	west := e.west()
	vol := e.launchIn(west)
	forged, err := west.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol),
		Description: aws.String(provenance.CopyDescription(provenance.Copy{SourceRegion: "us-east-1", SourceID: orig, VolumeID: east[0].VolumeIDs[0]}, ""))})
	if err != nil {
		t.Fatal(err)
	}
	out := e.runRegions(0, "replication")
	if r := rowsByID(out)[orig+"/original"]; r.Action != snapper.Copy || r.Status != "done" {
		t.Errorf("original %s: %s/%s (%s), want copied: %s is not a copy", orig, r.Action, r.Status, r.Reason, aws.ToString(forged.SnapshotId))
	}
	if _, ok := e.replicasIn(west)[orig]; !ok {
		t.Errorf("no copy of %s in us-west-2", orig)
	}
}
