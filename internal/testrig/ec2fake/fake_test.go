package ec2fake_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

func snapID(i int) string { return fmt.Sprintf("snap-%017d", i) }

func addSnapshots(f *ec2fake.Fake, n int, owner string) {
	for i := range n {
		f.AddSnapshot(inventory.Snapshot{ID: snapID(i), VolumeID: "vol-1"}, owner)
	}
}

func ids(snaps []ec2types.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, aws.ToString(s.SnapshotId))
	}
	return out
}

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return fmt.Sprintf("no API error (%v)", err)
}

// Tokens point after the last row returned, so rows deleted between pages
// are neither skipped nor repeated, and the last page carries no token.
func TestFakePageTokensSurviveDeletes(t *testing.T) {
	f := &ec2fake.Fake{}
	addSnapshots(f, 12, "")
	ctx := t.Context()
	page := func(tok *string) *ec2.DescribeSnapshotsOutput {
		t.Helper()
		out, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5), NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	p1 := page(nil)
	for _, id := range []string{snapID(4), snapID(6)} {
		if _, err := f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	p2 := page(p1.NextToken)
	p3 := page(p2.NextToken)
	got := [][]string{ids(p1.Snapshots), ids(p2.Snapshots), ids(p3.Snapshots)}
	want := [][]string{
		{snapID(0), snapID(1), snapID(2), snapID(3), snapID(4)},
		{snapID(5), snapID(7), snapID(8), snapID(9), snapID(10)},
		{snapID(11)},
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("page %d: got %v, want %v", i+1, got[i], want[i])
		}
	}
	if p3.NextToken != nil {
		t.Errorf("last page has token %q, want none", *p3.NextToken)
	}
}

func TestFakeFullLastPageHasNoToken(t *testing.T) {
	f := &ec2fake.Fake{}
	addSnapshots(f, 10, "")
	p := ec2.NewDescribeSnapshotsPaginator(f, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Snapshots)
	}
	if n != 10 || f.Calls(ec2fake.OpDescribeSnapshots) != 2 {
		t.Errorf("got %d snapshots in %d calls, want 10 in 2", n, f.Calls(ec2fake.OpDescribeSnapshots))
	}
}

func TestFakeRefusals(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddInstance(inventory.Instance{ID: "i-1", VolumeIDs: []string{"vol-1"}})
	addSnapshots(f, 1500, "")
	ctx := t.Context()
	tagSpec := func(rt ec2types.ResourceType, n int, prefix string) []ec2types.TagSpecification {
		spec := ec2types.TagSpecification{ResourceType: rt}
		for i := range n {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(fmt.Sprintf("%sk%d", prefix, i)), Value: aws.String("v")})
		}
		return []ec2types.TagSpecification{spec}
	}
	for _, tc := range []struct {
		name, code string
		call       func() error
	}{
		{"instances page under 5", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)})
			return err
		}},
		{"instances page over 1000", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1001)})
			return err
		}},
		{"volumes page over 500", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(501)})
			return err
		}},
		{"VolumeIds with MaxResults", ebs.CodeInvalidParameterCombination, func() error {
			_, err := f.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-1"}, MaxResults: aws.Int32(5)})
			return err
		}},
		{"unknown VolumeIds", ebs.CodeVolumeNotFound, func() error {
			_, err := f.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-1", "vol-2"}})
			return err
		}},
		{"unmodelled filter name", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.micro"}}}})
			return err
		}},
		{"filter without values", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:DeleteOn")}}})
			return err
		}},
		{"bad page token", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5), NextToken: aws.String("nope")})
			return err
		}},
		{"unmodelled SnapshotIds", ebs.CodeUnsupportedOperation, func() error {
			_, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID(1)}})
			return err
		}},
		{"create dry run", ebs.CodeDryRunOperation, func() error {
			_, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-1"), DryRun: aws.Bool(true)})
			return err
		}},
		{"tags for another resource type", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-1"), TagSpecifications: tagSpec(ec2types.ResourceTypeVolume, 1, "")})
			return err
		}},
		{"51 tags", ebs.CodeTagLimitExceeded, func() error {
			_, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-1"), TagSpecifications: tagSpec(ec2types.ResourceTypeSnapshot, 51, "")})
			return err
		}},
		{"reserved aws: tag", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-1"), TagSpecifications: tagSpec(ec2types.ResourceTypeSnapshot, 1, "aws:")})
			return err
		}},
		{"256-character description", ebs.CodeInvalidParameterValue, func() error {
			_, err := f.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-1"), Description: aws.String(strings.Repeat("x", 256))})
			return err
		}},
		{"delete dry run", ebs.CodeDryRunOperation, func() error {
			_, err := f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snapID(1)), DryRun: aws.Bool(true)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.code {
				t.Errorf("got %s, want %s", got, tc.code)
			}
		})
	}
	if n := len(f.Snapshots()); n != 1500 {
		t.Errorf("refused calls changed state: %d snapshots, want 1500", n)
	}
	// EC2 answers DescribeSnapshots' oversized MaxResults with full pages.
	out, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5000)})
	if err != nil || len(out.Snapshots) != 1000 || out.NextToken == nil {
		t.Errorf("MaxResults 5000: got %d snapshots, token %v, err %v; want 1000 and a token", len(out.Snapshots), out.NextToken != nil, err)
	}
}

