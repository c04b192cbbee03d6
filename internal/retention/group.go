package retention

import (
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// groupSeparator ends the volume part of an ungrouped snapshot's group.
const groupSeparator = "\x00"

// group is the key of the snapshots counted together: the volume of record
// (provenance.VolumeOfRecord, never a tag), or for a snapshot whose volume
// is unknown or EC2's copy placeholder, its VolumeId and its own id: such
// a snapshot is a group of its own, its own newest, and never merges two
// volumes' snapshots.
func group(s inventory.Snapshot) string {
	if vol := provenance.VolumeOfRecord(s); vol != "" {
		return vol
	}
	return s.VolumeID + groupSeparator + s.ID
}
