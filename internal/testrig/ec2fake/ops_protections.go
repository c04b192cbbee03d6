package ec2fake

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	rbintypes "github.com/aws/aws-sdk-go-v2/service/rbin/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// What protects snapshots in the fake: disabled AMIs, snapshot locks,
// launch templates and Recycle Bin rules. moto 5.2.1 implements launch
// templates but neither DisableImage, snapshot locks nor Recycle Bin.

// Operation names of the protections' calls.
const (
	OpDescribeLockedSnapshots        = "DescribeLockedSnapshots"
	OpLockSnapshot                   = "LockSnapshot"
	OpDescribeLaunchTemplateVersions = "DescribeLaunchTemplateVersions"
	OpListRules                      = "ListRules"
	OpGetRule                        = "GetRule"
)

var _ ebs.RecycleBinAPI = (*Fake)(nil)

type snapshotLock struct {
	mode    ec2types.LockState
	expires time.Time
}

// LaunchTemplate is a launch template as the fake stores it: Versions[i]
// lists the snapshots version i+1 maps volumes from; Default is the
// default version's number (1 when zero).
type LaunchTemplate struct {
	ID, Name string
	Versions [][]string
	Default  int
}

// DisableImage marks a seeded AMI disabled: DescribeImages lists it only
// with IncludeDisabled, and its snapshots stay in use.
func (f *Fake) DisableImage(amiID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images.get(amiID)
	if !ok {
		panic("ec2fake: DisableImage of unknown AMI " + amiID)
	}
	img.disabled = true
	f.images.put(amiID, img)
}

// AddLaunchTemplate seeds a launch template.
func (f *Fake) AddLaunchTemplate(lt LaunchTemplate) {
	mustID("launch template", lt.ID)
	if lt.Default == 0 {
		lt.Default = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.templates = append(f.templates, lt)
}

// AddRecycleBinRule seeds a Recycle Bin retention rule for EBS snapshots.
func (f *Fake) AddRecycleBinRule(r inventory.RecycleBinRule) {
	mustID("recycle bin rule", r.ID)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, r)
}

