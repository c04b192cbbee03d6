package retention

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Plan returns one Decision per snapshot of in.Snapshots that carries a
// DeleteOn tag, sorted by VolumeID, then StartTime, DeleteOn and SnapshotID: each
// volume's snapshots oldest first, the order in which they are considered
// for deletion. Snapshots without DeleteOn get no decision but count
// toward their volume's minimum.
//
// Each candidate goes through rules, in order, until one decides:
//
//  1. a DeleteOn that is not YYYY-MM-DD is kept, and so is one after the
//     UTC date of in.Now;
//  2. an ignored snapshot, volume or instance is kept;
//  3. a snapshot that backs an AMI is kept;
//  4. a snapshot that is neither completed nor in error (pending, or any
//     other state EC2 may report) is kept: it is not a backup yet, and it
//     may become the only one;
//  5. the newest completed snapshot of its volume is kept;
//  6. if the volume's minimum is unknown (no entry in in.Volumes), the
//     snapshot is deleted when in.IgnoreRetention is set, kept otherwise;
//  7. an error-state snapshot is deleted without counting toward the
//     minimum;
//  8. it is deleted while the volume has more completed snapshots than its
//     minimum, each delete lowering that count, and kept after.
//
// Only completed snapshots count toward the minimum and as the newest: a
// pending snapshot can still fail, and counting it let ebs_snapper's rule
// delete the last restore point while its successor was being taken.
//
// Plan never mutates in and never reads the clock, so the same input
// always gives the same plan.
func Plan(in Input) []Decision {
	byVolume := map[string][]inventory.Snapshot{}
	for _, s := range in.Snapshots {
		byVolume[s.VolumeID] = append(byVolume[s.VolumeID], s)
	}
	today := utcDate(in.Now)
	var out []Decision
	for _, vol := range slices.Sorted(maps.Keys(byVolume)) {
		out = append(out, planVolume(&in, today, vol, byVolume[vol])...)
	}
	return out
}

// volume is the state of one volume while its candidates are decided.
type volume struct {
	in         *Input
	today      time.Time
	id         string
	policy     VolumePolicy
	known      bool   // policy is in in.Volumes: the minimum is known
	instanceID string // for the decisions
	// ignoredInstance is the ignored instance the volume belongs to, or "".
	ignoredInstance string
	// newest is the id of the newest completed snapshot, or "" if none.
	newest string
	// completed counts the completed snapshots not (yet) planned for
	// deletion.
	completed int
}

// candidate is a snapshot with a DeleteOn tag.
type candidate struct {
	snap     inventory.Snapshot
	deleteOn string
	date     time.Time // the parsed DeleteOn, valid when dateOK
	dateOK   bool
}

// rule decides a candidate (ok) or lets the next rule look at it.
type rule func(v *volume, c *candidate) (a Action, reason string, ok bool)

// rules are tried in order, the first one that decides wins; the last one
// always decides. A new retention rule (keep daily, keep weekly, …) is a
// new row here. Only minimumRule deletes a completed snapshot of a volume
// with a known minimum, and it lowers the count when it does; whatever the
// other rules keep stays counted, so the count is what will remain.
var rules = []rule{
	badDateRule,
	notDueRule,
	ignoredRule,
	amiRule,
	notCompletedRule,
	newestRule,
	unknownMinimumRule,
	errorStateRule,
	minimumRule,
}

