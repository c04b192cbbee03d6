package ec2sim_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// The behaviour suite the Fake and moto pass, through the real SDK client
// and the simulator's HTTP server on 127.0.0.1.
func TestSuiteSim(t *testing.T) {
	ec2fake.RunSuite(t, func(t *testing.T) ec2fake.Target {
		sim := ec2sim.New(ec2sim.Options{Regions: []string{"eu-west-1", "us-east-1", ec2fake.PeerRegion}})
		url := sim.Start(t)
		return ec2fake.Target{API: ec2sim.Client(url, "us-east-1"), Seed: sim.Region("us-east-1").Seeder(),
			Peer: ec2sim.Client(url, ec2fake.PeerRegion)}
	})
}

// noRetries makes an SDK client give up after one attempt, so that a
// throttle reaches the test.
func noRetries(o *ec2.Options) { o.RetryMaxAttempts = 1 }

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Each request is served by the region its signature names; a region the
// simulator does not serve is AuthFailure, which the engine treats as a
// region not enabled.
func TestRegionFromSignature(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{Regions: []string{"eu-west-1", "us-east-1"}})
	url := sim.Start(t)
	sim.Region("eu-west-1").AddSnapshot(inventory.Snapshot{ID: "snap-eu", VolumeID: "vol-1"}, "")
	for region, want := range map[string][]string{"eu-west-1": {"snap-eu"}, "us-east-1": nil} {
		snaps, err := ebs.New(ec2sim.Client(url, region), region).Snapshots(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range snaps {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", region, got, want)
		}
	}
	_, err := ec2sim.Client(url, "ap-south-1").DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{}, noRetries)
	if !ebs.IsRegionUnavailable(err) {
		t.Errorf("unserved region: got %v, want AuthFailure", err)
	}
	out, err := ec2sim.Client(url, "us-east-1").DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{})
	if err != nil || len(out.Regions) != 2 || aws.ToString(out.Regions[0].RegionName) != "eu-west-1" {
		t.Errorf("DescribeRegions: %+v, %v; want eu-west-1 and us-east-1", out, err)
	}
}

// EC2's refusal of an unknown filter name reaches the engine as
// inventory.ErrFilterRejected, through EC2's error XML.
func TestFilterRejected(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{})
	c := ebs.New(ec2sim.Client(sim.Start(t), "us-east-1"), "us-east-1")
	_, err := c.Instances(t.Context(), []inventory.Filter{{Name: "tags:env", Values: []string{"prod"}}})
	if !errors.Is(err, inventory.ErrFilterRejected) || code(err) != ebs.CodeInvalidParameterValue {
		t.Errorf("got %v, want InvalidParameterValue wrapped as ErrFilterRejected", err)
	}
	if got := sim.Counts()["DescribeInstances"]; got.Calls != 1 || got.Errors != 1 {
		t.Errorf("counts %+v, want 1 call answered with an error", got)
	}
}

// A bucket holds 100 tokens and refills at EC2's rate on the simulator's
// clock: the 101st delete in one instant is throttled without effect, and
// one fifth of a second later a token is back.
func TestBucketsOnVirtualClock(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{Buckets: true})
	api := ec2sim.Client(sim.Start(t), "us-east-1")
	f := sim.Region("us-east-1")
	for i := range 102 {
		f.AddSnapshot(inventory.Snapshot{ID: "snap-" + string(rune('a'+i/26)) + string(rune('a'+i%26)), VolumeID: "vol-1"}, "")
	}
	del := func(id string) error {
		_, err := api.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}, noRetries)
		return err
	}
	ids := make([]string, 0, 102)
	for _, s := range f.Snapshots() {
		ids = append(ids, s.ID)
	}
	for _, id := range ids[:100] {
		if err := del(id); err != nil {
			t.Fatalf("delete %s within the burst: %v", id, err)
		}
	}
	if err := del(ids[100]); !ebs.IsThrottle(err) {
		t.Fatalf("101st delete: got %v, want RequestLimitExceeded", err)
	}
	if _, ok := f.Snapshot(ids[100]); !ok {
		t.Errorf("the throttled delete removed %s", ids[100])
	}
	sim.Advance(200 * time.Millisecond)
	if err := del(ids[100]); err != nil {
		t.Errorf("after 0.2 s of virtual time: %v", err)
	}
	if err := del(ids[101]); !ebs.IsThrottle(err) {
		t.Errorf("second delete after 0.2 s: got %v, want RequestLimitExceeded", err)
	}
	if got := sim.Counts()["DeleteSnapshot"]; got.Calls != 103 || got.Throttled != 2 {
		t.Errorf("counts %+v, want 103 calls, 2 throttled", got)
	}
	// Describe calls draw on their own bucket.
	if _, err := api.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5)}, noRetries); err != nil {
		t.Errorf("describe while the delete bucket is empty: %v", err)
	}
}

// A created snapshot stays pending for PendingFor on the virtual clock,
// stamped with the simulator's time.
func TestPendingSnapshot(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{PendingFor: 10 * time.Minute})
	api := ec2sim.Client(sim.Start(t), "us-east-1")
	inst := sim.Region("us-east-1").Seeder().Instance(t, seeder.InstanceSpec{})
	c := ebs.New(api, "us-east-1")
	snap, err := c.CreateSnapshot(t.Context(), inst.VolumeIDs[0], "slow", []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.State != inventory.StatePending || !snap.StartTime.Equal(ec2sim.Epoch) {
		t.Errorf("created %+v, want pending, started at %s", snap, ec2sim.Epoch)
	}
	state := func() string {
		snaps, err := c.Snapshots(t.Context())
		if err != nil || len(snaps) != 1 {
			t.Fatalf("listed %v, %v", snaps, err)
		}
		return snaps[0].State
	}
	sim.Advance(10*time.Minute - time.Millisecond)
	if got := state(); got != inventory.StatePending {
		t.Errorf("just before 10 minutes: %s, want pending", got)
	}
	sim.Advance(time.Millisecond)
	if got := state(); got != inventory.StateCompleted {
		t.Errorf("after 10 minutes: %s, want completed", got)
	}
}

