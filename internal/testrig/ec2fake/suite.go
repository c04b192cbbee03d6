package ec2fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// Target is one EC2 API under test and the Seeder that stages state on it.
type Target struct {
	API  ebs.EC2API
	Seed seeder.Seeder
	// Peer is the same account's EC2 API in PeerRegion, for copies.
	Peer ebs.EC2API
	// IgnoresMaxResults says the target answers every snapshot and volume
	// in one page whatever MaxResults asks, as moto 5.2.1 does for
	// DescribeSnapshots and DescribeVolumes (docs/testing.md; it pages
	// DescribeInstances): those two paging checks then skip, since
	// a NextToken loop cannot be observed there.
	IgnoresMaxResults bool
}

// PeerRegion is the region of Target.Peer.
const PeerRegion = "us-west-2"

// suiteRegion only names the region in messages: the API decides where
// calls go.
const suiteRegion = "us-east-1"

// RunSuite runs the behaviours package ebs relies on against the targets
// newTarget makes, one fresh (empty) target per behaviour. Run it against
// the fake and against moto: where they disagree, the fake is wrong.
// Behaviours run one after another, since an emulator's state is shared.
func RunSuite(t *testing.T, newTarget func(t *testing.T) Target) {
	for _, b := range []struct {
		name string
		run  func(ctx context.Context, t *testing.T, tg Target, c *ebs.Client)
	}{
		{"InstanceFilters", testInstanceFilters},
		{"InstanceStateFilter", testInstanceStateFilter},
		{"VolumesByID", testVolumesByID},
		{"CreateSnapshotTagsInOneCall", testCreateSnapshotTagged},
		{"CreateSnapshotUnknownVolume", testCreateSnapshotUnknownVolume},
		{"DeleteSnapshotTwice", testDeleteSnapshotTwice},
		{"SnapshotsByOwner", testSnapshotsByOwner},
		{"SnapshotTagFilters", testSnapshotTagFilters},
		{"ImageBackedSnapshot", testImageBackedSnapshot},
		{"Regions", testRegions},
		{"CopySnapshotAcrossRegions", testCopySnapshot},
		{"Pagination", testPagination},
	} {
		t.Run(b.name, func(t *testing.T) {
			tg := newTarget(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			b.run(ctx, t, tg, ebs.New(tg.API, suiteRegion))
		})
	}
}

func tags(kv ...string) []inventory.Tag {
	out := make([]inventory.Tag, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, inventory.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func filter(name string, values ...string) inventory.Filter {
	return inventory.Filter{Name: name, Values: values}
}

// sortedTags compares tags as sets: EC2 does not promise an order.
func sortedTags(ts []inventory.Tag) []inventory.Tag {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b inventory.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// manyIDs returns n instance ids: the given ones at the start and again
// after ebs.MaxFilterValues (so they fall in two chunks), the rest ids of
// no instance.
func manyIDs(n int, real ...string) []string {
	ids := slices.Clone(real)
	for i := len(ids); i < n; i++ {
		if j := i - ebs.MaxFilterValues - 10; j >= 0 && j < len(real) {
			ids = append(ids, real[j])
			continue
		}
		ids = append(ids, fmt.Sprintf("i-%017x", 0xf0000+i))
	}
	return ids
}

func testInstanceFilters(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	names := map[string]string{} // instance id → staged name
	staged := map[string]inventory.Instance{}
	for _, s := range []struct {
		name, state, env string
	}{
		{"web-1", "running", "prod"},
		{"web-2", "running", "dev"},
		{"db-1", "running", "prod"},
		{"web-3", "stopped", "prod"},
		{"web-4", "terminated", "prod"},
	} {
		inst := tg.Seed.Instance(t, seeder.InstanceSpec{State: s.state, Tags: tags("Name", s.name, "Env", s.env)})
		names[inst.ID] = s.name
		staged[s.name] = inst
	}
	for _, tc := range []struct {
		name    string
		filters []inventory.Filter
		want    []string
	}{
		{"no filter: every instance but the terminated", nil, []string{"db-1", "web-1", "web-2", "web-3"}},
		{"star wildcard", []inventory.Filter{filter("tag:Name", "web-*")}, []string{"web-1", "web-2", "web-3"}},
		{"question mark is one character", []inventory.Filter{filter("tag:Name", "???-1")}, []string{"web-1"}},
		{"no implicit prefix match", []inventory.Filter{filter("tag:Name", "web")}, nil},
		{"values are ORed", []inventory.Filter{filter("tag:Name", "web-1", "db-1")}, []string{"db-1", "web-1"}},
		{"names are ANDed", []inventory.Filter{filter("tag:Name", "web-*"), filter("tag:Env", "prod")}, []string{"web-1", "web-3"}},
		{"values are case-sensitive", []inventory.Filter{filter("tag:Env", "PROD")}, nil},
		{"tag-key", []inventory.Filter{filter("tag-key", "Env")}, []string{"db-1", "web-1", "web-2", "web-3"}},
		{"tag-key absent", []inventory.Filter{filter("tag-key", "Missing")}, nil},
		{"tag-value", []inventory.Filter{filter("tag-value", "dev")}, []string{"web-2"}},
		{"instance-id", []inventory.Filter{filter("instance-id", staged["web-2"].ID)}, []string{"web-2"}},
		// More values than EC2 takes in one filter: listed in chunks,
		// an instance named in two chunks listed once.
		{"instance-id beyond the filter value limit", []inventory.Filter{filter("instance-id", manyIDs(250, staged["web-1"].ID, staged["db-1"].ID)...)}, []string{"db-1", "web-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Instances(ctx, tc.filters)
			if err != nil {
				t.Fatal(err)
			}
			var gotNames []string
			for _, inst := range got {
				gotNames = append(gotNames, names[inst.ID])
				want := staged[names[inst.ID]]
				if inst.ImageID != want.ImageID || !slices.Equal(inst.VolumeIDs, want.VolumeIDs) || len(inst.VolumeIDs) == 0 {
					t.Errorf("instance %s: got image %s volumes %v, want image %s volumes %v",
						inst.ID, inst.ImageID, inst.VolumeIDs, want.ImageID, want.VolumeIDs)
				}
				if diff := cmp.Diff(sortedTags(want.Tags), sortedTags(inst.Tags)); diff != "" {
					t.Errorf("instance %s tags (-want +got):\n%s", inst.ID, diff)
				}
			}
			slices.Sort(gotNames)
			if !slices.Equal(gotNames, tc.want) {
				t.Errorf("got %v, want %v", gotNames, tc.want)
			}
		})
	}
}

func testInstanceStateFilter(ctx context.Context, t *testing.T, tg Target, _ *ebs.Client) {
	tg.Seed.Instance(t, seeder.InstanceSpec{State: "running"})
	stopped := tg.Seed.Instance(t, seeder.InstanceSpec{State: "stopped"})
	out, err := tg.API.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			got = append(got, aws.ToString(i.InstanceId)+"="+string(i.State.Name))
		}
	}
	if want := []string{stopped.ID + "=stopped"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func testVolumesByID(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	a := tg.Seed.Instance(t, seeder.InstanceSpec{VolumeTags: tags("Backup", "yes")})
	b := tg.Seed.Instance(t, seeder.InstanceSpec{})
	missing := "vol-0123456789abcdef0"
	got, err := c.Volumes(ctx, []string{a.VolumeIDs[0], b.VolumeIDs[0], a.VolumeIDs[0], missing})
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Volume{{ID: a.VolumeIDs[0], Tags: tags("Backup", "yes"), Size: seeder.DefaultVolumeSize, Type: "gp2"}, {ID: b.VolumeIDs[0], Size: seeder.DefaultVolumeSize, Type: "gp2"}}
	slices.SortFunc(got, func(x, y inventory.Volume) int { return strings.Compare(x.ID, y.ID) })
	slices.SortFunc(want, func(x, y inventory.Volume) int { return strings.Compare(x.ID, y.ID) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
}

func testCreateSnapshotTagged(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	if _, err := c.CreateSnapshot(ctx, vol, "untagged", nil); !errors.Is(err, ebs.ErrNoTags) {
		t.Fatalf("untagged create: got %v, want ErrNoTags", err)
	}
	want := tags("DeleteOn", "2026-12-01", "Name", "web-1")
	desc := strings.Repeat("d", 300)
	snap, err := c.CreateSnapshot(ctx, vol, desc, want)
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID == "" || snap.VolumeID != vol || len(snap.Description) != 254 {
		t.Errorf("created %+v: want an id, volume %s and a 254-character description", snap, vol)
	}
	if diff := cmp.Diff(sortedTags(want), sortedTags(snap.Tags)); diff != "" {
		t.Errorf("tags returned by CreateSnapshot (-want +got):\n%s", diff)
	}
	// Listing straight after the create must already show the tags: they
	// came with the create, not from a later call.
	listed, err := c.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].ID != snap.ID || listed[0].State != inventory.StateCompleted {
		t.Fatalf("listed %+v, want only %s, completed (the untagged request made none)", listed, snap.ID)
	}
	if diff := cmp.Diff(sortedTags(want), sortedTags(listed[0].Tags)); diff != "" {
		t.Errorf("listed tags (-want +got):\n%s", diff)
	}
}

func testCreateSnapshotUnknownVolume(ctx context.Context, t *testing.T, _ Target, c *ebs.Client) {
	_, err := c.CreateSnapshot(ctx, "vol-0123456789abcdef0", "gone", tags("DeleteOn", "2026-12-01"))
	if !errors.Is(err, ebs.ErrNotFound) || !ebs.IsNotFound(err) {
		t.Errorf("got %v, want an error matching ErrNotFound", err)
	}
}

func testDeleteSnapshotTwice(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	snap, err := c.CreateSnapshot(ctx, vol, "doomed", tags("DeleteOn", "2026-12-01"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.DeleteSnapshot(ctx, snap.ID); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	_, err = tg.API.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap.ID)})
	if !ebs.IsNotFound(err) {
		t.Errorf("raw second delete: got %v, want a not-found error", err)
	}
	if listed, err := c.Snapshots(ctx); err != nil || len(listed) != 0 {
		t.Errorf("after delete: listed %v, %v; want none", listed, err)
	}
}

func testSnapshotsByOwner(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	var want []string
	for range 2 {
		s, err := c.CreateSnapshot(ctx, vol, "mine", tags("DeleteOn", "2026-12-01"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s.ID)
	}
	slices.Sort(want)
	listed, err := c.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range listed {
		got = append(got, s.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Snapshots: got %v, want %v", got, want)
	}
	for _, tc := range []struct {
		owner string
		want  int
	}{{AccountID, 2}, {"999999999999", 0}} {
		n := describeSnapshotCount(ctx, t, tg.API, ec2types.Filter{Name: aws.String("owner-id"), Values: []string{tc.owner}})
		if n != tc.want {
			t.Errorf("owner-id=%s: got %d snapshots, want %d", tc.owner, n, tc.want)
		}
	}
}

func testSnapshotTagFilters(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	for _, day := range []string{"2026-12-01", "2026-12-02", "2027-01-01"} {
		if _, err := c.CreateSnapshot(ctx, vol, "dated", tags("DeleteOn", day)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter ec2types.Filter
		want   int
	}{
		{ec2types.Filter{Name: aws.String("tag:DeleteOn"), Values: []string{"2026-12-*"}}, 2},
		{ec2types.Filter{Name: aws.String("tag:DeleteOn"), Values: []string{"2026-12-01", "2027-01-01"}}, 2},
		{ec2types.Filter{Name: aws.String("tag-key"), Values: []string{"DeleteOn"}}, 3},
		{ec2types.Filter{Name: aws.String("volume-id"), Values: []string{vol}}, 3},
		{ec2types.Filter{Name: aws.String("status"), Values: []string{"pending"}}, 0},
	} {
		if n := describeSnapshotCount(ctx, t, tg.API, tc.filter); n != tc.want {
			t.Errorf("%s=%v: got %d snapshots, want %d", aws.ToString(tc.filter.Name), tc.filter.Values, n, tc.want)
		}
	}
}

func describeSnapshotCount(ctx context.Context, t *testing.T, api ebs.EC2API, f ec2types.Filter) int {
	t.Helper()
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{f}})
	if err != nil {
		t.Fatalf("describe snapshots with %s: %v", aws.ToString(f.Name), err)
	}
	return len(out.Snapshots)
}

func testImageBackedSnapshot(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	inst := tg.Seed.Instance(t, seeder.InstanceSpec{})
	ami, snap := tg.Seed.Image(t, inst)
	backing, err := c.ImageSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]inventory.Protection{snap: {Kind: inventory.ProtectedByAMI, Resource: ami}}, backing); diff != "" {
		t.Errorf("ImageSnapshots (-want +got):\n%s", diff)
	}
	if err := c.DeleteSnapshot(ctx, snap); !errors.Is(err, inventory.ErrSnapshotInUse) {
		t.Errorf("delete of %s backing %s: got %v, want ErrInUse", snap, ami, err)
	}
}

func testRegions(ctx context.Context, t *testing.T, _ Target, c *ebs.Client) {
	regions, err := c.Regions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(regions) || !slices.Contains(regions, "us-east-1") {
		t.Errorf("got %v, want a sorted list holding us-east-1", regions)
	}
}

func testCopySnapshot(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	vol := tg.Seed.Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	orig, err := c.CreateSnapshot(ctx, vol, "original", tags("DeleteOn", "2026-12-01", "Name", "web-1", "team", "a"))
	if err != nil {
		t.Fatal(err)
	}
	dst := ebs.New(tg.Peer, PeerRegion)
	if _, err := dst.CopySnapshot(ctx, suiteRegion, orig.ID, "untagged", "", nil); !errors.Is(err, ebs.ErrNoTags) {
		t.Fatalf("untagged copy: got %v, want ErrNoTags", err)
	}
	want := tags("replication_src_region", suiteRegion, "replication_snapshot_id", orig.ID, "DeleteOn", "2026-12-01")
	cp, err := dst.CopySnapshot(ctx, suiteRegion, orig.ID, "copy of original", "", want)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := dst.CopySnapshot(ctx, suiteRegion, orig.ID, "encrypted copy", "alias/dr", want)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := dst.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]inventory.Snapshot{}
	for _, s := range listed {
		byID[s.ID] = s
	}
	got, ok := byID[cp.ID]
	if !ok || len(listed) != 2 {
		t.Fatalf("destination lists %+v, want the two copies %s and %s", listed, cp.ID, enc.ID)
	}
	// Only the requested tags: EC2 never copies the source's.
	if diff := cmp.Diff(sortedTags(want), sortedTags(got.Tags)); diff != "" {
		t.Errorf("copy's tags (-want +got):\n%s", diff)
	}
	if got.Description != "copy of original" || got.VolumeID != vol {
		t.Errorf("copy %+v: want description %q and the source's volume %s", got, "copy of original", vol)
	}
	out, err := tg.Peer.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("snapshot-id"), Values: []string{enc.ID}}}})
	if err != nil || len(out.Snapshots) != 1 {
		t.Fatalf("describe %s: %v, %v", enc.ID, out, err)
	}
	if s := out.Snapshots[0]; !aws.ToBool(s.Encrypted) || !strings.HasSuffix(aws.ToString(s.KmsKeyId), "alias/dr") {
		t.Errorf("encrypted copy: Encrypted %v, KmsKeyId %q; want true and alias/dr", aws.ToBool(s.Encrypted), aws.ToString(s.KmsKeyId))
	}
	if _, err := dst.CopySnapshot(ctx, suiteRegion, "snap-0123456789abcdef0", "gone", "", want); !ebs.IsNotFound(err) {
		t.Errorf("copy of a missing snapshot: got %v, want a not-found error", err)
	}
}

