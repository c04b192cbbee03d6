package snapper

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// EC2's per-volume rules hold a due volume back in the plan, with the
// reason, instead of letting EC2 refuse the create.
func TestPlanSnapshotsPerVolumeLimits(t *testing.T) {
	hourly := stanza(t, "hourly", "1 hour", 1)
	old := snap("snap-old", "vol-1", inventory.StateCompleted, 2*time.Hour, "")
	pending := func(n int, age time.Duration) []inventory.Snapshot {
		out := []inventory.Snapshot{old}
		for i := range n {
			out = append(out, snap("snap-p"+string(rune('a'+i)), "vol-1", inventory.StatePending, age, ""))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		snaps   []inventory.Snapshot
		volType string
		want    string // action
		reason  string // part of the reason
	}{
		{name: "due, nothing pending", snaps: []inventory.Snapshot{old}, want: Create},
		{name: "4 pending on gp3", snaps: pending(4, 90*time.Minute), volType: "gp3", want: Create},
		{name: "5 pending on gp3", snaps: pending(5, 90*time.Minute), volType: "gp3", want: Skip, reason: "5 of its snapshots are still pending, EC2 allows 5 at once for gp3"},
		{name: "1 pending on st1", snaps: pending(1, 90*time.Minute), volType: "st1", want: Skip, reason: "allows 1 at once for st1"},
		{name: "1 pending on sc1", snaps: pending(1, 90*time.Minute), volType: "sc1", want: Skip, reason: "allows 1 at once for sc1"},
		{name: "st1 with none pending", snaps: []inventory.Snapshot{old}, volType: "st1", want: Create},
		// The newest snapshot failed (error state): the volume is due, but
		// EC2 counts that start against its 15 s.
		{name: "error snapshot 10 s ago", snaps: []inventory.Snapshot{old, snap("snap-err", "vol-1", inventory.StateError, 10*time.Second, "")},
			want: Skip, reason: "under 15s before now"},
		{name: "error snapshot 15 s ago", snaps: []inventory.Snapshot{old, snap("snap-err", "vol-1", inventory.StateError, 15*time.Second, "")}, want: Create},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := region(map[string][]string{"i-1": {"vol-1"}}, map[string]string{"i-1": "hourly"}, tc.snaps...)
			r.VolumeTypes = map[string]string{}
			if tc.volType != "" {
				r.VolumeTypes["vol-1"] = tc.volType
			}
			got := PlanSnapshots(r, NewPolicy([]config.Stanza{hourly}, 0), now)
			if len(got) != 1 || got[0].Action != tc.want || !strings.Contains(got[0].Reason, tc.reason) {
				t.Fatalf("got %+v, want action %s with a reason containing %q", got, tc.want, tc.reason)
			}
		})
	}
}
