package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// A multi_volume stanza snapshots each instance's volumes with one
// CreateSnapshots call, every snapshot tagged in that call as a single
// snapshot would be.
func TestSnapshotMultiVolumeSets(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours", "multi_volume": true}}`)
	web := e.launch(seeder.Group{Count: 2, Volumes: 3, ImageID: "ami-0abc",
		Tags:       []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "Foo"}, {Key: "Service", Value: "Bar"}},
		VolumeTags: []inventory.Tag{{Key: "Service", Value: "Baz"}}})

	out := e.run(0, "snapshot")
	if got := out.Regions[0].Summary.Created; got != 6 {
		t.Fatalf("created %d snapshots, want 6", got)
	}
	calls := map[string]int{}
	for _, c := range out.APICalls {
		calls[c.Operation] = c.Calls
	}
	if calls["EC2.CreateSnapshots"] != 2 || calls["EC2.CreateSnapshot"] != 0 {
		t.Errorf("CreateSnapshots, CreateSnapshot calls = %d, %d; want 2, 0 (one set per instance)", calls["EC2.CreateSnapshots"], calls["EC2.CreateSnapshot"])
	}
	snaps := e.snapshots()
	for _, inst := range web {
		for _, vol := range inst.VolumeIDs {
			if len(snaps[vol]) != 1 {
				t.Fatalf("%s: %d snapshots, want 1", vol, len(snaps[vol]))
			}
			got := tagMap(snaps[vol][0].Tags)
			want := map[string]string{"DeleteOn": got["DeleteOn"], "ebs-snapper:config-id": "web", "Name": "Foo", "Service": "Baz", "backup": "yes", snapper.RunTag: out.RunToken}
			if got["DeleteOn"] == "" || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s (%s) tags = %v, want %v", vol, aws.ToString(snaps[vol][0].SnapshotId), got, want)
			}
		}
	}
}

// A multi-volume set never lets EC2 copy a volume's tags that ebs-snapper
// writes itself (CopyTagsFromSource): a volume restored from a replica
// carries replication_* and ebs-snapper:* tags, and its new snapshot must
// carry none of them, as a single CreateSnapshot's does not. moto's
// CreateSnapshots does not copy volume tags (CopyTagsFromSource): here a set
// that relied on it loses the team tag; TestMultiVolumeSetsNeverCopyTheToolsTags
// (internal/snapper, on the fake, which copies them) sees the inheritance.
func TestMultiVolumeSetsInheritNoToolTags(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours", "multi_volume": true}}`)
	inst := e.launch(seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0]
	restored, plain := inst.VolumeIDs[0], inst.VolumeIDs[1]
	e.tagAs(e.ec2, restored, "replication_src_region", "us-west-2", "replication_snapshot_id", "snap-0000000000000000a",
		"replication_volume_id", "vol-0000000000000000b", "ebs-snapper:origin", "restore", "team", "a")
	e.tagAs(e.ec2, plain, "team", "b")

	out := e.run(0, "snapshot")
	if got := out.Regions[0].Summary.Created; got != 2 {
		t.Fatalf("created %d snapshots, want 2", got)
	}
	snaps := e.snapshots()
	for vol, team := range map[string]string{restored: "a", plain: "b"} {
		if len(snaps[vol]) != 1 {
			t.Fatalf("%s: %d snapshots, want 1", vol, len(snaps[vol]))
		}
		got := tagMap(snaps[vol][0].Tags)
		for k, v := range got {
			if strings.HasPrefix(k, "replication_") || k == "ebs-snapper:origin" {
				t.Errorf("%s's snapshot inherited %s=%s", vol, k, v)
			}
		}
		if got["team"] != team || got[snapper.RunTag] != out.RunToken || got["ebs-snapper:config-id"] != "web" {
			t.Errorf("%s's snapshot tags %v: want team %s, this run's token, config-id web", vol, got, team)
		}
	}
}
