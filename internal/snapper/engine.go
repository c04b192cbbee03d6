// Package snapper holds ebs-snapper's use cases: take the due snapshots,
// delete the expired ones, replicate, plan, and check the configuration.
// Each is one pipeline on an Engine, inventory → plan → execute: the
// inventory lists a region (BuildInventory), the pure planners decide with
// a reason for every decision (PlanSnapshots, PlanClean, PlanReplication),
// and the execution acts on the plan safely. It talks to EC2 only through
// the EC2 interface it defines, one client per region (Regions).
package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// The pipelines a Report names in its Job field (the report's "job" in
// JSON, which scripts read).
const (
	PipelineSnapshot    = "snapshot"
	PipelineClean       = "clean"
	PipelineReplication = "replication"
	PipelinePlan        = "plan"
)

// Engine runs the use cases over one account's regions with one policy.
// Every method runs concurrently across the run's regions (at most
// Options.RegionWorkers at once); one region's failure never stops the
// others, it is recorded in the Report, whose verdict (Judge) says whether
// the run failed. An Engine may run several use cases, one after another
// or at once; Options.Now and Options.RunToken are fixed by New.
type Engine struct {
	regions Regions
	policy  Policy
	opts    Options
	// stanzas are the policy's stanzas in id order (Policy.Ordered).
	stanzas []config.Stanza
}

// New returns the Engine of policy over regions, with opts' zero fields set
// to their defaults (Now to the time of the call).
func New(regions Regions, policy Policy, opts Options) *Engine {
	return &Engine{regions: regions, policy: policy, opts: withDefaults(opts), stanzas: policy.Ordered()}
}

// Snapshot takes the snapshots due in each region (only plans them with
// Options.DryRun), each tagged in the call that creates it.
func (e *Engine) Snapshot(ctx context.Context) Report {
	rep := e.report(PipelineSnapshot, e.opts.DryRun)
	if !rep.DryRun {
		rep.RunToken = e.opts.RunToken
	}
	rep.Regions = e.eachRegion(ctx, NeedSnapshots|NeedVolumeTypes, func(ctx context.Context, ec2 EC2, inv *Inventory, p Policy, rr *RegionReport) {
		rr.Snapshots = e.snapshotRows(inv, p)
		if !e.opts.DryRun {
			takeSnapshots(ctx, ec2, inv, p, rr.Snapshots, e.opts)
		}
	})
	return rep
}

// Clean deletes (or archives) the snapshots whose retention has passed in
// each region (only plans it with Options.DryRun).
func (e *Engine) Clean(ctx context.Context) Report {
	rep := e.report(PipelineClean, e.opts.DryRun)
	rep.Regions = e.eachRegion(ctx, NeedSnapshots|NeedImages|NeedAdopted|NeedRecycleBin, func(ctx context.Context, ec2 EC2, inv *Inventory, p Policy, rr *RegionReport) {
		e.cleanRows(inv, p, rr)
		if !e.opts.DryRun {
			deleteSnapshots(ctx, ec2, rr.Clean, e.opts)
		}
	})
	return rep
}

// Replicate copies the snapshots tagged for replication to their
// destination regions and deletes the replicas whose original is gone
// (replicate.go); it reaches a destination outside the run's regions
// through Regions.Client. With Options.DryRun it only plans.
func (e *Engine) Replicate(ctx context.Context) Report {
	rep := e.report(PipelineReplication, e.opts.DryRun)
	rep.Regions = e.replicate(ctx, e.opts.DryRun)
	return rep
}

// Plan plans snapshots and clean-up in each region and changes nothing;
// when a stanza says "replication": "yes", it adds the replication plan
// (Replicate's pipeline, dry) to each region's report.
func (e *Engine) Plan(ctx context.Context) Report {
	rep := e.report(PipelinePlan, true)
	need := NeedSnapshots | NeedImages | NeedAdopted | NeedRecycleBin | NeedVolumeTypes
	rep.Regions = e.eachRegion(ctx, need, func(_ context.Context, _ EC2, inv *Inventory, p Policy, rr *RegionReport) {
		rr.Snapshots = e.snapshotRows(inv, p)
		e.cleanRows(inv, p, rr)
	})
	if e.policy.Replicating() {
		for i, r := range e.replicate(ctx, true) {
			rr := &rep.Regions[i]
			rr.Replication = r.Replication
			if rr.Error == "" && r.Error != "" {
				rr.Error = "replication: " + r.Error
			}
			rr.Summary = summarize(*rr)
		}
	}
	return rep
}

