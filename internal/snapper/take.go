package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

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
