package retention

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Plan returns one Decision per candidate snapshot of in.Snapshots,
// sorted by VolumeID, then StartTime, DeleteOn tag (none first) and
// SnapshotID: each
// volume's snapshots oldest first, the order in which they are considered
// for deletion. A candidate carries a DeleteOn tag, or is adopted (see
// below). Other snapshots get no decision but count toward their volume's
// minimum and fill the tiers' buckets.
//
// Two pre-passes prepare each volume:
//
//   - orphans: a volume that is not in in.Volumes takes the orphans policy
//     (in.Orphans) of the stanzas its snapshots' Descriptions name: "keep"
//     keeps every candidate, "retain" and {"keep_last": N} give it a
//     minimum and tiers as if it were governed. When several stanzas are
//     named, the safer reading wins: keep over anything, else the largest
//     minimum and the union of the tiers.
//   - adopt: on a governed volume whose policy sets Adopt, a completed
//     snapshot without DeleteOn (and not made by AWS Backup, which EC2
//     refuses to delete) becomes a candidate due on the date of StartTime
//   - retention, rounded up to a UTC midnight as snapshot does.
//
// Each candidate then goes through rules, in order, until one decides:
//
//  1. a protected snapshot (inventory.Snapshot.Protections: it backs an
//     AMI, enabled or disabled, is locked, is an AWS Backup recovery
//     point, or a launch template's default or latest version uses it) is
//     kept, naming every protection, due or not, and is never archived;
//     launch templates do not protect on a volume whose policy sets
//     IgnoreLaunchTemplates;
//  2. a DeleteOn that is not YYYY-MM-DD is kept, and so is one after the
//     UTC date of in.Now, and so is any snapshot younger than its volume's
//     retention (VolumePolicy.Retention, in.UngovernedRetention for a
//     volume without policy): StartTime + retention after in.Now. DeleteOn
//     lengthens a retention, never shortens it;
//  3. an ignored snapshot, volume or instance is kept;
//  4. a snapshot that is neither completed nor in error (pending, or any
//     other state EC2 may report) is kept: it is not a backup yet, and it
//     may become the only one;
//  5. the newest completed snapshot of its volume is kept;
//  6. a volume whose orphans policy is "keep" keeps it;
//  7. if the volume's minimum is unknown (no entry in in.Volumes and no
//     orphans policy), or it comes from an orphans policy that the
//     snapshot's own Description does not name, the snapshot is deleted
//     when in.IgnoreRetention is set, kept otherwise;
//  8. an error-state snapshot is deleted without counting toward the
//     minimum;
//  9. it is deleted while the volume has more completed snapshots than its
//     minimum, each delete lowering that count, and kept after.
//
// Two post-passes follow. Tiers: a completed snapshot that rule 9 decides
// is kept when a tier of the volume's policy keeps it ("kept: monthly
// 2026-10"). The tiers only ever turn deletes into keeps and the minimum
// is counted as if they kept nothing, so adding a tier never deletes
// anything that was kept before. Archive: on a volume with ArchiveAfter, a
// completed snapshot kept because it is not due yet or by a tier, at least
// ArchiveAfter old, in the standard tier, not the volume's newest, and
// that no rule could delete within ArchiveMinimum, is archived.
//
// Only completed snapshots count toward the minimum, as the newest and in
// the tiers: a pending snapshot can still fail, and counting it let
// ebs_snapper's rule delete the last restore point while its successor was
// being taken. A protected snapshot counts (it is a restore point), but an
// AWS Backup recovery point does not: AWS Backup deletes it on its own
// schedule, so it is AWS Backup's restore point, never this volume's.
//
// Plan never mutates in and never reads the clock, so the same input
// always gives the same plan.
func Plan(in Input) []Decision {
	// A region holds 100,000 snapshots and more, so the plan copies none
	// of them per volume: it sorts their indices by volume, copies one
	// volume at a time into a scratch slice reused for the next (the
	// rules sort it and read it), and fills one output slice sized up
	// front, where appending would allocate about five times its final
	// size as it grows.
	order := make([]int, len(in.Snapshots))
	for i := range order {
		order[i] = i
	}
	groups := make([]string, len(in.Snapshots))
	for i, s := range in.Snapshots {
		groups[i] = group(s)
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(groups[a], groups[b]) })
	today := utcDate(in.Now)
	out := make([]Decision, 0, candidates(&in))
	var scratch []inventory.Snapshot
	for start := 0; start < len(order); {
		g := groups[order[start]]
		scratch = scratch[:0]
		for ; start < len(order) && groups[order[start]] == g; start++ {
			scratch = append(scratch, in.Snapshots[order[start]])
		}
		vol, _, _ := strings.Cut(g, groupSeparator)
		out = planVolume(out, &in, today, vol, scratch)
	}
	return out
}

