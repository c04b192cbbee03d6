package ec2fake

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// EC2's page-size bounds per call (the API reference's MaxResults ranges).
const (
	minPage          = 5
	maxInstancesPage = 1000
	maxVolumesPage   = 500
	maxSnapshotsPage = 1000
	maxImagesPage    = 1000
	maxTags          = 50
	maxDescription   = 255
)

var instanceFields = fields[inventory.Instance]{
	attrs: map[string]func(inventory.Instance) []string{
		"instance-id":         func(i inventory.Instance) []string { return []string{i.ID} },
		"instance-state-name": func(i inventory.Instance) []string { return []string{i.State} },
		"image-id":            func(i inventory.Instance) []string { return []string{i.ImageID} },
	},
	tags: func(i inventory.Instance) []inventory.Tag { return i.Tags },
}

var volumeFields = fields[inventory.Volume]{
	attrs: map[string]func(inventory.Volume) []string{
		"volume-id":   func(v inventory.Volume) []string { return []string{v.ID} },
		"volume-type": func(v inventory.Volume) []string { return []string{v.Type} },
	},
	tags: func(v inventory.Volume) []inventory.Tag { return v.Tags },
}

var snapshotFields = fields[ownedSnapshot]{
	attrs: map[string]func(ownedSnapshot) []string{
		"snapshot-id": func(s ownedSnapshot) []string { return []string{s.ID} },
		"volume-id":   func(s ownedSnapshot) []string { return []string{s.VolumeID} },
		"status":      func(s ownedSnapshot) []string { return []string{s.State} },
		"owner-id":    func(s ownedSnapshot) []string { return []string{s.owner} },
		"description": func(s ownedSnapshot) []string { return []string{s.Description} },
		"storage-tier": func(s ownedSnapshot) []string {
			return []string{cmp.Or(s.StorageTier, inventory.TierStandard)}
		},
	},
	tags: func(s ownedSnapshot) []inventory.Tag { return s.Tags },
}

// Images carry no tags or attributes in the fake: any filter is refused.
var imageFields = fields[image]{}

// DescribeRegions returns the configured regions. Opt-in status is not
// modelled, so AllRegions changes nothing.
func (f *Fake) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	if err := f.begin(ctx, OpDescribeRegions, in); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 || len(in.RegionNames) > 0 {
		return nil, unsupported(OpDescribeRegions, "Filters and RegionNames")
	}
	f.mu.Lock()
	regions := f.regions
	f.mu.Unlock()
	if regions == nil {
		regions = defaultRegions
	}
	out := &ec2.DescribeRegionsOutput{}
	for _, r := range regions {
		out.Regions = append(out.Regions, ec2types.Region{
			RegionName:  aws.String(r),
			Endpoint:    aws.String("ec2." + r + ".amazonaws.com"),
			OptInStatus: aws.String("opt-in-not-required"),
		})
	}
	return out, nil
}

