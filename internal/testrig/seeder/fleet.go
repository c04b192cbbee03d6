package seeder

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
	// ImageID defaults to DefaultImageID.
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
		g.ImageID = DefaultImageID
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
		in.TagSpecifications = tagSpecs(g.Tags, g.VolumeTags)
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

// Image creates an AMI from the instance (moto ignores the mapping on
// RegisterImage, so CreateImage is used where an AMI-backed snapshot must
// be real) and returns the AMI id and the snapshot that backs it.
func Image(ctx context.Context, api *ec2.Client, instanceID string) (amiID, snapshotID string, err error) {
	amiID, err = createImage(ctx, api, instanceID, "seed-"+instanceID+"-"+time.Now().Format("150405.000"))
	if err != nil {
		return "", "", fmt.Errorf("create image of %s: %w", instanceID, err)
	}
	img, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{amiID}})
	if err != nil {
		return "", "", fmt.Errorf("describe %s: %w", amiID, err)
	}
	for _, im := range img.Images {
		for _, bdm := range im.BlockDeviceMappings {
			if bdm.Ebs != nil && aws.ToString(bdm.Ebs.SnapshotId) != "" {
				return amiID, aws.ToString(bdm.Ebs.SnapshotId), nil
			}
		}
	}
	return amiID, "", fmt.Errorf("image %s has no EBS snapshot", amiID)
}

// createImage creates one AMI named name from the instance. CreateImage
// takes no client token, so the SDK's own retry of an attempt whose answer
// was lost (a reset connection from a loaded moto) would register a second
// AMI and a second backing snapshot. So each attempt goes out once, and
// after a failed one the AMI is looked up by its name before trying again.
func createImage(ctx context.Context, api *ec2.Client, instanceID, name string) (string, error) {
	var err error
	for range 3 {
		var out *ec2.CreateImageOutput
		out, err = api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instanceID), Name: aws.String(name)},
			func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
		if err == nil {
			return aws.ToString(out.ImageId), nil
		}
		found, lookErr := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{name}}}})
		if lookErr == nil && len(found.Images) == 1 {
			return aws.ToString(found.Images[0].ImageId), nil
		}
	}
	return "", err
}

// tagSpecs tags a launch's instances and volumes in the RunInstances call
// itself; nil when there are no tags.
func tagSpecs(instanceTags, volumeTags []inventory.Tag) []ec2types.TagSpecification {
	var out []ec2types.TagSpecification
	if len(instanceTags) > 0 {
		out = append(out, ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance, Tags: ebs.ToSDKTags(instanceTags)})
	}
	if len(volumeTags) > 0 {
		out = append(out, ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeVolume, Tags: ebs.ToSDKTags(volumeTags)})
	}
	return out
}
