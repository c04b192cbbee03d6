package ebs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

const region = "eu-west-1"

var deleteOn = []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}}

// record returns the inputs f receives for op, in call order.
func record[T any](f *ec2fake.Fake, op string) *[]*T {
	var inputs []*T
	f.OnCall = func(got string, input any) error {
		if got == op {
			inputs = append(inputs, input.(*T))
		}
		return nil
	}
	return &inputs
}

func TestSnapshotsPaginates(t *testing.T) {
	f := &ec2fake.Fake{}
	for i := range 2500 {
		f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%017d", i), VolumeID: "vol-1"}, "")
	}
	for i := range 30 {
		f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-public-%d", i)}, "999999999999")
	}
	inputs := record[ec2.DescribeSnapshotsInput](f, ec2fake.OpDescribeSnapshots)
	got, err := ebs.New(f, region).Snapshots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2500 || got[0].ID != "snap-00000000000000000" || got[2499].ID != "snap-00000000000002499" {
		t.Errorf("got %d snapshots, want the account's 2500 in order", len(got))
	}
	if n := f.Calls(ec2fake.OpDescribeSnapshots); n != 3 {
		t.Errorf("DescribeSnapshots calls = %d, want 3 (1000+1000+500)", n)
	}
	for i, in := range *inputs {
		if !slices.Equal(in.OwnerIds, []string{"self"}) || aws.ToInt32(in.MaxResults) != 1000 {
			t.Errorf("call %d: OwnerIds %v MaxResults %d, want [self] 1000", i+1, in.OwnerIds, aws.ToInt32(in.MaxResults))
		}
	}
}

func TestInstancesPaginatesAndFilters(t *testing.T) {
	f := &ec2fake.Fake{}
	states := []string{"running", "stopped", "terminated", "pending", "running"}
	for i := range 2500 {
		f.AddInstance(inventory.Instance{
			ID:        fmt.Sprintf("i-%05d", i),
			ImageID:   "ami-1",
			State:     states[i%len(states)],
			Tags:      []inventory.Tag{{Key: "Name", Value: fmt.Sprintf("web-%d", i)}, {Key: "Backup", Value: "yes"}},
			VolumeIDs: []string{fmt.Sprintf("vol-%05d-b", i), fmt.Sprintf("vol-%05d-a", i)},
		})
	}
	inputs := record[ec2.DescribeInstancesInput](f, ec2fake.OpDescribeInstances)
	c := ebs.New(f, region)
	got, err := c.Instances(t.Context(), []inventory.Filter{{Name: "tag:Backup", Values: []string{"y*"}}})
	if err != nil {
		t.Fatal(err)
	}
	// 4 of every 5 instances still exist (are not terminated).
	if len(got) != 2000 || f.Calls(ec2fake.OpDescribeInstances) != 2 {
		t.Errorf("got %d instances in %d calls, want 2000 in 2", len(got), f.Calls(ec2fake.OpDescribeInstances))
	}
	want := inventory.Instance{
		ID: "i-00001", ImageID: "ami-1", State: "stopped",
		Tags:      []inventory.Tag{{Key: "Name", Value: "web-1"}, {Key: "Backup", Value: "yes"}},
		VolumeIDs: []string{"vol-00001-b", "vol-00001-a"}, RootVolumeID: "vol-00001-b",
	}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("second instance (-want +got):\n%s", diff)
	}
	wantFilters := []ec2types.Filter{
		{Name: aws.String("tag:Backup"), Values: []string{"y*"}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"}},
	}
	in := (*inputs)[0]
	if diff := cmp.Diff(wantFilters, in.Filters, cmp.AllowUnexported(ec2types.Filter{})); diff != "" || aws.ToInt32(in.MaxResults) != 1000 {
		t.Errorf("MaxResults %d, filters (-want +got):\n%s", aws.ToInt32(in.MaxResults), diff)
	}

	f.AddInstance(inventory.Instance{ID: "i-extra", State: "running", VolumeIDs: []string{"vol-x"}})
	for _, tc := range []struct {
		name    string
		filters []inventory.Filter
		want    int
	}{
		{"no filters", nil, 2001},
		{"tag on nothing", []inventory.Filter{{Name: "tag:Backup", Values: []string{"no"}}}, 0},
		{"names ANDed, values ORed", []inventory.Filter{
			{Name: "tag:Name", Values: []string{"web-1", "web-2", "web-11?"}},
			{Name: "instance-state-name", Values: []string{"stopped"}},
		}, 3}, // web-1, web-116, web-111 stopped; web-2 is terminated
	} {
		got, err := c.Instances(t.Context(), tc.filters)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: got %d instances, %v; want %d", tc.name, len(got), err, tc.want)
		}
	}
}

