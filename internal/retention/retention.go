// Package retention decides which snapshots clean deletes, with the
// reason for every decision. It is pure: it never reads the clock and never
// mutates its input.
//
// Plan fixes the clean bugs of ebs_snapper listed in the reference
// (original-behaviour.md §16): any DeleteOn date in the past is due, not
// only the last 7 days; the DeleteOn tag itself is compared with the UTC
// date; the per-volume count goes down with every planned delete, so one
// run never crosses the minimum; only completed snapshots count as backups
// (toward the minimum and as the newest), a pending one is never deleted;
// the newest completed snapshot of a volume is never deleted; and
// ignored instances, volumes and snapshots are kept even with
// ignore_retention.
package retention

import (
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// DeleteOnTag is the tag holding a snapshot's expiry date, YYYY-MM-DD (UTC).
const DeleteOnTag = "DeleteOn"

// Input is everything clean knows about one region.
type Input struct {
	// Now is the evaluation time; a DeleteOn date is due when it is Now's
	// UTC date or earlier.
	Now time.Time
	// Snapshots are all snapshots the account owns in the region, with or
	// without a DeleteOn tag (all of them count toward a volume's minimum).
	// Snapshot ids are unique, as EC2 guarantees; the order is irrelevant.
	Snapshots []inventory.Snapshot
	// Volumes maps the id of each volume attached to an instance that a
	// stanza matches (and that is not ignored) to its policy.
	Volumes map[string]VolumePolicy
	// VolumeInstance maps every volume of every matched instance, ignored
	// or not, to its instance, so that ignoring an instance protects the
	// snapshots of its volumes.
	VolumeInstance map[string]string
	// Ignore holds instance, volume and snapshot ids from every stanza.
	Ignore map[string]bool
	// IgnoreRetention is true when any stanza sets ignore_retention. It only
	// lets clean delete due snapshots of volumes whose minimum is unknown;
	// it never overrides a known minimum, an ignore or the newest-snapshot
	// protection.
	IgnoreRetention bool
	// AMISnapshots maps snapshot ids that back an AMI to the AMI id.
	AMISnapshots map[string]string
}

// VolumePolicy is the rule that governs a volume.
type VolumePolicy struct {
	// ConfigID is the stanza whose minimum this is.
	ConfigID string
	// ConfigIDs lists every stanza governing the volume when there are
	// several (sorted; Minimum is the largest of theirs), nil otherwise.
	ConfigIDs  []string
	InstanceID string
	// Minimum is how many completed snapshots of the volume clean leaves
	// in place, counting those without a DeleteOn tag.
	Minimum int
}

// Action is what clean does with a candidate.
type Action string

const (
	Delete Action = "delete"
	Keep   Action = "keep"
)

// Decision is the verdict on one candidate snapshot (one carrying a
// DeleteOn tag).
type Decision struct {
	SnapshotID string `json:"snapshot_id"`
	VolumeID   string `json:"volume_id"`
	InstanceID string `json:"instance_id,omitempty"`
	ConfigID   string `json:"config_id,omitempty"`
	// ConfigIDs is the volume policy's ConfigIDs: every stanza governing
	// the volume when there are several.
	ConfigIDs []string  `json:"config_ids,omitempty"`
	StartTime time.Time `json:"start_time"`
	// DeleteOn is the raw value of the snapshot's first DeleteOn tag.
	DeleteOn string `json:"delete_on"`
	Action   Action `json:"action"`
	// Reason is one sentence: it starts with "kept: " for Keep and with
	// "due since " for Delete (see reasons.go for every form).
	Reason string `json:"reason"`
}

// Count returns how many decisions delete and how many keep.
func Count(ds []Decision) (deleted, kept int) {
	for _, d := range ds {
		if d.Action == Delete {
			deleted++
		} else {
			kept++
		}
	}
	return deleted, kept
}
