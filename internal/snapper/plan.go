package snapper

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/schedule"
)

// Snapshot plan actions.
const (
	Create = "create"
	Skip   = "skip"
)

// SnapshotDecision is the verdict on one volume of a matched instance.
type SnapshotDecision struct {
	Region     string `json:"region"`
	InstanceID string `json:"instance_id"`
	VolumeID   string `json:"volume_id"`
	// ConfigID is the stanza whose frequency decided (the one that fires
	// soonest when several govern the volume).
	ConfigID string `json:"config_id"`
	// ConfigIDs lists, sorted, every stanza governing the volume when
	// there are several; empty otherwise.
	ConfigIDs    []string   `json:"config_ids,omitempty"`
	Action       string     `json:"action"`
	Reason       string     `json:"reason"`
	LastSnapshot *time.Time `json:"last_snapshot,omitempty"`
	// DeleteOn is the expiry date a new snapshot gets (create only).
	DeleteOn string `json:"delete_on,omitempty"`
	// Lock is the lock the new snapshot gets (create only, when a
	// governing stanza sets "lock").
	Lock *inventory.Lock `json:"lock,omitempty"`
}

// snapshottable reports whether new snapshots are taken of an instance in
// this state: running or stopped, as ebs_snapper did. Instances in other
// states (pending, stopping, shutting-down) still govern their volumes'
// clean-up.
func snapshottable(state string) bool {
	return state == inventory.InstanceRunning || state == inventory.InstanceStopped
}

// PlanSnapshots decides, for every volume of every matched instance, whether
// a snapshot is due at now. It is pure and deterministic: instances and
// volumes are visited in id and device order, and a volume attached to
// several matched instances is planned once, with the first instance that
// is running or stopped. When several stanzas govern a volume, the
// frequency that fires soonest decides and the new snapshot gets the
// longest retention.
//
// A due volume is still skipped, with the reason, when EC2 would refuse a
// new snapshot of it (perVolumeLimit): the next run tries again.
func PlanSnapshots(r *Inventory, p Policy, now time.Time) []SnapshotDecision {
	latest := latestSnapshots(r.Snapshots)
	newest, pending := newestStarts(r.Snapshots), pendingSnapshots(r.Snapshots)
	stanzas, _, excluded := governed(r, p)
	plannedWith := map[string]string{}
	n := 0
	for _, inst := range r.Instances {
		n += len(inst.VolumeIDs)
	}
	for _, ex := range r.Excluded {
		n += len(ex.Instance.VolumeIDs)
	}
	out := make([]SnapshotDecision, 0, n) // one per volume row: appending to 20,000 allocates five times that
	for _, instID := range slices.Sorted(maps.Keys(r.Instances)) {
		inst := r.Instances[instID]
		for _, vol := range inst.VolumeIDs {
			ids := stanzas[vol]
			if p.Ignore[instID] || len(ids) == 0 {
				ids = r.Matched[instID]
			}
			d := SnapshotDecision{Region: r.Name, InstanceID: instID, VolumeID: vol, ConfigID: ids[0], ConfigIDs: several(ids), Action: Skip}
			last, hasLast := latest[vol]
			if hasLast {
				d.LastSnapshot = &last
			}
			switch {
			case p.Ignore[instID]:
				d.Reason = reasonIgnored("instance", instID)
			case p.Ignore[vol]:
				d.Reason = reasonIgnored("volume", vol)
			case excluded[vol] != "":
				d.Reason = excluded[vol]
			case plannedWith[vol] != "":
				d.Reason = reasonPlannedWith(plannedWith[vol])
			case vol == inst.RootVolumeID && bootExcluded(p, ids):
				d.Reason = reasonBootExcluded
			case !snapshottable(inst.State):
				d.Reason = reasonInstanceState(instID, inst.State)
			default:
				plannedWith[vol] = instID
				id, due := soonest(p, ids, last, hasLast, now)
				d.ConfigID, d.Reason = id, due.Reason
				if held := perVolumeLimit(newest[vol], pending[vol], r.VolumeTypes[vol], now); due.Due && held != "" {
					d.Reason += "; " + held
				} else if due.Due {
					g := p.Govern(ids)
					d.Action = Create
					d.DeleteOn = DeleteOnDate(now, g.Retention)
					if len(ids) > 1 {
						d.Reason += reasonGoverned(ids, id, g.RetentionID)
					}
					if d.Lock = p.lockFor(ids, now, d.DeleteOn); d.Lock != nil {
						d.Reason += reasonLock(d.Lock)
					}
				}
			}
			out = append(out, d)
		}
	}
	for _, instID := range slices.Sorted(maps.Keys(r.Excluded)) {
		ex := r.Excluded[instID]
		for _, vol := range ex.Instance.VolumeIDs {
			d := SnapshotDecision{Region: r.Name, InstanceID: instID, VolumeID: vol, ConfigID: ex.ConfigID, Action: Skip, Reason: ex.Reason}
			if last, ok := latest[vol]; ok {
				d.LastSnapshot = &last
			}
			out = append(out, d)
		}
	}
	return out
}

