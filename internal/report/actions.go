package report

import "github.com/ebs-snapper/ebs-snapper/internal/snapper"

// ActionsOf counts the outcome of a snapshot or clean run in one region
// (the CLI's --json figures and the Lambda workers' EMF lines): snapshots
// created and deleted, failed actions (a failed region counts as one), and
// actions never reached. throttled is how many of the region's calls AWS
// throttled, counted by the caller's SDK middleware.
func ActionsOf(rr snapper.RegionReport, throttled int) *ActionFigures {
	a := &ActionFigures{ThrottledCalls: throttled}
	count := func(status string, done *int) {
		switch {
		case status == snapper.StatusNotStarted:
			a.ActionsNotStarted++
		case status == snapper.StatusDone:
			*done++
		case status == snapper.StatusFailed, status == snapper.StatusUnknown:
			// An outcome even the settling listing could not establish
			// needs attention as a failure does.
			a.ActionsFailed++
		}
	}
	for _, r := range rr.Snapshots {
		count(r.Status, &a.SnapshotsCreated)
	}
	for _, r := range rr.Clean {
		count(r.Status, &a.SnapshotsDeleted)
	}
	if rr.Error != "" {
		a.ActionsFailed++
	}
	return a
}
