package retention

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// reasonForms are the only reasons Plan may give, one per rule outcome.
// checkInvariants matches every reason against them, and the golden test
// checks that its fixture produces each one.
var reasonForms = []struct {
	name   string
	action Action
	re     *regexp.Regexp
}{
	{"bad date", Keep, regexp.MustCompile(`^kept: DeleteOn ".*" is not a YYYY-MM-DD date$`)},
	{"not due", Keep, regexp.MustCompile(`^kept: expires on \d{4}-\d\d-\d\d$`)},
	{"retention", Keep, regexp.MustCompile(`^kept: expires on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, StartTime \+ retention \S+ \(DeleteOn .* does not shorten it\)$`)},
	{"ignored snapshot", Keep, regexp.MustCompile(`^kept: snapshot \S+ is ignored$`)},
	{"ignored volume", Keep, regexp.MustCompile(`^kept: volume \S* is ignored$`)},
	{"ignored instance", Keep, regexp.MustCompile(`^kept: instance \S+ is ignored$`)},
	{"protected", Keep, regexp.MustCompile(`^kept: (backs|locked|used by launch template|AWS Backup recovery point)\b.*$`)},
	{"not completed", Keep, regexp.MustCompile(`^kept: snapshot is ".*", not a completed backup yet$`)},
	{"newest", Keep, regexp.MustCompile(`^kept: newest completed snapshot of \S*$`)},
	{"minimum reached", Keep, regexp.MustCompile(`^kept: minimum \d+ reached \(\d+ completed snapshots of \S*\)$`)},
	{"minimum unknown", Keep, regexp.MustCompile(`^kept: minimum unknown, volume \S* is not attached to an instance any stanza matches$`)},
	{"above minimum", Delete, regexp.MustCompile(`^expired on \d{4}-\d\d-\d\d, \d+ completed snapshots > minimum \d+$`)},
	{"error state", Delete, regexp.MustCompile(`^expired on \d{4}-\d\d-\d\d, error-state snapshot \(not counted toward minimum\)$`)},
	{"ignore_retention", Delete, regexp.MustCompile(`^expired on \d{4}-\d\d-\d\d, minimum unknown and ignore_retention is set$`)},
	{"tier", Keep, regexp.MustCompile(`^kept: (last \d+ of \d+|hourly \d{4}-\d\d-\d\dT\d\d|daily \d{4}-\d\d-\d\d|weekly \d{4}-W\d\d|monthly \d{4}-\d\d|yearly \d{4}|within \S+ of the newest)(, .+)?$`)},
	{"orphans unnamed", Keep, regexp.MustCompile(`^kept: its Description names no stanza whose orphans policy applies, volume \S* is not attached to an instance any stanza matches$`)},
	{"orphans keep", Keep, regexp.MustCompile(`^kept: orphans ".+" of stanza .+, volume \S* is not attached to an instance any stanza matches$`)},
	{"archive", Archive, regexp.MustCompile(`^archive: .+; older than archive_after \S+, no rule deletes it before \d{4}-\d\d-\d\d$`)},
}

// suffixes end the reasons of adopted snapshots and of volumes an orphans
// policy governs; reasonForm looks at what comes before them.
var suffixes = regexp.MustCompile(`(; adopted: no DeleteOn tag, expires StartTime \+ \S+)?(; orphans .+)?$`)

// reasonForm names the form of a reason, or "" if it has none.
func reasonForm(d Decision) string {
	reason := suffixes.ReplaceAllString(d.Reason, "")
	for _, f := range reasonForms {
		if f.action == d.Action && f.re.MatchString(reason) {
			return f.name
		}
	}
	return ""
}

// planChecked runs Plan and checks that it left its input alone, that it
// gives the same plan for a shuffled copy of the snapshots, and every
// invariant of checkInvariants.
func planChecked(t *testing.T, in Input) []Decision {
	t.Helper()
	before := cloneInput(in)
	got := Plan(in)
	if diff := cmp.Diff(before, in); diff != "" {
		t.Fatalf("Plan mutated its input (-before +after):\n%s", diff)
	}
	shuffled := cloneInput(in)
	slices.Reverse(shuffled.Snapshots)
	if len(shuffled.Snapshots) > 2 {
		// Rotate too, so that no fixture order survives by accident.
		s := shuffled.Snapshots
		shuffled.Snapshots = slices.Concat(s[len(s)/3:], s[:len(s)/3])
	}
	if diff := cmp.Diff(got, Plan(shuffled)); diff != "" {
		t.Fatalf("Plan depends on the order of Snapshots (-original +shuffled):\n%s", diff)
	}
	checkInvariants(t, in, got)
	return got
}