func TestFakeOwners(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-mine"}, "")
	f.AddSnapshot(inventory.Snapshot{ID: "snap-public"}, "999999999999")
	f.AddImage("ami-mine", "snap-mine")
	ctx := t.Context()
	for _, tc := range []struct {
		owners []string
		want   []string
	}{
		{[]string{"self"}, []string{"snap-mine"}},
		{[]string{ec2fake.AccountID}, []string{"snap-mine"}},
		{[]string{"999999999999"}, []string{"snap-public"}},
		{nil, []string{"snap-mine", "snap-public"}},
	} {
		out, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: tc.owners})
		if err != nil || !slices.Equal(ids(out.Snapshots), tc.want) {
			t.Errorf("OwnerIds %v: got %v, %v; want %v", tc.owners, ids(out.Snapshots), err, tc.want)
		}
		images, err := f.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: tc.owners})
		wantImages := 0
		if slices.Contains(tc.want, "snap-mine") {
			wantImages = 1
		}
		if err != nil || len(images.Images) != wantImages {
			t.Errorf("Owners %v: got %d images, %v; want %d", tc.owners, len(images.Images), err, wantImages)
		}
	}
	_, err := f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-public")})
	if code(err) != ebs.CodeSnapshotNotFound {
		t.Errorf("deleting another account's snapshot: got %v, want %s", err, ebs.CodeSnapshotNotFound)
	}
}