func TestVolumesChunks(t *testing.T) {
	f := &ec2fake.Fake{}
	var ids []string
	for i := range 450 {
		id := fmt.Sprintf("vol-%05d", i)
		f.AddVolume(inventory.Volume{ID: id, Tags: []inventory.Tag{{Key: "n", Value: id}}})
		ids = append(ids, id)
	}
	// A deleted volume and a duplicate: neither costs a request of its own.
	ids = append(ids, "vol-deleted", ids[0])
	inputs := record[ec2.DescribeVolumesInput](f, ec2fake.OpDescribeVolumes)
	c := ebs.New(f, region)
	got, err := c.Volumes(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 450 || got[7].Tags[0].Value != got[7].ID {
		t.Errorf("got %d volumes, want the 450 that exist with their tags", len(got))
	}
	var sizes []int
	for _, in := range *inputs {
		if len(in.VolumeIds) > 0 || aws.ToInt32(in.MaxResults) != 500 || aws.ToString(in.Filters[0].Name) != "volume-id" {
			t.Errorf("request %+v: want a volume-id filter and MaxResults 500", in)
		}
		sizes = append(sizes, len(in.Filters[0].Values))
	}
	if want := []int{200, 200, 51}; !slices.Equal(sizes, want) {
		t.Errorf("filter sizes %v, want %v", sizes, want)
	}
	if got, err := c.Volumes(t.Context(), nil); err != nil || got != nil || f.Calls(ec2fake.OpDescribeVolumes) != 3 {
		t.Errorf("no ids: got %v, %v after %d calls; want nothing and no call", got, err, f.Calls(ec2fake.OpDescribeVolumes))
	}
}

func TestImageSnapshots(t *testing.T) {
	f := &ec2fake.Fake{}
	want := map[string]inventory.Protection{}
	for i := range 1200 {
		ami := fmt.Sprintf("ami-%05d", i)
		a, b := fmt.Sprintf("snap-%05d-a", i), fmt.Sprintf("snap-%05d-b", i)
		f.AddImage(ami, a, b)
		// Every tenth AMI is disabled: listed only with IncludeDisabled.
		p := inventory.Protection{Kind: inventory.ProtectedByAMI, Resource: ami, Disabled: i%10 == 0}
		if p.Disabled {
			f.DisableImage(ami)
		}
		want[a], want[b] = p, p
	}
	inputs := record[ec2.DescribeImagesInput](f, ec2fake.OpDescribeImages)
	got, err := ebs.New(f, region).ImageSnapshots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := f.Calls(ec2fake.OpDescribeImages); n != 2 || !slices.Equal((*inputs)[0].Owners, []string{"self"}) || !aws.ToBool((*inputs)[0].IncludeDisabled) {
		t.Errorf("DescribeImages calls = %d with Owners %v, IncludeDisabled %v; want 2 with [self] and true", n, (*inputs)[0].Owners, (*inputs)[0].IncludeDisabled)
	}
}

func TestRegions(t *testing.T) {
	f := &ec2fake.Fake{}
	f.SetRegions("us-west-2", "eu-west-1", "ap-south-1")
	inputs := record[ec2.DescribeRegionsInput](f, ec2fake.OpDescribeRegions)
	got, err := ebs.New(f, "us-east-1").Regions(t.Context())
	if want := []string{"ap-south-1", "eu-west-1", "us-west-2"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	if aws.ToBool((*inputs)[0].AllRegions) {
		t.Error("AllRegions set: disabled regions would be listed")
	}
}

func TestCreateSnapshot(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-1"})
	inputs := record[ec2.CreateSnapshotInput](f, ec2fake.OpCreateSnapshot)
	c := ebs.New(f, region)
	tags := []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}, {Key: "Name", Value: "web"}, {Key: "replication_dst_region", Value: "us-west-2"}}
	desc := strings.Repeat("é", 300) // multi-byte: the cut is by character
	got, err := c.CreateSnapshot(t.Context(), "vol-1", desc, tags)
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Snapshot{
		ID: got.ID, VolumeID: "vol-1", State: inventory.StateCompleted, StartTime: now,
		Description: strings.Repeat("é", 254), Tags: tags,
	}
	if diff := cmp.Diff(want, got); diff != "" || !strings.HasPrefix(got.ID, "snap-") {
		t.Errorf("returned snapshot (-want +got):\n%s", diff)
	}
	stored, _ := f.Snapshot(got.ID)
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored snapshot (-want +got):\n%s", diff)
	}
	in := (*inputs)[0]
	if len(in.TagSpecifications) != 1 || in.TagSpecifications[0].ResourceType != ec2types.ResourceTypeSnapshot ||
		len(in.TagSpecifications[0].Tags) != len(tags) || utf8.RuneCountInString(aws.ToString(in.Description)) != 254 {
		t.Errorf("request %+v: want one snapshot TagSpecification with all %d tags and a 254-character description", in, len(tags))
	}
	if n := len(f.AllCalls()); n != 1 {
		t.Errorf("calls %v, want CreateSnapshot only (no separate tagging)", f.AllCalls())
	}

	_, err = c.CreateSnapshot(t.Context(), "vol-1", "d", nil)
	if !errors.Is(err, ebs.ErrNoTags) || f.Calls(ec2fake.OpCreateSnapshot) != 1 {
		t.Errorf("untagged: got %v after %d calls, want ErrNoTags and no call", err, f.Calls(ec2fake.OpCreateSnapshot))
	}
}

