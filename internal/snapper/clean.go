package snapper

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// deleteSnapshots deletes the planned snapshots and archives the ones
// planned for the archive tier. A snapshot that is already gone counts as
// deleted (the adapter maps NotFound to success); one that an AMI uses is
// skipped and reported.
func deleteSnapshots(ctx context.Context, ec2 EC2, rows []CleanRow, opts Options) {
	n := 0
	for _, r := range rows {
		if r.Action == retention.Delete || r.Action == retention.Archive {
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
			return []*string{&r.Status}, func(ctx context.Context) { archiveSnapshot(ctx, ec2, r) }
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
