package ebs

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Conversions between SDK and inventory types. They run once, here, so no
// SDK pointer reaches the rest of the program.

func toSDKFilters(filters []inventory.Filter) []ec2types.Filter {
	out := make([]ec2types.Filter, 0, len(filters)+1)
	for _, f := range filters {
		out = append(out, ec2types.Filter{Name: aws.String(f.Name), Values: f.Values})
	}
	return out
}

// describeFilters renders filters for error messages, e.g.
// "[tag:Name=web-*,db-* instance-id=i-1]"; a filter of more than
// shownValues values shows its first ones and their count.
func describeFilters(filters []inventory.Filter) string {
	const shownValues = 3
	parts := make([]string, len(filters))
	for i, f := range filters {
		parts[i] = f.Name + "=" + strings.Join(f.Values[:min(len(f.Values), shownValues)], ",")
		if n := len(f.Values); n > shownValues {
			parts[i] += fmt.Sprintf(",… (%d values)", n)
		}
	}
	return fmt.Sprint(parts)
}

// ToSDKTags converts tags to the SDK type, order kept. Exported for the
// fake and the test fixtures, which build EC2 requests and responses too.
func ToSDKTags(tags []inventory.Tag) []ec2types.Tag {
	out := make([]ec2types.Tag, len(tags))
	for i, t := range tags {
		out[i] = ec2types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
	}
	return out
}

func fromSDKTags(tags []ec2types.Tag) []inventory.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]inventory.Tag, len(tags))
	for i, t := range tags {
		out[i] = inventory.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}
	}
	return out
}

// appendSDKTags converts tags onto the end of arena and returns them, as a
// slice whose capacity ends with them (appending to it copies rather than
// overwrite the next snapshot's tags), nil when there are none, and the
// grown arena.
func appendSDKTags(arena []inventory.Tag, tags []ec2types.Tag) (own, grown []inventory.Tag) {
	if len(tags) == 0 {
		return nil, arena
	}
	start := len(arena)
	for _, t := range tags {
		arena = append(arena, inventory.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return arena[start:len(arena):len(arena)], arena
}

func fromSDKInstance(i ec2types.Instance) inventory.Instance {
	inst := inventory.Instance{
		ID:      aws.ToString(i.InstanceId),
		ImageID: aws.ToString(i.ImageId),
		Tags:    fromSDKTags(i.Tags),
	}
	if i.State != nil {
		inst.State = string(i.State.Name)
	}
	for _, bdm := range i.BlockDeviceMappings {
		if bdm.Ebs != nil && aws.ToString(bdm.Ebs.VolumeId) != "" {
			inst.VolumeIDs = append(inst.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
			if aws.ToString(bdm.DeviceName) == aws.ToString(i.RootDeviceName) {
				inst.RootVolumeID = aws.ToString(bdm.Ebs.VolumeId)
			}
		}
	}
	return inst
}

// fromSDKSnapshot converts s, whose tags the caller converted (see
// appendSDKTags).
func fromSDKSnapshot(s ec2types.Snapshot, tags []inventory.Tag) inventory.Snapshot {
	return inventory.Snapshot{
		ID:          aws.ToString(s.SnapshotId),
		VolumeID:    aws.ToString(s.VolumeId),
		State:       string(s.State),
		StartTime:   aws.ToTime(s.StartTime),
		Description: aws.ToString(s.Description),
		Tags:        tags,
		VolumeSize:  aws.ToInt32(s.VolumeSize),
		StorageTier: string(s.StorageTier),
		Encrypted:   aws.ToBool(s.Encrypted),
	}
}

func fromCreateSnapshot(out *ec2.CreateSnapshotOutput) inventory.Snapshot {
	return inventory.Snapshot{
		ID:          aws.ToString(out.SnapshotId),
		VolumeID:    aws.ToString(out.VolumeId),
		State:       string(out.State),
		StartTime:   aws.ToTime(out.StartTime),
		Description: aws.ToString(out.Description),
		Tags:        fromSDKTags(out.Tags),
	}
}