// candidates is how many decisions Plan can make at most: the snapshots
// with a DeleteOn tag, or all of them when some volume adopts snapshots
// without it.
func candidates(in *Input) int {
	for _, p := range in.Volumes {
		if p.Adopt != nil {
			return len(in.Snapshots)
		}
	}
	n := 0
	for _, s := range in.Snapshots {
		if _, ok := s.Tag(DeleteOnTag); ok {
			n++
		}
	}
	return n
}

// volume is the state of one volume while its candidates are decided.
type volume struct {
	in         *Input
	today      time.Time
	id         string
	policy     VolumePolicy
	known      bool   // policy is in in.Volumes or from orphans: the minimum is known
	orphans    bool   // policy is from orphans (the Descriptions of its snapshots)
	instanceID string // for the decisions
	// ignoredInstance is the ignored instance the volume belongs to, or "".
	ignoredInstance string
	// keepOrphans names the "keep" orphans policy that keeps everything,
	// or "".
	keepOrphans string
	// newest is the id of the newest completed snapshot, or "" if none.
	newest string
	// completed counts the completed snapshots not (yet) planned for
	// deletion.
	completed int
	// tiers are the snapshots the policy's tiers keep.
	tiers map[string]*tierKeep
	// retention is the governing retention: the policy's, or
	// in.UngovernedRetention without one.
	retention time.Duration
}

// candidate is a snapshot with a DeleteOn tag or an adopted one.
type candidate struct {
	snap     *inventory.Snapshot
	deleteOn string
	date     time.Time // the parsed DeleteOn, valid when dateOK
	dateOK   bool
	adopted  bool
	// floor is StartTime + the volume's retention: nothing deletes the
	// snapshot before, whatever date says (zero for adopted snapshots,
	// whose date is that floor rounded up).
	floor time.Time
}

// planVolume appends the decisions on one volume's snapshots to out and
// returns it; it sorts snaps.
func planVolume(out []Decision, in *Input, today time.Time, vol string, snaps []inventory.Snapshot) []Decision {
	slices.SortFunc(snaps, oldestFirst)
	v := newVolume(in, today, vol, snaps)
	for i := range snaps {
		s := &snaps[i]
		c, ok := v.candidate(s)
		if !ok {
			continue
		}
		d := Decision{
			SnapshotID: s.ID,
			VolumeID:   vol,
			InstanceID: v.instanceID,
			ConfigID:   v.policy.ConfigID,
			ConfigIDs:  v.policy.ConfigIDs,
			StartTime:  s.StartTime,
			DeleteOn:   c.deleteOn,
			Adopted:    c.adopted,
		}
		archivable, tiered := false, false
		for _, r := range rules {
			if a, reason, ok := r.decide(v, &c); ok {
				d.Action, d.Reason, archivable, tiered = a, reason, r.archivable, r.tiered
				break
			}
		}
		// The minimum has decided as if the tiers kept nothing; a tier
		// keeps what it would delete, and names itself where both keep.
		if k := v.tiers[s.ID]; k != nil && tiered {
			d.Action, d.Reason, archivable = Keep, keptByTiers(k), true
		}
		if archivable {
			v.archive(&c, &d)
		}
		if c.adopted {
			d.Reason += adoptedSuffix(v.policy.Adopt.Retention)
		}
		if v.policy.Orphans != "" {
			d.Reason += orphansSuffix(v.policy.Orphans)
		}
		out = append(out, d)
	}
	return out
}

