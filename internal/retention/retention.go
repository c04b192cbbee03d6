// Package retention decides which snapshots clean deletes, with the
// reason for every decision. It is pure: it never reads the clock and never
// mutates its input.
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
	// IgnoreRetention is true when any stanza sets ignore_retention.
	IgnoreRetention bool
	// AMISnapshots maps snapshot ids that back an AMI to the AMI id.
	AMISnapshots map[string]string
}

// VolumePolicy is the stanza that governs a volume.
type VolumePolicy struct {
	ConfigID   string
	InstanceID string
	Minimum    int
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
	SnapshotID string    `json:"snapshot_id"`
	VolumeID   string    `json:"volume_id"`
	InstanceID string    `json:"instance_id,omitempty"`
	ConfigID   string    `json:"config_id,omitempty"`
	StartTime  time.Time `json:"start_time"`
	DeleteOn   string    `json:"delete_on"`
	Action     Action    `json:"action"`
	Reason     string    `json:"reason"`
}
