package snapper

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// drillClockSkew is how far EC2's clock (a volume's CreateTime) may be
// behind the clock that made a run token before a drill volume's
// CreateTime counts as earlier than its run.
const drillClockSkew = 5 * time.Minute

// drillAllowance is the longest drill.timeout of the stanzas with drills
// (config.DefaultDrillTimeout when none): a drill volume older than it
// belongs to a drill that ended without deleting it.
func drillAllowance(p Policy) time.Duration {
	d := config.DefaultDrillTimeout
	for _, s := range p.Stanzas {
		if s.Drill.On() {
			d = max(d, s.Drill.Timeout)
		}
	}
	return d
}

// notADrillVolume says why v, which carries DrillRunTag, is not provably
// a volume a drill made ("" when it is). A principal allowed only
// ec2:CreateTags can put the drill tags on any volume, so the tags are
// checked against what they cannot change, EC2's record of the volume and
// of its snapshot (snaps: the region's snapshots the account owns):
//
//   - it is not attached, and EC2's SnapshotId is the snapshot its
//     DrillSnapshotTag names;
//   - it carries no tag a drill does not set (DrillRunTag,
//     DrillSnapshotTag, Name with the drill's value): CreateTags can add
//     tags but not remove them, so a volume that holds tags of its own
//     keeps showing it, and one with reserved aws: tags was made by an
//     AWS service (CloudFormation, an AWS Backup restore);
//   - its DrillRunTag is a run token (NewRunToken) of a run that began
//     before EC2 created the volume (within drillClockSkew);
//   - its snapshot is one the account owns here, and the volume has that
//     snapshot's size: a drill never asks for another.
//
// What no check can tell apart is a volume without tags of its own,
// restored at its snapshot's size and never resized, whose tags were
// forged with care; docs/security.md says how to deny the drill tag keys
// to everyone but the tool.
func notADrillVolume(v inventory.Volume, snaps map[string]inventory.Snapshot) string {
	run, _ := inventory.TagValue(v.Tags, DrillRunTag)
	snap, _ := inventory.TagValue(v.Tags, DrillSnapshotTag)
	if v.Attached || v.State == inventory.VolumeInUse {
		return "tagged as a drill volume but attached to an instance"
	}
	if v.SnapshotID == "" || v.SnapshotID != snap {
		return fmt.Sprintf("tagged as the drill volume of %q but created from %q", snap, v.SnapshotID)
	}
	for _, t := range v.Tags {
		switch {
		case t.Key == DrillRunTag, t.Key == DrillSnapshotTag:
		case t.Key == "Name" && t.Value == drillVolumeName(snap):
		default:
			return fmt.Sprintf("carries the tag %q, which no drill sets (a drill volume has only its own tags)", t.Key)
		}
	}
	began, ok := runTokenTime(run)
	if !ok {
		return fmt.Sprintf("its %s %q is not a run token", DrillRunTag, run)
	}
	if v.CreateTime.Add(drillClockSkew).Before(began) {
		return fmt.Sprintf("created %s, before its run %s began", v.CreateTime.UTC().Format(time.RFC3339), run)
	}
	s, ok := snaps[snap]
	if !ok {
		return fmt.Sprintf("its snapshot %s is not one the account owns here (a drill volume whose snapshot was deleted is left to an operator)", snap)
	}
	if s.VolumeSize != 0 && v.Size != s.VolumeSize {
		return fmt.Sprintf("%d GiB, not the %d GiB of %s a drill restores", v.Size, s.VolumeSize, snap)
	}
	return ""
}

// runTokenTime reads the start time of a NewRunToken token.
func runTokenTime(token string) (time.Time, bool) {
	ts, rest, ok := strings.Cut(token, "-")
	if !ok || len(rest) != 16 || strings.Trim(rest, "0123456789abcdef") != "" {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", ts)
	return t, err == nil
}

// sweepDrillVolumes deletes the drill volumes of earlier runs that outlived
// the time allowed, before any drill of this run starts. A volume is
// deleted only when it is provably a drill volume (notADrillVolume) and
// was created more than the time allowed before now; anything else tagged
// as a drill volume is reported and left alone (a tag anyone may write is
// no authority to delete a volume that is in use or holds other data).
// snaps are the region's snapshots. The deletes are the run's first
// mutating actions (perform); with Options.DryRun they stay planned.
func sweepDrillVolumes(ctx context.Context, ec2 EC2, snapshots []inventory.Snapshot, p Policy, opts Options) ([]SweptVolume, error) {
	vols, err := drillVolumes(ctx, ec2)
	if err != nil {
		return nil, err
	}
	snaps := make(map[string]inventory.Snapshot, len(snapshots))
	for _, s := range snapshots {
		snaps[s.ID] = s
	}
	allowed := drillAllowance(p)
	var out []SweptVolume
	for _, v := range vols {
		run, _ := inventory.TagValue(v.Tags, DrillRunTag)
		if run == opts.RunToken || v.State == inventory.VolumeDeleting || v.State == inventory.VolumeDeleted {
			continue
		}
		sv := SweptVolume{VolumeID: v.ID, SnapshotID: v.SnapshotID, RunToken: run, Created: v.CreateTime, State: v.State, Status: ActionSkip}
		if why := notADrillVolume(v, snaps); why != "" {
			sv.Reason = why + ": not provably a drill volume, left alone"
			out = append(out, sv)
			continue
		}
		if opts.Now.Sub(v.CreateTime) < allowed {
			continue // a drill of another run may still be checking it
		}
		sv.Reason = fmt.Sprintf("drill volume of run %s, created %s, older than the %s allowed", run, v.CreateTime.UTC().Format(time.RFC3339), allowed)
		sv.Status = StatusPlanned
		out = append(out, sv)
	}
	if opts.DryRun {
		return out, nil
	}
	n := 0
	for _, sv := range out {
		if sv.Status == StatusPlanned {
			n++
		}
	}
	opts.planned(ec2.Region(), n)
	perform(ctx, opts, ec2.Region(), len(out), func(i int) ([]*string, func(context.Context)) {
		sv := &out[i]
		if sv.Status != StatusPlanned {
			return nil, nil
		}
		return []*string{&sv.Status}, func(ctx context.Context) {
			if err := ec2.DeleteVolume(ctx, sv.VolumeID); err != nil {
				sv.Status, sv.Error = StatusFailed, err.Error()
				slog.ErrorContext(ctx, "drill volume sweep failed", "region", ec2.Region(), "volume_id", sv.VolumeID, "error", err)
				return
			}
			sv.Status = StatusDone
			slog.InfoContext(ctx, "leftover drill volume deleted", "region", ec2.Region(), "volume_id", sv.VolumeID, "snapshot_id", sv.SnapshotID, "run", sv.RunToken)
		}
	})
	for i := range out {
		if out[i].Status == StatusPlanned {
			out[i].Status = StatusNotStarted
		}
	}
	return out, nil
}
