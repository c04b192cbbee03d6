// Package fleet seeds an EC2 emulator (or an account used for testing)
// with instances, volumes and snapshots, for the demo, the integration
// tests and the benchmarks. It is never used by the product itself.
package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Group is a number of identical instances.
type Group struct {
	Count int
	// ImageID is any ami- id; moto accepts any.
	ImageID string
	Tags    []inventory.Tag
	// VolumeTags go on every volume of the group.
	VolumeTags []inventory.Tag
	// Volumes per instance (at least 1: the root volume).
	Volumes int
	// Stopped stops the instances after launch.
	Stopped bool
}

// Instance is a launched instance and its volumes in device order.
type Instance struct {
	ID        string
	VolumeIDs []string
}

// Launch starts a group with one RunInstances call (up to 1,000 instances at
// a time) and returns the instances with their volume ids.
func Launch(ctx context.Context, api *ec2.Client, g Group) ([]Instance, error) {
	if g.Volumes < 1 {
		g.Volumes = 1
	}
	if g.ImageID == "" {
		g.ImageID = "ami-0123456789abcdef0"
	}
	var out []Instance
	for left := g.Count; left > 0; left -= 1000 {
		n := min(left, 1000)
		in := &ec2.RunInstancesInput{
			ImageId:      aws.String(g.ImageID),
			MinCount:     aws.Int32(int32(n)),
			MaxCount:     aws.Int32(int32(n)),
			InstanceType: ec2types.InstanceTypeT3Micro,
		}
		for i := 0; i < g.Volumes; i++ {
			// Listing the root device too makes moto create exactly these
			// volumes (it skips its default root volume).
			dev := "/dev/sda1"
			if i > 0 {
				dev = fmt.Sprintf("/dev/sd%c", 'f'+i-1)
			}
			in.BlockDeviceMappings = append(in.BlockDeviceMappings, ec2types.BlockDeviceMapping{
				DeviceName: aws.String(dev),
				Ebs:        &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(8)},
			})
		}
		if len(g.Tags) > 0 {
			in.TagSpecifications = append(in.TagSpecifications, ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance, Tags: ebs.ToSDKTags(g.Tags)})
		}
		if len(g.VolumeTags) > 0 {
			in.TagSpecifications = append(in.TagSpecifications, ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeVolume, Tags: ebs.ToSDKTags(g.VolumeTags)})
		}
		res, err := api.RunInstances(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("run %d instances: %w", n, err)
		}
		var ids []string
		for _, inst := range res.Instances {
			li := Instance{ID: aws.ToString(inst.InstanceId)}
			for _, bdm := range inst.BlockDeviceMappings {
				if bdm.Ebs != nil {
					li.VolumeIDs = append(li.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
				}
			}
			ids = append(ids, li.ID)
			out = append(out, li)
		}
		if g.Stopped {
			if _, err := api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids}); err != nil {
				return nil, fmt.Errorf("stop instances: %w", err)
			}
		}
	}
	return out, nil
}

// Snapshot creates a completed snapshot of a volume with the given tags,
// e.g. a DeleteOn date in the past to stage an expired one (moto stamps
// StartTime with its own clock, so age is staged through DeleteOn and the
// engine's --now).
func Snapshot(ctx context.Context, api *ec2.Client, volumeID string, tags ...inventory.Tag) (string, error) {
	in := &ec2.CreateSnapshotInput{VolumeId: aws.String(volumeID), Description: aws.String("seeded by ebs-snapper fleet")}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: ebs.ToSDKTags(tags)}}
	}
	res, err := api.CreateSnapshot(ctx, in)
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", volumeID, err)
	}
	return aws.ToString(res.SnapshotId), nil
}

// Terminate terminates instances, to stage snapshots whose volume no
// stanza covers any more.
func Terminate(ctx context.Context, api *ec2.Client, instanceIDs ...string) error {
	if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: instanceIDs}); err != nil {
		return fmt.Errorf("terminate %v: %w", instanceIDs, err)
	}
	return nil
}

// Image registers an AMI whose block device mapping names the snapshot.
// moto ignores the mapping on RegisterImage, so CreateImage from an
// instance is used instead where an AMI-backed snapshot must be real; this
// returns the AMI id and the snapshot moto made for it.
func Image(ctx context.Context, api *ec2.Client, instanceID string) (amiID, snapshotID string, err error) {
	res, err := api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instanceID), Name: aws.String("seed-" + instanceID + "-" + time.Now().Format("150405.000"))})
	if err != nil {
		return "", "", fmt.Errorf("create image of %s: %w", instanceID, err)
	}
	amiID = aws.ToString(res.ImageId)
	img, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{amiID}})
	if err != nil {
		return "", "", fmt.Errorf("describe %s: %w", amiID, err)
	}
	for _, im := range img.Images {
		for _, bdm := range im.BlockDeviceMappings {
			if bdm.Ebs != nil && bdm.Ebs.SnapshotId != nil {
				return amiID, aws.ToString(bdm.Ebs.SnapshotId), nil
			}
		}
	}
	return amiID, "", fmt.Errorf("image %s has no EBS snapshot", amiID)
}
