package cli

// Integration tests of deletion authority (docs/security.md): the built
// binary against moto, where a principal allowed only ec2:CreateTags
// writes the tags of the attack, and moto's staging endpoint
// (motoserver.StageSnapshot) sets what its API cannot: a snapshot's
// StartTime, the vol-ffffffff VolumeId EC2 gives every copy, and a copy
// that ended in state error.

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

// tagAs writes tags on resources as the tag-only principal does.
func (e *engineEnv) tagAs(api *ec2.Client, id string, kv ...string) {
	e.t.Helper()
	var tags []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	if _, err := api.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
		e.t.Fatal(err)
	}
}

// exists reports whether snapshot id is still in api's region.
func (e *engineEnv) exists(api *ec2.Client, id string) bool {
	e.t.Helper()
	out, err := api.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("snapshot-id"), Values: []string{id}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(out.Snapshots) == 1
}

// copyIn copies snapshot id of src into api's region with description and
// tags, as another tool (or ebs_snapper, the Python tool) would.
func (e *engineEnv) copyIn(api *ec2.Client, src, id, description string, kv ...string) string {
	e.t.Helper()
	var tags []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	in := &ec2.CopySnapshotInput{SourceRegion: aws.String(src), SourceSnapshotId: aws.String(id), Description: aws.String(description)}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}
	}
	out, err := api.CopySnapshot(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.SnapshotId)
}

func (e *engineEnv) stage(region, id string, st motoserver.SnapshotStage) {
	e.t.Helper()
	if err := e.srv.StageSnapshot(region, id, st); err != nil {
		e.t.Fatal(err)
	}
}

// Issue 15, fault 1: tags naming an original make no snapshot a replica.
// The only snapshot of a volume in use, tagged as the replica of a
// snapshot that does not exist, was deleted as "original no longer
// exists"; so was one tagged as the replica of an original that asks for
// no copy. Copies whose Description proves their origin are still retired:
// ebs-snapper's own, and ebs_snapper's (Python), whose Description is
// their original's.
func TestTagOnlyPrincipalCannotRetireASnapshotAsAReplica(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	west := e.west()
	victim, err := seeder.Snapshot(e.ctx, west, e.launchIn(west))
	if err != nil {
		t.Fatal(err)
	}
	e.tagAs(west, victim, "replication_src_region", "us-east-1", "replication_snapshot_id", "snap-0000000000000000a")
	// An original in us-east-1 that asks for nothing, and a second victim
	// tagged as its replica.
	east := e.launch(seeder.Group{Count: 1})
	// As ebs_snapper (Python) made it: its Description names the volume.
	created, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(east[0].VolumeIDs[0]),
		Description: aws.String("Created from " + east[0].ID + " by EbsSnapper(0.10.6) for ami-12345678 from " + east[0].VolumeIDs[0])})
	if err != nil {
		t.Fatal(err)
	}
	original := aws.ToString(created.SnapshotId)
	victim2, err := seeder.Snapshot(e.ctx, west, e.launchIn(west))
	if err != nil {
		t.Fatal(err)
	}
	e.tagAs(west, victim2, "replication_src_region", "us-east-1", "replication_snapshot_id", original)

	// Controls: an ebs-snapper copy whose original is then deleted, and an
	// ebs_snapper copy (its original's Description, the tags alone) whose
	// original no longer asks for us-west-2.
	gone := e.snapshot(east[0].VolumeIDs[0], inventory.Tag{Key: "replication_dst_region", Value: "us-west-2"})
	if got := e.runRegions(0, "replication").Regions[0].Summary.Copied; got != 1 {
		t.Fatalf("copied %d, want 1", got)
	}
	ours := e.replicasIn(west)[gone]
	if _, err := e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	python := e.copyIn(west, "us-east-1", original, aws.ToString(created.Description),
		"replication_src_region", "us-east-1", "replication_snapshot_id", original)

	out := e.runRegions(0, "replication")
	rows := rowsByID(out)
	for id, want := range map[string]string{
		victim:  "not provably a copy ebs-snapper made",
		victim2: "Description differs from that snapshot's",
	} {
		if r := rows[id+"/replica"]; r.Action != snapper.Keep || !strings.Contains(r.Reason, want) {
			t.Errorf("%s: %s (%s), want kept: %s", id, r.Action, r.Reason, want)
		}
		if !e.exists(west, id) {
			t.Errorf("%s, tagged as a replica by a tag-only principal, was deleted", id)
		}
	}
	for _, id := range []string{aws.ToString(ours.SnapshotId), python} {
		if r := rows[id+"/replica"]; r.Action != snapper.DeleteReplica || r.Status != "done" || e.exists(west, id) {
			t.Errorf("proven replica %s: %s/%s (%s), want deleted", id, r.Action, r.Status, r.Reason)
		}
	}
}

