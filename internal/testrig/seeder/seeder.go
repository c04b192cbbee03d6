// Package seeder stages instances, volumes, AMIs and snapshots on an EC2
// API for the tests, the benchmarks and the demo (cmd/seedfleet): through
// the SDK on moto (or an account used for testing), and, through the
// Seeder interface, on the in-memory fake as well (ec2fake.Fake.Seeder), so
// that one test body can drive both. It is never used by the product.
//
// Calls that take no client token (CreateImage) go out once per attempt
// and are settled by a lookup after a failed one, so a lost answer from a
// loaded emulator never stages a second resource.
package seeder

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

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

// WithDefaults returns s with State and ImageID filled in where empty.
func (s InstanceSpec) WithDefaults() InstanceSpec {
	if s.State == "" {
		s.State = "running"
	}
	if s.ImageID == "" {
		s.ImageID = DefaultImageID
	}
	return s
}

// SDK returns a Seeder that stages state through the EC2 API, for moto:
// RunInstances tags instances and volumes in the same call.
func SDK(api *ec2.Client) Seeder { return sdkSeeder{api} }

type sdkSeeder struct{ api *ec2.Client }

func (s sdkSeeder) Instance(t testing.TB, spec InstanceSpec) inventory.Instance {
	t.Helper()
	spec = spec.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := &ec2.RunInstancesInput{
		ImageId:           aws.String(spec.ImageID),
		InstanceType:      ec2types.InstanceTypeT3Micro,
		MinCount:          aws.Int32(1),
		MaxCount:          aws.Int32(1),
		TagSpecifications: tagSpecs(spec.Tags, spec.VolumeTags),
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
		err = Terminate(ctx, s.api, id)
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
	ami, snap, err := Image(ctx, s.api, inst.ID)
	if err != nil {
		t.Fatalf("seed image: %v", err)
	}
	return ami, snap
}
