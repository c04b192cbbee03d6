package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Settling unknown outcomes. A create or delete whose answer was lost
// (inventory.ErrOutcomeUnknown) is StatusUnknown until one listing tells
// what EC2 did: the run's snapshots by their RunTag for creates, the
// snapshots by id for deletes. What the listing shows is reported; what it
// does not show is re-issued once while the run may still start work (the
// run tag makes that re-issue as safe as the first call), and otherwise
// reported failed. A row never becomes done or failed on a guess: if the
// listing itself fails, it stays unknown and says why.

// snapshotIDChunk bounds the values of one snapshot-id filter, as
// volume-id filters are bounded in the adapter, keeping each request well
// under EC2's request-size limits.
const snapshotIDChunk = 200

// notSent reports whether err only says that ctx ended before the request
// went out (the adapter wraps any error after sending with
// inventory.ErrOutcomeUnknown, which callers test first): such an action
// was never started.
func notSent(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// settleContext returns ctx while it lasts; once it has ended (deadline,
// or the CLI's grace period), a fresh context bounded by opts.SettleTimeout
// that keeps ctx's values, so that one listing can still settle the calls
// that were cut off.
func settleContext(ctx context.Context, opts Options) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), opts.SettleTimeout)
}

// settlement is how settle handles one kind of action over rows of type R.
type settlement[R any] struct {
	// verb names the action in reports: "created", "deleted".
	verb string
	// fields points at a row's Status and Error.
	fields func(*R) (status, errText *string)
	// acted lists once (ctx bounds it) and says, for each given row index,
	// whether EC2 carried the action out, filling in what the listing
	// shows (a created snapshot's id).
	acted func(ctx context.Context, idx []int) (map[int]bool, error)
	// missing says what the listing showed for a row that was not acted on.
	missing func(*R) string
	// redo issues the action again and sets the row from its answer.
	redo func(context.Context, *R)
}

// settle settles the rows left StatusUnknown: the ones s.acted finds
// acted on are done; the others are issued again once while the run may
// start work, and then settled by a second listing, or else failed. A
// listing that fails leaves its rows unknown, saying why.
func settle[R any](ctx context.Context, region string, rows []R, s settlement[R], opts Options) {
	for round := 0; round < 2; round++ {
		var unknown []int
		for i := range rows {
			if status, _ := s.fields(&rows[i]); *status == StatusUnknown {
				unknown = append(unknown, i)
			}
		}
		if len(unknown) == 0 {
			return
		}
		lctx, cancel := settleContext(ctx, opts)
		acted, err := s.acted(lctx, unknown)
		cancel()
		if err != nil {
			for _, i := range unknown {
				_, errText := s.fields(&rows[i])
				*errText = fmt.Sprintf("%s; the listing that would settle it failed: %v", *errText, err)
			}
			slog.ErrorContext(ctx, "could not settle actions whose outcome is unknown", "region", region, "actions", len(unknown), "error", err)
			return
		}
		var redo []int
		for _, i := range unknown {
			status, errText := s.fields(&rows[i])
			switch {
			case acted[i]:
				*status, *errText = StatusDone, ""
			case round == 0 && !stopped(ctx, opts.StopStarting):
				redo = append(redo, i)
			default:
				*status, *errText = StatusFailed, fmt.Sprintf("not %s: %s (%s)", s.verb, s.missing(&rows[i]), *errText)
			}
		}
		slog.InfoContext(ctx, "settled actions whose outcome was unknown with one listing", "region", region,
			"actions", len(unknown), "re_issued", len(redo))
		// A re-issue is a call of its own: the observer hears of it as an
		// action planned, started and done (perform).
		reached := make([]bool, len(redo))
		opts.planned(region, len(redo))
		perform(ctx, opts, region, len(redo), func(j int) ([]*string, func(context.Context)) {
			reached[j] = true
			status, _ := s.fields(&rows[redo[j]])
			return []*string{status}, func(ctx context.Context) { s.redo(ctx, &rows[redo[j]]) }
		})
		for j, i := range redo {
			if status, errText := s.fields(&rows[i]); !reached[j] || *status == StatusNotStarted {
				*status, *errText = StatusFailed, fmt.Sprintf("not %s: %s, and the run stopped before issuing it again", s.verb, s.missing(&rows[i]))
			}
		}
	}
}

// settleCreates settles the creates left StatusUnknown with one listing of
// the run's snapshots (tag RunTag = opts.RunToken), re-issuing with create
// those it does not find.
func settleCreates(ctx context.Context, ec2 EC2, rows []SnapshotRow, create func(context.Context, *SnapshotRow), opts Options) {
	settle(ctx, ec2.Region(), rows, settlement[SnapshotRow]{
		verb:   "created",
		fields: func(r *SnapshotRow) (*string, *string) { return &r.Status, &r.Error },
		acted: func(ctx context.Context, idx []int) (map[int]bool, error) {
			found, err := ec2.SnapshotsMatching(ctx, []inventory.Filter{{Name: "tag:" + RunTag, Values: []string{opts.RunToken}}})
			if err != nil {
				return nil, err
			}
			byVolume := map[string]string{}
			for _, s := range found {
				byVolume[s.VolumeID] = s.ID
			}
			acted := map[int]bool{}
			for _, i := range idx {
				if id, ok := byVolume[rows[i].VolumeID]; ok {
					rows[i].SnapshotID, acted[i] = id, true
					slog.InfoContext(ctx, "snapshot created (its answer was lost; found by the run tag)", "region", rows[i].Region,
						"volume_id", rows[i].VolumeID, "snapshot_id", id, "run", opts.RunToken)
				}
			}
			return acted, nil
		},
		missing: func(*SnapshotRow) string {
			return fmt.Sprintf("no snapshot of the volume carries %s=%s", RunTag, opts.RunToken)
		},
		redo: create,
	}, opts)
}

// settleDeletes settles the deletes left StatusUnknown with one listing of
// their snapshots by id: a snapshot no longer listed is deleted; one still
// listed is deleted again with del (a delete is idempotent).
func settleDeletes(ctx context.Context, ec2 EC2, rows []CleanRow, del func(context.Context, *CleanRow), opts Options) {
	settle(ctx, ec2.Region(), rows, settlement[CleanRow]{
		verb:   "deleted",
		fields: func(r *CleanRow) (*string, *string) { return &r.Status, &r.Error },
		acted: func(ctx context.Context, idx []int) (map[int]bool, error) {
			ids := make([]string, len(idx))
			for k, i := range idx {
				ids[k] = rows[i].SnapshotID
			}
			exists := map[string]bool{}
			for chunk := range slices.Chunk(ids, snapshotIDChunk) {
				found, err := ec2.SnapshotsMatching(ctx, []inventory.Filter{{Name: "snapshot-id", Values: chunk}})
				if err != nil {
					return nil, err
				}
				for _, s := range found {
					exists[s.ID] = true
				}
			}
			acted := map[int]bool{}
			for _, i := range idx {
				r := &rows[i]
				if acted[i] = !exists[r.SnapshotID]; acted[i] {
					slog.InfoContext(ctx, "snapshot deleted (its answer was lost; no longer listed)", "region", r.Region,
						"snapshot_id", r.SnapshotID, "volume_id", r.VolumeID, "reason", r.Reason)
				}
			}
			return acted, nil
		},
		missing: func(*CleanRow) string { return "the snapshot still exists" },
		redo:    del,
	}, opts)
}
