// Package snapper holds ebs-snapper's use cases: inventory a region, plan
// snapshots and clean-up with a reason for every decision, and execute the
// plans safely. It talks to EC2 only through the EC2 interface it defines.
package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// Job is what a run does.
type Job int

const (
	// JobSnapshot plans and takes the due snapshots.
	JobSnapshot Job = iota
	// JobClean plans and deletes the expired snapshots.
	JobClean
	// JobPlan plans both and changes nothing; with a stanza saying
	// "replication": "yes", it plans replication too.
	JobPlan
	// JobReplicate copies tagged snapshots to their destination regions
	// and deletes the replicas whose original is gone (replicate.go).
	JobReplicate
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

// DefaultSettleTimeout bounds the listing (and re-issues) that settle
// unknown outcomes when the run's context has already ended (a deadline,
// or the CLI's grace period after Ctrl-C).
const DefaultSettleTimeout = 10 * time.Second

// Options tune a run.
type Options struct {
	// Now is the evaluation time (the --now flag; the clock otherwise).
	Now time.Time
	// DryRun plans only and makes no mutating call.
	DryRun bool
	// Scope narrows the snapshot and clean rows a run reports and acts on
	// (the CLI's --instance, --volume, --stanza); empty holds everything.
	Scope Scope
	// Version goes into new snapshots' descriptions.
	Version string
	// Workers bounds the mutating calls in flight in one region; the EC2
	// adapter's token buckets bound their rate.
	Workers int
	// RegionWorkers bounds how many regions run at once.
	RegionWorkers int
	// StopStarting, once closed, stops the run from starting anything new:
	// no region, listing or action starts after it, while the calls in
	// flight keep ctx and finish. Actions never reached are reported with
	// StatusNotStarted. It is separate from ctx so that a Lambda worker can
	// stop starting work a margin before its deadline while its last calls
	// still complete. Nil never fires.
	StopStarting <-chan struct{}
	// Observer follows the run: inventories, planned actions and each
	// mutating action's start and end. Nil means NoObserver.
	Observer Observer
	// Remote returns the EC2 client of a region outside the run's, which
	// replication lists and copies into, or nil when the account has not
	// enabled that region. Nil means no region outside the run's.
	Remote func(region string) EC2
	// RunToken marks every snapshot the run creates (tag RunTag, set in
	// the CreateSnapshot call). Empty means NewRunToken(time.Now()).
	RunToken string
	// SettleTimeout bounds the settlement of unknown outcomes once ctx has
	// ended; zero means DefaultSettleTimeout.
	SettleTimeout time.Duration
	// CopyLimit is how many snapshot copies may be in progress in one
	// destination region (replication); zero means DefaultCopyLimit, EC2's
	// quota. Set it only where AWS Support raised that quota.
	CopyLimit int
}

func (o Options) copyLimit() int {
	if o.CopyLimit > 0 {
		return o.CopyLimit
	}
	return DefaultCopyLimit
}

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

// RegionReport is the outcome of a run in one region.
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
	// snapshots (JobReplicate, and JobPlan when replication is on).
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

// Report is the outcome of a run in every region.
type Report struct {
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

// Run executes job in every region, concurrently across regions. One
// region's failure never stops the others; it is recorded in the report.
func Run(ctx context.Context, job Job, regions []EC2, policy Policy, opts Options) Report {
	opts = withDefaults(opts)
	rep := Report{Job: job.String(), Now: opts.Now.UTC(), DryRun: opts.DryRun || job == JobPlan, Regions: make([]RegionReport, len(regions))}
	if job == JobSnapshot && !rep.DryRun {
		rep.RunToken = opts.RunToken
	}
	stanzas := make([]config.Stanza, 0, len(policy.Stanzas))
	for _, id := range sortedKeys(policy.Stanzas) {
		stanzas = append(stanzas, policy.Stanzas[id])
	}
	if job == JobReplicate {
		rep.Regions = runReplication(ctx, regions, policy, opts)
		return rep
	}
	g := errgroup.Group{}
	g.SetLimit(opts.RegionWorkers)
	for i, ec2 := range regions {
		g.Go(func() error {
			rep.Regions[i] = runRegion(ctx, job, ec2, stanzas, policy, opts)
			return nil
		})
	}
	_ = g.Wait()
	if job == JobPlan && policy.Replicating() {
		planReplication(ctx, rep.Regions, regions, policy, opts)
	}
	return rep
}

func (j Job) String() string {
	switch j {
	case JobSnapshot:
		return "snapshot"
	case JobClean:
		return "clean"
	case JobReplicate:
		return "replication"
	default:
		return "plan"
	}
}

func withDefaults(o Options) Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.RegionWorkers <= 0 {
		o.RegionWorkers = 4
	}
	if o.RunToken == "" {
		o.RunToken = NewRunToken(time.Now())
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	return o
}

func runRegion(ctx context.Context, job Job, ec2 EC2, stanzas []config.Stanza, p Policy, opts Options) RegionReport {
	rr := RegionReport{Region: ec2.Region()}
	if stopped(ctx, opts.StopStarting) {
		rr.Skipped = regionNotStarted
		return rr
	}
	if len(stanzas) == 0 {
		// Without a stanza nothing is matched and no minimum is known: a
		// clean could only keep everything, so skip the listings.
		rr.Skipped = "no valid configuration stanza"
		return rr
	}
	need := NeedSnapshots
	if job != JobSnapshot {
		need |= NeedImages | NeedAdopted | NeedRecycleBin
	}
	if job != JobClean {
		need |= NeedVolumeTypes
	}
	inv, err := BuildInventory(ctx, ec2, stanzas, need)
	if err != nil {
		if errors.Is(err, inventory.ErrRegionUnavailable) {
			rr.Skipped = inventory.SkipReason(err)
			slog.InfoContext(ctx, "region skipped: "+rr.Skipped, "region", rr.Region, "error", err)
			return rr
		}
		slog.ErrorContext(ctx, "region failed", "region", rr.Region, "error", err)
		rr.Error = err.Error()
		return rr
	}
	rr.Conflicts, rr.InvalidStanzas = inv.Conflicts, inv.Rejected
	opts.observer().Inventory(inv)
	if len(inv.Rejected) > 0 && p.IgnoreRetention {
		// The rejected stanzas' instances look unmatched here, so their
		// snapshots would look like orphans: as with a stored stanza that
		// is invalid, orphan deletion waits until the stanza is fixed.
		p.IgnoreRetention = false
		slog.WarnContext(ctx, "ignore_retention held back in this region: a rejected stanza's instances would look like orphans",
			"region", rr.Region)
	}
	execute := !opts.DryRun && job != JobPlan
	if job != JobClean {
		rr.Snapshots = scopeRows(opts.Scope, rowsForSnapshots(PlanSnapshots(inv, p, opts.Now)), snapshotRowKey)
		if execute {
			takeSnapshots(ctx, ec2, inv, p, rr.Snapshots, opts)
		}
	}
	if job != JobSnapshot {
		rr.Clean = scopeRows(opts.Scope, rowsForClean(rr.Region, PlanClean(inv, p, opts.Now)), cleanRowKey)
		rr.NeverDue = retention.NeverDue(inv.Snapshots)
		rr.RecycleBin = holdInBin(inv, rr.Clean, opts.Now)
		if execute {
			deleteSnapshots(ctx, ec2, rr.Clean, opts)
		}
	}
	rr.Summary = summarize(rr)
	return rr
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

// takeSnapshots creates the planned snapshots, each tagged in the same call.
// Volume tags are read with one batched DescribeVolumes for the due volumes
// only.
func takeSnapshots(ctx context.Context, ec2 EC2, inv *Inventory, p Policy, rows []SnapshotRow, opts Options) {
	var due []string
	for _, r := range rows {
		if r.Action == Create {
			due = append(due, r.VolumeID)
		}
	}
	if len(due) == 0 {
		return
	}
	// Whatever is still planned when this returns was never reached.
	defer func() {
		for i := range rows {
			if rows[i].Status == StatusPlanned {
				rows[i].Status = StatusNotStarted
			}
		}
	}()
	if stopped(ctx, opts.StopStarting) {
		return
	}
	opts.planned(ec2.Region(), len(due))
	vols, err := ec2.Volumes(ctx, due)
	if err != nil {
		for i := range rows {
			if rows[i].Action == Create {
				rows[i].Status, rows[i].Error = StatusFailed, fmt.Sprintf("read volume tags: %v", err)
			}
		}
		return
	}
	volTags := map[string][]inventory.Tag{}
	for _, v := range vols {
		volTags[v.ID] = v.Tags
	}
	create := func(ctx context.Context, r *SnapshotRow) {
		tags, ok := volTags[r.VolumeID]
		if !ok {
			r.Status, r.Error = StatusFailed, "volume no longer exists"
			return
		}
		inst := inv.Instances[r.InstanceID]
		desc := Description(opts.Version, inst.ID, inst.ImageID, r.VolumeID, r.ConfigID)
		snap, err := ec2.CreateSnapshot(ctx, r.VolumeID, desc, WithRunTag(SnapshotTags(r.DeleteOn, r.ConfigID, inst.Tags, tags), opts.RunToken))
		createdOr(ctx, r, snap.ID, err)
	}
	sets := multiVolumeSets(inv, p, rows, volTags, opts)
	inSet := map[int]bool{}
	for _, set := range sets {
		for _, i := range set.rows {
			inSet[i] = true
		}
	}
	perform(ctx, opts, ec2.Region(), len(sets), func(k int) ([]*string, func(context.Context)) {
		var statuses []*string
		for _, i := range sets[k].rows {
			statuses = append(statuses, &rows[i].Status)
		}
		return statuses, func(ctx context.Context) { takeSet(ctx, ec2, rows, sets[k]) }
	})
	perform(ctx, opts, ec2.Region(), len(rows), func(i int) ([]*string, func(context.Context)) {
		r := &rows[i]
		if r.Action != Create || inSet[i] {
			return nil, nil
		}
		return []*string{&r.Status}, func(ctx context.Context) { create(ctx, r) }
	})
	settleCreates(ctx, ec2, rows, create, opts)
	lockSnapshots(ctx, ec2, rows, opts)
}

// createdOr records on r the outcome of the call that was to create its
// snapshot: id when err is nil.
func createdOr(ctx context.Context, r *SnapshotRow, id string, err error) {
	switch {
	case err == nil:
		r.Status, r.SnapshotID, r.Error = StatusDone, id, ""
		slog.InfoContext(ctx, "snapshot created", "region", r.Region, "volume_id", r.VolumeID,
			"instance_id", r.InstanceID, "snapshot_id", id, "delete_on", r.DeleteOn)
	case errors.Is(err, inventory.ErrTryLater):
		// EC2's per-volume limits: the next run takes it.
		r.Status, r.Error = StatusDeferred, err.Error()
	case errors.Is(err, inventory.ErrOutcomeUnknown):
		r.Status, r.Error = StatusUnknown, err.Error()
		slog.WarnContext(ctx, "snapshot outcome unknown: the run's listing settles it", "region", r.Region, "volume_id", r.VolumeID, "error", err)
	case notSent(ctx, err):
		r.Status, r.Error = StatusNotStarted, ""
	default:
		r.Status, r.Error = StatusFailed, err.Error()
		slog.ErrorContext(ctx, "snapshot failed", "region", r.Region, "volume_id", r.VolumeID, "error", err)
	}
}

// deleteSnapshots deletes the planned snapshots. A snapshot that is already
// gone counts as deleted (the adapter maps NotFound to success); one that an
// AMI uses is skipped and reported.
func deleteSnapshots(ctx context.Context, ec2 EC2, rows []CleanRow, opts Options) {
	n := 0
	for _, r := range rows {
		if r.Action == retention.Delete {
			n++
		}
	}
	opts.planned(ec2.Region(), n)
	del := func(ctx context.Context, r *CleanRow) {
		err := ec2.DeleteSnapshot(ctx, r.SnapshotID)
		switch {
		case err == nil:
			r.Status, r.Error = StatusDone, ""
			slog.InfoContext(ctx, "snapshot deleted", "region", r.Region, "snapshot_id", r.SnapshotID, "volume_id", r.VolumeID, "reason", r.Reason)
		case errors.Is(err, inventory.ErrSnapshotInUse):
			r.Status, r.Error = StatusSkipped, "in use by an AMI: "+err.Error()
			slog.WarnContext(ctx, "snapshot in use, not deleted", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
		case errors.Is(err, inventory.ErrOutcomeUnknown):
			r.Status, r.Error = StatusUnknown, err.Error()
			slog.WarnContext(ctx, "delete outcome unknown: the run's listing settles it", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
		case notSent(ctx, err):
			r.Status, r.Error = StatusNotStarted, ""
		default:
			r.Status, r.Error = StatusFailed, err.Error()
			slog.ErrorContext(ctx, "delete failed", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
		}
	}
	perform(ctx, opts, ec2.Region(), len(rows), func(i int) ([]*string, func(context.Context)) {
		r := &rows[i]
		switch r.Action {
		case retention.Archive:
			// Not one of the planned actions: archived unobserved.
			return nil, func(ctx context.Context) { archiveSnapshot(ctx, ec2, r) }
		case retention.Delete:
			return []*string{&r.Status}, func(ctx context.Context) { del(ctx, r) }
		}
		return nil, nil
	})
	settleDeletes(ctx, ec2, rows, del, opts)
	for i := range rows {
		if rows[i].Status == StatusPlanned {
			rows[i].Status = StatusNotStarted
		}
	}
}

// regionNotStarted is RegionReport.Skipped for a region the run never
// reached.
const regionNotStarted = "not started: the run stopped starting new work"

// stopped reports whether the run must start nothing more: ctx is done
// (signal, deadline) or stop was closed.
func stopped(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return true
	case <-stop:
		return true
	default:
		return false
	}
}

// archiveSnapshot moves a planned snapshot to the archive tier.
func archiveSnapshot(ctx context.Context, ec2 EC2, r *CleanRow) {
	if err := ec2.ArchiveSnapshot(ctx, r.SnapshotID); err != nil {
		r.Status, r.Error = StatusFailed, err.Error()
		slog.ErrorContext(ctx, "archive failed", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
		return
	}
	r.Status = StatusDone
	slog.InfoContext(ctx, "snapshot archived", "region", r.Region, "snapshot_id", r.SnapshotID, "volume_id", r.VolumeID, "reason", r.Reason)
}

// forEach calls fn for 0..n-1 with at most workers in flight. Once ctx is
// done (signal) or stop is closed (deadline margin) it starts nothing more
// and waits for the calls in flight, so the callers' rows still "planned"
// afterwards were never reached.
func forEach(ctx context.Context, stop <-chan struct{}, workers, n int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := 0; i < n; i++ {
		select {
		case <-ctx.Done():
		case <-stop:
		case sem <- struct{}{}:
		}
		// select picks at random among ready cases: check again, so that
		// nothing starts once stop has fired, even with a worker free.
		if stopped(ctx, stop) {
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
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