// DescribeInstances pages through instances, one per reservation.
func (f *Fake) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := f.begin(ctx, OpDescribeInstances, in); err != nil {
		return nil, err
	}
	if len(in.InstanceIds) > 0 {
		return nil, unsupported(OpDescribeInstances, "InstanceIds (use an instance-id filter)")
	}
	limit, err := pageSize(in.MaxResults, maxInstancesPage, false)
	if err != nil {
		return nil, opError(OpDescribeInstances, err)
	}
	keep, err := compile(in.Filters, instanceFields)
	if err != nil {
		return nil, opError(OpDescribeInstances, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page, next, ok := f.instances.page(aws.ToString(in.NextToken), limit, keep)
	if !ok {
		return nil, badToken(OpDescribeInstances, in.NextToken)
	}
	out := &ec2.DescribeInstancesOutput{NextToken: token(next)}
	for _, inst := range page {
		out.Reservations = append(out.Reservations, ec2types.Reservation{
			ReservationId: aws.String("r-" + strings.TrimPrefix(inst.ID, "i-")),
			OwnerId:       aws.String(AccountID),
			Instances:     []ec2types.Instance{toSDKInstance(inst)},
		})
	}
	return out, nil
}

// DescribeVolumes pages through volumes. VolumeIds that do not exist fail
// the call (InvalidVolume.NotFound), as in EC2; filters do not.
func (f *Fake) DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	if err := f.begin(ctx, OpDescribeVolumes, in); err != nil {
		return nil, err
	}
	if len(in.VolumeIds) > 0 && in.MaxResults != nil {
		return nil, opError(OpDescribeVolumes, apiError(ebs.CodeInvalidParameterCombination, "The parameter volumeSet cannot be used with the parameter maxResults"))
	}
	limit, err := pageSize(in.MaxResults, maxVolumesPage, false)
	if err != nil {
		return nil, opError(OpDescribeVolumes, err)
	}
	keep, err := compile(in.Filters, volumeFields)
	if err != nil {
		return nil, opError(OpDescribeVolumes, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.VolumeIds) > 0 {
		for _, id := range in.VolumeIds {
			if _, ok := f.volumes.get(id); !ok {
				return nil, opError(OpDescribeVolumes, apiError(ebs.CodeVolumeNotFound, "The volume '%s' does not exist.", id))
			}
		}
		filter := keep
		keep = func(v inventory.Volume) bool { return slices.Contains(in.VolumeIds, v.ID) && filter(v) }
	}
	page, next, ok := f.volumes.page(aws.ToString(in.NextToken), limit, keep)
	if !ok {
		return nil, badToken(OpDescribeVolumes, in.NextToken)
	}
	out := &ec2.DescribeVolumesOutput{NextToken: token(next)}
	for _, v := range page {
		out.Volumes = append(out.Volumes, ec2types.Volume{
			VolumeId:   aws.String(v.ID),
			State:      ec2types.VolumeStateInUse,
			Tags:       ebs.ToSDKTags(v.Tags),
			Size:       aws.Int32(v.Size),
			VolumeType: ec2types.VolumeType(v.Type),
		})
	}
	return out, nil
}

// DescribeSnapshots pages through snapshots of the given owners ("self" is
// AccountID), or of every owner when OwnerIds is empty.
func (f *Fake) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	if err := f.begin(ctx, OpDescribeSnapshots, in); err != nil {
		return nil, err
	}
	if len(in.SnapshotIds) > 0 || len(in.RestorableByUserIds) > 0 {
		return nil, unsupported(OpDescribeSnapshots, "SnapshotIds and RestorableByUserIds (use a snapshot-id filter)")
	}
	// EC2 answers a MaxResults over 1,000 with pages of 1,000.
	limit, err := pageSize(in.MaxResults, maxSnapshotsPage, true)
	if err != nil {
		return nil, opError(OpDescribeSnapshots, err)
	}
	keep, err := compile(in.Filters, snapshotFields)
	if err != nil {
		return nil, opError(OpDescribeSnapshots, err)
	}
	if owners := ownerSet(in.OwnerIds); owners != nil {
		filter := keep
		keep = func(s ownedSnapshot) bool { return owners[s.owner] && filter(s) }
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page, next, ok := f.snapshots.page(aws.ToString(in.NextToken), limit, keep)
	if !ok {
		return nil, badToken(OpDescribeSnapshots, in.NextToken)
	}
	out := &ec2.DescribeSnapshotsOutput{NextToken: token(next)}
	for _, s := range page {
		out.Snapshots = append(out.Snapshots, toSDKSnapshot(s))
	}
	return out, nil
}

// DescribeImages pages through the AMIs, all owned by AccountID.
func (f *Fake) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	if err := f.begin(ctx, OpDescribeImages, in); err != nil {
		return nil, err
	}
	if len(in.ImageIds) > 0 || len(in.ExecutableUsers) > 0 {
		return nil, unsupported(OpDescribeImages, "ImageIds and ExecutableUsers")
	}
	limit, err := pageSize(in.MaxResults, maxImagesPage, false)
	if err != nil {
		return nil, opError(OpDescribeImages, err)
	}
	keep, err := compile(in.Filters, imageFields)
	if err != nil {
		return nil, opError(OpDescribeImages, err)
	}
	if owners := ownerSet(in.Owners); owners != nil && !owners[AccountID] {
		keep = func(image) bool { return false }
	}
	if !aws.ToBool(in.IncludeDisabled) {
		enabled := keep
		keep = func(img image) bool { return !img.disabled && enabled(img) }
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page, next, ok := f.images.page(aws.ToString(in.NextToken), limit, keep)
	if !ok {
		return nil, badToken(OpDescribeImages, in.NextToken)
	}
	out := &ec2.DescribeImagesOutput{NextToken: token(next)}
	for _, img := range page {
		sdk := ec2types.Image{
			ImageId: aws.String(img.id),
			OwnerId: aws.String(AccountID),
			State:   ec2types.ImageStateAvailable,
		}
		if img.disabled {
			sdk.State = ec2types.ImageStateDisabled
		}
		for i, s := range img.snapshots {
			sdk.BlockDeviceMappings = append(sdk.BlockDeviceMappings, ec2types.BlockDeviceMapping{
				DeviceName: aws.String(deviceName(i)),
				Ebs:        &ec2types.EbsBlockDevice{SnapshotId: aws.String(s)},
			})
		}
		out.Images = append(out.Images, sdk)
	}
	return out, nil
}

// CreateSnapshot snapshots an existing volume: the snapshot is completed at
// once (as in moto) unless PendingFor is set, tagged from
// TagSpecifications, stamped with Now.
func (f *Fake) CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	if err := f.begin(ctx, OpCreateSnapshot, in); err != nil {
		return nil, err
	}
	if aws.ToBool(in.DryRun) {
		return nil, opError(OpCreateSnapshot, apiError(ebs.CodeDryRunOperation, "Request would have succeeded, but DryRun flag is set."))
	}
	tags, err := specTags(in.TagSpecifications)
	if err != nil {
		return nil, opError(OpCreateSnapshot, err)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, opError(OpCreateSnapshot, err)
	}
	volumeID := aws.ToString(in.VolumeId)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes.get(volumeID); !ok {
		return nil, opError(OpCreateSnapshot, apiError(ebs.CodeVolumeNotFound, "The volume '%s' does not exist.", volumeID))
	}
	sdk := toSDKSnapshot(f.newSnapshot(volumeID, aws.ToString(in.Description), tags))
	return &ec2.CreateSnapshotOutput{
		SnapshotId:  sdk.SnapshotId,
		VolumeId:    sdk.VolumeId,
		State:       sdk.State,
		StartTime:   sdk.StartTime,
		Description: sdk.Description,
		OwnerId:     sdk.OwnerId,
		Tags:        sdk.Tags,
	}, nil
}

