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
	for _, r := range rr.Drills {
		count(r.Status, new(int))
	}
	if rr.Error != "" {
		a.ActionsFailed++
	}
	return a
}

// DrillFigures are the outcome of a drill run in one region: the metrics
// DrillsRun, DrillsFailed (the stack's drill alarm watches it) and
// DrillVolumesSwept.
type DrillFigures struct {
	DrillsRun         int `json:"drills_run"`
	DrillsFailed      int `json:"drills_failed"`
	DrillVolumesSwept int `json:"drill_volumes_swept"`
}

// DrillsOf returns the drill figures of a region's report, nil unless it
// is a drill run's (job "drill").
func DrillsOf(job string, rr snapper.RegionReport) *DrillFigures {
	if job != snapper.PipelineDrill {
		return nil
	}
	return &DrillFigures{DrillsRun: rr.Summary.Drilled, DrillsFailed: rr.Summary.DrillsFailed, DrillVolumesSwept: rr.Summary.Swept}
}
