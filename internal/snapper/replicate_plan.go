package snapper

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// The tags of replication, as ebs_snapper spelled them (docs/replication.md), and
// the one ebs-snapper adds.
const (
	// ReplicationSourceTag on a replica names the region of its original.
	ReplicationSourceTag = "replication_src_region"
	// ReplicationSnapshotIDTag on a replica is the id of its original.
	ReplicationSnapshotIDTag = "replication_snapshot_id"
	// ReplicationVolumeTag on a replica is its original's volume id: EC2
	// gives copies an arbitrary VolumeId (EC2 API reference, Snapshot), and
	// clean in the destination groups replicas by the volume they back up.
	ReplicationVolumeTag = "replication_volume_id"
	// NameTag is copied from an original to its replica, as ebs_snapper
	// 0.10.6 did.
	NameTag = "Name"
)

// DefaultCopyLimit is EC2's limit of snapshot copies in progress per
// destination region (Amazon EBS quotas, "Concurrent snapshot copies per
// destination Region": 20, not adjustable through Service Quotas, AWS
// Support can raise it). A run plans no more copies
// into a region than the limit (Options.CopyLimit, this by default) less
// the copies already pending there.
const DefaultCopyLimit = 20

// Replication plan actions.
const (
	// Copy: copy the original to its destination region.
	Copy = "copy"
	// Defer: a copy that does not fit under the copy limit this run; a
	// later run makes it.
	Defer = "defer"
	// DeleteReplica: delete a replica whose original is gone or no longer
	// asks for this region.
	DeleteReplica = "delete-replica"
	// Keep: a replica whose original still asks for it.
	Keep = "keep"
	// Skip (shared with snapshot plans): nothing to do.
)

// Roles of a snapshot in a replication decision.
const (
	RoleOriginal = "original"
	RoleReplica  = "replica"
)

// ReplicationDecision is the verdict on one local snapshot that carries a
// replication tag, in the region it lives in.
type ReplicationDecision struct {
	Region     string `json:"region"`
	SnapshotID string `json:"snapshot_id"`
	// Role is RoleOriginal (tagged replication_dst_region) or RoleReplica
	// (tagged replication_src_region). A snapshot with both tags gets one
	// decision for each role.
	Role   string `json:"role"`
	Action string `json:"action"`
	Reason string `json:"reason"`
	// Destination is the region an original asks to be copied to.
	Destination string `json:"destination,omitempty"`
	// Source and OriginalID are a replica's replication tags.
	Source     string `json:"source,omitempty"`
	OriginalID string `json:"original_id,omitempty"`
	// Problem is set when the decision could not be taken as it should
	// (a replica without its id tag, a region that could not be listed):
	// the snapshot is left alone and the run reports it as failed.
	Problem string `json:"problem,omitempty"`
	// For Copy: the copy's description, tags and KMS key ("" = none).
	Description string          `json:"-"`
	Tags        []inventory.Tag `json:"tags,omitempty"`
	KMSKeyID    string          `json:"kms_key_id,omitempty"`
}

// ReplicationInput is what replication planning in one region reads: the
// snapshots the account owns in that region and in the regions its
// replication tags name, each listed once for the whole run.
type ReplicationInput struct {
	// Region is the region planned.
	Region string
	// Now is the evaluation time (replication_retention counts from the
	// original's StartTime, Now only dates nothing).
	Now time.Time
	// Snapshots maps each listed region to the snapshots the account owns
	// there. Region must be a key.
	Snapshots map[string][]inventory.Snapshot
	// Unlisted maps each region whose listing failed to why (not enabled,
	// access denied…): nothing is decided against a region not seen.
	Unlisted map[string]string
	Policy   Policy
}

// replicationSettings are the stanzas' replication options combined.
type replicationSettings struct {
	copyTags  bool
	kmsKeys   map[string]string
	retention time.Duration
}

// replication combines the stanzas' options: tags are copied when any
// stanza asks, the longest replication_retention wins (the safer reading,
// as for retention), and each region's KMS key is the first one in stanza
// id order.
func (p Policy) replication() replicationSettings {
	s := replicationSettings{kmsKeys: map[string]string{}}
	for _, id := range sortedKeys(p.Stanzas) {
		st := p.Stanzas[id]
		s.copyTags = s.copyTags || st.ReplicationCopyTags
		s.retention = max(s.retention, st.ReplicationRetention)
		for region, key := range st.ReplicationKMSKeys {
			if _, ok := s.kmsKeys[region]; !ok {
				s.kmsKeys[region] = key
			}
		}
	}
	return s
}

// Replicating reports whether some stanza says "replication": "yes": the
// switch of the replication pipeline, as in ebs_snapper.
func (p Policy) Replicating() bool {
	for _, s := range p.Stanzas {
		if s.Replication {
			return true
		}
	}
	return false
}

