package snapper

import (
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// Row statuses.
const (
	StatusPlanned = "planned" // dry run: the action was not taken
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // EC2 refused in a way that is not a failure (snapshot in use)
	// StatusNotStarted marks an action the run never reached because it
	// stopped starting work (Options.StopStarting fired, or the context
	// ended). It is not a failure: re-planning on the next run, or a
	// continuation, finds the same action due again.
	StatusNotStarted = "not started"
	// StatusDeferred marks a copy EC2 refused for the copies already in
	// progress in its destination (inventory.ErrCopyLimit), or one not
	// tried after such a refusal, and a create EC2 refused for a
	// per-volume limit (inventory.ErrTryLater): a later run makes it. Not
	// a failure.
	StatusDeferred = "deferred"
	// StatusUnknown marks an action whose request may have reached EC2
	// but whose answer was lost (inventory.ErrOutcomeUnknown). A run
	// settles every such row with one listing before it reports (see
	// settleCreates and settleDeletes); a row keeps this status only when
	// that listing itself failed, and it counts as a failure then.
	StatusUnknown = "unknown"
)

// SnapshotRow is a snapshot decision and what became of it.
type SnapshotRow struct {
	SnapshotDecision
	Status     string `json:"status,omitempty"`
	SnapshotID string `json:"snapshot_id,omitempty"`
	Error      string `json:"error,omitempty"`
	// Locked is true once the snapshot Lock asked for is locked;
	// LockError says why it is not (a failure of the row).
	Locked    bool   `json:"locked,omitempty"`
	LockError string `json:"lock_error,omitempty"`
}

// CleanRow is a clean decision and what became of it.
type CleanRow struct {
	// Region is the region of the snapshot.
	Region string `json:"region"`
	retention.Decision
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// RecycleBin, on a delete a Recycle Bin rule covers, says how long the
	// deleted snapshot stays billed.
	RecycleBin *BinHold `json:"recycle_bin,omitempty"`
}

// RegionReport is the outcome of a run in one region (a part of Report).
type RegionReport struct {
	Region  string `json:"region"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	// Snapshots, Clean and Replication are always in the JSON; the CLI
	// prints an empty one as [] (jq's .regions[].clean[] then yields
	// nothing rather than failing on a region with nothing to do).
	Snapshots []SnapshotRow `json:"snapshots"`
	Clean     []CleanRow    `json:"clean"`
	Conflicts []Conflict    `json:"conflicts,omitempty"`
	// InvalidStanzas are the stanzas whose match EC2 rejected in this
	// region; the others ran. Each one counts as a failure.
	InvalidStanzas []RejectedStanza `json:"invalid_stanzas,omitempty"`
	// NeverDue lists, for clean and plan, the snapshots whose DeleteOn tag
	// is not a YYYY-MM-DD date: clean keeps them, now and on every run.
	NeverDue []string `json:"never_due,omitempty"`
	// RecycleBin, for clean and plan in a region with Recycle Bin rules
	// for EBS snapshots, says what the deletes leave billed in the bin.
	RecycleBin *RecycleBinSummary `json:"recycle_bin,omitempty"`
	// Replication holds the replication decisions of the region's tagged
	// snapshots (Replicate, and Plan when replication is on).
	Replication []ReplicationRow `json:"replication"`
	Summary     Summary          `json:"summary"`
}

// Summary counts the outcome of a region's run.
type Summary struct {
	Created int `json:"created"`
	Deleted int `json:"deleted"`
	// Kept counts kept snapshots, archived ones included.
	Kept int `json:"kept"`
	// Archived counts snapshots moved to the archive tier.
	Archived int `json:"archived"`
	Failed   int `json:"failed"`
	// NotStarted counts actions the run never reached (not failures).
	NotStarted int `json:"not_started"`
	// Copied counts replicas made; Deferred the copies left for a later
	// run because of the destination's copy limit (not failures).
	Copied   int `json:"copied"`
	Deferred int `json:"deferred"`
	// Unknown counts actions whose outcome even the settling listing could
	// not establish (StatusUnknown); Report.Failed counts them.
	Unknown int `json:"unknown,omitempty"`
}

// Report is the outcome of one run of a use case (an Engine method) in
// every region: what the snapshot, clean, replication and plan commands
// print and the Lambda workers log. It is not the RPO report (package
// report, the report command), which judges how fresh the backups are.
type Report struct {
	// Job names the run's pipeline (PipelineSnapshot, PipelineClean,
	// PipelineReplication, PipelinePlan): the "job" scripts read.
	Job    string    `json:"job"`
	Now    time.Time `json:"now"`
	DryRun bool      `json:"dry_run"`
	// RunToken is the value of the RunTag on every snapshot the run
	// created (snapshot runs that change something only).
	RunToken string         `json:"run_token,omitempty"`
	Regions  []RegionReport `json:"regions"`
}

// Failed counts failed actions, actions whose outcome stayed unknown,
// failed regions and the stanzas a region rejected: the failures of Judge's
// verdict that the report itself holds.
func (r Report) Failed() int {
	v := Judge(r, 0)
	return v.FailedActions + v.RejectedStanzas + v.FailedRegions
}

func rowsForSnapshots(ds []SnapshotDecision) []SnapshotRow {
	rows := make([]SnapshotRow, len(ds))
	for i, d := range ds {
		rows[i] = SnapshotRow{SnapshotDecision: d}
		if d.Action == Create {
			rows[i].Status = StatusPlanned
		}
	}
	return rows
}

func rowsForClean(region string, ds []retention.Decision) []CleanRow {
	rows := make([]CleanRow, len(ds))
	for i, d := range ds {
		rows[i] = CleanRow{Region: region, Decision: d}
		if d.Action == retention.Delete || d.Action == retention.Archive {
			rows[i].Status = StatusPlanned
		}
	}
	return rows
}

func summarize(rr RegionReport) Summary {
	var s Summary
	for _, r := range rr.Snapshots {
		if r.LockError != "" {
			s.Failed++
		}
		switch r.Status {
		case StatusDone:
			s.Created++
		case StatusFailed:
			s.Failed++
		case StatusNotStarted:
			s.NotStarted++
		case StatusUnknown:
			s.Unknown++
		}
	}
	for _, r := range rr.Clean {
		switch {
		case r.Status == StatusDone && r.Action == retention.Archive:
			s.Archived++
			s.Kept++
		case r.Status == StatusDone:
			s.Deleted++
		case r.Status == StatusFailed:
			s.Failed++
		case r.Status == StatusNotStarted:
			s.NotStarted++
		case r.Status == StatusUnknown:
			s.Unknown++
		case r.Action != retention.Delete || r.Status == StatusSkipped:
			s.Kept++
		}
	}
	countReplication(&s, rr.Replication)
	return s
}
