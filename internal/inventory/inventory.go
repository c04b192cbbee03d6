// Package inventory holds what ebs-snapper knows about one region at the
// start of a run: the instances each stanza matches, the account's
// snapshots and the snapshots that back AMIs. It is plain data with no AWS
// imports, so the planners that read it stay pure and the EC2 adapter
// converts SDK types into it at the boundary.
package inventory

import (
	"errors"
	"time"
)

// ErrFilterRejected marks an instance listing that EC2 refused because of
// the filters it was given (such as an unknown filter name, "tags:env").
// The EC2 adapter wraps it; the engine then reports the stanza whose match
// it was as invalid in that region and lists the other stanzas. It lives
// here, with the domain types both sides share, rather than next to the
// engine's BuildInventory: the adapter importing the engine would make an
// import cycle with the engine's tests, which drive the adapter.
var ErrFilterRejected = errors.New("EC2 rejected the stanza's match filters")

// Tag is one EC2 tag. Order matters where tags are copied to a snapshot,
// so tags travel as slices, never maps.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Filter is one DescribeInstances filter: different names are ANDed,
// values within one name are ORed, and values may hold * and ? wildcards.
type Filter struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Instance states the engine tells apart (EC2's InstanceStateName).
const (
	InstanceRunning = "running"
	InstanceStopped = "stopped"
)

// Instance is an EC2 instance that still exists: in any state but
// terminated.
type Instance struct {
	ID      string
	ImageID string
	// State is EC2's instance-state-name: pending, running,
	// shutting-down, stopping or stopped.
	State string
	Tags  []Tag
	// VolumeIDs are the EBS volumes of its block-device mappings, in
	// device order. Instance-store volumes never appear.
	VolumeIDs []string
	// RootVolumeID is the EBS volume mounted at the root device
	// (RootDeviceName), empty when that is not an EBS volume or unknown.
	RootVolumeID string
}

// Volume is an EBS volume: its tags are copied to new snapshots, its size
// bounds what its snapshots can store (the report's storage estimate).
type Volume struct {
	ID   string
	Tags []Tag
	// Size is the volume's size in GiB (DescribeVolumes' Size).
	Size int32
	// Type is the EBS volume type (gp3, st1, …; DescribeVolumes'
	// VolumeType), which exclude_volumes may filter on; st1 and sc1 allow
	// one pending snapshot, not five.
	Type string
	// State is EC2's volume state (VolumeCreating, VolumeAvailable, …);
	// SnapshotID the snapshot it was created from ("" for none);
	// CreateTime when EC2 began creating it; Attached whether it is
	// attached to an instance; AvailabilityZone where it lives. Listings
	// fill them; the restore drills read them (snapper.Drill).
	State            string
	SnapshotID       string
	CreateTime       time.Time
	Attached         bool
	AvailabilityZone string
}

// Volume states as EC2 reports them (DescribeVolumes' State).
const (
	VolumeCreating  = "creating"
	VolumeAvailable = "available"
	VolumeInUse     = "in-use"
	VolumeDeleting  = "deleting"
	VolumeDeleted   = "deleted"
	VolumeError     = "error"
)

// VolumeRequest asks EC2 for a new volume restored from a snapshot
// (CreateVolume), tagged with Tags in the same call. Encrypted asks for an
// encrypted volume: required, and implied, for an encrypted snapshot.
// ClientToken makes the request idempotent: EC2 answers a repeat of it
// with the same volume instead of creating another.
type VolumeRequest struct {
	SnapshotID       string
	AvailabilityZone string
	Type             string
	Encrypted        bool
	Tags             []Tag
	ClientToken      string
}

// Snapshot states as EC2 reports them.
const (
	StatePending   = "pending"
	StateCompleted = "completed"
	StateError     = "error"
)

// Snapshot storage tiers as EC2 reports them (Snapshot.StorageTier).
const (
	TierStandard = "standard"
	TierArchive  = "archive"
)

// Snapshot is an EBS snapshot owned by the account.
type Snapshot struct {
	ID          string
	VolumeID    string
	State       string
	StartTime   time.Time
	Description string
	Tags        []Tag
	// VolumeSize is the source volume's size in GiB when the snapshot was
	// taken (DescribeSnapshots' VolumeSize); known even once the volume
	// is deleted.
	VolumeSize int32
	// StorageTier is "standard", "archive", or "" when EC2 did not say
	// (read as standard).
	StorageTier string
	// Encrypted is DescribeSnapshots' Encrypted: a volume restored from
	// the snapshot is encrypted too.
	Encrypted bool
	// Protections are what keeps the snapshot from deletion (AMIs, locks,
	// AWS Backup, launch templates), filled in by the engine's inventory
	// before planning; nil for none, or when not inventoried.
	Protections []Protection
}

// Tag returns the value of the first tag with the given key.
func (s Snapshot) Tag(key string) (string, bool) {
	return TagValue(s.Tags, key)
}

// TagValue returns the value of the first tag with the given key.
func TagValue(tags []Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// SnapshotSet asks for a crash-consistent set of snapshots of one
// instance's volumes (EC2 CreateSnapshots): all its attached EBS volumes
// but the boot volume when ExcludeBoot and the data volumes in Exclude,
// all tagged with Tags in the same call and, with CopyVolumeTags, each
// with its volume's tags too (CopyTagsFromSource=volume).
type SnapshotSet struct {
	InstanceID     string
	ExcludeBoot    bool
	Exclude        []string
	Description    string
	Tags           []Tag
	CopyVolumeTags bool
}