// PlanReplication decides, for every snapshot of in.Region carrying a
// replication tag, what replication does (docs/replication.md): a
// completed original tagged replication_dst_region=D is copied to D unless
// a replica of it is already there; a replica tagged
// replication_src_region=S is kept while its original in S still asks for
// this region and deleted otherwise. Pending and error snapshots and
// ignored ids are skipped. Decisions come sorted by snapshot id, replicas'
// before originals' for the same id. PlanReplication is pure and applies
// no copy limit (LimitCopies does, across regions).
func PlanReplication(in ReplicationInput) []ReplicationDecision {
	settings := in.Policy.replication()
	local := slices.Clone(in.Snapshots[in.Region])
	slices.SortFunc(local, func(a, b inventory.Snapshot) int { return strings.Compare(a.ID, b.ID) })
	var out []ReplicationDecision
	for _, s := range local {
		if src, ok := s.Tag(ReplicationSourceTag); ok {
			out = append(out, planReplica(in, s, src))
		}
		if dst, ok := s.Tag(ReplicationDestinationTag); ok {
			out = append(out, planOriginal(in, settings, s, dst))
		}
	}
	return out
}

func planReplica(in ReplicationInput, s inventory.Snapshot, src string) ReplicationDecision {
	d := ReplicationDecision{Region: in.Region, SnapshotID: s.ID, Role: RoleReplica, Action: Skip, Source: src}
	origID, hasID := s.Tag(ReplicationSnapshotIDTag)
	d.OriginalID = origID
	srcSnaps, listed := in.Snapshots[src]
	switch {
	case in.Policy.Ignore[s.ID]:
		d.Reason = reasonIgnored("snapshot", s.ID)
	case !hasID || origID == "":
		d.Reason = "replica has no " + ReplicationSnapshotIDTag + " tag: its original cannot be known, left alone"
		d.Problem = d.Reason
	case s.State != inventory.StateCompleted:
		d.Reason = fmt.Sprintf("replica is %s: left for a later run", s.State)
	case !listed:
		d.Action, d.Reason = Keep, fmt.Sprintf("source region %s could not be listed, so the original cannot be checked: %s", src, in.Unlisted[src])
		d.Problem = d.Reason
	default:
		orig, found := findSnapshot(srcSnaps, origID)
		dst, asks := orig.Tag(ReplicationDestinationTag)
		switch {
		case !found:
			d.Action, d.Reason = DeleteReplica, fmt.Sprintf("original %s no longer exists in %s", origID, src)
		case !asks || dst != in.Region:
			d.Action, d.Reason = DeleteReplica, fmt.Sprintf("original %s in %s no longer asks for %s (%s=%q)", origID, src, in.Region, ReplicationDestinationTag, dst)
		default:
			d.Action, d.Reason = Keep, fmt.Sprintf("original %s in %s still asks for %s", origID, src, in.Region)
		}
	}
	return d
}

func planOriginal(in ReplicationInput, settings replicationSettings, s inventory.Snapshot, dst string) ReplicationDecision {
	d := ReplicationDecision{Region: in.Region, SnapshotID: s.ID, Role: RoleOriginal, Action: Skip, Destination: dst}
	dstSnaps, listed := in.Snapshots[dst]
	switch {
	case in.Policy.Ignore[s.ID]:
		d.Reason = reasonIgnored("snapshot", s.ID)
	case dst == in.Region:
		d.Reason = fmt.Sprintf("%s names its own region", ReplicationDestinationTag)
	case s.State != inventory.StateCompleted:
		d.Reason = fmt.Sprintf("snapshot is %s: copied once completed", s.State)
	case !listed:
		d.Reason = fmt.Sprintf("destination %s could not be listed: %s", dst, in.Unlisted[dst])
		d.Problem = d.Reason
	default:
		if r, ok := replicaOf(dstSnaps, in.Region, s.ID); ok {
			d.Reason = fmt.Sprintf("already copied to %s as %s", dst, r)
			break
		}
		d.Action, d.Reason = Copy, fmt.Sprintf("completed, asks for %s, no replica there yet", dst)
		d.Description = s.Description
		d.Tags = ReplicaTags(in.Region, s, settings.copyTags, settings.retention)
		d.KMSKeyID = settings.kmsKeys[dst]
		if d.KMSKeyID != "" {
			d.Reason += ", encrypted with " + d.KMSKeyID
		}
	}
	return d
}

// ReplicaTags returns the tags a copy of orig (in region src) carries,
// all set in the CopySnapshot call: replication_src_region,
// replication_snapshot_id and replication_volume_id; DeleteOn, the
// original's or, with a retention, the first UTC date on which that
// retention has passed since the original's StartTime; Name when the
// original has one; and with copyTags every other user tag of the
// original but replication_dst_region (a copy asking to be copied again
// would loop), other replication_* tags, aws: keys and the original's run
// token (RunTag names the run that created a snapshot, which a copy is
// not; the config-id tag is kept, so clean in the destination knows the
// stanza). At most 50.
func ReplicaTags(src string, orig inventory.Snapshot, copyTags bool, retentionFor time.Duration) []inventory.Tag {
	out := []inventory.Tag{
		{Key: ReplicationSourceTag, Value: src},
		{Key: ReplicationSnapshotIDTag, Value: orig.ID},
		{Key: ReplicationVolumeTag, Value: orig.VolumeID},
	}
	if retentionFor > 0 {
		out = append(out, inventory.Tag{Key: retention.DeleteOnTag, Value: DeleteOnDate(orig.StartTime, retentionFor)})
	} else if v, ok := orig.Tag(retention.DeleteOnTag); ok {
		out = append(out, inventory.Tag{Key: retention.DeleteOnTag, Value: v})
	}
	if v, ok := orig.Tag(NameTag); ok && v != "" {
		out = append(out, inventory.Tag{Key: NameTag, Value: v})
	}
	if !copyTags {
		return out
	}
	for _, t := range orig.Tags {
		if len(out) == MaxTags {
			break
		}
		if t.Key == retention.DeleteOnTag || t.Key == NameTag || t.Key == RunTag || strings.HasPrefix(t.Key, "replication_") || strings.Contains(t.Key, "aws:") {
			continue
		}
		if _, dup := inventory.TagValue(out, t.Key); !dup {
			out = append(out, t)
		}
	}
	return out
}

