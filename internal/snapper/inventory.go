package snapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Inventory is what one run knows of one region (BuildInventory): built
// once, with one paginated listing per kind of resource, never a call per
// snapshot.
type Inventory struct {
	// Name is the region's name.
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
	// Snapshots are all snapshots the account owns in the region, each
	// with its Protections when the inventory was built with NeedImages.
	Snapshots []inventory.Snapshot
	// RecycleBin are the region's Recycle Bin rules for EBS snapshots
	// (NeedRecycleBin); RecycleBinError says why they are unknown when
	// listing them failed (a run goes on without them: they change what a
	// delete costs, not what may be deleted).
	RecycleBin      []inventory.RecycleBinRule
	RecycleBinError string
	// VolumeTypes maps the volumes whose type decides whether one more
	// snapshot may start (those with pending snapshots, see
	// NeedVolumeTypes) to their EC2 volume type.
	VolumeTypes map[string]string
	// Excluded are the instances some stanza matches but every such
	// stanza excludes ("exclude"), with the first exclusion's reason.
	Excluded map[string]Exclusion
	// ExcludedVolumes maps a stanza id to the volumes its exclude_volumes
	// selects, each with the reason ("excluded by volume-type=st1|sc1").
	ExcludedVolumes map[string]map[string]string
	// Adoptable maps the id of a stanza whose adopt is a filter to the ids
	// of the snapshots that filter selects (NeedAdopted).
	Adoptable map[string]map[string]bool
}

// Exclusion is an instance a stanza matches and excludes.
type Exclusion struct {
	Instance inventory.Instance
	ConfigID string
	// Reason is "excluded by <filter>=<values>", values joined by "|".
	Reason string
}

// exclusionReason renders the filter that excluded an instance or volume.
func exclusionReason(f inventory.Filter) string {
	return "excluded by " + f.Name + "=" + strings.Join(f.Values, "|")
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
	// NeedImages lists what protects snapshots: the account's AMIs
	// (disabled ones too), snapshot locks and the default and latest
	// versions of its launch templates; with the AWS Backup recovery
	// points read from the snapshots themselves, each snapshot gets its
	// Protections.
	NeedImages
	// NeedVolumeTypes (with NeedSnapshots) reads the type of the matched
	// volumes that have pending snapshots: st1 and sc1 allow one pending
	// snapshot, other types five (PlanSnapshots). Only those volumes are
	// asked for, after the listings, so a region without pending
	// snapshots pays no call for it.
	NeedVolumeTypes
	// NeedAdopted lists the snapshots each filter-adopt stanza selects.
	NeedAdopted
	// NeedRecycleBin lists the region's Recycle Bin rules for EBS
	// snapshots.
	NeedRecycleBin
)