func cloneInput(in Input) Input {
	out := in
	out.Snapshots = slices.Clone(in.Snapshots)
	for i := range out.Snapshots {
		out.Snapshots[i].Tags = slices.Clone(out.Snapshots[i].Tags)
	}
	out.Volumes = maps.Clone(in.Volumes)
	out.VolumeInstance = maps.Clone(in.VolumeInstance)
	out.Ignore = maps.Clone(in.Ignore)
	out.Orphans = maps.Clone(in.Orphans)
	return out
}

// checkInvariants checks the safety properties of a plan against its
// input, computing what it needs on its own rather than with Plan's
// helpers.
func checkInvariants(t *testing.T, in Input, got []Decision) {
	t.Helper()
	today := in.Now.UTC().Format(time.DateOnly)
	snaps := map[string]inventory.Snapshot{}
	for _, s := range in.Snapshots {
		snaps[s.ID] = s
	}

	// Keep + delete = candidates: each candidate once, nothing else, with
	// the fields of its snapshot, a well-formed reason, in the documented
	// order.
	seen := map[string]bool{}
	for i, d := range got {
		s, ok := snaps[d.SnapshotID]
		deleteOn, tagged := s.Tag(DeleteOnTag)
		if a := eff(in, groupOf(s)).policy.Adopt; ok && !tagged && a != nil {
			// Adopted: due on the first UTC midnight after StartTime +
			// retention.
			due := s.StartTime.Add(a.Retention).UTC()
			deleteOn, tagged = due.Add(24*time.Hour-time.Nanosecond).Format(time.DateOnly), d.Adopted
		}
		switch {
		case !ok || !tagged:
			t.Errorf("decision for %s, which is not a candidate", d.SnapshotID)
		case seen[d.SnapshotID]:
			t.Errorf("two decisions for %s", d.SnapshotID)
		case d.VolumeID != volOfKey(groupOf(s)) || !d.StartTime.Equal(s.StartTime) || d.DeleteOn != deleteOn:
			t.Errorf("decision %+v does not describe snapshot %+v", d, s)
		}
		seen[d.SnapshotID] = true
		if reasonForm(d) == "" {
			t.Errorf("%s: %s with unknown reason %q", d.SnapshotID, d.Action, d.Reason)
		}
		if i > 0 && !decisionLess(got[i-1], d, snaps) {
			t.Errorf("decisions %d and %d out of order: %s then %s", i-1, i, got[i-1].SnapshotID, d.SnapshotID)
		}
	}
	for id, s := range snaps {
		if _, tagged := s.Tag(DeleteOnTag); tagged && !seen[id] {
			t.Errorf("no decision for candidate %s", id)
		}
	}
	tierKept := map[string]bool{}
	for key := range eff(in, "").all(in) {
		maps.Copy(tierKept, refTierKeeps(eff(in, key).policy.Tiers, in.Snapshots, key))
	}

	// What is deleted is due and unprotected.
	deleted := map[string]bool{}
	for _, d := range got {
		if d.Action != Delete {
			continue
		}
		deleted[d.SnapshotID] = true
		s, vol := snaps[d.SnapshotID], d.VolumeID
		e := eff(in, groupOf(s))
		known := e.known
		for _, bad := range []struct {
			broken bool
			what   string
		}{
			{!isDate(d.DeleteOn) || d.DeleteOn > today, fmt.Sprintf("DeleteOn %q is not due on %s", d.DeleteOn, today)},
			{in.Ignore[s.ID], "snapshot is ignored"},
			{in.Ignore[vol], "volume is ignored"},
			{ignored(in, in.VolumeInstance[vol]), "instance " + in.VolumeInstance[vol] + " is ignored"},
			{ignored(in, in.Volumes[vol].InstanceID), "policy's instance " + in.Volumes[vol].InstanceID + " is ignored"},
			{len(holding(in, s)) > 0, "protected: " + inventory.Protections(holding(in, s))},
			{s.State != inventory.StateCompleted && s.State != inventory.StateError, "snapshot is " + s.State + ", not completed"},
			{!known && !in.IgnoreRetention, "minimum unknown without ignore_retention"},
			{e.keepAll, "its orphans policy is keep"},
			// A Description names a stanza on the snapshot it is
			// written on only: anyone allowed ec2:CreateSnapshot can
			// write one naming any stanza on a new snapshot.
			{e.orphans && !in.IgnoreRetention && !namesValidOrphans(in, s), "an orphans policy its own Description does not name"},
			{tierKept[s.ID], "a tier keeps it"},
			// DeleteOn, which anyone allowed ec2:CreateTags can write,
			// never shortens the retention that governs the volume.
			{in.Now.Before(s.StartTime.Add(governingRetention(in, vol))), fmt.Sprintf("younger than StartTime + retention %s", governingRetention(in, vol))},
			// A completed snapshot whose volume nothing EC2 records tells
			// is a group of its own, its own newest.
			{s.State == inventory.StateCompleted && provenance.VolumeOfRecord(s) == "", "completed, and no volume of record"},
		} {
			if bad.broken {
				t.Errorf("deleted %s: %s", s.ID, bad.what)
			}
		}
	}

	// Per volume: the newest completed snapshot stays, and a known minimum
	// holds: completed snapshots left >= min(minimum, completed before),
	// with equality whenever a candidate was kept only for the minimum (the
	// plan deletes all it may). Pending snapshots never count: they are
	// not backups until they complete.
	type tally struct {
		newest               inventory.Snapshot
		before, after        int
		keptForMinimum, used bool
	}
	vols := map[string]*tally{}
	for _, s := range in.Snapshots {
		v := vols[groupOf(s)]
		if v == nil {
			v = &tally{}
			vols[groupOf(s)] = v
		}
		if s.State != inventory.StateCompleted || s.Protected(inventory.ProtectedByAWSBackup) {
			continue // AWS Backup's recovery points are not the volume's
		}
		v.before++
		if !deleted[s.ID] {
			v.after++
		}
		if !v.used || oldestFirst(v.newest, s) < 0 {
			v.newest, v.used = s, true
		}
	}
	for _, d := range got {
		if reasonForm(d) == "minimum reached" {
			vols[groupOf(snaps[d.SnapshotID])].keptForMinimum = true
		}
	}
	for key, v := range vols {
		vol := strings.ReplaceAll(key, groupSeparator, " ")
		if v.used && deleted[v.newest.ID] {
			t.Errorf("deleted %s, the newest completed snapshot of %s", v.newest.ID, vol)
		}
		e := eff(in, key)
		p := e.policy
		if !e.known {
			continue
		}
		floor := min(p.Minimum, v.before)
		if v.after < floor {
			t.Errorf("%s: %d completed snapshots left, want at least min(minimum %d, %d before)", vol, v.after, p.Minimum, v.before)
		}
		// Tiers keep beyond the minimum, which is counted as if they kept
		// nothing: only without tiers is the minimum exact.
		if v.keptForMinimum && v.after != floor && p.Tiers.Empty() {
			t.Errorf("%s: kept a snapshot for minimum %d but left %d of %d completed", vol, p.Minimum, v.after, v.before)
		}
	}

	// Every reason is true of its snapshot: with the checks above, this
	// also catches a plan that keeps what it should delete under a false
	// pretext (such as "not due" on the due date).
	for _, d := range got {
		s, vol, key := snaps[d.SnapshotID], d.VolumeID, groupOf(snaps[d.SnapshotID])
		e := eff(in, key)
		p, known := e.policy, e.known
		ami, backs := backedAMI(s)
		completed := s.State == inventory.StateCompleted
		bare := suffixes.ReplaceAllString(d.Reason, "")
		minimum := strings.Contains(bare, fmt.Sprintf(" minimum %d ", p.Minimum)) ||
			strings.HasSuffix(bare, fmt.Sprintf(" minimum %d", p.Minimum))
		var holds bool
		switch reasonForm(d) {
		case "bad date":
			holds = !isDate(d.DeleteOn)
		case "not due":
			holds = isDate(d.DeleteOn) && d.DeleteOn > today
		case "retention":
			floor := s.StartTime.Add(governingRetention(in, vol))
			holds = isDate(d.DeleteOn) && in.Now.Before(floor) && floor.Format(time.DateOnly) >= d.DeleteOn &&
				strings.HasPrefix(bare, "kept: expires on "+floor.UTC().Format(time.RFC3339)+",")
		case "ignored snapshot":
			holds = in.Ignore[s.ID] && bare == "kept: snapshot "+s.ID+" is ignored"
		case "ignored volume":
			holds = in.Ignore[vol] && bare == "kept: volume "+vol+" is ignored"
		case "ignored instance":
			for _, i := range []string{in.VolumeInstance[vol], p.InstanceID} {
				holds = holds || (ignored(in, i) && bare == "kept: instance "+i+" is ignored")
			}
		case "protected":
			ps := holding(in, s)
			want := "kept: " + inventory.Protections(ps)
			if s.Protected(inventory.ProtectedByAWSBackup) {
				want += " (not counted toward the minimum)"
			}
			holds = len(ps) > 0 && bare == want && (!backs || strings.Contains(bare, "backs "+ami))
		case "not completed":
			holds = !completed && s.State != inventory.StateError && bare == fmt.Sprintf("kept: snapshot is %q, not a completed backup yet", s.State)
		case "newest":
			holds = vols[key].used && vols[key].newest.ID == s.ID
		case "minimum reached", "above minimum":
			holds = known && completed && minimum
		case "error state":
			holds = known && s.State == inventory.StateError
		case "minimum unknown":
			holds = !known && !in.IgnoreRetention
		case "ignore_retention":
			holds = !known && !e.keepAll && in.IgnoreRetention
		case "tier":
			holds = tierKept[s.ID] && completed
		case "orphans unnamed":
			holds = e.orphans && !in.IgnoreRetention && !namesValidOrphans(in, s)
		case "orphans keep":
			holds = e.keepAll
		case "archive":
			holds = p.ArchiveAfter > 0 && completed && !(vols[key].used && vols[key].newest.ID == s.ID) &&
				s.StorageTier != inventory.TierArchive && in.Now.Sub(s.StartTime) >= p.ArchiveAfter
		}
		if form := reasonForm(d); form == "minimum unknown" && e.keepAll {
			holds = false
		}
		if !holds {
			t.Errorf("%s: %s with reason %q, which does not hold", s.ID, d.Action, d.Reason)
		}
	}
}