func TestCreateSnapshotErrors(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddVolume(inventory.Volume{ID: "vol-1"})
	c := ebs.New(f, region)
	_, err := c.CreateSnapshot(t.Context(), "vol-gone", "d", deleteOn)
	if !errors.Is(err, ebs.ErrNotFound) || !strings.Contains(err.Error(), "vol-gone") || !strings.Contains(err.Error(), region) {
		t.Errorf("unknown volume: got %v, want ErrNotFound naming vol-gone and %s", err, region)
	}
	f.Fail(ec2fake.OpCreateSnapshot, 1, &smithy.GenericAPIError{Code: ebs.CodeSnapshotPerVolumeRate})
	_, err = c.CreateSnapshot(t.Context(), "vol-1", "d", deleteOn)
	if !ebs.IsSnapshotRateLimit(err) || ebs.IsThrottle(err) || errors.Is(err, ebs.ErrNotFound) {
		t.Errorf("per-volume rate: got %v, want IsSnapshotRateLimit only", err)
	}
}

func TestDeleteSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inject  error
		id      string
		wantErr func(error) bool
	}{
		{"deleted", nil, "snap-1", nil},
		{"already gone counts as deleted", nil, "snap-gone", nil},
		{"backs an AMI", nil, "snap-ami", func(err error) bool {
			return errors.Is(err, inventory.ErrSnapshotInUse) && strings.Contains(err.Error(), "ami-1")
		}},
		{"throttled", &smithy.GenericAPIError{Code: ebs.CodeRequestLimitExceeded}, "snap-1", ebs.IsThrottle},
		{"other API error", &smithy.GenericAPIError{Code: "InternalError"}, "snap-1", func(err error) bool { return !errors.Is(err, inventory.ErrSnapshotInUse) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &ec2fake.Fake{}
			f.AddSnapshot(inventory.Snapshot{ID: "snap-1"}, "")
			f.AddSnapshot(inventory.Snapshot{ID: "snap-ami"}, "")
			f.AddImage("ami-1", "snap-ami")
			if tc.inject != nil {
				f.Fail(ec2fake.OpDeleteSnapshot, 1, tc.inject)
			}
			err := ebs.New(f, region).DeleteSnapshot(t.Context(), tc.id)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got %v, want nil", err)
			case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
				t.Fatalf("got %v, want a matching error", err)
			case err != nil && (!strings.Contains(err.Error(), tc.id) || !strings.Contains(err.Error(), region)):
				t.Errorf("error %q does not name %s and %s", err, tc.id, region)
			}
			if _, exists := f.Snapshot(tc.id); exists != (err != nil) {
				t.Errorf("snapshot exists = %v after error %v", exists, err)
			}
		})
	}
}

