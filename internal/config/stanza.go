// Package config models the JSON configuration stanzas that ebs-snapper
// stores in DynamoDB, exactly as the original ebs_snapper stores them, and
// validates them. It is pure: no AWS imports, no clock.
package config

import (
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
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
	// ReplicationCopyTags copies every user tag of an original to its
	// replica ("replication_copy_tags": true), not only Name.
	ReplicationCopyTags bool
	// ReplicationKMSKeys maps destination regions to the KMS key (id,
	// alias or ARN) their copies are encrypted with; nil when none.
	ReplicationKMSKeys map[string]string
	// ReplicationRetention, when not zero, dates a replica's DeleteOn from
	// its original's start time instead of copying the original's.
	ReplicationRetention time.Duration
}

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