// newSnapshot stores a snapshot the fake creates now, owned by AccountID.
// Callers hold f.mu.
func (f *Fake) newSnapshot(volumeID, description string, tags []inventory.Tag) ownedSnapshot {
	s := ownedSnapshot{owner: AccountID, Snapshot: inventory.Snapshot{
		ID: f.newID("snap", func(id string) bool {
			_, taken := f.snapshots.get(id)
			return taken
		}),
		VolumeID:    volumeID,
		StartTime:   f.now().UTC(),
		Description: description,
		Tags:        tags,
	}}
	s.State = f.created(s.ID, s.StartTime)
	f.snapshots.put(s.ID, s)
	return s
}

// DeleteSnapshot deletes one of the account's snapshots. A snapshot that is
// missing or owned by another account is InvalidSnapshot.NotFound; one
// that backs an AMI is InvalidSnapshot.InUse.
func (f *Fake) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	if err := f.begin(ctx, OpDeleteSnapshot, in); err != nil {
		return nil, err
	}
	if aws.ToBool(in.DryRun) {
		return nil, opError(OpDeleteSnapshot, apiError(ebs.CodeDryRunOperation, "Request would have succeeded, but DryRun flag is set."))
	}
	id := aws.ToString(in.SnapshotId)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.snapshots.get(id); !ok || s.owner != AccountID {
		return nil, opError(OpDeleteSnapshot, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist.", id))
	}
	if ami, ok := f.inUse[id]; ok {
		return nil, opError(OpDeleteSnapshot, apiError(ebs.CodeSnapshotInUse, "The snapshot %s is currently in use by %s", id, ami))
	}
	if l, ok := f.locked(id); ok {
		return nil, opError(OpDeleteSnapshot, apiError(ebs.CodeSnapshotLocked, "The snapshot %s is locked in %s mode until %s", id, l.mode, l.expires.UTC().Format(time.RFC3339)))
	}
	f.snapshots.remove(id)
	return &ec2.DeleteSnapshotOutput{}, nil
}

