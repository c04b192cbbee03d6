package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// EC2 is what the engine needs from one region's EC2 API, in domain terms.
// The ebs adapter implements it; tests use it over an in-memory fake.
type EC2 interface {
	Region() string
	Instances(ctx context.Context, filters []inventory.Filter) ([]inventory.Instance, error)
	Snapshots(ctx context.Context) ([]inventory.Snapshot, error)
	Volumes(ctx context.Context, ids []string) ([]inventory.Volume, error)
	ImageSnapshots(ctx context.Context) (map[string]string, error)
	CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error)
	DeleteSnapshot(ctx context.Context, id string) error
}

// Region is the inventory of one region for one run: built once, with one
// paginated listing per kind of resource, never a call per snapshot.
type Region struct {
	Name string
	// Instances are the instances some stanza matches, in every state but
	// terminated: an instance that still exists governs its volumes.
	Instances map[string]inventory.Instance
	// Matched maps each matched instance to the ids of the stanzas that
	// match it, sorted; several ids resolve to the safer rule (see Govern).
	Matched map[string][]string
	// Conflicts lists instances that several stanzas match.
	Conflicts []Conflict
	// Unmatched lists the ids of stanzas that matched no instance here.
	Unmatched []string
	// Rejected lists the stanzas whose match EC2 refused here, by id.
	Rejected []RejectedStanza
	// Snapshots are all snapshots the account owns in the region.
	Snapshots []inventory.Snapshot
	// AMISnapshots maps snapshot ids backing the account's AMIs to the AMI.
	AMISnapshots map[string]string
	// VolumeTypes maps the volumes whose type decides whether one more
	// snapshot may start (those with pending snapshots, see
	// NeedVolumeTypes) to their EC2 volume type.
	VolumeTypes map[string]string
}

// Conflict is an instance matched by more than one stanza; ConfigIDs is
// sorted. Together they govern it with the safer of each rule (Govern).
type Conflict struct {
	Region     string   `json:"region"`
	InstanceID string   `json:"instance_id"`
	ConfigIDs  []string `json:"config_ids"`
}

// RejectedStanza is a stanza whose instance listing EC2 refused in a
// region (inventory.ErrFilterRejected): it matches nothing there and is
// reported as invalid, while the other stanzas run.
type RejectedStanza struct {
	ConfigID string `json:"config_id"`
	Error    string `json:"error"`
}

// Need says which listings an inventory holds besides the instances, so
// that each job pays only for what it reads.
type Need int

const (
	// NeedSnapshots lists every snapshot the account owns.
	NeedSnapshots Need = 1 << iota
	// NeedImages lists the snapshots behind the account's AMIs.
	NeedImages
	// NeedVolumeTypes (with NeedSnapshots) reads the type of the matched
	// volumes that have pending snapshots: st1 and sc1 allow one pending
	// snapshot, other types five (PlanSnapshots). Only those volumes are
	// asked for, after the listings, so a region without pending
	// snapshots pays no call for it.
	NeedVolumeTypes
)