// BuildInventory lists one region: the instances of each stanza (one
// paginated DescribeInstances per stanza, every state but terminated) and,
// as need says, every snapshot the account owns (one paginated
// DescribeSnapshots) and the snapshots behind the account's AMIs. The
// first stanza's instance listing runs first, alone (a service control
// policy denying it denies the region: *inventory.RegionDeniedError); the
// other listings then run concurrently. A stanza whose listing EC2 rejects
// (inventory.ErrFilterRejected) goes to Rejected and the others go on; any
// other failure fails the whole inventory: planning on a partial picture
// could delete snapshots whose minimum was simply not seen.
func BuildInventory(ctx context.Context, ec2 EC2, stanzas []config.Stanza, need Need) (*Inventory, error) {
	r := &Inventory{Name: ec2.Region(), Instances: map[string]inventory.Instance{}, Matched: map[string][]string{}}
	matches := make([][]inventory.Instance, len(stanzas))
	excluded := make([]map[string]string, len(stanzas))
	// Each listing goroutine records its rejections in its own slice (no
	// two write one element); they are joined after Wait.
	rejected := make([]error, len(stanzas))
	rejectedVolumes := make([]error, len(stanzas))
	rejectedAdopt := make([]error, len(stanzas))
	// The region's first call, DescribeInstances for the first stanza,
	// runs alone: when a service control policy denies it, the policy
	// denies the account the region (inventory.DenyRegion), which is
	// skipped like a region not enabled; a denial of any later call, in a
	// region whose first call was allowed, is a failure.
	next := 0
	for next < len(stanzas) {
		inst, ex, err := stanzaInstances(ctx, ec2, stanzas[next])
		if errors.Is(err, inventory.ErrFilterRejected) {
			rejected[next] = err
			next++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inventory of %s: instances of stanza %s: %w", r.Name, stanzas[next].ID, inventory.DenyRegion(r.Name, err))
		}
		matches[next], excluded[next] = inst, ex
		next++
		break
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// Stanzas are listed one after another: they share the
		// DescribeInstances token bucket with everything else in the account.
		for i := next; i < len(stanzas); i++ {
			s := stanzas[i]
			inst, ex, err := stanzaInstances(gctx, ec2, s)
			if errors.Is(err, inventory.ErrFilterRejected) {
				rejected[i] = err
				continue
			}
			if err != nil {
				return fmt.Errorf("instances of stanza %s: %w", s.ID, err)
			}
			matches[i], excluded[i] = inst, ex
		}
		return nil
	})
	excludedVolumes := make([]map[string]string, len(stanzas))
	if slices.ContainsFunc(stanzas, func(s config.Stanza) bool { return len(s.ExcludeVolumes) > 0 }) {
		g.Go(func() error {
			for i, s := range stanzas {
				ex, err := matchingVolumes(gctx, ec2, s.ExcludeVolumes)
				if errors.Is(err, inventory.ErrFilterRejected) {
					rejectedVolumes[i] = err
					continue
				}
				if err != nil {
					return fmt.Errorf("excluded volumes of stanza %s: %w", s.ID, err)
				}
				excludedVolumes[i] = ex
			}
			return nil
		})
	}
	adoptable := make([]map[string]bool, len(stanzas))
	if need&NeedAdopted != 0 {
		g.Go(func() error {
			for i, s := range stanzas {
				if len(s.Adopt.Filters) == 0 {
					continue
				}
				snaps, err := ec2.SnapshotsMatching(gctx, s.Adopt.Filters)
				if errors.Is(err, inventory.ErrFilterRejected) {
					rejectedAdopt[i] = fmt.Errorf("adopt: %w", err)
					continue
				}
				if err != nil {
					return fmt.Errorf("snapshots stanza %s adopts: %w", s.ID, err)
				}
				adoptable[i] = map[string]bool{}
				for _, sn := range snaps {
					adoptable[i][sn.ID] = true
				}
			}
			return nil
		})
	}
	if need&NeedSnapshots != 0 {
		g.Go(func() error {
			snaps, err := ec2.Snapshots(gctx)
			r.Snapshots = snaps
			return err
		})
	}
	var prot protections
	if need&NeedImages != 0 {
		prot.list(gctx, g, ec2)
	}
	if need&NeedRecycleBin != 0 {
		g.Go(func() error {
			rules, err := ec2.RecycleBinRules(gctx)
			if err != nil {
				r.RecycleBinError = err.Error()
				slog.WarnContext(gctx, "Recycle Bin rules unknown: deletes are planned without what they keep billed",
					"region", r.Name, "error", err)
			}
			r.RecycleBin = rules
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("inventory of %s: %w", r.Name, err)
	}
	// AWS Backup's recovery points are read from the snapshots
	// themselves, so every listing of snapshots knows them.
	prot.attach(r.Snapshots)

	r.Excluded, r.ExcludedVolumes, r.Adoptable = map[string]Exclusion{}, map[string]map[string]string{}, map[string]map[string]bool{}
	for i, s := range stanzas {
		rejected[i] = errors.Join(rejected[i], rejectedVolumes[i], rejectedAdopt[i])
		if excludedVolumes[i] != nil {
			r.ExcludedVolumes[s.ID] = excludedVolumes[i]
		}
		if adoptable[i] != nil {
			r.Adoptable[s.ID] = adoptable[i]
		}
		switch {
		case rejected[i] != nil:
			r.Rejected = append(r.Rejected, RejectedStanza{ConfigID: s.ID, Error: rejected[i].Error()})
			slog.ErrorContext(ctx, "stanza's match rejected by EC2; the other stanzas go on",
				"region", r.Name, "config_id", s.ID, "error", rejected[i])
		case len(matches[i]) == 0:
			r.Unmatched = append(r.Unmatched, s.ID)
		}
		if rejected[i] != nil {
			continue
		}
		if slog.Default().Enabled(ctx, slog.LevelDebug) {
			slog.DebugContext(ctx, "stanza matched", "region", r.Name, "config_id", s.ID, "match", s.MatchDescription(),
				"instances", instanceIDs(matches[i]))
		}
		for _, inst := range matches[i] {
			if reason, ok := excluded[i][inst.ID]; ok {
				if _, seen := r.Excluded[inst.ID]; !seen {
					r.Excluded[inst.ID] = Exclusion{Instance: inst, ConfigID: s.ID, Reason: reason}
				}
				continue
			}
			r.Instances[inst.ID] = inst
			r.Matched[inst.ID] = append(r.Matched[inst.ID], s.ID)
		}
	}
	// An instance another stanza still matches is governed by that one.
	for id := range r.Excluded {
		if _, matched := r.Instances[id]; matched {
			delete(r.Excluded, id)
		}
	}
	for id, cfgs := range r.Matched {
		slices.Sort(cfgs)
		if len(cfgs) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Region: r.Name, InstanceID: id, ConfigIDs: cfgs})
			slog.WarnContext(ctx, "instance matched by several stanzas; the safer of each rule governs it",
				"region", r.Name, "instance_id", id, "config_ids", cfgs)
		}
	}
	slices.SortFunc(r.Conflicts, func(a, b Conflict) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	if need&NeedVolumeTypes != 0 {
		if err := readVolumeTypes(ctx, ec2, r); err != nil {
			return nil, fmt.Errorf("inventory of %s: %w", r.Name, err)
		}
	}
	slog.InfoContext(ctx, "inventory built", "region", r.Name, "stanzas", len(stanzas),
		"instances", len(r.Instances), "rejected_stanzas", len(r.Rejected), "snapshots", len(r.Snapshots), "protected_snapshots", prot.count)
	return r, nil
}

