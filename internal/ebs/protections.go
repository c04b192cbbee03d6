package ebs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The listings of what protects a snapshot (see inventory.Protection):
// one paginated call each, never a call per snapshot.

// ImageSnapshots maps every EBS snapshot that backs one of the account's
// AMIs, disabled ones included (IncludeDisabled: DescribeImages leaves
// them out otherwise, and their snapshots cannot be deleted either), to
// that AMI's protection.
//
// IAM: ec2:DescribeImages.
func (c *Client) ImageSnapshots(ctx context.Context) (map[string]inventory.Protection, error) {
	in := &ec2.DescribeImagesInput{
		Owners:          []string{selfOwner},
		IncludeDisabled: aws.Bool(true),
		MaxResults:      aws.Int32(maxImagesPage),
	}
	backing := map[string]inventory.Protection{}
	p := ec2.NewDescribeImagesPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe images owned by self in %s: %w", c.region, classify(err))
		}
		for _, img := range page.Images {
			prot := inventory.Protection{Kind: inventory.ProtectedByAMI, Resource: aws.ToString(img.ImageId),
				Disabled: img.State == ec2types.ImageStateDisabled}
			for _, bdm := range img.BlockDeviceMappings {
				if bdm.Ebs != nil && aws.ToString(bdm.Ebs.SnapshotId) != "" {
					backing[aws.ToString(bdm.Ebs.SnapshotId)] = prot
				}
			}
		}
	}
	return backing, nil
}

// activeLockStates are the lock states that refuse DeleteSnapshot: every
// state but expired.
var activeLockStates = []string{
	string(ec2types.LockStateGovernance),
	string(ec2types.LockStateCompliance),
	string(ec2types.LockStateComplianceCooloff),
}

// LockedSnapshots maps the account's snapshots under an active lock
// (governance, compliance, or compliance in its cooling-off period) to
// the lock: one paginated DescribeLockedSnapshots with a lock-state
// filter (EC2 API Reference, "DescribeLockedSnapshots").
//
// IAM: ec2:DescribeLockedSnapshots.
func (c *Client) LockedSnapshots(ctx context.Context) (map[string]inventory.Protection, error) {
	in := &ec2.DescribeLockedSnapshotsInput{
		Filters:    []ec2types.Filter{{Name: aws.String("lock-state"), Values: activeLockStates}},
		MaxResults: aws.Int32(maxLockedPage),
	}
	locked := map[string]inventory.Protection{}
	for {
		page, err := c.api.DescribeLockedSnapshots(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe locked snapshots in %s: %w", c.region, classify(err))
		}
		for _, l := range page.Snapshots {
			locked[aws.ToString(l.SnapshotId)] = inventory.Protection{Kind: inventory.ProtectedByLock,
				Mode: string(l.LockState), Until: aws.ToTime(l.LockExpiresOn)}
		}
		if aws.ToString(page.NextToken) == "" {
			return locked, nil
		}
		in.NextToken = page.NextToken
	}
}

// LaunchTemplateSnapshots maps every snapshot that the default or the
// latest version of one of the account's launch templates maps a volume
// from to those versions: one paginated DescribeLaunchTemplateVersions
// over every template, asking for $Default and $Latest (EC2 API
// Reference: without a template id or name, those are the only versions
// it accepts, and it answers for all templates at once, so no
// DescribeLaunchTemplates is needed).
//
// IAM: ec2:DescribeLaunchTemplateVersions.
func (c *Client) LaunchTemplateSnapshots(ctx context.Context) (map[string][]inventory.Protection, error) {
	in := &ec2.DescribeLaunchTemplateVersionsInput{
		Versions:   []string{"$Default", "$Latest"},
		MaxResults: aws.Int32(maxLaunchTemplatesPage),
	}
	used := map[string][]inventory.Protection{}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe the default and latest launch template versions in %s: %w", c.region, classify(err))
		}
		for _, v := range page.LaunchTemplateVersions {
			if v.LaunchTemplateData == nil {
				continue
			}
			role := "latest"
			if aws.ToBool(v.DefaultVersion) {
				role = "default"
			}
			prot := inventory.Protection{Kind: inventory.ProtectedByLaunchTemplate, Resource: aws.ToString(v.LaunchTemplateId),
				Name: aws.ToString(v.LaunchTemplateName), Version: strconv.FormatInt(aws.ToInt64(v.VersionNumber), 10) + " (" + role + ")"}
			for _, bdm := range v.LaunchTemplateData.BlockDeviceMappings {
				if bdm.Ebs != nil && aws.ToString(bdm.Ebs.SnapshotId) != "" {
					id := aws.ToString(bdm.Ebs.SnapshotId)
					used[id] = append(used[id], prot)
				}
			}
		}
	}
	return used, nil
}

// LockSnapshot locks a snapshot as lock says: mode governance or
// compliance, until lock.Until (ExpirationDate), with lock.CoolOff (whole
// hours, compliance only) when set. EC2 starts counting when the snapshot
// completes; a pending snapshot may be locked.
//
// IAM: ec2:LockSnapshot.
func (c *Client) LockSnapshot(ctx context.Context, id string, lock inventory.Lock) error {
	in := &ec2.LockSnapshotInput{
		SnapshotId:     aws.String(id),
		LockMode:       ec2types.LockMode(lock.Mode),
		ExpirationDate: aws.Time(lock.Until.UTC()),
	}
	if lock.CoolOff > 0 {
		in.CoolOffPeriod = aws.Int32(int32(lock.CoolOff / time.Hour))
	}
	if _, err := c.api.LockSnapshot(ctx, in); err != nil {
		return fmt.Errorf("lock snapshot %s in %s mode until %s in %s: %w", id, lock.Mode, lock.Until.UTC().Format(time.RFC3339), c.region, classify(err))
	}
	return nil
}