// EC2's per-volume snapshot limits (EC2 User Guide, "Create Amazon EBS
// snapshots", and the error codes SnapshotCreationPerVolumeRateExceeded and
// ConcurrentSnapshotLimitExceeded in the EC2 API's error codes). Neither can be
// raised.
const (
	// MinSnapshotInterval is the least time between the starts of two
	// snapshots of one volume.
	MinSnapshotInterval = 15 * time.Second
	// MaxPendingSnapshots is how many snapshots of one volume may be
	// pending at once; MaxPendingSnapshotsHDD for throughput-optimised and
	// cold HDD volumes (st1, sc1).
	MaxPendingSnapshots    = 5
	MaxPendingSnapshotsHDD = 1
)

// perVolumeLimit returns why EC2 would refuse a new snapshot of a volume
// at now, or "": newest is the start of its newest snapshot in any state
// (zero for none), pending how many are pending, volType its EC2 type
// ("" when unknown, which only happens without pending snapshots).
func perVolumeLimit(newest time.Time, pending int, volType string, now time.Time) string {
	if !newest.IsZero() && now.Sub(newest) < MinSnapshotInterval {
		return fmt.Sprintf("held back: its last snapshot started at %s, under %s before now (EC2 allows one snapshot of a volume per %s); the next run takes it",
			newest.UTC().Format(time.RFC3339), MinSnapshotInterval, MinSnapshotInterval)
	}
	limit := MaxPendingSnapshots
	if volType == "st1" || volType == "sc1" {
		limit = MaxPendingSnapshotsHDD
	}
	if pending >= limit {
		kind := ""
		if volType != "" {
			kind = " for " + volType
		}
		return fmt.Sprintf("held back: %d of its snapshots are still pending, EC2 allows %d at once%s; the next run takes it",
			pending, limit, kind)
	}
	return ""
}

// soonest evaluates the frequency of each stanza in ids and returns the
// one that fires soonest: a due one before one that is not, then the
// earliest Next (a cron that never fires again last), then the first id.
func soonest(p Policy, ids []string, last time.Time, hasLast bool, now time.Time) (string, schedule.Decision) {
	var bestID string
	var best schedule.Decision
	for i, id := range ids {
		d := schedule.Due(p.Stanzas[id].Frequency, last, hasLast, now)
		if i == 0 || sooner(d, best) {
			bestID, best = id, d
		}
	}
	return bestID, best
}

func sooner(a, b schedule.Decision) bool {
	switch {
	case a.Due != b.Due:
		return a.Due
	case a.Next.IsZero() != b.Next.IsZero():
		return b.Next.IsZero()
	}
	return a.Next.Before(b.Next)
}

// DeleteOnDate is the DeleteOn tag value of a snapshot taken at now: the
// first UTC date on which the whole retention has passed. Clean deletes a
// snapshot from 00:00 UTC of its DeleteOn date, so the date is now +
// retention rounded up to a UTC midnight: "4 days" at 23:30Z keeps the
// snapshot 4 days 30 minutes, "12 hours" at 20:00Z keeps it 28 hours.
// (ebs_snapper wrote the date of now + retention, which clean reached up
// to a day early.)
func DeleteOnDate(now time.Time, keep time.Duration) string {
	return retention.DueDate(now, keep)
}

