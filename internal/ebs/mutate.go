package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// CreateSnapshot snapshots a volume, carrying all tags in the same call
// (TagSpecifications), so a snapshot never exists without its DeleteOn:
// the original tagged in a second call, and a failure in between left
// snapshots that were never cleaned up. With no tags it returns ErrNoTags
// without calling EC2.
// The description is cut to 254 characters as the original did. Through
// NewForRegion each attempt first waits for a token of the CreateSnapshot
// bucket (attempts.go). A volume that no
// longer exists gives an error matching ErrNotFound; an account that
// cannot use the region, one matching inventory.ErrRegionUnavailable.
//
// CreateSnapshot takes no idempotency token, so the SDK retries it only on
// errors proving EC2 did not act (throttles, refused connections, 4xx); an
// error after the request may have reached EC2 (reset, EOF, timeout,
// cancelled context, 5xx) is not retried and matches
// inventory.ErrOutcomeUnknown: the caller settles it with one listing
// (SnapshotsMatching on the run tag) instead of re-issuing it blindly.
//
// IAM: ec2:CreateSnapshot and ec2:CreateTags (EC2 authorises tagging on
// create as CreateTags).
func (c *Client) CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error) {
	if len(tags) == 0 {
		return inventory.Snapshot{}, fmt.Errorf("create snapshot of %s in %s: %w", volumeID, c.region, ErrNoTags)
	}
	out, err := c.api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:    aws.String(volumeID),
		Description: aws.String(truncate(description, maxDescription)),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSnapshot,
			Tags:         ToSDKTags(tags),
		}},
	}, retryOnlyUnsent)
	if err != nil {
		return inventory.Snapshot{}, fmt.Errorf("create snapshot of %s in %s: %w", volumeID, c.region, outcome(err))
	}
	return fromCreateSnapshot(out), nil
}

// CreateSnapshots snapshots the volumes of set in one CreateSnapshots call
// and returns one snapshot per volume, each with its VolumeID. Through
// NewForRegion each attempt first waits for a token of the CreateSnapshots
// bucket (EC2's own bucket for this action). Like CreateSnapshot it takes
// no idempotency token:
// only errors proving EC2 did not act are retried, and any other matches
// inventory.ErrOutcomeUnknown for the caller to settle by listing. With no
// tags it returns ErrNoTags without calling EC2.
//
// IAM: ec2:CreateSnapshots (on the instance, its volumes and the new
// snapshots) and ec2:CreateTags.
func (c *Client) CreateSnapshots(ctx context.Context, set inventory.SnapshotSet) ([]inventory.Snapshot, error) {
	if len(set.Tags) == 0 {
		return nil, fmt.Errorf("create snapshots of instance %s in %s: %w", set.InstanceID, c.region, ErrNoTags)
	}
	in := &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{
			InstanceId:           aws.String(set.InstanceID),
			ExcludeBootVolume:    aws.Bool(set.ExcludeBoot),
			ExcludeDataVolumeIds: set.Exclude,
		},
		Description: aws.String(truncate(set.Description, maxDescription)),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSnapshot,
			Tags:         ToSDKTags(set.Tags),
		}},
	}
	if set.CopyVolumeTags {
		in.CopyTagsFromSource = ec2types.CopyTagsFromSourceVolume
	}
	out, err := c.api.CreateSnapshots(ctx, in, retryOnlyUnsent)
	if err != nil {
		return nil, fmt.Errorf("create snapshots of instance %s in %s: %w", set.InstanceID, c.region, outcome(err))
	}
	snaps := make([]inventory.Snapshot, len(out.Snapshots))
	for i, s := range out.Snapshots {
		snaps[i] = inventory.Snapshot{
			ID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId), State: string(s.State),
			StartTime: aws.ToTime(s.StartTime), Description: aws.ToString(s.Description), Tags: fromSDKTags(s.Tags),
		}
	}
	return snaps, nil
}

