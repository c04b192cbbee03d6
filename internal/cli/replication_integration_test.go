package cli

// Integration tests of replication: the built binary against moto across
// us-east-1 and us-west-2 (moto's CopySnapshot copies at once, keeps the
// source's VolumeId and copies no tag of the source).

import (
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

const drStanza = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours"}, "replication": "yes"%s}`

// runRegions runs the binary over both regions.
func (e *engineEnv) runRegions(wantCode int, args ...string) output {
	e.t.Helper()
	return e.runIn([]string{"us-east-1", "us-west-2"}, wantCode, args...)
}

// west is an EC2 client of us-west-2 on moto.
func (e *engineEnv) west() *ec2.Client {
	return ec2.NewFromConfig(e.srv.Config(e.t), func(o *ec2.Options) { o.Region = "us-west-2" })
}

// replicasIn returns the snapshots of api's region tagged
// replication_src_region, by the id of their original.
func (e *engineEnv) replicasIn(api *ec2.Client) map[string]ec2types.Snapshot {
	e.t.Helper()
	out, err := api.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{snapper.ReplicationSourceTag}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	by := map[string]ec2types.Snapshot{}
	for _, s := range out.Snapshots {
		by[tagMap(s.Tags)[snapper.ReplicationSnapshotIDTag]] = s
	}
	return by
}

func rowsByID(out output) map[string]snapper.ReplicationRow {
	by := map[string]snapper.ReplicationRow{}
	for _, rr := range out.Regions {
		for _, r := range rr.Replication {
			by[r.SnapshotID+"/"+r.Role] = r
		}
	}
	return by
}

func TestReplicationCopiesOnceAndRetiresReplicas(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", ""))
	dst := inventory.Tag{Key: "replication_dst_region", Value: "us-west-2"}
	// The tag inherited from the instance by snapshot...
	web := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "web"}, dst}})
	e.run(0, "snapshot")
	inherited := aws.ToString(e.snapshots()[web[0].VolumeIDs[0]][0].SnapshotId)
	// ...and one set on a snapshot directly.
	other := e.launch(seeder.Group{Count: 1})
	direct := e.snapshot(other[0].VolumeIDs[0], dst, inventory.Tag{Key: "team", Value: "a"})

	plan := rowsByID(e.runRegions(0, "plan"))
	for _, id := range []string{inherited, direct} {
		if r := plan[id+"/original"]; r.Action != snapper.Copy || !strings.Contains(r.Reason, "no replica there yet") {
			t.Errorf("plan for %s: %+v, want a copy with its reason", id, r)
		}
	}

	// --copy-limit caps the copies a run plans into one destination.
	limited := rowsByID(e.runRegions(0, "plan", "--copy-limit", "1"))
	actions := map[string]int{}
	for _, id := range []string{inherited, direct} {
		actions[limited[id+"/original"].Action]++
	}
	if actions[snapper.Copy] != 1 || actions[snapper.Defer] != 1 {
		t.Errorf("plan --copy-limit 1: actions %v, want one copy and one defer", actions)
	}

	out := e.runRegions(0, "replication")
	if got := out.Regions[0].Summary.Copied; got != 2 {
		t.Fatalf("copied %d, want 2: %+v", got, out.Regions[0].Replication)
	}
	west := e.west()
	replicas := e.replicasIn(west)
	for id, want := range map[string]map[string]string{
		inherited: {"replication_src_region": "us-east-1", "replication_snapshot_id": inherited, "replication_volume_id": web[0].VolumeIDs[0],
			"DeleteOn": tagMap(e.snapshots()[web[0].VolumeIDs[0]][0].Tags)["DeleteOn"], "Name": "web"},
		direct: {"replication_src_region": "us-east-1", "replication_snapshot_id": direct, "replication_volume_id": other[0].VolumeIDs[0]},
	} {
		r, ok := replicas[id]
		if !ok {
			t.Fatalf("no replica of %s in us-west-2: %v", id, replicas)
		}
		if got := tagMap(r.Tags); !maps.Equal(got, want) {
			t.Errorf("replica of %s: tags %v, want %v", id, got, want)
		}
	}
	if got, want := aws.ToString(replicas[direct].Description), "ebs-snapper copy of "+direct+" from us-east-1 ("+other[0].VolumeIDs[0]+"): seeded by ebs-snapper fleet"; got != want {
		t.Errorf("replica description %q, want %q: the original's, after what proves the copy's origin", got, want)
	}

	if got := e.runRegions(0, "replication").Regions[0].Summary.Copied; got != 0 {
		t.Errorf("second run copied %d, want 0", got)
	}

	// A replica without its id tag is reported; the original going removes
	// its replica on the next run in the destination.
	lostVol := e.launchIn(west)
	lost, err := seeder.Snapshot(e.ctx, west, lostVol, inventory.Tag{Key: "replication_src_region", Value: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(direct)}); err != nil {
		t.Fatal(err)
	}
	plan = rowsByID(e.runRegions(3, "plan"))
	if r := plan[aws.ToString(replicas[direct].SnapshotId)+"/replica"]; r.Action != snapper.DeleteReplica || !strings.Contains(r.Reason, "no longer exists in us-east-1") {
		t.Errorf("plan for the orphaned replica: %+v", r)
	}
	out = e.runRegions(3, "replication")
	rows := rowsByID(out)
	if r := rows[lost+"/replica"]; r.Status != snapper.StatusFailed || !strings.Contains(r.Error, "no replication_snapshot_id tag") {
		t.Errorf("replica without its id tag: %+v, want reported as failed", r)
	}
	if got := out.Regions[1].Summary.Deleted; got != 1 {
		t.Errorf("deleted %d replicas in us-west-2, want 1: %+v", got, out.Regions[1].Replication)
	}
	replicas = e.replicasIn(west)
	if _, ok := replicas[direct]; ok {
		t.Errorf("the replica of the deleted %s is still in us-west-2", direct)
	}
	if _, ok := replicas[inherited]; !ok {
		t.Errorf("the replica of %s, whose original remains, was deleted", inherited)
	}
}

func TestReplicationCopyTagsAndKMSKey(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("dr", strings.ReplaceAll(drStanza, "%s", `, "replication_copy_tags": true, "replication_kms_key": {"us-west-2": "alias/dr"}`))
	vol := e.launch(seeder.Group{Count: 1})[0].VolumeIDs[0]
	orig := e.snapshot(vol, inventory.Tag{Key: "replication_dst_region", Value: "us-west-2"},
		inventory.Tag{Key: "team", Value: "a"}, inventory.Tag{Key: "DeleteOn", Value: "2030-01-01"})
	e.runRegions(0, "replication")
	r, ok := e.replicasIn(e.west())[orig]
	if !ok {
		t.Fatalf("no replica of %s", orig)
	}
	want := map[string]string{"replication_src_region": "us-east-1", "replication_snapshot_id": orig, "replication_volume_id": vol,
		"DeleteOn": "2030-01-01", "team": "a"}
	if got := tagMap(r.Tags); !maps.Equal(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	if !aws.ToBool(r.Encrypted) || !strings.HasSuffix(aws.ToString(r.KmsKeyId), "alias/dr") {
		t.Errorf("Encrypted %v, KmsKeyId %q; want an encrypted copy with alias/dr", aws.ToBool(r.Encrypted), aws.ToString(r.KmsKeyId))
	}
}

// launchIn launches one untagged instance through api and returns its
// volume.
func (e *engineEnv) launchIn(api *ec2.Client) string {
	e.t.Helper()
	inst, err := seeder.Launch(e.ctx, api, seeder.Group{Count: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	return inst[0].VolumeIDs[0]
}
