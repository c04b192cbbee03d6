package snapper

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// DefaultDrillPoll is how often a drill asks EC2 whether its volume is
// available (one DescribeVolumes per drill in flight).
const DefaultDrillPoll = 15 * time.Second

// Drill statuses besides the common ones: a drill that ran to its end has
// StatusDone and its Outcome says passed or failed.
const (
	// StatusVanished marks a drill whose snapshot was deleted before or
	// while it ran: nothing was proven, and nothing failed.
	StatusVanished = "vanished"
)

// DrillRow is a drill decision and what became of it.
type DrillRow struct {
	DrillDecision
	Status string `json:"status,omitempty"`
	// Outcome is DrillPassed or DrillFailed once the drill ran.
	Outcome string `json:"outcome,omitempty"`
	// DrillVolumeID is the volume restored from the snapshot.
	DrillVolumeID string `json:"drill_volume_id,omitempty"`
	// AvailabilityZone is where the drill volume was created.
	AvailabilityZone string `json:"availability_zone,omitempty"`
	// SecondsToAvailable is how long the volume took to become available.
	SecondsToAvailable int `json:"seconds_to_available,omitempty"`
	// Deleted is true once the drill volume is deleted.
	Deleted bool   `json:"volume_deleted,omitempty"`
	Error   string `json:"error,omitempty"`
}