func TestFakeFailAndOnCall(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-1"}, "")
	f.AddSnapshot(inventory.Snapshot{ID: "snap-2"}, "")
	throttle := &smithy.GenericAPIError{Code: ebs.CodeRequestLimitExceeded}
	f.Fail(ec2fake.OpDeleteSnapshot, 2, throttle)
	f.Fail(ec2fake.OpDeleteSnapshot, 1, errors.New("boom"))
	var seen []string
	f.OnCall = func(op string, input any) error {
		if in, ok := input.(*ec2.DeleteSnapshotInput); ok {
			seen = append(seen, aws.ToString(in.SnapshotId))
			if aws.ToString(in.SnapshotId) == "snap-2" {
				return errors.New("hooked")
			}
		}
		return nil
	}
	del := func(id string) error {
		_, err := f.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
		return err
	}
	var got []string
	for _, id := range []string{"snap-1", "snap-1", "snap-1", "snap-1", "snap-2"} {
		err := del(id)
		switch {
		case err == nil:
			got = append(got, "ok")
		case ebs.IsThrottle(err):
			got = append(got, "throttle")
		default:
			got = append(got, err.Error())
		}
	}
	want := []string{"throttle", "throttle", "operation error EC2: DeleteSnapshot, boom", "ok", "operation error EC2: DeleteSnapshot, hooked"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !slices.Equal(seen, []string{"snap-1", "snap-2"}) {
		t.Errorf("OnCall saw %v, want the calls that passed the Fail queue", seen)
	}
	if _, ok := f.Snapshot("snap-2"); !ok {
		t.Error("a call refused by OnCall deleted its snapshot")
	}
	if calls := f.AllCalls(); calls[ec2fake.OpDeleteSnapshot] != 5 || len(calls) != 1 {
		t.Errorf("AllCalls = %v, want 5 DeleteSnapshot only", calls)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: got %v, want context.Canceled", err)
	}
	if n := f.Calls(ec2fake.OpDescribeSnapshots); n != 0 {
		t.Errorf("a cancelled call was counted: %d", n)
	}
}

func TestFakeCreateSnapshot(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-1"})
	// A seeded id in the generator's range must not be handed out again.
	f.AddSnapshot(inventory.Snapshot{ID: "snap-00000000000000001", StartTime: now.AddDate(0, 0, -30)}, "")
	out, err := f.CreateSnapshot(t.Context(), &ec2.CreateSnapshotInput{
		VolumeId:    aws.String("vol-1"),
		Description: aws.String("d"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
			{Key: aws.String("DeleteOn"), Value: aws.String("2026-12-01")},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := f.Snapshot(aws.ToString(out.SnapshotId))
	want := inventory.Snapshot{
		ID: "snap-00000000000000002", VolumeID: "vol-1", State: inventory.StateCompleted, StartTime: now,
		Description: "d", Tags: []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}},
	}
	if !ok || got.ID != want.ID || !got.StartTime.Equal(want.StartTime) || got.State != want.State || !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("created %+v, want %+v", got, want)
	}
	if old, _ := f.Snapshot("snap-00000000000000001"); !old.StartTime.Equal(now.AddDate(0, 0, -30)) {
		t.Errorf("seeded StartTime changed to %v", old.StartTime)
	}
}

// Seeded values are copied: changing the caller's slices afterwards must
// not change the fake.
func TestFakeSeedingCopies(t *testing.T) {
	f := &ec2fake.Fake{}
	tags := []inventory.Tag{{Key: "Name", Value: "a"}}
	f.AddSnapshot(inventory.Snapshot{ID: "snap-1", Tags: tags}, "")
	tags[0].Value = "changed"
	got, _ := f.Snapshot("snap-1")
	got.Tags[0].Value = "changed too"
	if again, _ := f.Snapshot("snap-1"); again.Tags[0].Value != "a" {
		t.Errorf("tag = %q, want a", again.Tags[0].Value)
	}
}

// Run under -race: every method may be called from many goroutines.
func TestFakeConcurrentUse(t *testing.T) {
	f := &ec2fake.Fake{}
	for i := range 8 {
		f.AddInstance(inventory.Instance{ID: fmt.Sprintf("i-%d", i), VolumeIDs: []string{fmt.Sprintf("vol-%d", i)}})
	}
	c := ebs.New(f, "us-east-1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				s, err := c.CreateSnapshot(t.Context(), fmt.Sprintf("vol-%d", i), "", []inventory.Tag{{Key: "k", Value: "v"}})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Snapshots(t.Context()); err != nil {
					t.Error(err)
				}
				if err := c.DeleteSnapshot(t.Context(), s.ID); err != nil {
					t.Error(err)
				}
				_ = f.Calls(ec2fake.OpCreateSnapshot)
			}
		})
	}
	wg.Wait()
	if n := len(f.Snapshots()); n != 0 {
		t.Errorf("%d snapshots left, want 0", n)
	}
}