// Issue 15, fault 1: DeleteOn never shortens a retention. Snapshots taken
// just now and tagged DeleteOn=2000-01-01 by a tag-only principal were
// deleted down to the minimum; those of a volume no stanza governs were
// deleted under ignore_retention. Past StartTime + retention they go as
// before.
func TestDeleteOnNeverShortensTheRetention(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	gone := e.launch(seeder.Group{Count: 1})
	vol, orphan := inst[0].VolumeIDs[0], gone[0].VolumeIDs[0]
	var governed, ungoverned []string
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 4 {
		governed = append(governed, e.snapshot(vol))
		ungoverned = append(ungoverned, e.snapshot(orphan))
		// One second apart, so that the untagged fourth is the newest.
		e.stage("us-east-1", governed[i], motoserver.SnapshotStage{StartTime: start.Add(time.Duration(i) * time.Second)})
		e.stage("us-east-1", ungoverned[i], motoserver.SnapshotStage{StartTime: start.Add(time.Duration(i) * time.Second)})
	}
	for _, id := range append(append([]string{}, governed[:3]...), ungoverned[:3]...) {
		e.tagAs(e.ec2, id, "DeleteOn", "2000-01-01")
	}
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "12 hours"}, "ignore_retention": true}`)

	out := e.run(0, "clean")
	if got := out.Regions[0].Summary.Deleted; got != 0 {
		t.Errorf("deleted %d snapshots younger than their retention, want 0: %+v", got, out.Regions[0].Clean)
	}
	for _, r := range out.Regions[0].Clean {
		if r.Action != "keep" || !strings.Contains(r.Reason, "StartTime + retention 4d (DeleteOn 2000-01-01 does not shorten it)") {
			t.Errorf("%s of %s: %s (%s), want kept for its retention", r.SnapshotID, r.VolumeID, r.Action, r.Reason)
		}
	}

	// Five days later the retention has passed: the minimum and
	// ignore_retention decide, as they did.
	out = e.run(0, "clean", "--now", at(5*24*time.Hour))
	deleted := map[string]bool{}
	for _, r := range out.Regions[0].Clean {
		if r.Action == "delete" && r.Status == "done" {
			deleted[r.SnapshotID] = true
		}
	}
	for _, id := range append(append([]string{}, governed[:3]...), ungoverned[:3]...) {
		if !deleted[id] {
			t.Errorf("%s not deleted once its retention had passed: %v", id, deleted)
		}
	}
}

// Issue 15, fault 2: a volume restored from a replica carries the
// replica's tags; its backups carried them too, and the next replication
// run deleted them as orphaned replicas. The tool's other tags (DeleteOn,
// ebs-snapper:*) on the volume are not inherited either.
func TestBackupsOfARestoredVolumeAreNotReplicas(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	west := e.west()
	inst, err := seeder.Launch(e.ctx, west, seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}},
		VolumeTags: []inventory.Tag{{Key: "replication_src_region", Value: "us-east-1"}, {Key: "replication_snapshot_id", Value: "snap-0000000000000000b"},
			{Key: "replication_volume_id", Value: "vol-0000000000000000c"}, {Key: "DeleteOn", Value: "2000-01-01"},
			{Key: "ebs-snapper:config-id", Value: "other"}, {Key: "ebs-snapper:run", Value: "r"}, {Key: "ebs-snapper:origin", Value: "restore"},
			{Key: "team", Value: "dr"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := e.runIn([]string{"us-west-2"}, 0, "snapshot")
	if got := out.Regions[0].Summary.Created; got != 1 {
		t.Fatalf("created %d, want 1", got)
	}
	snaps, err := west.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: inst[0].VolumeIDs}}})
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Fatalf("snapshots of the restored volume: %v, %v", snaps, err)
	}
	backup := snaps.Snapshots[0]
	tags := tagMap(backup.Tags)
	for _, k := range []string{"replication_src_region", "replication_snapshot_id", "replication_volume_id", "ebs-snapper:origin"} {
		if v, ok := tags[k]; ok {
			t.Errorf("new backup inherited %s=%s from its volume", k, v)
		}
	}
	if tags["DeleteOn"] == "2000-01-01" || tags["ebs-snapper:config-id"] != "dr" || tags["ebs-snapper:run"] == "r" || tags["team"] != "dr" {
		t.Errorf("new backup's tags %v: want its own DeleteOn, config-id dr and run, and the user's team tag", tags)
	}
	e.runRegions(0, "replication")
	if !e.exists(west, aws.ToString(backup.SnapshotId)) {
		t.Errorf("the restored volume's backup %s was deleted by replication", aws.ToString(backup.SnapshotId))
	}
}

// Issue 15, fault 3: every copy EC2 makes reads VolumeId vol-ffffffff.
// Encrypting snapshots by copying them (with their tags) and deleting the
// originals put six copies of three volumes in one group: under
// ignore_retention one was kept as its newest and five deleted. A copy
// whose Description records no volume is its own group; one whose
// Description does (ebs-snapper's create form, kept by the copy) is
// grouped under that volume, never with another's.
func TestCopiesOfSeveralVolumesAreNeverOneGroup(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	vols := e.launch(seeder.Group{Count: 3})
	var anonymous []string
	named := map[string][]string{}
	for _, v := range vols {
		for _, days := range []int{-9, -8} {
			orig := e.snapshot(v.VolumeIDs[0], date(days))
			anonymous = append(anonymous, e.copyIn(e.ec2, "us-east-1", orig, "encrypted copy", "DeleteOn", date(days).Value))
			desc := "Created from " + v.ID + " by EbsSnapper(0.10.6) for ami-12345678 from " + v.VolumeIDs[0]
			named[v.VolumeIDs[0]] = append(named[v.VolumeIDs[0]], e.copyIn(e.ec2, "us-east-1", orig, desc, "DeleteOn", date(days).Value))
			if _, err := e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(orig)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := seeder.Terminate(e.ctx, e.ec2, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.backdate()
	for _, id := range anonymous {
		e.stage("us-east-1", id, motoserver.SnapshotStage{VolumeID: provenance.PlaceholderVolume})
	}
	for _, ids := range named {
		for _, id := range ids {
			e.stage("us-east-1", id, motoserver.SnapshotStage{VolumeID: provenance.PlaceholderVolume})
		}
	}
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "12 hours"}, "ignore_retention": true}`)

	out := e.run(0, "clean")
	deleted := map[string]bool{}
	for _, r := range out.Regions[0].Clean {
		if r.Action == "delete" && r.Status == "done" {
			deleted[r.SnapshotID] = true
		}
	}
	for _, id := range anonymous {
		if deleted[id] {
			t.Errorf("copy %s, whose volume nothing records, was deleted", id)
		}
	}
	for vol, ids := range named {
		// Under ignore_retention each volume keeps its newest copy.
		if !deleted[ids[0]] || deleted[ids[1]] {
			t.Errorf("copies of %s: deleted %v of %v, want the older only", vol, deleted, ids)
		}
	}
	if len(deleted) != len(named) {
		t.Errorf("deleted %d, want one older copy per volume (%d)", len(deleted), len(named))
	}
}

