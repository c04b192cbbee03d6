package cli

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/fleet"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// A multi_volume stanza snapshots each instance's volumes with one
// CreateSnapshots call, every snapshot tagged in that call as a single
// snapshot would be.
func TestSnapshotMultiVolumeSets(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours", "multi_volume": true}}`)
	web := e.launch(fleet.Group{Count: 2, Volumes: 3, ImageID: "ami-0abc",
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
