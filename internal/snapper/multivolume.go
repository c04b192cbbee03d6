package snapper

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// reasonBootExcluded is the reason of a root volume that every stanza
// governing it leaves out of its multi-volume sets.
const reasonBootExcluded = "boot volume: its stanza sets multi_volume with exclude_boot_volume"

// bootExcluded reports whether every stanza in ids excludes boot volumes.
func bootExcluded(p Policy, ids []string) bool {
	for _, id := range ids {
		if s := p.Stanzas[id]; !s.MultiVolume || !s.ExcludeBootVolume {
			return false
		}
	}
	return len(ids) > 0
}

// snapshotSet is one CreateSnapshots call: the rows (indexes) of one
// instance's due volumes and the request that snapshots them.
type snapshotSet struct {
	rows []int
	req  inventory.SnapshotSet
}

// multiVolumeSets groups the create rows whose deciding stanza says
// multi_volume by instance, one set per instance. Each snapshot must get
// exactly the tags a single CreateSnapshot would give it (SnapshotTags with
// the run tag): when those are the same for every volume they go in
// TagSpecifications; otherwise, when each volume's differ from the
// instance's share only by the volume's own tags, added as they are and
// under keys the share lacks, EC2 copies them (CopyTagsFromSource=volume).
// Otherwise, and when the instance's root volume is unknown but some
// volume is left out, the instance's rows fall back to one CreateSnapshot
// each, with the reason appended to each row's. Pure.
func multiVolumeSets(inv *Inventory, p Policy, rows []SnapshotRow, volTags map[string][]inventory.Tag, opts Options) []snapshotSet {
	byInstance := map[string][]int{}
	for i, r := range rows {
		if _, known := volTags[r.VolumeID]; r.Action == Create && known && p.Stanzas[r.ConfigID].MultiVolume {
			byInstance[r.InstanceID] = append(byInstance[r.InstanceID], i)
		}
	}
	var sets []snapshotSet
	for _, instID := range slices.Sorted(maps.Keys(byInstance)) {
		idx := byInstance[instID]
		set, why := setFor(inv.Instances[instID], rows, idx, volTags, opts)
		if why != "" {
			for _, i := range idx {
				rows[i].Reason += "; one snapshot per volume, not a multi-volume set: " + why
			}
			continue
		}
		sets = append(sets, snapshotSet{rows: idx, req: set})
	}
	return sets
}

// setFor builds the CreateSnapshots request for rows idx of inst, or says
// why they cannot be one set.
func setFor(inst inventory.Instance, rows []SnapshotRow, idx []int, volTags map[string][]inventory.Tag, opts Options) (inventory.SnapshotSet, string) {
	set := inventory.SnapshotSet{InstanceID: inst.ID}
	due := map[string]bool{}
	var vols []string
	for _, i := range idx {
		due[rows[i].VolumeID] = true
		vols = append(vols, rows[i].VolumeID)
	}
	for _, v := range inst.VolumeIDs {
		switch {
		case due[v]:
		case v == inst.RootVolumeID:
			set.ExcludeBoot = true
		case inst.RootVolumeID == "":
			return set, fmt.Sprintf("volume %s is not due and the instance's root volume is unknown, so it cannot be left out", v)
		default:
			set.Exclude = append(set.Exclude, v)
		}
	}
	first := rows[idx[0]]
	// Every row shares first's stanza, or the set falls back below.
	set.Description = Description(opts.Version, inst.ID, inst.ImageID, strings.Join(vols, ","), first.ConfigID)
	want := make([][]inventory.Tag, len(idx))
	same := true
	for k, i := range idx {
		r := rows[i]
		want[k] = WithRunTag(SnapshotTags(r.DeleteOn, r.ConfigID, inst.Tags, volTags[r.VolumeID]), opts.RunToken)
		same = same && sameTags(want[k], want[0])
		if r.DeleteOn != first.DeleteOn || r.ConfigID != first.ConfigID {
			return set, fmt.Sprintf("volumes %s and %s get different DeleteOn or config-id tags", first.VolumeID, r.VolumeID)
		}
	}
	if same {
		set.Tags = want[0]
		return set, ""
	}
	shared := WithRunTag(SnapshotTags(first.DeleteOn, first.ConfigID, inst.Tags, nil), opts.RunToken)
	for k, i := range idx {
		own := volTags[rows[i].VolumeID]
		if !sameTags(want[k], append(slices.Clone(shared), own...)) || slices.ContainsFunc(own, func(t inventory.Tag) bool { _, ok := inventory.TagValue(shared, t.Key); return ok }) {
			return set, fmt.Sprintf("the volumes' tags differ and copying volume %s's tags (CopyTagsFromSource) would not give the tags a single snapshot gets (override of an instance tag, a dropped tag or the 50-tag cap)", rows[i].VolumeID)
		}
	}
	set.Tags, set.CopyVolumeTags = shared, true
	return set, ""
}

// sameTags reports whether a and b hold the same keys and values, in any
// order (EC2 keeps no order), each key once.
func sameTags(a, b []inventory.Tag) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, t := range a {
		m[t.Key] = t.Value
	}
	for _, t := range b {
		if v, ok := m[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return len(m) == len(a)
}

// takeSet makes one CreateSnapshots call for set; its outcome applies to
// each of the set's rows. A volume EC2 returned no snapshot of fails.
func takeSet(ctx context.Context, ec2 EC2, rows []SnapshotRow, set snapshotSet) {
	snaps, err := ec2.CreateSnapshots(ctx, set.req)
	byVolume := map[string]string{}
	for _, s := range snaps {
		byVolume[s.VolumeID] = s.ID
	}
	for _, i := range set.rows {
		r := &rows[i]
		if id, ok := byVolume[r.VolumeID]; err == nil && !ok {
			r.Status, r.Error = StatusFailed, fmt.Sprintf("CreateSnapshots of instance %s in %s returned no snapshot of the volume", set.req.InstanceID, r.Region)
			slog.ErrorContext(ctx, "snapshot missing from its set", "region", r.Region, "volume_id", r.VolumeID, "instance_id", r.InstanceID)
		} else {
			createdOr(ctx, r, id, err)
		}
	}
}