// effective is a volume's policy as the invariants see it, worked out
// apart from Plan: in.Volumes, else the orphans policies of the stanzas
// its snapshots name.
type effective struct {
	policy  VolumePolicy
	known   bool // a minimum applies
	keepAll bool // an orphans policy "keep" applies
	orphans bool // the policy is from the orphans policies its snapshots name
	in      Input
}

func eff(in Input, key string) effective {
	if p, ok := in.Volumes[volOfKey(key)]; ok {
		return effective{policy: p, known: true, in: in}
	}
	e := effective{in: in}
	for _, s := range in.Snapshots {
		id, tagged := provenance.CreatedStanza(s.Description)
		o, valid := in.Orphans[id]
		if groupOf(s) != key || !tagged || !valid {
			continue
		}
		e.keepAll = e.keepAll || o.Keep
		e.known, e.orphans = true, true
		e.policy.Minimum = max(e.policy.Minimum, o.Minimum)
		e.policy.Tiers = e.policy.Tiers.Union(o.Tiers)
	}
	if e.keepAll {
		return effective{keepAll: true, in: in}
	}
	return e
}

// namesValidOrphans reports whether s's own Description names a stanza
// of in.Orphans.
func namesValidOrphans(in Input, s inventory.Snapshot) bool {
	id, ok := provenance.CreatedStanza(s.Description)
	_, valid := in.Orphans[id]
	return ok && valid
}

