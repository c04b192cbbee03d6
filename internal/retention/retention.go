// Package retention decides which snapshots clean deletes, with the
// reason for every decision. It is pure: it never reads the clock and never
// mutates its input.
//
// Plan fixes the clean bugs of ebs_snapper listed in
// docs/differences.md: any DeleteOn date in the past is due, not
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

// ConfigIDTag holds the id of the stanza that made a snapshot, for people
// and tools. Clean does not read it: a tag can be rewritten by anyone
// allowed ec2:CreateTags, so the stanza whose orphans policy applies is the
// one the snapshot's Description names (provenance.CreatedStanza).
const ConfigIDTag = "ebs-snapper:config-id"

// ArchiveMinimum is how long EBS bills an archived snapshot at the least
// (90 days, "Archive Amazon EBS snapshots", EBS User Guide): Plan never
// archives a snapshot that could be deleted sooner.
const ArchiveMinimum = 90 * 24 * time.Hour

// Input is everything clean knows about one region.
type Input struct {
	// Now is the evaluation time; a DeleteOn date is due when it is Now's
	// UTC date or earlier.
	Now time.Time
	// Snapshots are all snapshots the account owns in the region, with or
	// without a DeleteOn tag (all of them count toward a volume's minimum,
	// but AWS Backup's recovery points), each with its Protections.
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
	// UngovernedRetention is the retention of a volume with no policy in
	// Volumes (one no stanza governs, whatever orphans policy its
	// snapshots' tags name): the longest retention of every valid stanza,
	// since nothing EC2 records says which stanza made the snapshots. See
	// VolumePolicy.Retention.
	UngovernedRetention time.Duration
	// Orphans maps the id of each valid stanza to its orphans policy. A
	// volume that is not in Volumes takes the policy of the stanzas its
	// snapshots' Descriptions name (provenance.CreatedStanza); with none, the old rule applies
	// (kept, or deleted when due under IgnoreRetention).
	Orphans map[string]OrphanPolicy
}

// OrphanPolicy is a stanza's "orphans" setting: what clean does with the
// snapshots it made of a volume no stanza governs any more.
type OrphanPolicy struct {
	// Keep keeps them all ("keep", the default).
	Keep bool
	// Minimum and Tiers apply as to a governed volume ("retain" gives the
	// stanza's own; {"keep_last": N} gives Minimum N and no tiers).
	Minimum int
	Tiers   Tiers
	// Name is the setting as written: "keep", "retain", "keep_last 3".
	Name string
}

// Adopt says which snapshots without DeleteOn clean manages on a volume,
// as if tagged with the date of StartTime + Retention.
type Adopt struct {
	// Retention is the governing stanza's retention.
	Retention time.Duration
	// Only, when not nil, holds the ids of the snapshots the stanza's adopt
	// filter selects; nil adopts every snapshot without DeleteOn.
	Only map[string]bool
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
	// Retention is the governing stanza's retention: no snapshot of the
	// volume is deleted before the UTC date DueDate(StartTime, Retention),
	// whatever its DeleteOn tag says. A DeleteOn tag may lengthen a
	// retention, never shorten it: anyone allowed ec2:CreateTags can write
	// it, while EC2 sets StartTime.
	Retention time.Duration
	// Tiers keep snapshots that DeleteOn and the minimum would let go.
	Tiers Tiers
	// Adopt, when set, makes snapshots without DeleteOn candidates.
	Adopt *Adopt
	// ArchiveAfter, when positive, moves kept snapshots at least this old
	// to the EBS archive tier (see Plan).
	ArchiveAfter time.Duration
	// IgnoreLaunchTemplates lets clean delete snapshots that only a
	// launch template protects (every governing stanza sets
	// "launch_templates": "ignore").
	IgnoreLaunchTemplates bool
	// Orphans, set by Plan for a volume no stanza governs, names the
	// orphans policy that gave this policy; reasons end with it.
	Orphans string
}

// Action is what clean does with a candidate.
type Action string

const (
	Delete Action = "delete"
	Keep   Action = "keep"
	// Archive keeps the snapshot and moves it to the EBS archive tier
	// (ModifySnapshotTier).
	Archive Action = "archive"
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
	// DeleteOn is the raw value of the snapshot's first DeleteOn tag, or
	// for an adopted snapshot the date of StartTime + retention.
	DeleteOn string `json:"delete_on"`
	// Adopted is true for a snapshot without DeleteOn that the stanza's
	// adopt setting made a candidate.
	Adopted bool   `json:"adopted,omitempty"`
	Action  Action `json:"action"`
	// Reason is one sentence: it starts with "kept: " for Keep, with
	// "expired on " for Delete and with "archive: " for Archive (see
	// reasons.go for every form).
	Reason string `json:"reason"`
}

// Count returns how many decisions delete and how many keep (archived
// snapshots are kept).
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