// Every listing names what it listed and the region when it fails, and
// keeps the AWS error reachable.
func TestListErrorsNameRegion(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: ebs.CodeRequestLimitExceeded}
	for _, tc := range []struct {
		op, words string
		call      func(*ebs.Client) error
	}{
		{ec2fake.OpDescribeRegions, "describe regions", func(c *ebs.Client) error { _, err := c.Regions(t.Context()); return err }},
		{ec2fake.OpDescribeInstances, "describe instances matching [tag:Name=web-*]", func(c *ebs.Client) error {
			_, err := c.Instances(t.Context(), []inventory.Filter{{Name: "tag:Name", Values: []string{"web-*"}}})
			return err
		}},
		{ec2fake.OpDescribeSnapshots, "describe snapshots owned by self", func(c *ebs.Client) error { _, err := c.Snapshots(t.Context()); return err }},
		{ec2fake.OpDescribeVolumes, "describe volumes vol-1… (1 ids)", func(c *ebs.Client) error { _, err := c.Volumes(t.Context(), []string{"vol-1"}); return err }},
		{ec2fake.OpDescribeImages, "describe images owned by self", func(c *ebs.Client) error { _, err := c.ImageSnapshots(t.Context()); return err }},
		{ec2fake.OpDescribeLockedSnapshots, "describe locked snapshots", func(c *ebs.Client) error { _, err := c.LockedSnapshots(t.Context()); return err }},
		{ec2fake.OpDescribeLaunchTemplateVersions, "describe the default and latest launch template versions", func(c *ebs.Client) error {
			_, err := c.LaunchTemplateSnapshots(t.Context())
			return err
		}},
		{ec2fake.OpLockSnapshot, "lock snapshot snap-1 in governance mode until 2030-01-01T00:00:00Z", func(c *ebs.Client) error {
			return c.LockSnapshot(t.Context(), "snap-1", inventory.Lock{Mode: inventory.LockGovernance, Until: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
		}},
		{ec2fake.OpCreateSnapshot, "create snapshot of vol-1", func(c *ebs.Client) error {
			_, err := c.CreateSnapshot(t.Context(), "vol-1", "d", deleteOn)
			return err
		}},
		{ec2fake.OpDeleteSnapshot, "delete snapshot snap-1", func(c *ebs.Client) error { return c.DeleteSnapshot(t.Context(), "snap-1") }},
	} {
		f := &ec2fake.Fake{}
		f.AddVolume(inventory.Volume{ID: "vol-1"})
		f.AddSnapshot(inventory.Snapshot{ID: "snap-1"}, "")
		f.Fail(tc.op, 1, throttle)
		err := tc.call(ebs.New(f, region))
		if !ebs.IsThrottle(err) || !strings.HasPrefix(err.Error(), tc.words+" in "+region+": ") && !strings.HasPrefix(err.Error(), tc.words+" from "+region+": ") {
			t.Errorf("%s: got %q, want a throttle starting %q", tc.op, err, tc.words)
		}

		// A region the account cannot use is the domain sentinel the engine
		// checks, for every regional call; DescribeRegions is not
		// classified, as there AuthFailure means bad credentials.
		for _, code := range []string{ebs.CodeAuthFailure, ebs.CodeOptInRequired} {
			f.Fail(tc.op, 1, &smithy.GenericAPIError{Code: code})
			err = tc.call(ebs.New(f, region))
			var api smithy.APIError
			regional := tc.op != ec2fake.OpDescribeRegions
			if got := errors.Is(err, inventory.ErrRegionUnavailable); got != regional || !errors.As(err, &api) || api.ErrorCode() != code {
				t.Errorf("%s %s: got %v; want ErrRegionUnavailable %v and the AWS error kept", tc.op, code, err, regional)
			}
		}
	}
}

// The limits NewForRegion's limiters get: EC2's table, --rate, --burst
// and Unlimited for none.
func TestRateLimiterOptions(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        ebs.Options
		create, del rate.Limit
		burst       int
	}{
		{"defaults", ebs.Options{}, 5, 5, 100},
		{"custom", ebs.Options{Rates: map[string]float64{"CreateSnapshot": 2, "DeleteSnapshot": 7}, Burst: 10}, 2, 7, 10},
		{"scaled", ebs.Options{RateScale: 0.5}, 2.5, 2.5, 100},
		{"unlimited", ebs.Options{Rates: map[string]float64{"CreateSnapshot": ebs.Unlimited, "DeleteSnapshot": ebs.Unlimited}}, rate.Inf, rate.Inf, 100},
	} {
		create, createBurst := tc.opts.Rate("CreateSnapshot")
		del, delBurst := tc.opts.Rate("DeleteSnapshot")
		if create != tc.create || del != tc.del || createBurst != tc.burst || delBurst != tc.burst {
			t.Errorf("%s: create %v/%d delete %v/%d, want %v/%d %v/%d", tc.name,
				create, createBurst, del, delBurst, tc.create, tc.burst, tc.del, tc.burst)
		}
	}
}

