package ec2fake

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The calls of restore drills: volumes restored from snapshots, deleted,
// and tags written on snapshots.
const (
	OpDescribeAvailabilityZones = "DescribeAvailabilityZones"
	OpCreateVolume              = "CreateVolume"
	OpDeleteVolume              = "DeleteVolume"
	OpCreateTags                = "CreateTags"
)

// drillState is what the fake remembers of a volume it created.
type drillState struct {
	// available is when the volume leaves "creating"; zero never (held).
	available time.Time
	// held is the state the volume keeps (HoldVolumes), "" for none.
	held string
}

// HoldVolumes makes every volume restored from snapshotID from now on
// stay in state ("creating" for a volume that never becomes available,
// "error" for one EC2 gave up on), as EC2 can and moto cannot.
func (f *Fake) HoldVolumes(snapshotID, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holds == nil {
		f.holds = map[string]string{}
	}
	f.holds[snapshotID] = state
}

// Volume returns a copy of the volume with the given id as the fake holds
// it, state settled as of Now.
func (f *Fake) Volume(id string) (inventory.Volume, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes.get(id)
	if !ok {
		return inventory.Volume{}, false
	}
	v.State = f.volumeState(v)
	v.Tags = slices.Clone(v.Tags)
	return v, true
}

// volumeState is v's state as of Now: seeded volumes are in use; a created
// one is creating until VolumeCreatingFor has passed, then available,
// unless held. Callers hold f.mu.
func (f *Fake) volumeState(v inventory.Volume) string {
	d, created := f.made[v.ID]
	switch {
	case !created && v.State == "":
		return inventory.VolumeInUse
	case !created:
		return v.State
	case d.held != "":
		return d.held
	case f.now().Before(d.available):
		return inventory.VolumeCreating
	}
	return inventory.VolumeAvailable
}

// DescribeAvailabilityZones lists zones a, b and c of the fake's Region,
// all available.
func (f *Fake) DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error) {
	if err := f.begin(ctx, OpDescribeAvailabilityZones, in); err != nil {
		return nil, err
	}
	region := cmp.Or(f.Region, "us-east-1")
	out := &ec2.DescribeAvailabilityZonesOutput{}
	for _, z := range []string{"a", "b", "c"} {
		out.AvailabilityZones = append(out.AvailabilityZones, ec2types.AvailabilityZone{
			ZoneName: aws.String(region + z), RegionName: aws.String(region), State: ec2types.AvailabilityZoneStateAvailable,
			ZoneType: aws.String("availability-zone"),
		})
	}
	return out, nil
}

// CreateVolume restores one of the account's snapshots (InvalidSnapshot.NotFound
// otherwise) to a volume tagged from TagSpecifications, creating until
// VolumeCreatingFor has passed (HoldVolumes keeps it in a state). A repeat
// of a ClientToken answers the volume that token made, as EC2 does.
func (f *Fake) CreateVolume(ctx context.Context, in *ec2.CreateVolumeInput, _ ...func(*ec2.Options)) (*ec2.CreateVolumeOutput, error) {
	if err := f.begin(ctx, OpCreateVolume, in); err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, ec2types.ResourceTypeVolume)
	if err != nil {
		return nil, opError(OpCreateVolume, err)
	}
	if aws.ToString(in.AvailabilityZone) == "" {
		return nil, opError(OpCreateVolume, apiError("MissingParameter", "The request must contain the parameter AvailabilityZone"))
	}
	snapID := aws.ToString(in.SnapshotId)
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok := aws.ToString(in.ClientToken); tok != "" {
		if id, ok := f.tokens[tok]; ok {
			v, _ := f.volumes.get(id)
			return f.createVolumeOutput(v), nil
		}
	}
	s, ok := f.snapshots.get(snapID)
	if !ok || s.owner != AccountID {
		return nil, opError(OpCreateVolume, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist.", snapID))
	}
	if s.State != inventory.StateCompleted {
		return nil, opError(OpCreateVolume, apiError("IncorrectState", "Snapshot is in invalid state - %s", s.State))
	}
	v := inventory.Volume{
		ID:   f.newID("vol", func(id string) bool { _, taken := f.volumes.get(id); return taken }),
		Tags: tags, Size: s.VolumeSize, Type: string(in.VolumeType), SnapshotID: snapID,
		CreateTime: f.now().UTC(), AvailabilityZone: aws.ToString(in.AvailabilityZone), State: inventory.VolumeCreating,
	}
	if v.Type == "" {
		v.Type = defaultVolumeType
	}
	if f.made == nil {
		f.made, f.tokens = map[string]drillState{}, map[string]string{}
	}
	f.made[v.ID] = drillState{available: v.CreateTime.Add(f.VolumeCreatingFor), held: f.holds[snapID]}
	if tok := aws.ToString(in.ClientToken); tok != "" {
		f.tokens[tok] = v.ID
	}
	f.volumes.put(v.ID, v)
	return f.createVolumeOutput(v), nil
}

