package snapper

import (
	"fmt"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
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
	Region       string     `json:"region"`
	InstanceID   string     `json:"instance_id"`
	VolumeID     string     `json:"volume_id"`
	ConfigID     string     `json:"config_id"`
	Action       string     `json:"action"`
	Reason       string     `json:"reason"`
	LastSnapshot *time.Time `json:"last_snapshot,omitempty"`
	// DeleteOn is the expiry date a new snapshot gets (create only).
	DeleteOn string `json:"delete_on,omitempty"`
}

// Policy is what every stanza of the account says together.
type Policy struct {
	// Stanzas by id; only valid ones.
	Stanzas map[string]config.Stanza
	// Ignore is the union of every stanza's ignore list: an id ignored by
	// one stanza is ignored by all, as in the original.
	Ignore map[string]bool
	// IgnoreRetention is on when any stanza sets it, unless some stored
	// stanza is invalid: then its instances look unmatched and their
	// snapshots would look like orphans, so orphan deletion is held back.
	IgnoreRetention bool
}

// NewPolicy combines the valid stanzas; invalid is the number of stored
// stanzas that failed to load.
func NewPolicy(stanzas []config.Stanza, invalid int) Policy {
	p := Policy{Stanzas: map[string]config.Stanza{}, Ignore: map[string]bool{}}
	for _, s := range stanzas {
		p.Stanzas[s.ID] = s
		for _, id := range s.Ignore {
			p.Ignore[id] = true
		}
		if s.IgnoreRetention && invalid == 0 {
			p.IgnoreRetention = true
		}
	}
	return p
}

// PlanSnapshots decides, for every volume of every matched instance, whether
// a snapshot is due at now. It is pure and deterministic: instances and
// volumes are visited in id and device order, and a volume attached to
// several matched instances is planned once, with the first instance.
func PlanSnapshots(r *Region, p Policy, now time.Time) []SnapshotDecision {
	latest := latestSnapshots(r.Snapshots)
	plannedWith := map[string]string{}
	var out []SnapshotDecision
	for _, instID := range sortedKeys(r.Instances) {
		inst := r.Instances[instID]
		stanza := p.Stanzas[r.Assigned[instID]]
		for _, vol := range inst.VolumeIDs {
			d := SnapshotDecision{Region: r.Name, InstanceID: instID, VolumeID: vol, ConfigID: stanza.ID, Action: Skip}
			if t, ok := latest[vol]; ok {
				d.LastSnapshot = &t
			}
			switch {
			case p.Ignore[instID]:
				d.Reason = fmt.Sprintf("instance %s is ignored", instID)
			case p.Ignore[vol]:
				d.Reason = fmt.Sprintf("volume %s is ignored", vol)
			case plannedWith[vol] != "":
				d.Reason = fmt.Sprintf("planned with instance %s (volume attached to both)", plannedWith[vol])
			default:
				plannedWith[vol] = instID
				due := schedule.Due(stanza.Frequency, latest[vol], d.LastSnapshot != nil, now)
				d.Reason = due.Reason
				if due.Due {
					d.Action = Create
					d.DeleteOn = DeleteOnDate(now, stanza.Retention)
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// DeleteOnDate is the DeleteOn tag value of a snapshot taken at now: the UTC
// date of now + retention.
func DeleteOnDate(now time.Time, retention time.Duration) string {
	return now.Add(retention).UTC().Format(time.DateOnly)
}

// PlanClean decides the fate of every snapshot carrying a DeleteOn tag.
func PlanClean(r *Region, p Policy, now time.Time) []retention.Decision {
	in := retention.Input{
		Now:             now,
		Snapshots:       r.Snapshots,
		Volumes:         map[string]retention.VolumePolicy{},
		VolumeInstance:  map[string]string{},
		Ignore:          p.Ignore,
		IgnoreRetention: p.IgnoreRetention,
		AMISnapshots:    r.AMISnapshots,
	}
	for _, instID := range sortedKeys(r.Instances) {
		stanza := p.Stanzas[r.Assigned[instID]]
		for _, vol := range r.Instances[instID].VolumeIDs {
			if _, seen := in.VolumeInstance[vol]; !seen {
				in.VolumeInstance[vol] = instID
			}
			if p.Ignore[instID] {
				continue
			}
			// A volume attached to several instances keeps the largest
			// minimum of their stanzas: the safe reading.
			if cur, ok := in.Volumes[vol]; !ok || stanza.Minimum > cur.Minimum {
				in.Volumes[vol] = retention.VolumePolicy{ConfigID: stanza.ID, InstanceID: instID, Minimum: stanza.Minimum}
			}
		}
	}
	return retention.Plan(in)
}