// report is the empty Report of a run of pipeline.
func (e *Engine) report(pipeline string, dryRun bool) Report {
	return Report{Job: pipeline, Now: e.opts.Now.UTC(), DryRun: dryRun}
}

// snapshotRows is the snapshot plan of a region, as rows in the run's scope.
func (e *Engine) snapshotRows(inv *Inventory, p Policy) []SnapshotRow {
	return scopeRows(e.opts.Scope, rowsForSnapshots(PlanSnapshots(inv, p, e.opts.Now)), snapshotRowKey)
}

// cleanRows sets rr's clean plan, as rows in the run's scope, and what it
// leaves: the snapshots never due and what the Recycle Bin keeps billed.
func (e *Engine) cleanRows(inv *Inventory, p Policy, rr *RegionReport) {
	rr.Clean = scopeRows(e.opts.Scope, rowsForClean(rr.Region, PlanClean(inv, p, e.opts.Now)), cleanRowKey)
	rr.NeverDue = retention.NeverDue(inv.Snapshots)
	rr.RecycleBin = holdInBin(inv, rr.Clean, e.opts.Now)
}

// regionStep plans, and executes unless the run is dry, one region's part
// of a pipeline on its inventory; p is the run's policy as it applies in
// the region. It fills rr.
type regionStep func(ctx context.Context, ec2 EC2, inv *Inventory, p Policy, rr *RegionReport)

// eachRegion builds the inventory that need says of each of the run's
// regions and calls step on it, concurrently across regions, returning
// one report per region in name order, each with its summary.
func (e *Engine) eachRegion(ctx context.Context, need Need, step regionStep) []RegionReport {
	names := e.regions.Names()
	out := make([]RegionReport, len(names))
	g := errgroup.Group{}
	g.SetLimit(e.opts.RegionWorkers)
	for i, name := range names {
		g.Go(func() error {
			rr := &out[i]
			rr.Region = name
			ec2 := e.regions.Client(name)
			if inv, p, ok := e.inventory(ctx, ec2, need, rr); ok {
				step(ctx, ec2, inv, p, rr)
				rr.Summary = summarize(*rr)
			}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// inventory is the first step of a region's pipeline: it lists the region
// and returns its inventory and the policy as it applies there, or records
// on rr why the region is skipped or failed and returns false.
func (e *Engine) inventory(ctx context.Context, ec2 EC2, need Need, rr *RegionReport) (*Inventory, Policy, bool) {
	p := e.policy
	switch {
	case stopped(ctx, e.opts.StopStarting):
		rr.Skipped = regionNotStarted
		return nil, p, false
	case len(e.stanzas) == 0:
		// Without a stanza nothing is matched and no minimum is known: a
		// clean could only keep everything, so skip the listings.
		rr.Skipped = "no valid configuration stanza"
		return nil, p, false
	case ec2 == nil:
		rr.Error = fmt.Sprintf("%s: %v", rr.Region, errNotEnabled)
		return nil, p, false
	}
	inv, err := BuildInventory(ctx, ec2, e.stanzas, need)
	if err != nil {
		if errors.Is(err, inventory.ErrRegionUnavailable) {
			rr.Skipped = inventory.SkipReason(err)
			slog.InfoContext(ctx, "region skipped: "+rr.Skipped, "region", rr.Region, "error", err)
			return nil, p, false
		}
		slog.ErrorContext(ctx, "region failed", "region", rr.Region, "error", err)
		rr.Error = err.Error()
		return nil, p, false
	}
	rr.Conflicts, rr.InvalidStanzas = inv.Conflicts, inv.Rejected
	e.opts.observer().Inventory(inv)
	if len(inv.Rejected) > 0 && p.IgnoreRetention {
		// The rejected stanzas' instances look unmatched here, so their
		// snapshots would look like orphans: as with a stored stanza that
		// is invalid, orphan deletion waits until the stanza is fixed.
		p.IgnoreRetention = false
		slog.WarnContext(ctx, "ignore_retention held back in this region: a rejected stanza's instances would look like orphans",
			"region", rr.Region)
	}
	return inv, p, true
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