// DeleteSnapshot deletes a snapshot. One that is already gone counts as
// deleted (nil). One that backs an AMI gives an error matching
// inventory.ErrSnapshotInUse. Deleting is idempotent, so the SDK retries
// it as usual (a retry after a lost answer finds it gone: nil); an error
// after the request may have reached EC2 that its retries did not settle
// matches inventory.ErrOutcomeUnknown.
// Through NewForRegion each attempt first waits for a token of the
// DeleteSnapshot bucket.
//
// IAM: ec2:DeleteSnapshot.
func (c *Client) DeleteSnapshot(ctx context.Context, id string) error {
	_, err := c.api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	if err == nil || code(err) == CodeSnapshotNotFound {
		return nil
	}
	return fmt.Errorf("delete snapshot %s in %s: %w", id, c.region, outcome(err))
}

// ArchiveSnapshot moves a completed snapshot to the EBS archive tier
// (ModifySnapshotTier with StorageTier=archive). EC2 answers at once and
// archives in the background (up to 72 hours), during which DescribeSnapshots
// still reports StorageTier "standard". Through NewForRegion each attempt
// first waits for a token of the bucket BucketFor gives
// ModifySnapshotTier.
//
// IAM: ec2:ModifySnapshotTier.
func (c *Client) ArchiveSnapshot(ctx context.Context, id string) error {
	_, err := c.api.ModifySnapshotTier(ctx, &ec2.ModifySnapshotTierInput{
		SnapshotId:  aws.String(id),
		StorageTier: ec2types.TargetStorageTierArchive,
	})
	if err != nil {
		return fmt.Errorf("archive snapshot %s in %s: %w", id, c.region, err)
	}
	return nil
}

// truncate cuts s to at most n characters (not bytes: EC2 counts
// characters, and a cut inside a UTF-8 sequence would be rejected).
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// CopySnapshot copies snapshot sourceID of sourceRegion into the client's
// region (the destination: EC2 copies are requested there, with
// SourceRegion set), carrying all tags in the same call so that no
// untagged replica ever exists; with no tags it returns ErrNoTags without
// calling EC2. The description is cut to 254 characters. A non-empty
// kmsKeyID (key id, alias or ARN in the destination region) makes the copy
// encrypted with that key. The copy may be pending when this returns.
// Too many copies in progress into the region gives an error matching
// inventory.ErrCopyLimit; a destination the account cannot use, one
// matching inventory.ErrRegionUnavailable; a source gone, ErrNotFound.
//
// No client-side rate limiter: EC2 keeps at most 20 copies in flight per
// destination region (Amazon EBS quotas, "Concurrent snapshot copies per
// destination Region"), so a run asks for far fewer
// copies than CopySnapshot's bucket of 50 (the default mutating bucket).
//
// CopySnapshot has no ClientToken either: as for CreateSnapshot, the SDK
// retries it only on an error proving EC2 did not act, and any other
// failure after sending matches inventory.ErrOutcomeUnknown (the engine
// settles it by listing the destination's replicas by
// replication_snapshot_id).
//
// IAM: ec2:CopySnapshot and ec2:CreateTags (ec2:CreateAction=CopySnapshot).
func (c *Client) CopySnapshot(ctx context.Context, sourceRegion, sourceID, description, kmsKeyID string, tags []inventory.Tag) (inventory.Snapshot, error) {
	if len(tags) == 0 {
		return inventory.Snapshot{}, fmt.Errorf("copy snapshot %s of %s to %s: %w", sourceID, sourceRegion, c.region, ErrNoTags)
	}
	in := &ec2.CopySnapshotInput{
		SourceRegion:     aws.String(sourceRegion),
		SourceSnapshotId: aws.String(sourceID),
		Description:      aws.String(truncate(description, maxDescription)),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSnapshot,
			Tags:         ToSDKTags(tags),
		}},
	}
	if kmsKeyID != "" {
		in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String(kmsKeyID)
	}
	out, err := c.api.CopySnapshot(ctx, in, retryOnlyUnsent)
	if err != nil {
		return inventory.Snapshot{}, fmt.Errorf("copy snapshot %s of %s to %s: %w", sourceID, sourceRegion, c.region, outcome(copyLimit(err)))
	}
	return inventory.Snapshot{ID: aws.ToString(out.SnapshotId), Description: description, Tags: fromSDKTags(out.Tags)}, nil
}
