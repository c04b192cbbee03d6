package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// ReplicationRow is a replication decision and what became of it.
type ReplicationRow struct {
	ReplicationDecision
	Status string `json:"status,omitempty"`
	// ReplicaID is the id of the copy a Copy made.
	ReplicaID string `json:"replica_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// replicationRun is one replication pass over the run's regions: every
// region involved is listed once (one paginated DescribeSnapshots owned by
// self), whether it is one of the run's or only named by a tag, and every
// lookup is answered from those listings: never a call per snapshot.
type replicationRun struct {
	opts    Options
	regions Regions

	mu      sync.Mutex
	clients map[string]EC2
	snaps   map[string][]inventory.Snapshot
	// failed holds the regions whose listing failed, and why.
	failed map[string]error
	// full marks the destinations that answered ErrCopyLimit this run.
	full map[string]bool
}

// errNotEnabled stands for a region a tag names that Regions.Client does
// not know.
var errNotEnabled = errors.New("not a region enabled for the account")

// replicate lists, plans and (unless dryRun) executes replication in each
// of the run's regions, returning one report per region in name order, each
// with its summary. Regions named by tags but outside the run are reached
// with Regions.Client. Copies into one destination are capped up front
// (LimitCopies over every region's plan); a destination that still answers
// ErrCopyLimit gets no more copies this run.
func (e *Engine) replicate(ctx context.Context, dryRun bool) []RegionReport {
	names := e.regions.Names()
	rr := make([]RegionReport, len(names))
	for i, name := range names {
		rr[i].Region = name
	}
	skip := ""
	switch {
	case stopped(ctx, e.opts.StopStarting):
		skip = regionNotStarted
	case len(e.stanzas) == 0:
		skip = "no valid configuration stanza"
	}
	if skip != "" {
		for i := range rr {
			rr[i].Skipped = skip
		}
		return rr
	}
	run := &replicationRun{opts: e.opts, regions: e.regions, clients: map[string]EC2{},
		snaps: map[string][]inventory.Snapshot{}, failed: map[string]error{}, full: map[string]bool{}}
	var clients []EC2
	for _, name := range names {
		c := e.regions.Client(name)
		if c == nil {
			run.failed[name] = fmt.Errorf("%s: %w", name, errNotEnabled)
			continue
		}
		run.clients[name] = c
		clients = append(clients, c)
	}
	run.list(ctx, clients)
	run.list(ctx, run.remotes())
	unlisted := map[string]string{}
	for region, err := range run.failed {
		unlisted[region] = err.Error()
	}

	plans := make([][]ReplicationDecision, len(names))
	for i, region := range names {
		if err, failed := run.failed[region]; failed {
			if errors.Is(err, inventory.ErrRegionUnavailable) {
				rr[i].Skipped = inventory.SkipReason(err)
			} else {
				rr[i].Error = err.Error()
			}
			continue
		}
		plans[i] = PlanReplication(ReplicationInput{Region: region, Now: e.opts.Now, Snapshots: run.snaps, Unlisted: unlisted, Policy: e.policy})
	}
	LimitCopies(plans, PendingCopies(run.snaps), e.opts.copyLimit())

	g := errgroup.Group{}
	g.SetLimit(e.opts.RegionWorkers)
	for i := range names {
		rr[i].Replication = rowsForReplication(plans[i])
		if dryRun {
			rr[i].Summary = summarize(rr[i])
			continue
		}
		g.Go(func() error {
			run.execute(ctx, run.clients[names[i]], rr[i].Replication)
			rr[i].Summary = summarize(rr[i])
			return nil
		})
	}
	_ = g.Wait()
	return rr
}

// remotes returns the clients of the regions the listings name in
// replication tags or in a replica's copy Description that are not listed
// yet, sorted by region. A region Regions.Client does not know is recorded
// as failed.
func (run *replicationRun) remotes() []EC2 {
	named := map[string]bool{}
	for _, snaps := range run.snaps {
		for _, s := range snaps {
			for _, key := range []string{ReplicationSourceTag, ReplicationDestinationTag} {
				if v, ok := s.Tag(key); ok && v != "" {
					named[v] = true
				}
			}
			// A copy's Description names its source, which wins over
			// its tags (planReplica).
			if _, replica := s.Tag(ReplicationSourceTag); replica {
				if c, ok := provenance.ParseCopy(s.Description); ok {
					named[c.SourceRegion] = true
				}
			}
		}
	}
	var out []EC2
	for _, region := range slices.Sorted(maps.Keys(named)) {
		if _, listed := run.snaps[region]; listed {
			continue
		}
		if _, known := run.clients[region]; known {
			continue // one of the run's regions whose listing failed
		}
		if _, failed := run.failed[region]; failed {
			continue
		}
		c := run.regions.Client(region)
		if c == nil {
			run.failed[region] = fmt.Errorf("%s: %w", region, errNotEnabled)
			continue
		}
		run.clients[region] = c
		out = append(out, c)
	}
	return out
}

// list lists the snapshots of each client's region concurrently.
func (run *replicationRun) list(ctx context.Context, clients []EC2) {
	g := errgroup.Group{}
	g.SetLimit(run.opts.RegionWorkers)
	for _, c := range clients {
		g.Go(func() error {
			// The region's first call in replication: a service control
			// policy denying it denies the region, skipped, not failed.
			snaps, err := c.Snapshots(ctx)
			err = inventory.DenyRegion(c.Region(), err)
			run.mu.Lock()
			defer run.mu.Unlock()
			if err != nil {
				run.failed[c.Region()] = err
				slog.ErrorContext(ctx, "replication: snapshot listing failed", "region", c.Region(), "error", err)
				return nil
			}
			run.snaps[c.Region()] = snaps
			return nil
		})
	}
	_ = g.Wait()
}

func rowsForReplication(ds []ReplicationDecision) []ReplicationRow {
	rows := make([]ReplicationRow, len(ds))
	for i, d := range ds {
		rows[i] = ReplicationRow{ReplicationDecision: d}
		switch {
		case d.Problem != "":
			rows[i].Status, rows[i].Error = StatusFailed, d.Problem
		case d.Action == Copy || d.Action == DeleteReplica:
			rows[i].Status = StatusPlanned
		}
	}
	return rows
}

// execute deletes the region's planned replica deletions first, then
// makes its planned copies, each into its destination's client, as
// ebs_snapper did. A copy refused for the destination's copy limit is
// deferred, and so is every later copy to that destination in this run.
func (run *replicationRun) execute(ctx context.Context, ec2 EC2, rows []ReplicationRow) {
	n := 0
	for _, r := range rows {
		if r.Status == StatusPlanned {
			n++
		}
	}
	run.opts.planned(ec2.Region(), n)
	for _, action := range []string{DeleteReplica, Copy} {
		perform(ctx, run.opts, ec2.Region(), len(rows), func(i int) ([]*string, func(context.Context)) {
			r := &rows[i]
			if r.Action != action || r.Status != StatusPlanned {
				return nil, nil
			}
			return []*string{&r.Status}, func(ctx context.Context) {
				if action == DeleteReplica {
					run.deleteReplica(ctx, ec2, r)
				} else {
					run.copy(ctx, r)
				}
			}
		})
	}
	run.settleCopies(ctx, ec2.Region(), rows)
	for i := range rows {
		if rows[i].Status == StatusPlanned {
			rows[i].Status = StatusNotStarted
		}
	}
}

// settleCopies settles the copies left StatusUnknown (CopySnapshot takes
// no ClientToken, so a lost answer is never retried) with one listing per
// destination: its snapshots whose replication_snapshot_id is one of the
// originals' and whose Description records a copy of it. A replica found makes the copy done with its id; a copy not
// found is issued again once while the run may start work, else failed.
func (run *replicationRun) settleCopies(ctx context.Context, region string, rows []ReplicationRow) {
	settle(ctx, region, rows, settlement[ReplicationRow]{
		verb:   "copied",
		fields: func(r *ReplicationRow) (*string, *string) { return &r.Status, &r.Error },
		acted: func(ctx context.Context, idx []int) (map[int]bool, error) {
			byDst := map[string][]int{}
			for _, i := range idx {
				byDst[rows[i].Destination] = append(byDst[rows[i].Destination], i)
			}
			acted := map[int]bool{}
			for _, dst := range slices.Sorted(maps.Keys(byDst)) {
				run.mu.Lock()
				c := run.clients[dst]
				run.mu.Unlock()
				ids := make([]string, len(byDst[dst]))
				for k, i := range byDst[dst] {
					ids[k] = rows[i].SnapshotID
				}
				replica := map[string]string{}
				for chunk := range slices.Chunk(ids, snapshotIDChunk) {
					found, err := c.SnapshotsMatching(ctx, []inventory.Filter{{Name: "tag:" + ReplicationSnapshotIDTag, Values: chunk}})
					if err != nil {
						return nil, fmt.Errorf("%s: %w", dst, err)
					}
					for _, s := range found {
						// The tag finds candidates; only the Description
						// the copy call wrote proves one is this run's copy.
						if c, ok := provenance.ParseCopy(s.Description); ok && c.SourceRegion == region {
							replica[c.SourceID] = s.ID
						}
					}
				}
				for _, i := range byDst[dst] {
					if id, ok := replica[rows[i].SnapshotID]; ok {
						rows[i].ReplicaID, acted[i] = id, true
						slog.InfoContext(ctx, "snapshot copied (its answer was lost; found by its replication tag)", "region", region,
							"snapshot_id", rows[i].SnapshotID, "destination", dst, "replica_id", id)
					}
				}
			}
			return acted, nil
		},
		missing: func(r *ReplicationRow) string {
			return fmt.Sprintf("no snapshot in %s carries %s=%s", r.Destination, ReplicationSnapshotIDTag, r.SnapshotID)
		},
		redo: run.copy,
	}, run.opts)
}

func (run *replicationRun) deleteReplica(ctx context.Context, ec2 EC2, r *ReplicationRow) {
	err := ec2.DeleteSnapshot(ctx, r.SnapshotID)
	switch {
	case err == nil:
		r.Status = StatusDone
		slog.InfoContext(ctx, "replica deleted", "region", r.Region, "snapshot_id", r.SnapshotID, "reason", r.Reason)
	case errors.Is(err, inventory.ErrSnapshotInUse):
		r.Status, r.Error = StatusSkipped, "in use by an AMI: "+err.Error()
		slog.WarnContext(ctx, "replica in use, not deleted", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
	default:
		r.Status, r.Error = StatusFailed, err.Error()
		slog.ErrorContext(ctx, "replica delete failed", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
	}
}

func (run *replicationRun) copy(ctx context.Context, r *ReplicationRow) {
	run.mu.Lock()
	full, dst := run.full[r.Destination], run.clients[r.Destination]
	run.mu.Unlock()
	if full {
		r.Status, r.Error = StatusDeferred, r.Destination+" refused a copy of this run for its copy limit: copied on a later run"
		return
	}
	cp, err := dst.CopySnapshot(ctx, r.Region, r.SnapshotID, r.Description, r.KMSKeyID, r.Tags)
	switch {
	case err == nil:
		r.Status, r.ReplicaID, r.Error = StatusDone, cp.ID, ""
		slog.InfoContext(ctx, "snapshot copied", "region", r.Region, "snapshot_id", r.SnapshotID,
			"destination", r.Destination, "replica_id", cp.ID)
	case errors.Is(err, inventory.ErrCopyLimit):
		run.mu.Lock()
		run.full[r.Destination] = true
		run.mu.Unlock()
		r.Status, r.Error = StatusDeferred, err.Error()
		slog.WarnContext(ctx, "copy limit reached: the rest is copied on a later run", "region", r.Region,
			"snapshot_id", r.SnapshotID, "destination", r.Destination, "error", err)
	case errors.Is(err, inventory.ErrOutcomeUnknown):
		r.Status, r.Error = StatusUnknown, err.Error()
		slog.WarnContext(ctx, "copy outcome unknown: a listing of the destination settles it", "region", r.Region,
			"snapshot_id", r.SnapshotID, "destination", r.Destination, "error", err)
	case notSent(ctx, err):
		r.Status, r.Error = StatusNotStarted, ""
	default:
		r.Status, r.Error = StatusFailed, err.Error()
		slog.ErrorContext(ctx, "copy failed", "region", r.Region, "snapshot_id", r.SnapshotID,
			"destination", r.Destination, "error", err)
	}
}

// countReplication adds replication rows to a region's summary.
func countReplication(s *Summary, rows []ReplicationRow) {
	for _, r := range rows {
		switch {
		case r.Status == StatusFailed:
			s.Failed++
		case r.Status == StatusNotStarted:
			s.NotStarted++
		case r.Status == StatusUnknown:
			s.Unknown++
		case r.Status == StatusDeferred || r.Action == Defer:
			s.Deferred++
		case r.Status == StatusDone && r.Action == Copy:
			s.Copied++
		case r.Status == StatusDone:
			s.Deleted++
		case r.Action == Keep || r.Status == StatusSkipped:
			s.Kept++
		}
	}
}