// BuildInventory lists one region: the instances of each stanza (one
// paginated DescribeInstances per stanza, every state but terminated) and,
// as need says, every snapshot the account owns (one paginated
// DescribeSnapshots) and the snapshots behind the account's AMIs. The
// listings run concurrently. A stanza whose listing EC2 rejects
// (inventory.ErrFilterRejected) goes to Rejected and the others go on; any
// other failure fails the whole inventory: planning on a partial picture
// could delete snapshots whose minimum was simply not seen.
func BuildInventory(ctx context.Context, ec2 EC2, stanzas []config.Stanza, need Need) (*Region, error) {
	r := &Region{Name: ec2.Region(), Instances: map[string]inventory.Instance{}, Matched: map[string][]string{}}
	matches := make([][]inventory.Instance, len(stanzas))
	rejected := make([]error, len(stanzas))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// Stanzas are listed one after another: they share the
		// DescribeInstances token bucket with everything else in the account.
		for i, s := range stanzas {
			inst, err := ec2.Instances(gctx, s.Match)
			if errors.Is(err, inventory.ErrFilterRejected) {
				rejected[i] = err
				continue
			}
			if err != nil {
				return fmt.Errorf("instances of stanza %s: %w", s.ID, err)
			}
			matches[i] = inst
		}
		return nil
	})
	if need&NeedSnapshots != 0 {
		g.Go(func() error {
			snaps, err := ec2.Snapshots(gctx)
			r.Snapshots = snaps
			return err
		})
	}
	if need&NeedImages != 0 {
		g.Go(func() error {
			m, err := ec2.ImageSnapshots(gctx)
			r.AMISnapshots = m
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("inventory of %s: %w", r.Name, err)
	}

	for i, s := range stanzas {
		switch {
		case rejected[i] != nil:
			r.Rejected = append(r.Rejected, RejectedStanza{ConfigID: s.ID, Error: rejected[i].Error()})
			slog.ErrorContext(ctx, "stanza's match rejected by EC2; the other stanzas go on",
				"region", r.Name, "config_id", s.ID, "error", rejected[i])
		case len(matches[i]) == 0:
			r.Unmatched = append(r.Unmatched, s.ID)
		}
		for _, inst := range matches[i] {
			r.Instances[inst.ID] = inst
			r.Matched[inst.ID] = append(r.Matched[inst.ID], s.ID)
		}
	}
	for id, cfgs := range r.Matched {
		sort.Strings(cfgs)
		if len(cfgs) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Region: r.Name, InstanceID: id, ConfigIDs: cfgs})
			slog.WarnContext(ctx, "instance matched by several stanzas; the safer of each rule governs it",
				"region", r.Name, "instance_id", id, "config_ids", cfgs)
		}
	}
	sort.Slice(r.Conflicts, func(i, j int) bool { return r.Conflicts[i].InstanceID < r.Conflicts[j].InstanceID })
	if need&NeedVolumeTypes != 0 {
		if err := readVolumeTypes(ctx, ec2, r); err != nil {
			return nil, fmt.Errorf("inventory of %s: %w", r.Name, err)
		}
	}
	slog.InfoContext(ctx, "inventory built", "region", r.Name, "stanzas", len(stanzas),
		"instances", len(r.Instances), "rejected_stanzas", len(r.Rejected), "snapshots", len(r.Snapshots), "ami_snapshots", len(r.AMISnapshots))
	return r, nil
}

// readVolumeTypes fills r.VolumeTypes for the matched volumes with
// pending snapshots, with one batched DescribeVolumes.
func readVolumeTypes(ctx context.Context, ec2 EC2, r *Region) error {
	pending := pendingSnapshots(r.Snapshots)
	var ids []string
	for _, inst := range r.Instances {
		for _, vol := range inst.VolumeIDs {
			if pending[vol] > 0 {
				ids = append(ids, vol)
			}
		}
	}
	r.VolumeTypes = map[string]string{}
	if len(ids) == 0 {
		return nil
	}
	vols, err := ec2.Volumes(ctx, ids)
	if err != nil {
		return fmt.Errorf("types of volumes with pending snapshots: %w", err)
	}
	for _, v := range vols {
		r.VolumeTypes[v.ID] = v.Type
	}
	return nil
}

// pendingSnapshots counts each volume's snapshots in pending state.
func pendingSnapshots(snaps []inventory.Snapshot) map[string]int {
	n := map[string]int{}
	for _, s := range snaps {
		if s.State == inventory.StatePending {
			n[s.VolumeID]++
		}
	}
	return n
}

// newestStarts returns, per volume, the start time of its newest snapshot
// in any state: EC2's per-volume rate counts every snapshot started.
func newestStarts(snaps []inventory.Snapshot) map[string]time.Time {
	newest := map[string]time.Time{}
	for _, s := range snaps {
		if t, ok := newest[s.VolumeID]; !ok || s.StartTime.After(t) {
			newest[s.VolumeID] = s.StartTime
		}
	}
	return newest
}

// latestSnapshots returns, per volume, the start time of its newest
// snapshot that can restore it (pending or completed; a snapshot in error
// state is not a backup, so it must not postpone the next one).
func latestSnapshots(snaps []inventory.Snapshot) map[string]time.Time {
	latest := map[string]time.Time{}
	for _, s := range snaps {
		if s.State == inventory.StateError {
			continue
		}
		if t, ok := latest[s.VolumeID]; !ok || s.StartTime.After(t) {
			latest[s.VolumeID] = s.StartTime
		}
	}
	return latest
}

// sortedKeys returns a map's keys in order, for deterministic plans.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
