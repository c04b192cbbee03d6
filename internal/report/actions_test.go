package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

func TestActionsOf(t *testing.T) {
	snap := func(status, errText string) snapper.SnapshotRow {
		return snapper.SnapshotRow{Status: status, Error: errText}
	}
	clean := func(status string) snapper.CleanRow { return snapper.CleanRow{Status: status} }
	rr := snapper.RegionReport{
		Region: "us-west-2",
		Snapshots: []snapper.SnapshotRow{snap(snapper.StatusDone, ""), snap(snapper.StatusDone, ""), snap(snapper.StatusFailed, "boom"),
			snap(snapper.StatusNotStarted, ""), snap(snapper.StatusUnknown, "listing failed"), snap("", "")},
		Clean: []snapper.CleanRow{clean(snapper.StatusDone), clean(snapper.StatusSkipped), clean(snapper.StatusNotStarted), clean("")},
		Error: "inventory failed",
	}
	want := &ActionFigures{SnapshotsCreated: 2, SnapshotsDeleted: 1, ActionsFailed: 3, ActionsNotStarted: 2, ThrottledCalls: 7}
	if diff := cmp.Diff(want, ActionsOf(rr, 7)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
