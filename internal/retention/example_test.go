package retention_test

import (
	"fmt"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// vol-1 keeps at least 4 snapshots; the one taken by hand, without
// DeleteOn, is no candidate but counts. Due snapshots go oldest first,
// except one that backs an AMI, until 4 completed ones remain; the failed
// (error-state) one goes without counting. vol-9 belongs to no stanza, so
// without ignore_retention nothing of it is deleted.
func ExamplePlan() {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC) }
	deleteOn := func(date string) []inventory.Tag { return []inventory.Tag{{Key: retention.DeleteOnTag, Value: date}} }
	in := retention.Input{
		Now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		Snapshots: []inventory.Snapshot{
			{ID: "snap-3", VolumeID: "vol-1", State: "completed", StartTime: day(20), Tags: deleteOn("2026-11-25")},
			{ID: "snap-1", VolumeID: "vol-1", State: "completed", StartTime: day(10), Tags: deleteOn("2026-11-15")},
			{ID: "snap-2", VolumeID: "vol-1", State: "error", StartTime: day(15), Tags: deleteOn("2026-11-20")},
			{ID: "snap-4", VolumeID: "vol-1", State: "completed", StartTime: day(24), Tags: deleteOn("2026-11-29")},
			{ID: "snap-0", VolumeID: "vol-1", State: "completed", StartTime: day(5), Tags: deleteOn("2026-11-10"),
				Protections: []inventory.Protection{{Kind: inventory.ProtectedByAMI, Resource: "ami-1"}}},
			{ID: "manual", VolumeID: "vol-1", State: "completed", StartTime: day(25)},
			{ID: "snap-9", VolumeID: "vol-9", State: "completed", StartTime: day(2), Tags: deleteOn("2026-11-06")},
			{ID: "snap-8", VolumeID: "vol-9", State: "completed", StartTime: day(1), Tags: deleteOn("2026-11-05")},
		},
		Volumes: map[string]retention.VolumePolicy{
			"vol-1": {ConfigID: "daily", InstanceID: "i-1", Minimum: 4},
		},
	}
	plan := retention.Plan(in)
	for _, d := range plan {
		fmt.Printf("%s %-6s %s\n", d.SnapshotID, d.Action, d.Reason)
	}
	deleted, kept := retention.Count(plan)
	fmt.Printf("%d to delete, %d to keep\n", deleted, kept)
	// Output:
	// snap-0 keep   kept: backs ami-1
	// snap-1 delete expired on 2026-11-15, 5 completed snapshots > minimum 4
	// snap-2 delete expired on 2026-11-20, error-state snapshot (not counted toward minimum)
	// snap-3 keep   kept: minimum 4 reached (4 completed snapshots of vol-1)
	// snap-4 keep   kept: expires on 2026-11-29
	// snap-8 keep   kept: minimum unknown, volume vol-9 is not attached to an instance any stanza matches
	// snap-9 keep   kept: newest completed snapshot of vol-9
	// 2 to delete, 5 to keep
}
