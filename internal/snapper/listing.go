package snapper

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// ListedSnapshot is one snapshot as the snapshots command lists it: what
// it is, which stanzas govern its volume, and what clean would do with it
// and why (its protection when kept).
type ListedSnapshot struct {
	SnapshotID   string    `json:"snapshot_id"`
	VolumeID     string    `json:"volume_id"`
	InstanceID   string    `json:"instance_id,omitempty"`
	InstanceName string    `json:"instance_name,omitempty"`
	State        string    `json:"state"`
	StartTime    time.Time `json:"start_time"`
	// ConfigIDs are the stanzas governing the volume, sorted; for a
	// volume no stanza governs, the stanza named by the snapshot's
	// ebs-snapper:config-id tag, if any.
	ConfigIDs []string `json:"config_ids"`
	DeleteOn  string   `json:"delete_on,omitempty"`
	// Run is the ebs-snapper:run tag: the run that created it.
	Run         string `json:"run,omitempty"`
	StorageTier string `json:"storage_tier,omitempty"`
	// Clean is what clean would do now ("keep", "delete", "archive"), or
	// "" for a snapshot clean never considers (no DeleteOn tag);
	// Protection is clean's reason, or why it is never considered.
	Clean      string `json:"clean"`
	Protection string `json:"protection"`
}

// ListedRegion is the snapshots of one region, by volume then start time.
type ListedRegion struct {
	Region    string           `json:"region"`
	Skipped   string           `json:"skipped,omitempty"`
	Error     string           `json:"error,omitempty"`
	Snapshots []ListedSnapshot `json:"snapshots"`
}

// List lists every snapshot the account owns in each region of the run
// (the inventory clean reads: instances per stanza, snapshots, AMIs), those
// in Options.Scope, newest first per volume, as of Options.Now; latest
// keeps only each volume's newest. It is the snapshots command's use case
// and changes nothing. Regions are read Options.RegionWorkers at a time;
// one that fails is reported with its error and does not stop the others.
func (e *Engine) List(ctx context.Context, latest bool) []ListedRegion {
	names := e.regions.Names()
	out := make([]ListedRegion, len(names))
	var g errgroup.Group
	g.SetLimit(e.opts.RegionWorkers)
	for i, name := range names {
		g.Go(func() error {
			lr := ListedRegion{Region: name, Snapshots: []ListedSnapshot{}}
			inv, err := BuildInventory(ctx, e.regions.Client(name), e.stanzas, NeedSnapshots|NeedImages|NeedAdopted)
			switch {
			case errors.Is(err, inventory.ErrRegionUnavailable):
				lr.Skipped = "region not enabled for the account"
			case err != nil:
				lr.Error = err.Error()
			default:
				lr.Snapshots = ListRegion(inv, e.policy, e.opts.Now, e.opts.Scope, latest)
			}
			out[i] = lr
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// ListRegion lists one region's snapshots from its inventory (see
// Engine.List). It is pure.
func ListRegion(r *Inventory, p Policy, now time.Time, scope Scope, latest bool) []ListedSnapshot {
	clean := map[string]retention.Decision{}
	for _, d := range PlanClean(r, p, now) {
		clean[d.SnapshotID] = d
	}
	governing, instance, _ := governed(r, p)
	out := []ListedSnapshot{}
	for _, s := range r.Snapshots {
		ids := governing[s.VolumeID]
		if len(ids) == 0 {
			if id, ok := s.Tag(retention.ConfigIDTag); ok && id != "" {
				ids = []string{id}
			}
		}
		inst := instance[s.VolumeID]
		if !scope.Holds(inst, s.VolumeID, ids...) {
			continue
		}
		l := ListedSnapshot{SnapshotID: s.ID, VolumeID: s.VolumeID, InstanceID: inst, State: s.State, StartTime: s.StartTime.UTC(),
			ConfigIDs: append([]string{}, ids...), StorageTier: s.StorageTier}
		l.InstanceName, _ = inventory.TagValue(r.Instances[inst].Tags, "Name")
		l.DeleteOn, _ = s.Tag(retention.DeleteOnTag)
		l.Run, _ = s.Tag(RunTag)
		if d, ok := clean[s.ID]; ok {
			l.Clean, l.Protection = string(d.Action), d.Reason
		} else {
			l.Protection = "no DeleteOn tag: clean never deletes it"
			if len(s.Protections) > 0 {
				l.Protection = inventory.Protections(s.Protections) + "; no DeleteOn tag"
			}
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b ListedSnapshot) int {
		return cmp.Or(cmp.Compare(a.VolumeID, b.VolumeID), b.StartTime.Compare(a.StartTime), cmp.Compare(a.SnapshotID, b.SnapshotID))
	})
	if latest {
		out = slices.CompactFunc(out, func(a, b ListedSnapshot) bool { return a.VolumeID == b.VolumeID })
	}
	return out
}