// testPagination pages through each listing with EC2's smallest page: the
// pages hold at most MaxResults, a NextToken leads to the next page, the
// last page has none, and together the pages hold every result once.
func testPagination(ctx context.Context, t *testing.T, tg Target, c *ebs.Client) {
	const n, size = 7, 5
	var instances, volumes, snapshots []string
	for range n {
		inst := tg.Seed.Instance(t, seeder.InstanceSpec{Tags: tags("Page", "yes")})
		instances, volumes = append(instances, inst.ID), append(volumes, inst.VolumeIDs[0])
		s, err := c.CreateSnapshot(ctx, inst.VolumeIDs[0], "paged", tags("DeleteOn", "2026-12-01"))
		if err != nil {
			t.Fatal(err)
		}
		snapshots = append(snapshots, s.ID)
	}
	pageSize := aws.Int32(size)
	for _, l := range []struct {
		name    string
		ignored bool // the target answers one page whatever MaxResults says
		want    []string
		page    func(token *string) ([]string, *string, error)
	}{
		{"DescribeInstances", false, instances, func(token *string) ([]string, *string, error) {
			out, err := tg.API.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: pageSize, NextToken: token,
				Filters: []ec2types.Filter{{Name: aws.String("tag:Page"), Values: []string{"yes"}}}})
			if err != nil {
				return nil, nil, err
			}
			var ids []string
			for _, r := range out.Reservations {
				for _, i := range r.Instances {
					ids = append(ids, aws.ToString(i.InstanceId))
				}
			}
			return ids, out.NextToken, nil
		}},
		{"DescribeVolumes", tg.IgnoresMaxResults, volumes, func(token *string) ([]string, *string, error) {
			out, err := tg.API.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: pageSize, NextToken: token,
				Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: volumes}}})
			if err != nil {
				return nil, nil, err
			}
			var ids []string
			for _, v := range out.Volumes {
				ids = append(ids, aws.ToString(v.VolumeId))
			}
			return ids, out.NextToken, nil
		}},
		{"DescribeSnapshots", tg.IgnoresMaxResults, snapshots, func(token *string) ([]string, *string, error) {
			out, err := tg.API.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: pageSize, NextToken: token, OwnerIds: []string{"self"}})
			if err != nil {
				return nil, nil, err
			}
			var ids []string
			for _, s := range out.Snapshots {
				ids = append(ids, aws.ToString(s.SnapshotId))
			}
			return ids, out.NextToken, nil
		}},
	} {
		t.Run(l.name, func(t *testing.T) {
			if l.ignored {
				t.Skipf("the target ignores MaxResults on %s: one page holds everything", l.name)
			}
			var got []string
			var sizes []int
			var token *string
			for {
				ids, next, err := l.page(token)
				if err != nil {
					t.Fatal(err)
				}
				got, sizes = append(got, ids...), append(sizes, len(ids))
				if next == nil {
					break
				}
				if len(sizes) > n {
					t.Fatalf("more than %d pages: %v", n, sizes)
				}
				token = next
			}
			if want := []int{size, n - size}; !slices.Equal(sizes, want) {
				t.Errorf("page sizes %v, want %v", sizes, want)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(l.want))
			if !slices.Equal(got, want) {
				t.Errorf("paged ids %v, want each of %v once", got, want)
			}
		})
	}
}
