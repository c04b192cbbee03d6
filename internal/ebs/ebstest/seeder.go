package ebstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Seeder stages state on an EC2 API under test, so that one test body can
// drive both the fake (through its Add* methods) and a real endpoint such
// as moto (through the SDK). Seeders fail the test on error.
type Seeder interface {
	// Instance launches one instance as spec says and returns it with its
	// volumes in device order.
	Instance(t testing.TB, spec InstanceSpec) inventory.Instance
	// Image registers an AMI of the instance and returns its id and the id
	// of the snapshot that backs it.
	Image(t testing.TB, inst inventory.Instance) (amiID, snapshotID string)
}

// InstanceSpec describes an instance to stage.
type InstanceSpec struct {
	// State is running (the default), stopped or terminated.
	State string
	// ImageID defaults to DefaultImageID.
	ImageID string
	Tags    []inventory.Tag
	// VolumeTags go on the instance's volumes.
	VolumeTags []inventory.Tag
}

// DefaultVolumeSize is the size in GiB of a staged instance's root volume:
// moto's default root volume size, which the fake copies.
const DefaultVolumeSize = 8

// DefaultImageID is the AMI instances are launched from; moto accepts any.
const DefaultImageID = "ami-0123456789abcdef0"

func (s InstanceSpec) withDefaults() InstanceSpec {
	if s.State == "" {
		s.State = "running"
	}
	if s.ImageID == "" {
		s.ImageID = DefaultImageID
	}
	return s
}

// Seeder returns a Seeder that stages state directly in f.
func (f *Fake) Seeder() Seeder { return fakeSeeder{f} }

type fakeSeeder struct{ f *Fake }

func (s fakeSeeder) Instance(_ testing.TB, spec InstanceSpec) inventory.Instance {
	spec = spec.withDefaults()
	inst := inventory.Instance{
		ID:        s.f.seedID("i", func(id string) bool { _, ok := s.f.instances.get(id); return ok }),
		ImageID:   spec.ImageID,
		State:     spec.State,
		Tags:      spec.Tags,
		VolumeIDs: []string{s.f.seedID("vol", func(id string) bool { _, ok := s.f.volumes.get(id); return ok })},
	}
	s.f.AddVolume(inventory.Volume{ID: inst.VolumeIDs[0], Tags: spec.VolumeTags, Size: DefaultVolumeSize})
	s.f.AddInstance(inst)
	return inst
}

func (s fakeSeeder) Image(_ testing.TB, inst inventory.Instance) (string, string) {
	snap := inventory.Snapshot{
		ID:        s.f.seedID("snap", func(id string) bool { _, ok := s.f.snapshots.get(id); return ok }),
		VolumeID:  inst.VolumeIDs[0],
		StartTime: s.f.now().UTC(),
	}
	s.f.AddSnapshot(snap, "")
	ami := s.f.seedID("ami", func(id string) bool { _, ok := s.f.images.get(id); return ok })
	s.f.AddImage(ami, snap.ID)
	return ami, snap.ID
}

func (f *Fake) seedID(prefix string, taken func(string) bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newID(prefix, taken)
}

// SDKSeeder returns a Seeder that stages state through the EC2 API, for
// moto: RunInstances tags instances and volumes in the same call.
func SDKSeeder(api *ec2.Client) Seeder { return sdkSeeder{api} }

type sdkSeeder struct{ api *ec2.Client }

func (s sdkSeeder) Instance(t testing.TB, spec InstanceSpec) inventory.Instance {
	t.Helper()
	spec = spec.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(spec.ImageID),
		InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
	}
	if len(spec.Tags) > 0 {
		in.TagSpecifications = append(in.TagSpecifications,
			ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance, Tags: ebs.ToSDKTags(spec.Tags)})
	}
	if len(spec.VolumeTags) > 0 {
		in.TagSpecifications = append(in.TagSpecifications,
			ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeVolume, Tags: ebs.ToSDKTags(spec.VolumeTags)})
	}
	out, err := s.api.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("seed instance: %v", err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	switch spec.State {
	case "running":
	case "stopped":
		_, err = s.api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	case "terminated":
		_, err = s.api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	default:
		err = fmt.Errorf("state %q cannot be staged", spec.State)
	}
	if err != nil {
		t.Fatalf("seed instance %s as %s: %v", id, spec.State, err)
	}
	desc, err := s.api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 1 {
		t.Fatalf("describe seeded instance %s: %v", id, err)
	}
	got := desc.Reservations[0].Instances[0]
	inst := inventory.Instance{ID: id, ImageID: aws.ToString(got.ImageId), State: string(got.State.Name), Tags: spec.Tags}
	for _, bdm := range got.BlockDeviceMappings {
		inst.VolumeIDs = append(inst.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
	}
	return inst
}

func (s sdkSeeder) Image(t testing.TB, inst inventory.Instance) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ami, err := s.createImage(ctx, inst.ID, "ebstest-"+inst.ID)
	if err != nil {
		t.Fatalf("seed image of %s: %v", inst.ID, err)
	}
	desc, err := s.api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if err != nil || len(desc.Images) != 1 {
		t.Fatalf("describe seeded image %s: %v", ami, err)
	}
	for _, bdm := range desc.Images[0].BlockDeviceMappings {
		if bdm.Ebs != nil && aws.ToString(bdm.Ebs.SnapshotId) != "" {
			return ami, aws.ToString(bdm.Ebs.SnapshotId)
		}
	}
	t.Fatalf("seeded image %s has no EBS snapshot", ami)
	return "", ""
}

// createImage creates one AMI named name from the instance. CreateImage
// takes no client token, so the SDK's own retry of an attempt whose answer
// was lost (a reset connection from a loaded moto) would register a second
// AMI and a second backing snapshot. So each attempt goes out once, and
// after a failed one the AMI is looked up by its name before trying again.
func (s sdkSeeder) createImage(ctx context.Context, instanceID, name string) (string, error) {
	var err error
	for range 3 {
		var out *ec2.CreateImageOutput
		out, err = s.api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instanceID), Name: aws.String(name)},
			func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
		if err == nil {
			return aws.ToString(out.ImageId), nil
		}
		found, lookErr := s.api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{name}}}})
		if lookErr == nil && len(found.Images) == 1 {
			return aws.ToString(found.Images[0].ImageId), nil
		}
	}
	return "", err
}