// SweptVolume is a volume tagged DrillRunTag by an earlier run that a run
// found: deleted (older than the time allowed), or left alone with the
// reason (attached, or not restored from the snapshot its tag names).
type SweptVolume struct {
	VolumeID   string    `json:"volume_id"`
	SnapshotID string    `json:"snapshot_id"`
	RunToken   string    `json:"run_token"`
	Created    time.Time `json:"created"`
	State      string    `json:"state"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	Error      string    `json:"error,omitempty"`
}

// drillVolumes lists the region's drill volumes (tagged DrillRunTag).
func drillVolumes(ctx context.Context, ec2 EC2) ([]inventory.Volume, error) {
	vols, err := ec2.VolumesMatching(ctx, []inventory.Filter{{Name: "tag-key", Values: []string{DrillRunTag}}})
	if err != nil {
		return nil, fmt.Errorf("drill volumes: %w", err)
	}
	return vols, nil
}

// runDrills sweeps the leftover drill volumes, plans the drills of the
// region and runs them, at most opts.Workers at once.
func runDrills(ctx context.Context, ec2 EC2, inv *Inventory, p Policy, rr *RegionReport, opts Options) {
	swept, err := sweepDrillVolumes(ctx, ec2, inv.Snapshots, p, opts)
	rr.Swept = swept
	if err != nil {
		rr.Error = err.Error()
		return
	}
	rr.Drills = scopeRows(opts.Scope, rowsForDrills(PlanDrills(inv, p, opts.Now)), drillRowKey)
	if opts.DryRun {
		return
	}
	var zones []string
	n := 0
	for _, r := range rr.Drills {
		if r.Action == ActionDrill {
			n++
		}
	}
	if n > 0 {
		if zones, err = ec2.AvailabilityZones(ctx); err == nil && len(zones) == 0 {
			err = errors.New("no availability zone is available")
		}
		if err != nil {
			for i := range rr.Drills {
				if rr.Drills[i].Action == ActionDrill {
					rr.Drills[i].Status, rr.Drills[i].Error = StatusFailed, fmt.Sprintf("availability zones of %s: %v", rr.Region, err)
				}
			}
			return
		}
	}
	opts.planned(ec2.Region(), n)
	perform(ctx, opts, ec2.Region(), len(rr.Drills), func(i int) ([]*string, func(context.Context)) {
		r := &rr.Drills[i]
		if r.Action != ActionDrill {
			return nil, nil
		}
		return []*string{&r.Status}, func(ctx context.Context) { drillOne(ctx, ec2, r, zones, opts) }
	})
	for i := range rr.Drills {
		if rr.Drills[i].Status == StatusPlanned {
			rr.Drills[i].Status = StatusNotStarted
		}
	}
	carryDrillRecords(ctx, ec2, rr.Drills, opts)
}

// carryDrillRecords tags each row's CarryTo snapshot with the row's last
// drill record, opts.Workers at once, while the run may start work. A
// failure is the row's Error (the next run tries again); nothing else
// depends on it.
func carryDrillRecords(ctx context.Context, ec2 EC2, rows []DrillRow, opts Options) {
	forEach(ctx, opts.StopStarting, opts.Workers, len(rows), func(i int) {
		r := &rows[i]
		if r.CarryTo == "" || r.LastDrill == nil {
			return
		}
		if err := ec2.TagSnapshot(ctx, r.CarryTo, []inventory.Tag{{Key: LastDrillTag, Value: r.LastDrill.String()}}); err != nil {
			r.Error = joinErr(r.Error, fmt.Sprintf("carry the last drill record to %s: %v", r.CarryTo, err))
			slog.WarnContext(ctx, "drill record not carried", "region", r.Region, "volume_id", r.VolumeID, "snapshot_id", r.CarryTo, "error", err)
		}
	})
}

func rowsForDrills(ds []DrillDecision) []DrillRow {
	rows := make([]DrillRow, len(ds))
	for i, d := range ds {
		rows[i] = DrillRow{DrillDecision: d}
		if d.Action == ActionDrill {
			rows[i].Status = StatusPlanned
		}
	}
	return rows
}

func drillRowKey(r DrillRow) (string, string, []string) {
	return r.InstanceID, r.VolumeID, []string{r.ConfigID}
}

// zoneFor spreads drills over the region's zones by snapshot id.
func zoneFor(snapshotID string, zones []string) string {
	h := fnv.New32a()
	h.Write([]byte(snapshotID))
	return zones[int(h.Sum32()%uint32(len(zones)))]
}

// drillTags are the tags of a drill volume, set in the CreateVolume call.
func drillTags(snapshotID, token string) []inventory.Tag {
	return []inventory.Tag{
		{Key: DrillRunTag, Value: token},
		{Key: DrillSnapshotTag, Value: snapshotID},
		{Key: "Name", Value: drillVolumeName(snapshotID)},
	}
}

// drillVolumeName is the Name tag of a drill volume.
func drillVolumeName(snapshotID string) string { return "ebs-snapper restore drill of " + snapshotID }

// drillClientToken is CreateVolume's idempotency token for one drill: the
// same run and snapshot give the same token (at most 64 ASCII characters).
func drillClientToken(token, snapshotID string) string {
	t := token + "-" + snapshotID
	if len(t) > 64 {
		t = t[len(t)-64:]
	}
	return t
}

// drillOne restores r's snapshot, waits for the volume, deletes it and
// records the outcome on the snapshot.
func drillOne(ctx context.Context, ec2 EC2, r *DrillRow, zones []string, opts Options) {
	log := slog.With("region", r.Region, "volume_id", r.VolumeID, "snapshot_id", r.SnapshotID)
	if r.SnapshotState == inventory.StateError {
		r.Status, r.Outcome = StatusDone, DrillFailed
		r.Error = "snapshot is in state error: EC2 cannot restore it"
		recordDrill(ctx, ec2, r, opts)
		log.ErrorContext(ctx, "drill failed: snapshot in state error")
		return
	}
	r.AvailabilityZone = zoneFor(r.SnapshotID, zones)
	start := time.Now()
	vol, err := createDrillVolume(ctx, ec2, r, opts)
	switch {
	case errors.Is(err, inventory.ErrSnapshotGone):
		r.Status, r.Error = StatusVanished, "the snapshot was deleted before its drill began: "+err.Error()
		log.WarnContext(ctx, "drill: snapshot vanished", "error", err)
		return
	case errors.Is(err, inventory.ErrOutcomeUnknown):
		// The settling listing failed too (tested before notSent: a run
		// cut off while the request was in flight is no proof that it
		// was not sent). The volume, if any, carries the drill tags and
		// the next run's sweep deletes it.
		r.Status, r.Error = StatusUnknown, "create volume: "+err.Error()+" (a volume it made carries the drill tags: the next run's sweep deletes it)"
		log.ErrorContext(ctx, "drill volume outcome unknown", "error", err)
		return
	case notSent(ctx, err):
		r.Status, r.Error = StatusNotStarted, ""
		return
	case err != nil:
		r.Status, r.Outcome, r.Error = StatusDone, DrillFailed, "create volume: "+err.Error()
		recordDrill(ctx, ec2, r, opts)
		log.ErrorContext(ctx, "drill failed: create volume", "error", err)
		return
	}
	r.DrillVolumeID = vol.ID
	state, waitErr := waitAvailable(ctx, ec2, vol.ID, start, r.Timeout, opts)
	secs := int(time.Since(start).Round(time.Second) / time.Second)
	r.Deleted = deleteDrillVolume(ctx, ec2, r, opts)
	switch {
	case waitErr == errStopped:
		// Stopped starting work (deadline margin, Ctrl-C) before the
		// volume was available: nothing proven, a continuation drills it.
		// A volume not deleted keeps its error: the sweep deletes it.
		r.Status = StatusNotStarted
		return
	case state == inventory.VolumeAvailable:
		r.Status, r.Outcome, r.SecondsToAvailable = StatusDone, DrillPassed, secs
	case waitErr != nil:
		r.Status, r.Outcome, r.Error = StatusDone, DrillFailed, waitErr.Error()
	default:
		r.Status, r.Outcome, r.Error = StatusDone, DrillFailed, fmt.Sprintf("volume %s went to state %s", vol.ID, state)
	}
	if !r.Deleted {
		r.Status = StatusFailed
	}
	recordDrill(ctx, ec2, r, opts)
	log.InfoContext(ctx, "drill ended", "outcome", r.Outcome, "drill_volume_id", vol.ID, "seconds", secs, "error", r.Error)
}

// createDrillVolume creates r's volume, tagged and with a client token. An
// answer lost on the way is settled by one listing of the region's
// volumes tagged with this run's token and r's snapshot (the first that is
// provably a drill volume, notADrillVolume, is taken); when none is
// found, the same request is sent once more with the same client token,
// which EC2 answers with the volume it made, if it made one (unless the
// run has stopped: the outcome stays unknown, for the sweep).
func createDrillVolume(ctx context.Context, ec2 EC2, r *DrillRow, opts Options) (inventory.Volume, error) {
	req := inventory.VolumeRequest{SnapshotID: r.SnapshotID, AvailabilityZone: r.AvailabilityZone, Type: r.VolumeType,
		Encrypted: r.Encrypted, Tags: drillTags(r.SnapshotID, opts.RunToken), ClientToken: drillClientToken(opts.RunToken, r.SnapshotID)}
	vol, err := ec2.CreateVolume(ctx, req)
	if !errors.Is(err, inventory.ErrOutcomeUnknown) {
		return vol, err
	}
	slog.WarnContext(ctx, "drill volume outcome unknown: settling by tag", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
	sctx, cancel := settleContext(ctx, opts)
	defer cancel()
	vols, lerr := ec2.VolumesMatching(sctx, []inventory.Filter{
		{Name: "tag:" + DrillRunTag, Values: []string{opts.RunToken}},
		{Name: "tag:" + DrillSnapshotTag, Values: []string{r.SnapshotID}},
	})
	if lerr != nil {
		return inventory.Volume{}, fmt.Errorf("%w; settling listing failed: %v", err, lerr)
	}
	// The listing is on tags, which a tag writer could put on another
	// volume: only one that is provably this drill's is taken.
	own := map[string]inventory.Snapshot{r.SnapshotID: {ID: r.SnapshotID, VolumeSize: r.SizeGiB}}
	for _, v := range vols {
		if notADrillVolume(v, own) == "" {
			return v, nil
		}
	}
	if stopped(ctx, opts.StopStarting) {
		// Re-issued once only while the run may still start work (as
		// settle.go does): a volume made now would outlive the run.
		return inventory.Volume{}, fmt.Errorf("%w; not found by its tags, and not sent again as the run stopped", err)
	}
	return ec2.CreateVolume(sctx, req)
}

// errStopped is waitAvailable's answer when the run stopped starting work.
var errStopped = errors.New("the run stopped before the volume was available")

// waitAvailable asks EC2 for the volume's state every poll interval until
// it is available or in error, timeout has passed since start, or the run
// stops (errStopped). It returns the last state seen.
func waitAvailable(ctx context.Context, ec2 EC2, id string, start time.Time, timeout time.Duration, opts Options) (string, error) {
	poll := opts.DrillPoll
	if poll <= 0 {
		poll = DefaultDrillPoll
	}
	if timeout <= 0 {
		timeout = config.DefaultDrillTimeout
	}
	state := inventory.VolumeCreating
	for {
		vols, err := ec2.VolumesMatching(ctx, []inventory.Filter{{Name: "volume-id", Values: []string{id}}})
		switch {
		case err != nil && ctx.Err() != nil:
			return state, errStopped
		case err != nil:
			slog.WarnContext(ctx, "drill: describe volume failed; asking again", "volume_id", id, "error", err)
		case len(vols) == 0:
			return inventory.VolumeDeleted, fmt.Errorf("volume %s vanished before it was available (EC2 deletes a volume it could not create, as when the caller may not use the snapshot's KMS key)", id)
		default:
			state = vols[0].State
		}
		if state == inventory.VolumeAvailable || state == inventory.VolumeError {
			return state, nil
		}
		if time.Since(start) >= timeout {
			return state, fmt.Errorf("volume %s still %s after the %s allowed (drill.timeout)", id, state, config.FormatDuration(timeout))
		}
		t := time.NewTimer(min(poll, max(time.Until(start.Add(timeout)), time.Millisecond)))
		select {
		case <-ctx.Done():
			t.Stop()
			return state, errStopped
		case <-opts.StopStarting:
			t.Stop()
			return state, errStopped
		case <-t.C:
		}
	}
}

// deleteDrillVolume deletes r's drill volume, even once ctx has ended
// (within opts.SettleTimeout). It reports whether the volume is gone; if
// not, r.Error says so and the next run's sweep deletes it.
func deleteDrillVolume(ctx context.Context, ec2 EC2, r *DrillRow, opts Options) bool {
	dctx, cancel := settleContext(ctx, opts)
	defer cancel()
	if err := ec2.DeleteVolume(dctx, r.DrillVolumeID); err != nil {
		r.Error = joinErr(r.Error, fmt.Sprintf("delete drill volume %s: %v (the next run's sweep deletes it)", r.DrillVolumeID, err))
		slog.ErrorContext(ctx, "drill volume not deleted", "region", r.Region, "drill_volume_id", r.DrillVolumeID, "error", err)
		return false
	}
	return true
}

// recordDrill tags r's snapshot with its outcome (LastDrillTag). A
// snapshot deleted meanwhile makes the drill StatusVanished.
func recordDrill(ctx context.Context, ec2 EC2, r *DrillRow, opts Options) {
	rec := DrillRecord{At: opts.Now, Outcome: r.Outcome, Seconds: r.SecondsToAvailable, SnapshotID: r.SnapshotID}
	tctx, cancel := settleContext(ctx, opts)
	defer cancel()
	err := ec2.TagSnapshot(tctx, r.SnapshotID, []inventory.Tag{{Key: LastDrillTag, Value: rec.String()}})
	switch {
	case err == nil:
	case errors.Is(err, inventory.ErrSnapshotGone):
		r.Status = StatusVanished
		r.Error = joinErr(r.Error, "the snapshot was deleted while its drill ran: nothing is proven")
	default:
		r.Status = StatusFailed
		r.Error = joinErr(r.Error, fmt.Sprintf("record the drill on %s: %v", r.SnapshotID, err))
	}
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// countDrills adds rr's drills and sweeps to s.
func countDrills(s *Summary, rr RegionReport) {
	for _, r := range rr.Drills {
		if r.Outcome != "" {
			s.Drilled++
		}
		switch {
		case r.Outcome == DrillFailed:
			s.DrillsFailed++
			s.Failed++
		case r.Status == StatusFailed:
			s.Failed++
		case r.Status == StatusNotStarted:
			s.NotStarted++
		case r.Status == StatusUnknown:
			s.Unknown++
		}
	}
	for _, v := range rr.Swept {
		switch v.Status {
		case StatusDone:
			s.Swept++
		case StatusFailed:
			s.Failed++
		case StatusNotStarted:
			s.NotStarted++
		}
	}
}