func planVolume(in *Input, today time.Time, vol string, snaps []inventory.Snapshot) []Decision {
	slices.SortFunc(snaps, oldestFirst)
	v := newVolume(in, today, vol, snaps)
	var out []Decision
	for _, s := range snaps {
		deleteOn, ok := s.Tag(DeleteOnTag)
		if !ok {
			continue
		}
		c := &candidate{snap: s, deleteOn: deleteOn}
		c.date, c.dateOK = parseDate(deleteOn)
		d := Decision{
			SnapshotID: s.ID,
			VolumeID:   vol,
			InstanceID: v.instanceID,
			ConfigID:   v.policy.ConfigID,
			ConfigIDs:  v.policy.ConfigIDs,
			StartTime:  s.StartTime,
			DeleteOn:   deleteOn,
		}
		for _, r := range rules {
			if a, reason, ok := r(v, c); ok {
				d.Action, d.Reason = a, reason
				break
			}
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
		if s.State == inventory.StateCompleted {
			v.completed++
			v.newest = s.ID
		}
	}
	return v
}

func badDateRule(_ *volume, c *candidate) (Action, string, bool) {
	return Keep, keptBadDate(c.deleteOn), !c.dateOK
}

func notDueRule(v *volume, c *candidate) (Action, string, bool) {
	return Keep, keptNotDue(c.deleteOn), c.date.After(v.today)
}

// ignoredRule wins over everything that could delete, ignore_retention
// included: ebs_snapper deleted due snapshots of an ignored instance when
// ignore_retention was set.
func ignoredRule(v *volume, c *candidate) (Action, string, bool) {
	switch {
	case v.in.Ignore[c.snap.ID]:
		return Keep, keptIgnoredSnapshot(c.snap.ID), true
	case v.in.Ignore[v.id]:
		return Keep, keptIgnoredVolume(v.id), true
	case v.ignoredInstance != "":
		return Keep, keptIgnoredInstance(v.ignoredInstance), true
	}
	return "", "", false
}

// amiRule keeps what EC2 would refuse to delete (InvalidSnapshot.InUse),
// so the plan says what will happen rather than what will fail.
func amiRule(v *volume, c *candidate) (Action, string, bool) {
	ami, ok := v.in.AMISnapshots[c.snap.ID]
	return Keep, keptBacksAMI(ami), ok
}

// notCompletedRule keeps a snapshot EC2 has not finished (pending) or
// reports in a state this tool does not know: deleting it could leave the
// volume with no backup if the completed ones go too. Error-state
// snapshots pass on to the rules that delete them.
func notCompletedRule(_ *volume, c *candidate) (Action, string, bool) {
	s := c.snap.State
	return Keep, keptNotCompleted(s), s != inventory.StateCompleted && s != inventory.StateError
}

// newestRule is restic's "refusing to delete last snapshot": whatever the
// minimum and ignore_retention say, a volume keeps one completed backup.
func newestRule(v *volume, c *candidate) (Action, string, bool) {
	return Keep, keptNewest(v.id), c.snap.ID == v.newest
}

// unknownMinimumRule handles volumes no stanza governs (gone, detached, or
// on an instance no stanza matches): only ignore_retention lets clean
// delete their due snapshots.
func unknownMinimumRule(v *volume, c *candidate) (Action, string, bool) {
	if v.known {
		return "", "", false
	}
	if v.in.IgnoreRetention {
		return Delete, deleteIgnoreRetention(c.deleteOn), true
	}
	return Keep, keptMinimumUnknown(v.id), true
}

// errorStateRule deletes a due snapshot that failed: it is no backup, so it
// neither counts toward the minimum nor lowers the count. Every other
// state but completed was kept by notCompletedRule.
func errorStateRule(_ *volume, c *candidate) (Action, string, bool) {
	return Delete, deleteErrorState(c.deleteOn), c.snap.State != inventory.StateCompleted
}

// minimumRule deletes while more completed snapshots than the minimum remain.
// Candidates arrive oldest first, so the oldest go first, and the count
// goes down with each delete so that one run never crosses the minimum
// (ebs_snapper compared every candidate with the count taken before the
// run).
func minimumRule(v *volume, c *candidate) (Action, string, bool) {
	if n := v.completed; n > v.policy.Minimum {
		v.completed--
		return Delete, deleteAboveMinimum(c.deleteOn, n, v.policy.Minimum), true
	}
	return Keep, keptMinimumReached(v.policy.Minimum, v.completed, v.id), true
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
// Plan keeps them (rule 1), and so will every later run, so they live
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