// CreateSnapshots takes one snapshot per volume of an instance in one
// call; CopySnapshot copies across regions with only the requested tags.
func TestCreateSnapshotsAndCopy(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{Regions: []string{"eu-west-1", "us-east-1"}})
	url := sim.Start(t)
	us, eu := ec2sim.Client(url, "us-east-1"), ec2sim.Client(url, "eu-west-1")
	f := sim.Region("us-east-1")
	f.AddVolume(inventory.Volume{ID: "vol-root", Tags: []inventory.Tag{{Key: "Name", Value: "root"}, {Key: "DeleteOn", Value: "never"}}})
	f.AddVolume(inventory.Volume{ID: "vol-data", Tags: []inventory.Tag{{Key: "Name", Value: "data"}}})
	f.AddInstance(inventory.Instance{ID: "i-1", VolumeIDs: []string{"vol-root", "vol-data"}})
	spec := []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String("2026-12-01")}}}}
	ctx := t.Context()

	out, err := us.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String("i-1")},
		CopyTagsFromSource:    ec2types.CopyTagsFromSourceVolume, TagSpecifications: spec, Description: aws.String("set"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, s := range out.Snapshots {
		tags := map[string]string{}
		for _, tg := range s.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		got[aws.ToString(s.VolumeId)] = tags
		if s.State != ec2types.SnapshotStateCompleted || aws.ToString(s.Description) != "set" || !aws.ToTime(s.StartTime).Equal(ec2sim.Epoch) {
			t.Errorf("snapshot %+v: want completed, described, started at %s", s, ec2sim.Epoch)
		}
	}
	want := map[string]map[string]string{
		"vol-root": {"Name": "root", "DeleteOn": "2026-12-01"},
		"vol-data": {"Name": "data", "DeleteOn": "2026-12-01"},
	}
	if len(got) != 2 || got["vol-root"]["DeleteOn"] != "2026-12-01" || got["vol-root"]["Name"] != "root" || got["vol-data"]["Name"] != "data" {
		t.Errorf("CreateSnapshots tags %v, want %v", got, want)
	}
	out, err = us.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String("i-1"), ExcludeBootVolume: aws.Bool(true)}, TagSpecifications: spec,
	})
	if err != nil || len(out.Snapshots) != 1 || aws.ToString(out.Snapshots[0].VolumeId) != "vol-data" {
		t.Errorf("ExcludeBootVolume: %+v, %v; want vol-data only", out, err)
	}
	_, err = us.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String("i-gone")}}, noRetries)
	if code(err) != ebs.CodeInstanceNotFound {
		t.Errorf("unknown instance: got %v, want InvalidInstanceID.NotFound", err)
	}

	src := aws.ToString(out.Snapshots[0].SnapshotId)
	cp, err := eu.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String(src),
		TagSpecifications: spec, Description: aws.String("copy of " + src)})
	if err != nil {
		t.Fatal(err)
	}
	copied, ok := sim.Region("eu-west-1").Snapshot(aws.ToString(cp.SnapshotId))
	// As moto does, the copy keeps its source's VolumeId (EC2 itself gives
	// copies an arbitrary one; replication tags the source volume).
	if !ok || copied.VolumeID != "vol-data" || len(copied.Tags) != 1 || copied.Tags[0].Value != "2026-12-01" {
		t.Errorf("copy in eu-west-1: %+v (found %v), want vol-data with only the DeleteOn tag", copied, ok)
	}
	_, err = eu.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String("snap-gone")}, noRetries)
	if code(err) != ebs.CodeSnapshotNotFound {
		t.Errorf("copy of a missing snapshot: got %v, want InvalidSnapshot.NotFound", err)
	}
}

// Inside a synctest bubble the simulator runs on the bubble's virtual
// clock: 300 deletes through the product's client (its 5/s limiter,
// awsclient's standard retryer) take the bucket's 40 virtual seconds and no
// real ones, and none is throttled.
func TestVirtualTimeRun(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEC2SIM")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ec2sim")
	cfg, err := awsclient.Load(t.Context(), "us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		sim := ec2sim.New(ec2sim.Options{Buckets: true, Now: time.Now})
		f := sim.Region("us-east-1")
		for i := range 300 {
			f.AddSnapshot(inventory.Snapshot{ID: "snap-" + time.Duration(i).String(), VolumeID: "vol-1"}, "")
		}
		c := ebs.NewForRegion(sim.InProcess(cfg), "us-east-1", ebs.Options{})
		start := time.Now()
		for _, s := range f.Snapshots() {
			if err := c.DeleteSnapshot(context.Background(), s.ID); err != nil {
				t.Fatal(err)
			}
		}
		// 100 from the burst, 200 at 5 a second.
		if got, want := time.Since(start), 40*time.Second; got < want-time.Second || got > want+time.Second {
			t.Errorf("300 deletes took %s of virtual time, want about %s", got, want)
		}
		if got := sim.Counts()["DeleteSnapshot"]; got.Calls != 300 || got.Throttled != 0 {
			t.Errorf("counts %+v, want 300 calls, none throttled", got)
		}
	})
	if d := time.Since(wall); d > 20*time.Second {
		t.Errorf("took %s of wall time", d)
	}
}
