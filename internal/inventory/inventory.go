// Package inventory holds what ebs-snapper knows about one region at the
// start of a run: the instances each stanza matches, the account's
// snapshots and the snapshots that back AMIs. It is plain data with no AWS
// imports, so the planners that read it stay pure and the EC2 adapter
// converts SDK types into it at the boundary.
package inventory

import "time"

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

// Instance is a running or stopped EC2 instance.
type Instance struct {
	ID      string
	ImageID string
	State   string
	Tags    []Tag
	// VolumeIDs are the EBS volumes of its block-device mappings, in
	// device order. Instance-store volumes never appear.
	VolumeIDs []string
}

// Volume is an EBS volume: its tags are copied to new snapshots, its size
// bounds what its snapshots can store (the report's storage estimate).
type Volume struct {
	ID   string
	Tags []Tag
	// Size is the volume's size in GiB (DescribeVolumes' Size).
	Size int32
}

// Snapshot states as EC2 reports them.
const (
	StatePending   = "pending"
	StateCompleted = "completed"
	StateError     = "error"
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