// readVolumeTypes fills r.VolumeTypes for the matched volumes with
// pending snapshots, with one batched DescribeVolumes.
func readVolumeTypes(ctx context.Context, ec2 EC2, r *Inventory) error {
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

// stanzaInstances lists the instances s matches and, for each of its
// exclude filters, those that match it too (one listing per filter, the
// match ANDed with it, evaluated by EC2), with the reason of the first.
func stanzaInstances(ctx context.Context, ec2 EC2, s config.Stanza) ([]inventory.Instance, map[string]string, error) {
	inst, err := ec2.Instances(ctx, s.Match)
	if err != nil || len(inst) == 0 || len(s.Exclude) == 0 {
		return inst, nil, err
	}
	excluded := map[string]string{}
	for _, f := range s.Exclude {
		ex, err := ec2.Instances(ctx, append(slices.Clone(s.Match), f))
		if err != nil {
			return nil, nil, fmt.Errorf("exclude %s: %w", f.Name, err)
		}
		for _, i := range ex {
			if _, seen := excluded[i.ID]; !seen {
				excluded[i.ID] = exclusionReason(f)
			}
		}
	}
	return inst, excluded, nil
}

// matchingVolumes lists, for each filter, the volumes EC2 says match it,
// with the reason of the first filter that does.
func matchingVolumes(ctx context.Context, ec2 EC2, filters []inventory.Filter) (map[string]string, error) {
	if len(filters) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range filters {
		vols, err := ec2.VolumesMatching(ctx, []inventory.Filter{f})
		if err != nil {
			return nil, fmt.Errorf("exclude_volumes %s: %w", f.Name, err)
		}
		for _, v := range vols {
			if _, seen := out[v.ID]; !seen {
				out[v.ID] = exclusionReason(f)
			}
		}
	}
	return out, nil
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

// instanceIDs lists the instances' ids, for the -VV log.
func instanceIDs(insts []inventory.Instance) []string {
	ids := make([]string, len(insts))
	for i, inst := range insts {
		ids[i] = inst.ID
	}
	return ids
}