// LockSnapshot locks one of the account's snapshots as EC2 does: mode
// governance or compliance, LockDuration (days) or ExpirationDate, and a
// CoolOffPeriod (1 to 72 hours) in compliance mode only.
func (f *Fake) LockSnapshot(ctx context.Context, in *ec2.LockSnapshotInput, _ ...func(*ec2.Options)) (*ec2.LockSnapshotOutput, error) {
	if err := f.begin(ctx, OpLockSnapshot, in); err != nil {
		return nil, err
	}
	id := aws.ToString(in.SnapshotId)
	mode := ec2types.LockState(in.LockMode)
	switch {
	case mode != ec2types.LockStateGovernance && mode != ec2types.LockStateCompliance:
		return nil, opError(OpLockSnapshot, apiError(ebs.CodeInvalidParameterValue, "Invalid lock mode %q", in.LockMode))
	case (in.LockDuration == nil) == (in.ExpirationDate == nil):
		return nil, opError(OpLockSnapshot, apiError(ebs.CodeInvalidParameterCombination, "Specify either LockDuration or ExpirationDate"))
	case in.CoolOffPeriod != nil && (mode != ec2types.LockStateCompliance || *in.CoolOffPeriod < 1 || *in.CoolOffPeriod > 72):
		return nil, opError(OpLockSnapshot, apiError(ebs.CodeInvalidParameterValue, "CoolOffPeriod is 1 to 72 hours, compliance mode only"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.snapshots.get(id); !ok || s.owner != AccountID {
		return nil, opError(OpLockSnapshot, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist.", id))
	}
	expires := aws.ToTime(in.ExpirationDate)
	if in.LockDuration != nil {
		expires = f.now().Add(time.Duration(*in.LockDuration) * 24 * time.Hour)
	}
	if in.CoolOffPeriod != nil {
		mode = ec2types.LockStateComplianceCooloff
	}
	if f.locks == nil {
		f.locks = map[string]snapshotLock{}
	}
	f.locks[id] = snapshotLock{mode: mode, expires: expires}
	return &ec2.LockSnapshotOutput{SnapshotId: aws.String(id), LockState: mode, LockExpiresOn: aws.Time(expires)}, nil
}

// DescribeLockedSnapshots lists the account's locks in one page; a
// lock-state filter is honoured, an expired lock reports "expired".
func (f *Fake) DescribeLockedSnapshots(ctx context.Context, in *ec2.DescribeLockedSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLockedSnapshotsOutput, error) {
	if err := f.begin(ctx, OpDescribeLockedSnapshots, in); err != nil {
		return nil, err
	}
	var states []string
	for _, flt := range in.Filters {
		if aws.ToString(flt.Name) != "lock-state" {
			return nil, opError(OpDescribeLockedSnapshots, unsupported(OpDescribeLockedSnapshots, "filter "+aws.ToString(flt.Name)))
		}
		states = flt.Values
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ec2.DescribeLockedSnapshotsOutput{}
	for _, id := range sortedIDs(f.locks) {
		l := f.locks[id]
		if !l.expires.After(f.now()) {
			l.mode = ec2types.LockStateExpired
		}
		if states != nil && !slices.Contains(states, string(l.mode)) {
			continue
		}
		out.Snapshots = append(out.Snapshots, ec2types.LockedSnapshotsInfo{SnapshotId: aws.String(id), OwnerId: aws.String(AccountID),
			LockState: l.mode, LockExpiresOn: aws.Time(l.expires)})
	}
	return out, nil
}

// locked returns the active lock of a snapshot. Callers hold f.mu.
func (f *Fake) locked(id string) (snapshotLock, bool) {
	l, ok := f.locks[id]
	return l, ok && l.expires.After(f.now())
}

// DescribeLaunchTemplateVersions answers the one form the adapter sends:
// no template id or name, Versions $Default and/or $Latest, all templates
// in one page.
func (f *Fake) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	if err := f.begin(ctx, OpDescribeLaunchTemplateVersions, in); err != nil {
		return nil, err
	}
	if in.LaunchTemplateId != nil || in.LaunchTemplateName != nil || len(in.Filters) > 0 {
		return nil, opError(OpDescribeLaunchTemplateVersions, unsupported(OpDescribeLaunchTemplateVersions, "a template id, name or filters"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for _, lt := range f.templates {
		var nums []int
		for _, v := range in.Versions {
			switch v {
			case "$Default":
				nums = append(nums, lt.Default)
			case "$Latest":
				nums = append(nums, len(lt.Versions))
			default:
				return nil, opError(OpDescribeLaunchTemplateVersions, apiError(ebs.CodeInvalidParameterValue, "version %q needs a launch template id or name", v))
			}
		}
		slices.Sort(nums)
		for _, n := range slices.Compact(nums) {
			v := ec2types.LaunchTemplateVersion{LaunchTemplateId: aws.String(lt.ID), LaunchTemplateName: aws.String(lt.Name),
				VersionNumber: aws.Int64(int64(n)), DefaultVersion: aws.Bool(n == lt.Default), LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{}}
			for i, snap := range lt.Versions[n-1] {
				v.LaunchTemplateData.BlockDeviceMappings = append(v.LaunchTemplateData.BlockDeviceMappings, ec2types.LaunchTemplateBlockDeviceMapping{
					DeviceName: aws.String(deviceName(i)), Ebs: &ec2types.LaunchTemplateEbsBlockDevice{SnapshotId: aws.String(snap)}})
			}
			out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, v)
		}
	}
	return out, nil
}

// ListRules lists the seeded Recycle Bin rules in one page; only
// ResourceType EBS_SNAPSHOT is modelled.
func (f *Fake) ListRules(ctx context.Context, in *rbin.ListRulesInput, _ ...func(*rbin.Options)) (*rbin.ListRulesOutput, error) {
	if err := f.begin(ctx, OpListRules, in); err != nil {
		return nil, err
	}
	if in.ResourceType != rbintypes.ResourceTypeEbsSnapshot {
		return nil, unsupported(OpListRules, "resource type "+string(in.ResourceType))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &rbin.ListRulesOutput{}
	for _, r := range f.rules {
		out.Rules = append(out.Rules, rbintypes.RuleSummary{Identifier: aws.String(r.ID), RetentionPeriod: days(r.Retention)})
	}
	return out, nil
}

// GetRule returns one seeded Recycle Bin rule.
func (f *Fake) GetRule(ctx context.Context, in *rbin.GetRuleInput, _ ...func(*rbin.Options)) (*rbin.GetRuleOutput, error) {
	if err := f.begin(ctx, OpGetRule, in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.ID == aws.ToString(in.Identifier) {
			return &rbin.GetRuleOutput{Identifier: aws.String(r.ID), ResourceType: rbintypes.ResourceTypeEbsSnapshot,
				RetentionPeriod: days(r.Retention), ResourceTags: resourceTags(r.Tags), ExcludeResourceTags: resourceTags(r.Exclude),
				Status: rbintypes.RuleStatusAvailable}, nil
		}
	}
	return nil, &rbintypes.ResourceNotFoundException{Message: aws.String("rule " + aws.ToString(in.Identifier) + " not found")}
}

func days(d time.Duration) *rbintypes.RetentionPeriod {
	return &rbintypes.RetentionPeriod{RetentionPeriodValue: aws.Int32(int32(d / (24 * time.Hour))), RetentionPeriodUnit: rbintypes.RetentionPeriodUnitDays}
}

func resourceTags(tags []inventory.Tag) []rbintypes.ResourceTag {
	var out []rbintypes.ResourceTag
	for _, t := range tags {
		out = append(out, rbintypes.ResourceTag{ResourceTagKey: aws.String(t.Key), ResourceTagValue: aws.String(t.Value)})
	}
	return out
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
