// Package config models the JSON configuration stanzas that ebs-snapper
// stores in DynamoDB, exactly as the original ebs_snapper stores them, and
// validates them. It is pure: no AWS imports, no clock.
package config

import (
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// Stanza is one parsed, valid configuration stanza.
type Stanza struct {
	// ID is the DynamoDB range key the stanza is stored under.
	ID string
	// Match selects instances; one filter per JSON key, sorted by name so
	// that the DescribeInstances request is deterministic.
	Match []inventory.Filter
	// Retention is how long a new snapshot is kept (it becomes DeleteOn).
	Retention time.Duration
	// Minimum is how many snapshots of a volume clean always keeps.
	Minimum int
	// Frequency says when a volume is due for a new snapshot.
	Frequency Frequency
	// Ignore lists instance, volume and snapshot ids skipped everywhere;
	// nil when there are none.
	Ignore []string
	// IgnoreRetention lets clean delete due snapshots whose minimum cannot
	// be known (volume gone, instance no longer matched).
	IgnoreRetention bool
	// Replication is true when the stanza says "replication": "yes".
	Replication bool
	// Tiers ("retention_tiers") keep snapshots beyond DeleteOn and the
	// minimum, evaluated at clean time; zero when absent.
	Tiers retention.Tiers
	// Orphans says what clean does with the snapshots this stanza made of
	// volumes no stanza governs any more (default: keep them).
	Orphans Orphans
	// Exclude drops matched instances that match any one of these
	// DescribeInstances filters; ExcludeVolumes drops their volumes that
	// match any one of these DescribeVolumes filters. Nil when absent.
	Exclude, ExcludeVolumes []inventory.Filter
	// Adopt makes clean manage snapshots without DeleteOn of the stanza's
	// volumes, as if tagged with StartTime + Retention.
	Adopt Adopt
	// ArchiveAfter, when positive, moves snapshots kept at least this long
	// to the EBS archive tier ("archive_after").
	ArchiveAfter time.Duration
	// ReplicationCopyTags copies every user tag of an original to its
	// replica ("replication_copy_tags": true), not only Name.
	ReplicationCopyTags bool
	// ReplicationKMSKeys maps destination regions to the KMS key (id,
	// alias or ARN) their copies are encrypted with; nil when none.
	ReplicationKMSKeys map[string]string
	// ReplicationRetention, when not zero, dates a replica's DeleteOn from
	// its original's start time instead of copying the original's.
	ReplicationRetention time.Duration
	// MultiVolume ("snapshot.multi_volume": true) snapshots an instance's
	// due volumes as one crash-consistent set: one EC2 CreateSnapshots
	// call per instance, all snapshots taken at the same point in time.
	MultiVolume bool
	// ExcludeBootVolume ("snapshot.exclude_boot_volume": true, with
	// multi_volume only) never snapshots the instance's root volume.
	ExcludeBootVolume bool
	// Lock ("lock") locks every snapshot the stanza takes.
	Lock SnapshotLock
	// IgnoreLaunchTemplates ("launch_templates": "ignore") lets clean
	// delete snapshots that only a launch template uses.
	IgnoreLaunchTemplates bool
	// Drill ("drill") restores a sample of the stanza's volumes' newest
	// snapshots on a schedule (docs/drills.md); zero when absent.
	Drill Drill
}

// Orphans modes ("orphans" in a stanza).
const (
	OrphansKeep     = "keep"
	OrphansRetain   = "retain"
	OrphansKeepLast = "keep_last"
)

// Orphans is a stanza's "orphans" setting.
type Orphans struct {
	// Mode is OrphansKeep, OrphansRetain, OrphansKeepLast, or "" when the
	// stanza does not say: then ignore_retention decides, as before.
	Mode string
	// KeepLast is N of {"keep_last": N}, at least 1.
	KeepLast int
}

// Adopt is a stanza's "adopt" setting: off (zero), true (All), or a
// DescribeSnapshots filter object selecting the snapshots to adopt (names
// ANDed, like match).
type Adopt struct {
	All     bool
	Filters []inventory.Filter
}

// On reports whether the stanza adopts anything.
func (a Adopt) On() bool { return a.All || len(a.Filters) > 0 }

// MatchDescription renders the match the way ebs_snapper's sanity check
// did: "<filter>, value:<value>" per filter, joined by ", ", in filter name
// order. Where the original printed a Python list for several values, the
// values are joined with "|" here.
func (s Stanza) MatchDescription() string {
	parts := make([]string, len(s.Match))
	for i, f := range s.Match {
		parts[i] = f.Name + ", value:" + strings.Join(f.Values, "|")
	}
	return strings.Join(parts, ", ")
}