// PlanClean decides the fate of every snapshot carrying a DeleteOn tag
// (and of those a stanza adopts). No snapshot is deleted before its
// StartTime + the retention of the stanzas governing its volume (the
// longest of them; of every stanza for a volume none governs), whatever
// its DeleteOn says. A volume governed by several stanzas
// keeps their largest minimum and the union of their tiers (Govern). A
// volume no stanza governs follows the orphans policy of the stanzas
// its snapshots' Descriptions name (provenance.CreatedStanza; never the
// config-id tag), except stanzas EC2 rejected in this
// region: their instances only look unmatched.
func PlanClean(r *Inventory, p Policy, now time.Time) []retention.Decision {
	in := retention.Input{
		Now:             now,
		Snapshots:       r.Snapshots,
		Volumes:         map[string]retention.VolumePolicy{},
		VolumeInstance:  map[string]string{},
		Ignore:          p.Ignore,
		IgnoreRetention: p.IgnoreRetention,
		Orphans:         map[string]retention.OrphanPolicy{},
	}
	rejected := map[string]bool{}
	for _, st := range r.Rejected {
		rejected[st.ConfigID] = true
	}
	for id, s := range p.Stanzas {
		// Without an orphans key a stanza means what it meant before:
		// ignore_retention decides, as for ebs_snapper's snapshots.
		if !rejected[id] && s.Orphans.Mode != "" {
			in.Orphans[id] = orphanPolicy(s)
		}
	}
	// A volume attached to several instances (EBS Multi-Attach) names an
	// ignored one when there is one, so that ignoring an instance protects
	// its volumes whichever id sorts first.
	for _, instID := range slices.Sorted(maps.Keys(r.Instances)) {
		for _, vol := range r.Instances[instID].VolumeIDs {
			if cur, seen := in.VolumeInstance[vol]; !seen || p.Ignore[instID] && !p.Ignore[cur] {
				in.VolumeInstance[vol] = instID
			}
		}
	}
	stanzas, instance, _ := governed(r, p)
	for vol, ids := range stanzas {
		g := p.Govern(ids)
		in.Volumes[vol] = retention.VolumePolicy{ConfigID: g.MinimumID, ConfigIDs: several(ids), InstanceID: instance[vol],
			Minimum: g.Minimum, Retention: g.Retention, Tiers: g.Tiers, Adopt: adopt(r, g), ArchiveAfter: g.ArchiveAfter,
			IgnoreLaunchTemplates: g.IgnoreLaunchTemplates}
	}
	for _, s := range p.Stanzas {
		in.UngovernedRetention = max(in.UngovernedRetention, s.Retention)
	}
	withReplicaVolumes(&in, p)
	return retention.Plan(in)
}

// adopt is the volume's retention.Adopt: nil unless every stanza adopts;
// with filters, the snapshots every filter selects.
func adopt(r *Inventory, g Governance) *retention.Adopt {
	if !g.Adopt {
		return nil
	}
	a := &retention.Adopt{Retention: g.Retention}
	if g.AdoptAll {
		return a
	}
	for _, id := range g.ConfigIDs {
		sel, ok := r.Adoptable[id]
		if !ok {
			continue // adopts all
		}
		if a.Only == nil {
			a.Only = maps.Clone(sel)
			continue
		}
		maps.DeleteFunc(a.Only, func(snap string, _ bool) bool { return !sel[snap] })
	}
	if a.Only == nil {
		a.Only = map[string]bool{}
	}
	return a
}

// orphanPolicy is a stanza's orphans setting for the retention planner.
func orphanPolicy(s config.Stanza) retention.OrphanPolicy {
	switch s.Orphans.Mode {
	case config.OrphansRetain:
		return retention.OrphanPolicy{Minimum: s.Minimum, Tiers: s.Tiers, Name: config.OrphansRetain}
	case config.OrphansKeepLast:
		return retention.OrphanPolicy{Minimum: s.Orphans.KeepLast, Name: fmt.Sprintf("%s %d", config.OrphansKeepLast, s.Orphans.KeepLast)}
	}
	return retention.OrphanPolicy{Keep: true, Name: config.OrphansKeep}
}

// The reasons of snapshot decisions that schedule does not give, one
// constructor per form.

func reasonIgnored(kind, id string) string { return fmt.Sprintf("%s %s is ignored", kind, id) }

func reasonPlannedWith(instID string) string {
	return fmt.Sprintf("planned with instance %s (volume attached to both)", instID)
}

func reasonInstanceState(instID, state string) string {
	return fmt.Sprintf("instance %s is %s: snapshots are taken of running or stopped instances only", instID, state)
}

func reasonGoverned(ids []string, frequencyID, retentionID string) string {
	return fmt.Sprintf("; stanzas %s govern it: frequency of %s (fires soonest), retention of %s (longest)",
		strings.Join(ids, ", "), frequencyID, retentionID)
}