// all lists every volume of the input.
func (e effective) all(in Input) map[string]bool {
	vols := map[string]bool{}
	for _, s := range in.Snapshots {
		vols[groupOf(s)] = true
	}
	return vols
}

// refTierKeeps is restic's rule written plainly: per tier, the newest
// completed snapshot of each bucket, the newest buckets first, as many as
// the count.
func refTierKeeps(t Tiers, all []inventory.Snapshot, key string) map[string]bool {
	var done []inventory.Snapshot
	for _, s := range all {
		if groupOf(s) == key && s.State == inventory.StateCompleted {
			done = append(done, s)
		}
	}
	slices.SortFunc(done, func(a, b inventory.Snapshot) int { return oldestFirst(b, a) }) // newest first
	keep := map[string]bool{}
	for i := range min(t.Last, len(done)) {
		keep[done[i].ID] = true
	}
	week := func(x time.Time) string { y, w := x.UTC().ISOWeek(); return fmt.Sprint(y, w) }
	layout := func(l string) func(time.Time) string { return func(x time.Time) string { return x.UTC().Format(l) } }
	for _, tier := range []struct {
		n   int
		key func(time.Time) string
	}{{t.Hourly, layout("2006010215")}, {t.Daily, layout("20060102")}, {t.Weekly, week}, {t.Monthly, layout("200601")}, {t.Yearly, layout("2006")}} {
		var buckets []string
		for _, s := range done {
			k := tier.key(s.StartTime)
			if !slices.Contains(buckets, k) && len(buckets) < tier.n {
				buckets = append(buckets, k)
				keep[s.ID] = true
			}
		}
	}
	for _, s := range done {
		if t.Within > 0 && done[0].StartTime.Sub(s.StartTime) <= t.Within {
			keep[s.ID] = true
		}
	}
	return keep
}