func findSnapshot(snaps []inventory.Snapshot, id string) (inventory.Snapshot, bool) {
	for _, s := range snaps {
		if s.ID == id {
			return s, true
		}
	}
	return inventory.Snapshot{}, false
}

// replicaOf returns the id of a snapshot in snaps that is a replica of
// snapshot id of region src, in any state (a pending copy is a copy).
func replicaOf(snaps []inventory.Snapshot, src, id string) (string, bool) {
	for _, s := range snaps {
		if v, _ := s.Tag(ReplicationSourceTag); v != src {
			continue
		}
		if v, _ := s.Tag(ReplicationSnapshotIDTag); v == id {
			return s.ID, true
		}
	}
	return "", false
}

// PendingCopies counts, per region of snapshots, the copies in progress
// there: pending snapshots tagged replication_src_region. Copies that
// other tools started are not told apart from their new snapshots and are
// not counted; EC2's ResourceLimitExceeded then stops the run's copies to
// that region (see the executor).
func PendingCopies(snapshots map[string][]inventory.Snapshot) map[string]int {
	n := map[string]int{}
	for region, snaps := range snapshots {
		for _, s := range snaps {
			if _, ok := s.Tag(ReplicationSourceTag); ok && s.State == inventory.StatePending {
				n[region]++
			}
		}
	}
	return n
}

// LimitCopies turns the copies that do not fit under limit (copies in
// progress per destination region) into Defer decisions, per destination
// region, in the order given (plans in region order, each sorted by
// snapshot id): the first copies to a destination take the room pending
// leaves there. It changes plans in place.
func LimitCopies(plans [][]ReplicationDecision, pending map[string]int, limit int) {
	room := map[string]int{}
	for _, plan := range plans {
		for i := range plan {
			d := &plan[i]
			if d.Action != Copy {
				continue
			}
			if _, ok := room[d.Destination]; !ok {
				room[d.Destination] = max(0, limit-pending[d.Destination])
			}
			if room[d.Destination] == 0 {
				d.Action = Defer
				d.Reason = fmt.Sprintf("%s already has %d copies in progress and this run starts %d more, the limit is %d: copied on a later run",
					d.Destination, pending[d.Destination], max(0, limit-pending[d.Destination]), limit)
				d.Tags, d.KMSKeyID = nil, ""
				continue
			}
			room[d.Destination]--
		}
	}
}

// withReplicaVolumes prepares clean's input for the replicas ebs-snapper
// made (tagged replication_volume_id): each is counted under its
// original's volume, so the newest replica of a source volume is kept and
// the minimum holds per source volume, and that volume, which lives in
// another region, gets the largest minimum of the stanzas that replicate
// (of every stanza when none does): the snapshots do not say which stanza
// made them, so the safer rule applies. Replicas ebs_snapper made have no
// DeleteOn and no volume tag; clean leaves them to replication.
func withReplicaVolumes(in *retention.Input, p Policy) {
	id, minimum := replicaMinimum(p)
	// The snapshots are copied only when there is a replica to re-file: a
	// region's 100,000 cost 13 MB a copy (Input's are the inventory's,
	// which the planners must not change).
	snaps, copied := in.Snapshots, false
	for i, s := range in.Snapshots {
		vol, ok := s.Tag(ReplicationVolumeTag)
		if _, replica := s.Tag(ReplicationSourceTag); !ok || !replica || vol == "" {
			continue
		}
		if !copied {
			snaps, copied = slices.Clone(snaps), true
		}
		snaps[i].VolumeID = vol
		if _, governed := in.Volumes[vol]; !governed {
			in.Volumes[vol] = retention.VolumePolicy{ConfigID: id, Minimum: minimum}
		}
	}
	in.Snapshots = snaps
}

// replicaMinimum is the largest minimum of the stanzas that replicate, or
// of every stanza when none does, and the first stanza (by id) setting it.
func replicaMinimum(p Policy) (string, int) {
	replicating := p.Replicating()
	id, minimum := "", 0
	for _, sid := range sortedKeys(p.Stanzas) {
		s := p.Stanzas[sid]
		if replicating && !s.Replication {
			continue
		}
		if id == "" || s.Minimum > minimum {
			id, minimum = sid, s.Minimum
		}
	}
	return id, minimum
}
