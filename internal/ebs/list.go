package ebs

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// selfOwner restricts snapshot and image listings to the caller's account:
// without it EC2 also returns every public snapshot and image.
const selfOwner = "self"

// Regions returns the regions enabled for the account, sorted.
//
// IAM: ec2:DescribeRegions.
func (c *Client) Regions(ctx context.Context) ([]string, error) {
	out, err := c.api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		// Not classified: an AuthFailure here means bad credentials, not a
		// region the account cannot use.
		return nil, fmt.Errorf("describe regions from %s: %w", c.region, err)
	}
	regions := make([]string, 0, len(out.Regions))
	for _, r := range out.Regions {
		regions = append(regions, aws.ToString(r.RegionName))
	}
	slices.Sort(regions)
	return regions, nil
}

// liveStates are every instance state but terminated (EC2's
// InstanceStateName values): an instance in any of them still owns its
// volumes, so its stanza must keep protecting their snapshots.
var liveStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// Instances returns the instances that match filters (names ANDed, values
// ORed, wildcards allowed) in every state but terminated, with their state,
// as EC2 orders them: one paginated listing with a server-side
// instance-state-name filter, or one per set of filterSets when a filter
// holds more than MaxFilterValues values, merged without duplicates. An
// error EC2 answers with InvalidParameterValue (an unknown filter name
// such as "tags:env") or FilterLimitExceeded wraps
// inventory.ErrFilterRejected.
//
// IAM: ec2:DescribeInstances.
func (c *Client) Instances(ctx context.Context, filters []inventory.Filter) ([]inventory.Instance, error) {
	if len(filterSets(filters)) == 1 {
		return c.instances(ctx, filters)
	}
	var out []inventory.Instance
	seen := map[string]bool{}
	for _, set := range filterSets(filters) {
		inst, err := c.instances(ctx, set)
		if err != nil {
			return nil, err
		}
		out = byID(out, inst, seen, func(i inventory.Instance) string { return i.ID })
	}
	return out, nil
}

// instances is one paginated DescribeInstances with filters, which EC2
// must accept as they are (filterSets).
func (c *Client) instances(ctx context.Context, filters []inventory.Filter) ([]inventory.Instance, error) {
	in := &ec2.DescribeInstancesInput{
		Filters: append(toSDKFilters(filters), ec2types.Filter{
			Name:   aws.String("instance-state-name"),
			Values: liveStates,
		}),
		MaxResults: aws.Int32(maxInstancesPage),
	}
	var instances []inventory.Instance
	p := ec2.NewDescribeInstancesPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances matching %s in %s: %w", describeFilters(filters), c.region, classify(filterRejected(err)))
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				instances = append(instances, fromSDKInstance(i))
			}
		}
	}
	return instances, nil
}

// Snapshots returns every snapshot the account owns in the region.
//
// IAM: ec2:DescribeSnapshots.
func (c *Client) Snapshots(ctx context.Context) ([]inventory.Snapshot, error) {
	return c.snapshots(ctx, nil, "owned by self")
}

// SnapshotsMatching returns the account's snapshots that match filters
// (DescribeSnapshots filter names): one paginated listing, evaluated by
// EC2, per set of filterSets (merged without duplicates).
//
// IAM: ec2:DescribeSnapshots.
func (c *Client) SnapshotsMatching(ctx context.Context, filters []inventory.Filter) ([]inventory.Snapshot, error) {
	var out []inventory.Snapshot
	seen := map[string]bool{}
	for _, set := range filterSets(filters) {
		snaps, err := c.snapshots(ctx, set, "matching "+describeFilters(set))
		if err != nil {
			return nil, err
		}
		out = byID(out, snaps, seen, func(s inventory.Snapshot) string { return s.ID })
	}
	return out, nil
}

