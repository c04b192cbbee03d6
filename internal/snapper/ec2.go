package snapper

import (
	"context"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// EC2 is what the engine needs from one region's EC2 API, in domain terms.
// The ebs adapter implements it; tests use it over an in-memory fake.
type EC2 interface {
	Region() string
	Instances(ctx context.Context, filters []inventory.Filter) ([]inventory.Instance, error)
	Snapshots(ctx context.Context) ([]inventory.Snapshot, error)
	Volumes(ctx context.Context, ids []string) ([]inventory.Volume, error)
	// ImageSnapshots, LockedSnapshots and LaunchTemplateSnapshots list
	// what protects the account's snapshots, by snapshot id (NeedImages).
	ImageSnapshots(ctx context.Context) (map[string]inventory.Protection, error)
	LockedSnapshots(ctx context.Context) (map[string]inventory.Protection, error)
	LaunchTemplateSnapshots(ctx context.Context) (map[string][]inventory.Protection, error)
	// RecycleBinRules lists the region's Recycle Bin rules for EBS
	// snapshots (NeedRecycleBin).
	RecycleBinRules(ctx context.Context) ([]inventory.RecycleBinRule, error)
	// LockSnapshot places a snapshot lock (a stanza's "lock").
	LockSnapshot(ctx context.Context, id string, lock inventory.Lock) error
	CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error)
	// CreateSnapshots snapshots an instance's volumes as one
	// crash-consistent set, one snapshot per volume (multivolume.go).
	CreateSnapshots(ctx context.Context, set inventory.SnapshotSet) ([]inventory.Snapshot, error)
	DeleteSnapshot(ctx context.Context, id string) error
	// VolumesMatching and SnapshotsMatching list what EC2 filters select
	// (exclude_volumes, adopt): one paginated listing per filter set.
	VolumesMatching(ctx context.Context, filters []inventory.Filter) ([]inventory.Volume, error)
	SnapshotsMatching(ctx context.Context, filters []inventory.Filter) ([]inventory.Snapshot, error)
	// ArchiveSnapshot moves a snapshot to the EBS archive tier.
	ArchiveSnapshot(ctx context.Context, id string) error
	// CopySnapshot copies sourceID of sourceRegion into this region,
	// tagged in the same call (see replicate.go).
	CopySnapshot(ctx context.Context, sourceRegion, sourceID, description, kmsKeyID string, tags []inventory.Tag) (inventory.Snapshot, error)
}