// Issue 15, fault 4: a copy that ended in state error is not a replica.
// The original was reported "already copied" for ever; it is copied again,
// up to snapper.MaxCopyAttempts copies in error, after which the run fails
// (exit 3). A copy that succeeds retires the failed ones.
func TestFailedCopiesAreCopiedAgainThenReported(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	west := e.west()
	inst := e.launch(seeder.Group{Count: 1})
	original := e.snapshot(inst[0].VolumeIDs[0], inventory.Tag{Key: "replication_dst_region", Value: "us-west-2"})
	var failed []string
	for attempt := 1; attempt <= snapper.MaxCopyAttempts; attempt++ {
		out := e.runRegions(0, "replication")
		r := rowsByID(out)[original+"/original"]
		if r.Action != snapper.Copy || r.Status != "done" {
			t.Fatalf("attempt %d: %s/%s (%s), want a copy", attempt, r.Action, r.Status, r.Reason)
		}
		if attempt > 1 && !strings.Contains(r.Reason, "ended in error") {
			t.Errorf("attempt %d: reason %q does not report the failed copy", attempt, r.Reason)
		}
		e.stage("us-west-2", r.ReplicaID, motoserver.SnapshotStage{State: "error"})
		failed = append(failed, r.ReplicaID)
	}
	out := e.runRegions(ExitPartial, "replication")
	if r := rowsByID(out)[original+"/original"]; r.Action != snapper.Skip || r.Status != "failed" || !strings.Contains(r.Reason, "ended in error") {
		t.Errorf("after %d failed copies: %s/%s (%s), want a failure", snapper.MaxCopyAttempts, r.Action, r.Status, r.Reason)
	}

	// The last copy turns out well: the failed ones go.
	e.stage("us-west-2", failed[len(failed)-1], motoserver.SnapshotStage{State: "completed"})
	out = e.runRegions(0, "replication")
	for _, id := range failed[:len(failed)-1] {
		if r := rowsByID(out)[id+"/replica"]; r.Action != snapper.DeleteReplica || e.exists(west, id) {
			t.Errorf("failed copy %s: %s (%s), want deleted once replaced", id, r.Action, r.Reason)
		}
	}
	if !e.exists(west, failed[len(failed)-1]) {
		t.Error("the good copy was deleted")
	}
}