// ModifySnapshotTier archives one of the account's completed snapshots
// (StorageTier=archive is the only target EC2 accepts). Unlike EC2, which
// archives in the background, the fake reports the new tier at once. A
// missing snapshot is InvalidSnapshot.NotFound; one already archived or
// not completed is IncorrectState, as in EC2. moto does not model this
// call, so tests of the archive tier run on the fake only.
func (f *Fake) ModifySnapshotTier(ctx context.Context, in *ec2.ModifySnapshotTierInput, _ ...func(*ec2.Options)) (*ec2.ModifySnapshotTierOutput, error) {
	if err := f.begin(ctx, OpModifySnapshotTier, in); err != nil {
		return nil, err
	}
	if in.StorageTier != ec2types.TargetStorageTierArchive {
		return nil, opError(OpModifySnapshotTier, apiError(ebs.CodeInvalidParameterValue, "The storage tier '%s' is invalid", in.StorageTier))
	}
	id := aws.ToString(in.SnapshotId)
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.snapshots.get(id)
	if !ok || s.owner != AccountID {
		return nil, opError(OpModifySnapshotTier, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist.", id))
	}
	if s.State != inventory.StateCompleted || s.StorageTier == inventory.TierArchive {
		return nil, opError(OpModifySnapshotTier, apiError(ebs.CodeIncorrectState, "The snapshot '%s' is %s in the %q tier", id, s.State, s.StorageTier))
	}
	s.StorageTier = inventory.TierArchive
	f.snapshots.put(id, s)
	return &ec2.ModifySnapshotTierOutput{SnapshotId: aws.String(id), TieringStartTime: aws.Time(f.now())}, nil
}

// specTags validates TagSpecifications as EC2 does and returns their tags.
func specTags(specs []ec2types.TagSpecification) ([]inventory.Tag, error) {
	var tags []inventory.Tag
	for _, spec := range specs {
		if spec.ResourceType != ec2types.ResourceTypeSnapshot {
			return nil, apiError(ebs.CodeInvalidParameterValue, "'%s' is not a valid taggable resource type for this operation.", spec.ResourceType)
		}
		for _, t := range spec.Tags {
			key := aws.ToString(t.Key)
			if key == "" || strings.HasPrefix(key, "aws:") {
				return nil, apiError(ebs.CodeInvalidParameterValue, "Tag key '%s' is empty or uses the reserved prefix aws:", key)
			}
			tags = append(tags, inventory.Tag{Key: key, Value: aws.ToString(t.Value)})
		}
	}
	if len(tags) > maxTags {
		return nil, apiError(ebs.CodeTagLimitExceeded, "The maximum number of Tags for a resource has been reached (%d > %d).", len(tags), maxTags)
	}
	return tags, nil
}

func checkDescription(d *string) error {
	if n := utf8.RuneCountInString(aws.ToString(d)); n > maxDescription {
		return apiError(ebs.CodeInvalidParameterValue, "Value for parameter Description is %d characters, over %d", n, maxDescription)
	}
	return nil
}

// pageSize checks MaxResults against EC2's range for the call; nil means
// no paging (every result at once, as EC2 does). capped calls answer an
// oversized MaxResults with full pages instead of an error.
func pageSize(maxResults *int32, max int, capped bool) (int, error) {
	if maxResults == nil {
		return 0, nil
	}
	n := int(*maxResults)
	switch {
	case n > max && capped:
		return max, nil
	case n < minPage || n > max:
		return 0, apiError(ebs.CodeInvalidParameterValue, "Value (%d) for parameter maxResults is invalid. Expecting a value between %d and %d.", n, minPage, max)
	}
	return n, nil
}

// ownerSet resolves owner ids ("self" is AccountID); nil means any owner.
func ownerSet(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	set := map[string]bool{}
	for _, id := range ids {
		if id == "self" {
			id = AccountID
		}
		set[id] = true
	}
	return set
}

func token(next string) *string {
	if next == "" {
		return nil
	}
	return aws.String(next)
}

func badToken(op string, tok *string) error {
	return opError(op, apiError(ebs.CodeInvalidParameterValue, "Invalid value '%s' for nextToken", aws.ToString(tok)))
}

func unsupported(op, what string) error {
	return opError(op, apiError(ebs.CodeUnsupportedOperation, "ec2fake.Fake does not model %s of %s", what, op))
}

// deviceName names the i-th block device: the root first, then sdf to
// sdz, then xvdaa, xvdab…
func deviceName(i int) string {
	switch {
	case i == 0:
		return "/dev/sda1"
	case i <= 'z'-'f'+1:
		return "/dev/sd" + string(rune('f'+i-1))
	}
	i -= 'z' - 'f' + 2
	return "/dev/xvd" + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

func toSDKInstance(i inventory.Instance) ec2types.Instance {
	sdk := ec2types.Instance{
		InstanceId:     aws.String(i.ID),
		ImageId:        aws.String(i.ImageID),
		State:          &ec2types.InstanceState{Name: ec2types.InstanceStateName(i.State)},
		Tags:           ebs.ToSDKTags(i.Tags),
		RootDeviceName: aws.String(deviceName(0)),
	}
	for n, v := range i.VolumeIDs {
		sdk.BlockDeviceMappings = append(sdk.BlockDeviceMappings, ec2types.InstanceBlockDeviceMapping{
			DeviceName: aws.String(deviceName(n)),
			Ebs:        &ec2types.EbsInstanceBlockDevice{VolumeId: aws.String(v), Status: ec2types.AttachmentStatusAttached},
		})
	}
	return sdk
}

func toSDKSnapshot(s ownedSnapshot) ec2types.Snapshot {
	return ec2types.Snapshot{
		SnapshotId:  aws.String(s.ID),
		VolumeId:    aws.String(s.VolumeID),
		State:       ec2types.SnapshotState(s.State),
		StartTime:   aws.Time(s.StartTime),
		Description: aws.String(s.Description),
		OwnerId:     aws.String(s.owner),
		Tags:        ebs.ToSDKTags(s.Tags),
		VolumeSize:  aws.Int32(s.VolumeSize),
		StorageTier: ec2types.StorageTier(cmp.Or(s.StorageTier, inventory.TierStandard)),
		Encrypted:   aws.Bool(s.kmsKeyID != ""),
		KmsKeyId:    kmsKey(s.kmsKeyID),
	}
}

func kmsKey(id string) *string {
	if id == "" {
		return nil
	}
	return aws.String(id)
}

// CopySnapshot copies a snapshot of the account from the linked fake of
// SourceRegion (see Link) into this one, as moto does: the copy is
// completed at once, keeps the source's VolumeId and size, carries only the
// tags of TagSpecifications (never the source's) and, with KmsKeyId, is
// encrypted with that key. A source region that is not linked, or a
// snapshot missing there or owned by another account, is
// InvalidSnapshot.NotFound.
func (f *Fake) CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, _ ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error) {
	if err := f.begin(ctx, OpCopySnapshot, in); err != nil {
		return nil, err
	}
	if aws.ToBool(in.DryRun) {
		return nil, opError(OpCopySnapshot, apiError(ebs.CodeDryRunOperation, "Request would have succeeded, but DryRun flag is set."))
	}
	tags, err := specTags(in.TagSpecifications)
	if err != nil {
		return nil, opError(OpCopySnapshot, err)
	}
	if n := utf8.RuneCountInString(aws.ToString(in.Description)); n > maxDescription {
		return nil, opError(OpCopySnapshot, apiError(ebs.CodeInvalidParameterValue, "Value for parameter Description is %d characters, over %d", n, maxDescription))
	}
	if in.KmsKeyId != nil && !aws.ToBool(in.Encrypted) {
		return nil, opError(OpCopySnapshot, apiError(ebs.CodeInvalidParameterCombination, "KmsKeyId requires Encrypted"))
	}
	srcID := aws.ToString(in.SourceSnapshotId)
	f.mu.Lock()
	src := f.peers[aws.ToString(in.SourceRegion)]
	f.mu.Unlock()
	var orig ownedSnapshot
	found := false
	if src != nil {
		src.mu.Lock()
		orig, found = src.snapshots.get(srcID)
		src.mu.Unlock()
	}
	if !found || orig.owner != AccountID {
		return nil, opError(OpCopySnapshot, apiError(ebs.CodeSnapshotNotFound, "The snapshot '%s' does not exist in %s.", srcID, aws.ToString(in.SourceRegion)))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := ownedSnapshot{owner: AccountID, kmsKeyID: aws.ToString(in.KmsKeyId), Snapshot: inventory.Snapshot{
		ID: f.newID("snap", func(id string) bool {
			_, taken := f.snapshots.get(id)
			return taken
		}),
		VolumeID:    orig.VolumeID,
		VolumeSize:  orig.VolumeSize,
		State:       inventory.StateCompleted,
		StartTime:   f.now().UTC(),
		Description: aws.ToString(in.Description),
		Tags:        tags,
	}}
	f.snapshots.put(s.ID, s)
	return &ec2.CopySnapshotOutput{SnapshotId: aws.String(s.ID), Tags: ebs.ToSDKTags(tags)}, nil
}
