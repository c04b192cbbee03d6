package snapper

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
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
	for _, st := range p.Ordered() {
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
		good, failed := provenReplicas(dstSnaps, in.Region, s)
		if len(good) > 0 {
			d.Reason = fmt.Sprintf("already copied to %s as %s", dst, good[0])
			break
		}
		if len(failed) >= MaxCopyAttempts {
			d.Reason = fmt.Sprintf("its last %d copies to %s ended in error (%s): not copied again until an operator finds why (KMS key, region) and deletes them",
				len(failed), dst, strings.Join(failed, ", "))
			d.Problem = d.Reason
			break
		}
		d.Action, d.Reason = Copy, fmt.Sprintf("completed, asks for %s, no replica there yet", dst)
		if len(failed) > 0 {
			d.Reason = fmt.Sprintf("completed, asks for %s, its copy there ended in error (%s): attempt %d of %d",
				dst, strings.Join(failed, ", "), len(failed)+1, MaxCopyAttempts)
		}
		d.Description = provenance.CopyDescription(provenance.Copy{SourceRegion: in.Region, SourceID: s.ID, VolumeID: provenance.VolumeOfRecord(s)}, s.Description)
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
	}
	if vol := provenance.VolumeOfRecord(orig); vol != "" {
		out = append(out, inventory.Tag{Key: ReplicationVolumeTag, Value: vol})
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

// withReplicaVolumes gives clean's input a policy for the volumes the
// region's replicas back up, which live in another region: the volume of
// record of each copy ebs-snapper made (its Description records it; a
// replication_volume_id tag is never read), and of each copy EC2 marks as
// one (provenance.PlaceholderVolume) tagged as a replica whose Description
// is the create form it inherited from its original (ebs_snapper's and
// earlier ebs-snapper's copies). Retention groups a replica under that
// volume, so its newest replica is kept and the minimum holds per source
// volume. The policy is the largest minimum and the longest retention
// (replication_retention where a stanza sets it) of the stanzas that
// replicate, of every stanza when none does: the snapshots do not say
// which stanza made them, so the safer rule applies.
func withReplicaVolumes(in *retention.Input, p Policy) {
	id, minimum, keep := replicaPolicy(p)
	for _, s := range in.Snapshots {
		vol := ""
		if c, ok := provenance.ParseCopy(s.Description); ok {
			vol = c.VolumeID
		} else if _, tagged := s.Tag(ReplicationSourceTag); tagged && s.VolumeID == provenance.PlaceholderVolume {
			vol, _ = provenance.CreatedVolume(s.Description)
		}
		if _, governed := in.Volumes[vol]; vol != "" && !governed {
			in.Volumes[vol] = retention.VolumePolicy{ConfigID: id, Minimum: minimum, Retention: keep}
		}
	}
}

// replicaPolicy is the largest minimum and the longest retention of the
// stanzas that replicate, or of every stanza when none does, and the first
// stanza (by id) setting that minimum. A stanza's replicas are kept for
// its replication_retention when it sets one, else for its retention.
func replicaPolicy(p Policy) (string, int, time.Duration) {
	replicating := p.Replicating()
	id, minimum, keep := "", 0, time.Duration(0)
	for _, s := range p.Ordered() {
		sid := s.ID
		if replicating && !s.Replication {
			continue
		}
		if id == "" || s.Minimum > minimum {
			id, minimum = sid, s.Minimum
		}
		r := s.Retention
		if s.ReplicationRetention > 0 {
			r = s.ReplicationRetention
		}
		keep = max(keep, r)
	}
	return id, minimum, keep
}