// createVolumeOutput is CreateVolume's answer for v. Callers hold f.mu.
func (f *Fake) createVolumeOutput(v inventory.Volume) *ec2.CreateVolumeOutput {
	return &ec2.CreateVolumeOutput{
		VolumeId: aws.String(v.ID), SnapshotId: aws.String(v.SnapshotID), Size: aws.Int32(v.Size),
		VolumeType: ec2types.VolumeType(v.Type), State: ec2types.VolumeState(f.volumeState(v)),
		CreateTime: aws.Time(v.CreateTime), AvailabilityZone: aws.String(v.AvailabilityZone), Tags: ebs.ToSDKTags(v.Tags),
	}
}

// DeleteVolume deletes a volume that is not attached: a missing one is
// InvalidVolume.NotFound, one in use VolumeInUse.
func (f *Fake) DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, _ ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error) {
	if err := f.begin(ctx, OpDeleteVolume, in); err != nil {
		return nil, err
	}
	id := aws.ToString(in.VolumeId)
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes.get(id)
	if !ok {
		return nil, opError(OpDeleteVolume, apiError(ebs.CodeVolumeNotFound, "The volume '%s' does not exist.", id))
	}
	if f.volumeState(v) == inventory.VolumeInUse || v.Attached {
		return nil, opError(OpDeleteVolume, apiError("VolumeInUse", "Volume %s is currently attached", id))
	}
	f.volumes.remove(id)
	delete(f.made, id)
	return &ec2.DeleteVolumeOutput{}, nil
}

// CreateTags adds tags to snapshots and volumes, overwriting the values of
// keys already there; a missing snapshot is InvalidSnapshot.NotFound, a
// missing volume InvalidVolume.NotFound. Other resources are refused.
func (f *Fake) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	if err := f.begin(ctx, OpCreateTags, in); err != nil {
		return nil, err
	}
	add := func(tags []inventory.Tag) []inventory.Tag {
		tags = slices.Clone(tags)
		for _, t := range in.Tags {
			k, v := aws.ToString(t.Key), aws.ToString(t.Value)
			if i := slices.IndexFunc(tags, func(x inventory.Tag) bool { return x.Key == k }); i >= 0 {
				tags[i].Value = v
			} else {
				tags = append(tags, inventory.Tag{Key: k, Value: v})
			}
		}
		return tags
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range in.Resources {
		switch {
		case len(id) > 5 && id[:5] == "snap-":
			s, ok := f.snapshots.get(id)
			if !ok || s.owner != AccountID {
				return nil, opError(OpCreateTags, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist.", id))
			}
			if s.Tags = add(s.Tags); len(s.Tags) > maxTags {
				return nil, opError(OpCreateTags, apiError("TagLimitExceeded", "The maximum number of tags for resource %s has been exceeded", id))
			}
			f.snapshots.put(id, s)
		case len(id) > 4 && id[:4] == "vol-":
			v, ok := f.volumes.get(id)
			if !ok {
				return nil, opError(OpCreateTags, apiError(ebs.CodeVolumeNotFound, "The volume '%s' does not exist.", id))
			}
			v.Tags = add(v.Tags)
			f.volumes.put(id, v)
		default:
			return nil, unsupported(OpCreateTags, "resources other than snapshots and volumes")
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}
