package ebs_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// The listing converts each page's tags into one array: every snapshot
// must still get its own tags, nil when it has none, and appending to one
// snapshot's tags must not overwrite the next one's.
func TestSnapshotsTagsPerSnapshot(t *testing.T) {
	f := &ec2fake.Fake{}
	want := make([]inventory.Snapshot, 1500) // two pages
	for i := range want {
		want[i] = inventory.Snapshot{ID: fmt.Sprintf("snap-%017d", i), VolumeID: "vol-1", State: inventory.StateCompleted, StorageTier: inventory.TierStandard}
		for k := range i % 3 {
			want[i].Tags = append(want[i].Tags, inventory.Tag{Key: fmt.Sprintf("k%d", k), Value: fmt.Sprint(i)})
		}
		f.AddSnapshot(want[i], "")
	}
	got, err := ebs.New(f, region).Snapshots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("snapshots (-want +got):\n%s", diff)
	}
	for i := range got {
		got[i].Tags = append(got[i].Tags, inventory.Tag{Key: "added", Value: "x"})
	}
	for i := range got {
		if n := len(got[i].Tags); n != i%3+1 || got[i].Tags[n-1].Key != "added" || (n > 1 && got[i].Tags[0].Value != fmt.Sprint(i)) {
			t.Fatalf("snapshot %d after appending to every snapshot's tags: %v", i, got[i].Tags)
		}
	}
}
