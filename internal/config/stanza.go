// Package config models the JSON configuration stanzas that ebs-snapper
// stores in DynamoDB, exactly as the original ebs_snapper stores them, and
// validates them. It is pure: no AWS imports, no clock.
package config

import (
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
	// Ignore lists instance, volume and snapshot ids skipped everywhere.
	Ignore []string
	// IgnoreRetention lets clean delete due snapshots whose minimum cannot
	// be known (volume gone, instance no longer matched).
	IgnoreRetention bool
	// Replication is true when the stanza says "replication": "yes".
	Replication bool
}

// Frequency is a snapshot frequency: a duration, or a cron expression
// evaluated in UTC.
type Frequency struct {
	text  string
	every time.Duration
	cron  *cronSchedule
}

// TODO(config helper): ParseFrequency, Frequency.String, IsCron, Every,
// Next; ParseDuration; Parse, ParseStored; cronSchedule.
type cronSchedule struct{}