// Once the burst is spent, a call waits for a token before reaching EC2:
// the SDK client over the fake (faults.InProcess), on a synctest bubble's
// clock. A deadline shorter than the refill makes the wait fail at once.
func TestRateLimiterApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &ec2fake.Fake{}
		f.AddVolume(inventory.Volume{ID: "vol-1"})
		for i := range 3 {
			f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%d", i)}, "")
		}
		cfg, p := faults.InProcess(t, f, faults.ProxyOptions{})
		c := ebs.NewForRegion(cfg, region, ebs.Options{Rates: map[string]float64{"CreateSnapshot": 0.001, "DeleteSnapshot": 0.001}, Burst: 2})
		for i := range 2 {
			if _, err := c.CreateSnapshot(t.Context(), "vol-1", "d", deleteOn); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteSnapshot(t.Context(), fmt.Sprintf("snap-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := c.CreateSnapshot(ctx, "vol-1", "d", deleteOn); err == nil || !strings.Contains(err.Error(), "rate limit") {
			t.Errorf("third create: got %v, want a rate-limit wait error", err)
		}
		if err := c.DeleteSnapshot(ctx, "snap-2"); err == nil || !strings.Contains(err.Error(), "rate limit") {
			t.Errorf("third delete: got %v, want a rate-limit wait error", err)
		}
		if got := p.Counts(); got["CreateSnapshot"].Attempts != 2 || got["DeleteSnapshot"].Attempts != 2 {
			t.Errorf("attempts %+v, want 2 creates and 2 deletes: the third of each must not reach EC2", got)
		}
	})
}

func TestNewForRegion(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	c := ebs.NewForRegion(cfg, "ap-southeast-2", ebs.Options{})
	api, ok := c.API().(*ec2.Client)
	if !ok {
		t.Fatalf("wraps %T, want *ec2.Client", c.API())
	}
	if c.Region() != "ap-southeast-2" || api.Options().Region != "ap-southeast-2" {
		t.Errorf("Region() %q, SDK client in %q; want ap-southeast-2 for both", c.Region(), api.Options().Region)
	}
}

// BenchmarkSnapshots100k lists a fleet-sized region (100,000 tagged
// snapshots, 100 pages) through the fake, the scale moto cannot serve.
func BenchmarkSnapshots100k(b *testing.B) {
	f := &ec2fake.Fake{}
	for i := range 100_000 {
		f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%017d", i), VolumeID: fmt.Sprintf("vol-%05d", i%10_000), Tags: deleteOn}, "")
	}
	c := ebs.New(f, region)
	for b.Loop() {
		if snaps, err := c.Snapshots(b.Context()); err != nil || len(snaps) != 100_000 {
			b.Fatalf("got %d snapshots, %v", len(snaps), err)
		}
	}
	b.ReportMetric(float64(f.Calls(ec2fake.OpDescribeSnapshots))/float64(b.N), "calls/op")
}