// Issue 15, fault 1 (the config-id tag): the orphans policy of a deleted
// volume's snapshots is the one of the stanza that took them, which their
// Description names; a tag-only principal rewriting their
// ebs-snapper:config-id tag to a "keep_last 1" stanza got all but one
// deleted.
func TestARewrittenConfigIDTagDoesNotChooseTheOrphansPolicy(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("keeper", `{"match": {"tag:none": "none"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}, "orphans": "keep"}`)
	e.stanza("last", `{"match": {"tag:none": "none"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}, "orphans": {"keep_last": 1}}`)
	gone := e.launch(seeder.Group{Count: 1})
	vol := gone[0].VolumeIDs[0]
	var ids []string
	for _, d := range []int{-9, -8, -7} {
		ids = append(ids, e.snapshotBy(vol, "keeper", date(d), inventory.Tag{Key: "ebs-snapper:config-id", Value: "keeper"}))
	}
	if err := seeder.Terminate(e.ctx, e.ec2, gone[0].ID); err != nil {
		t.Fatal(err)
	}
	e.backdate()
	for _, id := range ids {
		e.tagAs(e.ec2, id, "ebs-snapper:config-id", "last")
	}
	out := e.run(0, "clean")
	for _, r := range out.Regions[0].Clean {
		if r.Action != "keep" || !(strings.Contains(r.Reason, `orphans "keep" of stanza keeper`) || strings.Contains(r.Reason, "newest")) {
			t.Errorf("%s: %s (%s), want kept by keeper's orphans policy", r.SnapshotID, r.Action, r.Reason)
		}
	}
	if got := out.Regions[0].Summary.Deleted; got != 0 {
		t.Errorf("deleted %d, want 0", got)
	}
}