// groupOf is the group a snapshot is counted in: its volume of record,
// from what EC2 records (provenance), or, when that is unknown, the
// snapshot alone, keyed by its VolumeId and id. Two volumes' snapshots never
// share a key.
func groupOf(s inventory.Snapshot) string {
	if vol := provenance.VolumeOfRecord(s); vol != "" {
		return vol
	}
	return s.VolumeID + groupSeparator + s.ID
}

// volOfKey is the volume of a group key: what its decisions name.
func volOfKey(key string) string {
	vol, _, _ := strings.Cut(key, groupSeparator)
	return vol
}

// governingRetention is the retention under which no snapshot of vol may
// be deleted: its policy's, or the longest of every stanza for a volume
// without policy.
func governingRetention(in Input, vol string) time.Duration {
	if p, ok := in.Volumes[vol]; ok {
		return p.Retention
	}
	return in.UngovernedRetention
}

// madeBy is the Description ebs-snapper gives a snapshot stanza id takes.
func madeBy(id string) string {
	return "Created from i-1 by EbsSnapper(test) for ami-1 from vol-1" + provenance.StanzaSuffix(id)
}

// ignored reports whether an instance id is set and ignored.
func ignored(in Input, instance string) bool { return instance != "" && in.Ignore[instance] }

func decisionLess(a, b Decision, snaps map[string]inventory.Snapshot) bool {
	if ka, kb := groupOf(snaps[a.SnapshotID]), groupOf(snaps[b.SnapshotID]); ka != kb {
		return ka < kb
	}
	if !a.StartTime.Equal(b.StartTime) {
		return a.StartTime.Before(b.StartTime)
	}
	// Adopted snapshots carry no DeleteOn tag: they sort as "".
	tag := func(d Decision) string {
		if d.Adopted {
			return ""
		}
		return d.DeleteOn
	}
	if tag(a) != tag(b) {
		return tag(a) < tag(b)
	}
	return a.SnapshotID < b.SnapshotID
}

// isDate is an independent check of DeleteOn syntax: ten characters,
// digits and dashes in place, and a calendar date.
func isDate(s string) bool {
	if len(s) != 10 || strings.Count(s, "-") != 2 || s[4] != '-' || s[7] != '-' {
		return false
	}
	var y, m, d int
	if n, err := fmt.Sscanf(s, "%4d-%2d-%2d", &y, &m, &d); n != 3 || err != nil {
		return false
	}
	for _, r := range s {
		if r != '-' && (r < '0' || r > '9') {
			return false
		}
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() == d && m >= 1 && m <= 12
}

// holding returns the protections that hold s: all of them, but launch
// templates on a volume whose policy ignores them.
func holding(in Input, s inventory.Snapshot) []inventory.Protection {
	if !eff(in, s.VolumeID).policy.IgnoreLaunchTemplates {
		return s.Protections
	}
	var out []inventory.Protection
	for _, p := range s.Protections {
		if p.Kind != inventory.ProtectedByLaunchTemplate {
			out = append(out, p)
		}
	}
	return out
}
