package ebs

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The calls of restore drills (snapper's drill.go): a volume restored from
// a snapshot, tagged in the creating call, then deleted, and the drill's
// outcome tagged on the snapshot.

// AvailabilityZones returns the names of the region's availability zones
// in state "available", sorted (DescribeAvailabilityZones; Local Zones and
// Wavelength Zones, which an account must opt in to, are not listed).
//
// IAM: ec2:DescribeAvailabilityZones.
func (c *Client) AvailabilityZones(ctx context.Context) ([]string, error) {
	out, err := c.api.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("describe availability zones in %s: %w", c.region, classify(err))
	}
	var zones []string
	for _, z := range out.AvailabilityZones {
		if t := aws.ToString(z.ZoneType); t == "" || t == "availability-zone" {
			zones = append(zones, aws.ToString(z.ZoneName))
		}
	}
	slices.Sort(zones)
	return zones, nil
}

// CreateVolume restores req.SnapshotID to a new volume of req.Type in
// req.AvailabilityZone, tagged with req.Tags in the same call
// (TagSpecifications), so that no drill volume exists without the tags
// that let the role delete it and the sweep find it. With no tags it
// returns ErrNoTags without calling EC2. Encrypted is sent only when true:
// a volume restored from an encrypted snapshot is encrypted with the
// snapshot's key whether asked or not, and one from an unencrypted
// snapshot is encrypted when the account's encryption by default is on.
//
// req.ClientToken makes the request idempotent (EC2 API reference,
// "Ensuring idempotency"): the SDK retries it as usual, and a repeat after
// a lost answer gets the volume EC2 made. An error after its retries
// matches inventory.ErrOutcomeUnknown; a snapshot that does not exist,
// inventory.ErrSnapshotGone.
//
// IAM: ec2:CreateVolume (on the volume, with the drill tag in the
// request, and on the snapshot) and ec2:CreateTags
// (ec2:CreateAction=CreateVolume).
func (c *Client) CreateVolume(ctx context.Context, req inventory.VolumeRequest) (inventory.Volume, error) {
	if len(req.Tags) == 0 {
		return inventory.Volume{}, fmt.Errorf("create volume from %s in %s: %w", req.SnapshotID, c.region, ErrNoTags)
	}
	in := &ec2.CreateVolumeInput{
		SnapshotId:       aws.String(req.SnapshotID),
		AvailabilityZone: aws.String(req.AvailabilityZone),
		VolumeType:       ec2types.VolumeType(req.Type),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeVolume,
			Tags:         ToSDKTags(req.Tags),
		}},
	}
	if req.Encrypted {
		in.Encrypted = aws.Bool(true)
	}
	if req.ClientToken != "" {
		in.ClientToken = aws.String(req.ClientToken)
	}
	out, err := c.api.CreateVolume(ctx, in)
	if err != nil {
		return inventory.Volume{}, fmt.Errorf("create volume from %s in %s: %w", req.SnapshotID, c.region, snapshotGone(outcome(err)))
	}
	return inventory.Volume{
		ID: aws.ToString(out.VolumeId), Tags: fromSDKTags(out.Tags), Size: aws.ToInt32(out.Size), Type: string(out.VolumeType),
		State: string(out.State), SnapshotID: aws.ToString(out.SnapshotId), CreateTime: aws.ToTime(out.CreateTime),
		AvailabilityZone: aws.ToString(out.AvailabilityZone),
	}, nil
}

// DeleteVolume deletes a volume; one already gone counts as deleted (nil).
// Deleting is idempotent, so the SDK retries it as usual; an error its
// retries did not settle after the request may have reached EC2 matches
// inventory.ErrOutcomeUnknown.
//
// IAM: ec2:DeleteVolume (only on volumes tagged as drill volumes).
func (c *Client) DeleteVolume(ctx context.Context, id string) error {
	_, err := c.api.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	if err == nil || code(err) == CodeVolumeNotFound {
		return nil
	}
	return fmt.Errorf("delete volume %s in %s: %w", id, c.region, outcome(err))
}

// TagSnapshot adds tags to a snapshot, overwriting the values of keys it
// already has (CreateTags). A snapshot that does not exist gives an error
// matching inventory.ErrSnapshotGone.
//
// IAM: ec2:CreateTags on snapshots (the drill's aws:TagKeys only).
func (c *Client) TagSnapshot(ctx context.Context, id string, tags []inventory.Tag) error {
	_, err := c.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ToSDKTags(tags)})
	if err != nil {
		return fmt.Errorf("tag snapshot %s in %s: %w", id, c.region, snapshotGone(classify(err)))
	}
	return nil
}

// snapshotGone wraps err with inventory.ErrSnapshotGone when EC2 said the
// snapshot does not exist.
func snapshotGone(err error) error {
	if code(err) == CodeSnapshotNotFound {
		return fmt.Errorf("%w: %w", inventory.ErrSnapshotGone, err)
	}
	return err
}

// fromSDKVolume converts a DescribeVolumes volume.
func fromSDKVolume(v ec2types.Volume) inventory.Volume {
	return inventory.Volume{
		ID: aws.ToString(v.VolumeId), Tags: fromSDKTags(v.Tags), Size: aws.ToInt32(v.Size), Type: string(v.VolumeType),
		State: string(v.State), SnapshotID: aws.ToString(v.SnapshotId), CreateTime: aws.ToTime(v.CreateTime),
		Attached: len(v.Attachments) > 0, AvailabilityZone: aws.ToString(v.AvailabilityZone),
	}
}
