package snapper

import (
	"fmt"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// MaxCopyAttempts is how many copies of one original into one region may
// end in state error before replication stops copying it and reports the
// original as failed: a copy that keeps failing (a KMS key the account
// cannot use, a disabled region) is a fault for an operator, not something
// the next run fixes.
const MaxCopyAttempts = 3

// planReplica decides a snapshot tagged replication_src_region. It is
// deleted only when it provably is a copy ebs-snapper made of its original
// (provenOriginal): its tags alone prove nothing, as anyone allowed
// ec2:CreateTags can write them.
func planReplica(in ReplicationInput, s inventory.Snapshot, src string) ReplicationDecision {
	origID, hasID := s.Tag(ReplicationSnapshotIDTag)
	// The Description of ebs-snapper's copies records their original; it
	// wins over the tags, which may have been changed since.
	c, ours := provenance.ParseCopy(s.Description)
	if ours {
		src, origID, hasID = c.SourceRegion, c.SourceID, true
	}
	d := ReplicationDecision{Region: in.Region, SnapshotID: s.ID, Role: RoleReplica, Action: Skip, Source: src, OriginalID: origID}
	srcSnaps, listed := in.Snapshots[src]
	switch {
	case in.Policy.Ignore[s.ID]:
		d.Reason = reasonIgnored("snapshot", s.ID)
	case !hasID || origID == "":
		d.Reason = "replica has no " + ReplicationSnapshotIDTag + " tag: its original cannot be known, left alone"
		d.Problem = d.Reason
	case src == in.Region:
		d.Action, d.Reason = Keep, fmt.Sprintf("kept: names its own region %s as its source, and ebs-snapper copies between regions only: not a replica", src)
	case s.State == inventory.StatePending:
		d.Reason = fmt.Sprintf("replica is %s: left for a later run", s.State)
	case !listed:
		d.Action, d.Reason = Keep, fmt.Sprintf("source region %s could not be listed, so the original cannot be checked: %s", src, in.Unlisted[src])
		d.Problem = d.Reason
	default:
		orig, found := findSnapshot(srcSnaps, origID)
		d.Action, d.Reason = replicaVerdict(in, s, src, orig, found, ours)
	}
	return d
}

// replicaVerdict decides a replica whose source region was listed: orig is
// its original there when found.
func replicaVerdict(in ReplicationInput, s inventory.Snapshot, src string, orig inventory.Snapshot, found, ours bool) (string, string) {
	origID := orig.ID
	if !found {
		origID, _ = s.Tag(ReplicationSnapshotIDTag)
		if c, ok := provenance.ParseCopy(s.Description); ok {
			origID = c.SourceID
		}
	}
	proven := ours || (found && legacyCopy(s, orig))
	dst, asks := orig.Tag(ReplicationDestinationTag)
	failed := ""
	if s.State == inventory.StateError {
		failed = ", a copy that ended in error"
	}
	switch {
	case !proven && !found:
		return Keep, fmt.Sprintf("kept: not provably a copy ebs-snapper made: its Description is not ebs-snapper's copy form and its original %s is gone from %s, so nothing EC2 records ties them; delete it by hand once checked (docs/replication.md)", origID, src)
	case !proven:
		return Keep, fmt.Sprintf("kept: its tags name %s in %s as its original, but its Description differs from that snapshot's, or it was made before it: not provably a copy of it", origID, src)
	case !found:
		return DeleteReplica, fmt.Sprintf("original %s no longer exists in %s%s", origID, src, failed)
	case !asks || dst != in.Region:
		return DeleteReplica, fmt.Sprintf("original %s in %s no longer asks for %s (%s=%q)%s", origID, src, in.Region, ReplicationDestinationTag, dst, failed)
	case failed != "":
		if good, _ := provenReplicas(in.Snapshots[in.Region], src, orig); len(good) > 0 {
			return DeleteReplica, fmt.Sprintf("copy of %s ended in error and %s replaced it", origID, good[0])
		}
		return Keep, fmt.Sprintf("kept: copy of %s ended in error; kept as the record of a failed attempt until a copy succeeds", origID)
	}
	return Keep, fmt.Sprintf("original %s in %s still asks for %s", origID, src, in.Region)
}

// legacyCopy reports whether s can be a copy ebs_snapper (the Python tool)
// made of orig: ebs_snapper gave its copies their original's Description
// unchanged and made them after it, and that Description is ebs-snapper's
// create form, which names the original's instance and volume; so only a
// copy of a snapshot of that volume carries it in another region. The
// evidence ties s to its original's volume, not to the one snapshot of it
// (see docs/security.md).
func legacyCopy(s, orig inventory.Snapshot) bool {
	_, named := provenance.CreatedVolume(orig.Description)
	return named && s.Description == orig.Description && !s.StartTime.Before(orig.StartTime)
}

// provenReplicas returns the ids of the snapshots in snaps (one region's) that
// provably are copies of orig, a snapshot of region src: those whose
// Description is ebs-snapper's copy form naming orig, and those tagged as
// its replica whose Description is orig's (ebs_snapper's copies); in both
// cases only a snapshot that is a copy at all (copyVolume). good are
// completed or pending, failed ended in error. A snapshot only tagged as
// a replica is neither: it cannot stop orig from being copied.
func provenReplicas(snaps []inventory.Snapshot, src string, orig inventory.Snapshot) (good, failed []string) {
	for _, s := range snaps {
		c, ours := provenance.ParseCopy(s.Description)
		tagSrc, _ := s.Tag(ReplicationSourceTag)
		tagID, _ := s.Tag(ReplicationSnapshotIDTag)
		switch {
		case !copyVolume(s, orig):
			continue
		case ours && (c.SourceID != orig.ID || c.SourceRegion != src):
			continue
		case !ours && (tagSrc != src || tagID != orig.ID || !legacyCopy(s, orig)):
			continue
		}
		if s.State == inventory.StateError {
			failed = append(failed, s.ID)
		} else {
			good = append(good, s.ID)
		}
	}
	slices.Sort(good)
	slices.Sort(failed)
	return good, failed
}

// copyVolume reports whether s's VolumeId is one a copy of orig can read:
// EC2's placeholder (provenance.PlaceholderVolume), or orig's own, which
// an emulator's copies keep and no snapshot of another region can read. A
// snapshot of a volume reads that volume: whoever may call CreateSnapshot
// in the destination can give it a copy's Description, and counting it
// as orig's copy would stop orig from ever being copied there.
func copyVolume(s, orig inventory.Snapshot) bool {
	return s.VolumeID == provenance.PlaceholderVolume || s.VolumeID == orig.VolumeID
}