// newVolume sums up a volume from its snapshots, sorted oldest first.
func newVolume(in *Input, today time.Time, vol string, snaps []inventory.Snapshot) *volume {
	v := &volume{in: in, today: today, id: vol}
	v.policy, v.known = in.Volumes[vol]
	v.instanceID = v.policy.InstanceID
	if !v.known {
		v.instanceID = in.VolumeInstance[vol]
		v.policy, v.keepOrphans, v.known = orphanPolicy(in.Orphans, snaps)
		v.orphans = v.known
	}
	// The policy's instance is not ignored when the caller builds Volumes
	// as documented; checking it too keeps the protection independent of
	// that.
	for _, i := range []string{in.VolumeInstance[vol], v.policy.InstanceID} {
		if i != "" && in.Ignore[i] {
			v.ignoredInstance = i
			break
		}
	}
	for _, s := range snaps {
		if s.State == inventory.StateCompleted && !s.Protected(inventory.ProtectedByAWSBackup) {
			v.completed++
			v.newest = s.ID
		}
	}
	v.tiers = keepByTiers(v.policy.Tiers, snaps, in.Now)
	v.retention = v.policy.Retention
	if _, governed := in.Volumes[vol]; !governed {
		v.retention = max(v.retention, in.UngovernedRetention)
	}
	return v
}

// candidate returns s as a candidate: with its DeleteOn tag, or adopted.
func (v *volume) candidate(s *inventory.Snapshot) (candidate, bool) {
	if deleteOn, ok := s.Tag(DeleteOnTag); ok {
		c := candidate{snap: s, deleteOn: deleteOn}
		c.date, c.dateOK = parseDate(deleteOn)
		c.floor = s.StartTime.Add(v.retention)
		return c, true
	}
	a := v.policy.Adopt
	if a == nil || s.State != inventory.StateCompleted || s.Protected(inventory.ProtectedByAWSBackup) || (a.Only != nil && !a.Only[s.ID]) {
		return candidate{}, false
	}
	date := DueDate(s.StartTime, a.Retention)
	d, _ := parseDate(date)
	return candidate{snap: s, deleteOn: date, date: d, dateOK: true, adopted: true}, true
}

// archive turns a kept decision into Archive when the volume's policy
// archives, the snapshot is old enough, completed, in the standard tier,
// not the newest, and no rule could delete it within ArchiveMinimum: its
// DeleteOn and the release of every tier keeping it are that far ahead.
func (v *volume) archive(c *candidate, d *Decision) {
	s, after := c.snap, v.policy.ArchiveAfter
	if after <= 0 || s.State != inventory.StateCompleted || s.ID == v.newest ||
		(s.StorageTier != "" && s.StorageTier != inventory.TierStandard) || v.in.Now.Sub(s.StartTime) < after {
		return
	}
	earliest := c.date
	if c.floor.After(earliest) {
		earliest = c.floor
	}
	if k := v.tiers[s.ID]; k != nil && k.release.After(earliest) {
		earliest = k.release
	}
	if earliest.Before(v.in.Now.Add(ArchiveMinimum)) {
		return
	}
	d.Action, d.Reason = Archive, archiveReason(d.Reason, after, earliest)
}

// oldestFirst orders snapshots by StartTime, then DeleteOn, then id, so
// the last completed one is the newest. EC2 stamps whole seconds, so snapshots
// taken together tie on StartTime; the one due first is then the older.
func oldestFirst(a, b inventory.Snapshot) int {
	da, _ := a.Tag(DeleteOnTag)
	db, _ := b.Tag(DeleteOnTag)
	return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(da, db), cmp.Compare(a.ID, b.ID))
}

// NeverDue returns the ids, sorted, of the snapshots whose DeleteOn tag is
// not a YYYY-MM-DD date ("2026-13-45", "tomorrow", "", "2026/11/01"):
// Plan keeps them (rule 2), and so will every later run, so they live
// until someone fixes or removes the tag. Reports name them.
func NeverDue(snaps []inventory.Snapshot) []string {
	var ids []string
	for _, s := range snaps {
		if v, ok := s.Tag(DeleteOnTag); ok {
			if _, ok := parseDate(v); !ok {
				ids = append(ids, s.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// DueDate is the DeleteOn date of a snapshot taken at start and kept for
// retention: the first UTC date on which the whole retention has passed,
// YYYY-MM-DD. Clean deletes from 00:00 UTC of that date, so the date is
// start + retention rounded up to a UTC midnight.
func DueDate(start time.Time, retention time.Duration) string {
	t := start.Add(retention).UTC()
	day := utcDate(t)
	if day.Before(t) {
		day = day.AddDate(0, 0, 1)
	}
	return day.Format(time.DateOnly)
}

// parseDate reads a DeleteOn value. time.Parse with DateOnly is strict:
// four-digit year, two-digit month and day, a real calendar date, nothing
// before or after.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// utcDate is midnight UTC of t's UTC date: DeleteOn dates are UTC dates
// (snapshot writes them from the UTC date), whatever t's location.
func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
