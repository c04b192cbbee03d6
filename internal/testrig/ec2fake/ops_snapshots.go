package ec2fake

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// copiedVolumeID is the volume id EC2 reports for a snapshot made by
// CopySnapshot ("an arbitrary volume ID that should not be used for any
// purpose", EC2 API Reference, Snapshot).
const copiedVolumeID = "vol-ffffffff"

// CreateSnapshots snapshots the volumes of an instance in one call (a
// crash-consistent set): every attached volume but the excluded ones, the
// boot volume (the first) unless ExcludeBootVolume. Each snapshot carries
// the TagSpecifications' tags and, with CopyTagsFromSource "volume", its
// volume's tags; where both have a key, the TagSpecifications' value wins
// (EC2's documentation does not say; this is the fake's choice). An
// unknown instance is InvalidInstanceID.NotFound.
func (f *Fake) CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	if err := f.begin(ctx, OpCreateSnapshots, in); err != nil {
		return nil, err
	}
	if aws.ToBool(in.DryRun) {
		return nil, opError(OpCreateSnapshots, apiError(ebs.CodeDryRunOperation, "Request would have succeeded, but DryRun flag is set."))
	}
	spec, err := specTags(in.TagSpecifications)
	if err != nil {
		return nil, opError(OpCreateSnapshots, err)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, opError(OpCreateSnapshots, err)
	}
	if in.InstanceSpecification == nil {
		return nil, opError(OpCreateSnapshots, apiError(ebs.CodeInvalidParameterValue, "InstanceSpecification is required"))
	}
	if c := in.CopyTagsFromSource; c != "" && c != ec2types.CopyTagsFromSourceVolume {
		return nil, opError(OpCreateSnapshots, apiError(ebs.CodeInvalidParameterValue, "Value (%s) for parameter CopyTagsFromSource is invalid", c))
	}
	is := in.InstanceSpecification
	id := aws.ToString(is.InstanceId)
	f.mu.Lock()
	defer f.mu.Unlock()
	inst, ok := f.instances.get(id)
	if !ok {
		return nil, opError(OpCreateSnapshots, apiError(ebs.CodeInstanceNotFound, "The instance ID '%s' does not exist", id))
	}
	out := &ec2.CreateSnapshotsOutput{}
	for i, volID := range inst.VolumeIDs {
		if i == 0 && aws.ToBool(is.ExcludeBootVolume) || slices.Contains(is.ExcludeDataVolumeIds, volID) {
			continue
		}
		tags := spec
		if in.CopyTagsFromSource == ec2types.CopyTagsFromSourceVolume {
			vol, _ := f.volumes.get(volID)
			tags = mergeTags(vol.Tags, spec)
		}
		if len(tags) > maxTags {
			return nil, opError(OpCreateSnapshots, apiError(ebs.CodeTagLimitExceeded, "The maximum number of Tags for a resource has been reached (%d > %d).", len(tags), maxTags))
		}
		s := toSDKSnapshot(f.newSnapshot(volID, aws.ToString(in.Description), tags))
		out.Snapshots = append(out.Snapshots, ec2types.SnapshotInfo{
			SnapshotId:  s.SnapshotId,
			VolumeId:    s.VolumeId,
			State:       s.State,
			StartTime:   s.StartTime,
			Description: s.Description,
			OwnerId:     s.OwnerId,
			Tags:        s.Tags,
		})
	}
	return out, nil
}

// mergeTags returns base's tags with over's added, over's value winning
// for a key both have.
func mergeTags(base, over []inventory.Tag) []inventory.Tag {
	out := slices.Clone(over)
	for _, t := range base {
		if !slices.ContainsFunc(over, func(o inventory.Tag) bool { return o.Key == t.Key }) {
			out = append(out, t)
		}
	}
	return out
}