// snapshots lists the account's snapshots that match filters; what names
// the listing in errors.
func (c *Client) snapshots(ctx context.Context, filters []inventory.Filter, what string) ([]inventory.Snapshot, error) {
	in := &ec2.DescribeSnapshotsInput{
		OwnerIds:   []string{selfOwner},
		MaxResults: aws.Int32(maxSnapshotsPage),
	}
	if len(filters) > 0 {
		in.Filters = toSDKFilters(filters)
	}
	// EC2 does not say how many snapshots there are, and appending a
	// region's 100,000 to one slice allocates about five times their
	// size as it grows: each page is converted into its own slice and
	// the pages are joined once at the end.
	var pages [][]inventory.Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe snapshots %s in %s: %w", what, c.region, classify(filterRejected(err)))
		}
		snaps := make([]inventory.Snapshot, len(page.Snapshots))
		n := 0
		for _, s := range page.Snapshots {
			n += len(s.Tags)
		}
		// One tag array per page, not one per snapshot: 100,000 small
		// allocations fewer for a region of 100,000 snapshots.
		tags := make([]inventory.Tag, 0, n)
		for i, s := range page.Snapshots {
			var own []inventory.Tag
			own, tags = appendSDKTags(tags, s.Tags)
			snaps[i] = fromSDKSnapshot(s, own)
		}
		pages = append(pages, snaps)
	}
	return slices.Concat(pages...), nil
}

// HasSnapshots reports whether the account owns any snapshot in the
// region, with one DescribeSnapshots call of the smallest page EC2 takes
// (MaxResults 5, OwnerIds self): the replication fan-out's test for a
// region worth a worker.
//
// IAM: ec2:DescribeSnapshots.
func (c *Client) HasSnapshots(ctx context.Context) (bool, error) {
	out, err := c.api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{selfOwner}, MaxResults: aws.Int32(5)})
	if err != nil {
		return false, fmt.Errorf("describe snapshots owned by self in %s: %w", c.region, classify(err))
	}
	return len(out.Snapshots) > 0, nil
}

// Volumes returns the volumes with the given ids (duplicates are asked
// once). Ids that no longer exist are simply absent from the result.
//
// IAM: ec2:DescribeVolumes.
func (c *Client) Volumes(ctx context.Context, ids []string) ([]inventory.Volume, error) {
	ids = unique(ids)
	var volumes []inventory.Volume
	// A volume-id filter, unlike VolumeIds, does not fail the whole call
	// when one volume was deleted since the instances were listed.
	for chunk := range slices.Chunk(ids, MaxFilterValues) {
		vols, err := c.volumes(ctx, []inventory.Filter{{Name: "volume-id", Values: chunk}}, fmt.Sprintf("%s… (%d ids)", chunk[0], len(chunk)))
		if err != nil {
			return nil, err
		}
		volumes = append(volumes, vols...)
	}
	return volumes, nil
}

// VolumesMatching returns the volumes that match filters (DescribeVolumes
// filter names, ANDed; values ORed with * and ? wildcards): one paginated
// listing, evaluated by EC2, per set of filterSets (merged without
// duplicates).
//
// IAM: ec2:DescribeVolumes.
func (c *Client) VolumesMatching(ctx context.Context, filters []inventory.Filter) ([]inventory.Volume, error) {
	var out []inventory.Volume
	seen := map[string]bool{}
	for _, set := range filterSets(filters) {
		vols, err := c.volumes(ctx, set, "matching "+describeFilters(set))
		if err != nil {
			return nil, err
		}
		out = byID(out, vols, seen, func(v inventory.Volume) string { return v.ID })
	}
	return out, nil
}

// volumes lists the volumes that match filters; what names the listing in
// errors.
func (c *Client) volumes(ctx context.Context, filters []inventory.Filter, what string) ([]inventory.Volume, error) {
	in := &ec2.DescribeVolumesInput{Filters: toSDKFilters(filters), MaxResults: aws.Int32(maxVolumesPage)}
	var volumes []inventory.Volume
	p := ec2.NewDescribeVolumesPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe volumes %s in %s: %w", what, c.region, classify(filterRejected(err)))
		}
		for _, v := range page.Volumes {
			volumes = append(volumes, fromSDKVolume(v))
		}
	}
	return volumes, nil
}

func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
