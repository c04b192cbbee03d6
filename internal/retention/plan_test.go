package retention

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Tags used throughout: a DeleteOn six days past and one five days ahead
// of now.
const (
	past   = "DeleteOn=2026-11-20"
	future = "DeleteOn=2026-12-01"
)

// snap is a completed snapshot of vol started day days into November 2026,
// with tags written "Key=Value".
func snap(id, vol string, day int, tags ...string) inventory.Snapshot {
	s := inventory.Snapshot{ID: id, VolumeID: vol, State: inventory.StateCompleted,
		StartTime: time.Date(2026, 11, day, 3, 0, 0, 0, time.UTC)}
	for _, kv := range tags {
		k, v, _ := strings.Cut(kv, "=")
		s.Tags = append(s.Tags, inventory.Tag{Key: k, Value: v})
	}
	return s
}

func inState(state string, s inventory.Snapshot) inventory.Snapshot {
	s.State = state
	return s
}

// input governs each volume of minimums by stanza "cfg" through instance
// i-<n> for vol-<n>, evaluated at now.
func input(minimums map[string]int, snaps ...inventory.Snapshot) Input {
	in := Input{Now: now, Snapshots: snaps, Volumes: map[string]VolumePolicy{}, VolumeInstance: map[string]string{}}
	for vol, m := range minimums {
		i := "i-" + strings.TrimPrefix(vol, "vol-")
		in.Volumes[vol] = VolumePolicy{ConfigID: "cfg", InstanceID: i, Minimum: m}
		in.VolumeInstance[vol] = i
	}
	return in
}

func with(in Input, edit func(*Input)) Input {
	edit(&in)
	return in
}

func set(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// verdict is the part of a Decision the rule tests care about.
type verdict struct {
	ID     string
	Action Action
	Reason string
}

func kept(id, reason string) verdict    { return verdict{id, Keep, reason} }
func deleted(id, reason string) verdict { return verdict{id, Delete, reason} }

type planCase struct {
	name string
	in   Input
	want []verdict
}

func runPlanCases(t *testing.T, tests []planCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []verdict
			for _, d := range planChecked(t, tc.in) {
				got = append(got, verdict{d.SnapshotID, d.Action, d.Reason})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Plan() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanReferenceTable has one case per row of the clean decision table
// of ebs_snapper, each adapted to our fixed
// semantics; the name says what ebs_snapper did.
func TestPlanReferenceTable(t *testing.T) {
	runPlanCases(t, []planCase{{
		name: "row 1 volume ignored: kept with a reason (ebs_snapper skipped it silently)",
		in: with(input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past)),
			func(in *Input) { in.Ignore = set("vol-1") }),
		want: []verdict{
			kept("s1", "kept: volume vol-1 is ignored"),
			kept("s2", "kept: volume vol-1 is ignored"),
			kept("s3", "kept: volume vol-1 is ignored"),
		},
	}, {
		name: "row 2 count above minimum: deleted oldest first (ebs_snapper deleted in API order)",
		in: input(map[string]int{"vol-1": 2},
			snap("s3", "vol-1", 3, past), snap("s1", "vol-1", 1, past),
			snap("s4", "vol-1", 4, future), snap("s2", "vol-1", 2, past)),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 4 completed snapshots > minimum 2"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s3", "kept: minimum 2 reached (2 completed snapshots of vol-1)"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "row 3 count at minimum: kept, snapshots without DeleteOn counted (as ebs_snapper)",
		in: input(map[string]int{"vol-1": 3},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3)),
		want: []verdict{
			kept("s1", "kept: minimum 3 reached (3 completed snapshots of vol-1)"),
			kept("s2", "kept: minimum 3 reached (3 completed snapshots of vol-1)"),
		},
	}, {
		// Rows 4 and 5: int(minimum) failing cannot happen here, since
		// config.Parse rejects a minimum that is not a non-negative
		// integer. What remains of row 5 is that ignore_retention never
		// overrides a minimum that is known.
		name: "rows 4-5 known minimum with ignore_retention: minimum holds (ebs_snapper deleted when int(minimum) failed)",
		in: with(input(map[string]int{"vol-1": 3},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past)),
			func(in *Input) { in.IgnoreRetention = true }),
		want: []verdict{
			kept("s1", "kept: minimum 3 reached (3 completed snapshots of vol-1)"),
			kept("s2", "kept: minimum 3 reached (3 completed snapshots of vol-1)"),
			kept("s3", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "row 6 volume not governed, ignore_retention off: kept (as ebs_snapper, which logged an analysis error)",
		in: input(nil,
			snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past)),
		want: []verdict{
			kept("s1", "kept: minimum unknown, volume vol-9 is not attached to an instance any stanza matches"),
			kept("s2", "kept: newest completed snapshot of vol-9"),
		},
	}, {
		name: "row 7 volume not governed, ignore_retention on: deleted except the newest (ebs_snapper deleted all)",
		in: with(input(nil,
			snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past), snap("s3", "vol-9", 3, past)),
			func(in *Input) { in.IgnoreRetention = true }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, minimum unknown and ignore_retention is set"),
			deleted("s2", "expired on 2026-11-20, minimum unknown and ignore_retention is set"),
			kept("s3", "kept: newest completed snapshot of vol-9"),
		},
	}})
}

// TestPlanFixes has one case per ebs_snapper clean bug we fix
// (docs/differences.md).
func TestPlanFixes(t *testing.T) {
	runPlanCases(t, []planCase{{
		name: "minimum lowered by each delete: 6 snapshots, minimum 5, 3 due delete 1 (ebs_snapper deleted 3, leaving 3)",
		in: input(map[string]int{"vol-1": 5},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past),
			snap("s4", "vol-1", 4, future), snap("s5", "vol-1", 5, future), snap("s6", "vol-1", 6, future)),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 6 completed snapshots > minimum 5"),
			kept("s2", "kept: minimum 5 reached (5 completed snapshots of vol-1)"),
			kept("s3", "kept: minimum 5 reached (5 completed snapshots of vol-1)"),
			kept("s4", "kept: expires on 2026-12-01"),
			kept("s5", "kept: expires on 2026-12-01"),
			kept("s6", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "due for more than 7 days: deleted (ebs_snapper's 8-date window never saw it again)",
		in: input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, "DeleteOn=2025-01-01"), snap("s2", "vol-1", 2, "DeleteOn=2026-11-18"),
			snap("s3", "vol-1", 3, "DeleteOn=2026-11-19"), snap("s4", "vol-1", 4)),
		want: []verdict{
			deleted("s1", "expired on 2025-01-01, 4 completed snapshots > minimum 0"),
			deleted("s2", "expired on 2026-11-18, 3 completed snapshots > minimum 0"),
			deleted("s3", "expired on 2026-11-19, 2 completed snapshots > minimum 0"),
		},
	}, {
		name: "future DeleteOn with another date-valued tag: kept (ebs_snapper's independent tag filters matched it)",
		in: input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, "Expires=2020-01-01", future, "Retain=2026-11-25"), snap("s2", "vol-1", 2)),
		want: []verdict{kept("s1", "kept: expires on 2026-12-01")},
	}, {
		name: "first DeleteOn tag wins",
		in: input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, future, "DeleteOn=2026-11-01"),
			snap("s2", "vol-1", 2, "DeleteOn=2026-11-01", future), snap("s3", "vol-1", 3)),
		want: []verdict{
			kept("s1", "kept: expires on 2026-12-01"),
			deleted("s2", "expired on 2026-11-01, 3 completed snapshots > minimum 0"),
		},
	}, {
		name: "ignored instance with ignore_retention: kept (ebs_snapper deleted it as an orphan)",
		in: with(input(nil, snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past)), func(in *Input) {
			in.VolumeInstance["vol-9"] = "i-9"
			in.Ignore = set("i-9")
			in.IgnoreRetention = true
		}),
		want: []verdict{
			kept("s1", "kept: instance i-9 is ignored"),
			kept("s2", "kept: instance i-9 is ignored"),
		},
	}, {
		name: "ignored volume with ignore_retention: kept (as ebs_snapper)",
		in: with(input(nil, snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past)), func(in *Input) {
			in.Ignore = set("vol-9")
			in.IgnoreRetention = true
		}),
		want: []verdict{
			kept("s1", "kept: volume vol-9 is ignored"),
			kept("s2", "kept: volume vol-9 is ignored"),
		},
	}, {
		name: "ignored snapshot with ignore_retention: kept (ebs_snapper's clean never read snapshot ids in ignore)",
		in: with(input(nil, snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past), snap("s3", "vol-9", 3, past)),
			func(in *Input) {
				in.Ignore = set("s1")
				in.IgnoreRetention = true
			}),
		want: []verdict{
			kept("s1", "kept: snapshot s1 is ignored"),
			deleted("s2", "expired on 2026-11-20, minimum unknown and ignore_retention is set"),
			kept("s3", "kept: newest completed snapshot of vol-9"),
		},
	}, {
		name: "ignored snapshot of a governed volume: kept and still counted",
		in: with(input(map[string]int{"vol-1": 1},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past)),
			func(in *Input) { in.Ignore = set("s1") }),
		want: []verdict{
			kept("s1", "kept: snapshot s1 is ignored"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 1"),
			kept("s3", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "backs an AMI: kept and counted (ebs_snapper tried and logged InvalidSnapshot.InUse)",
		in: with(input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past)),
			func(in *Input) { backsAMIs(in, map[string]string{"s1": "ami-1"}) }),
		want: []verdict{
			kept("s1", "kept: backs ami-1"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 0"),
			kept("s3", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "newest kept with minimum 0 (ebs_snapper deleted every due snapshot)",
		in: input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past)),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 2 completed snapshots > minimum 0"),
			kept("s2", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "newest is the newest usable: an error-state newer one does not count",
		in: input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past),
			inState(inventory.StateError, snap("s3", "vol-1", 3, past))),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 2 completed snapshots > minimum 0"),
			kept("s2", "kept: newest completed snapshot of vol-1"),
			deleted("s3", "expired on 2026-11-20, error-state snapshot (not counted toward minimum)"),
		},
	}, {
		name: "error-state snapshots not counted (ebs_snapper counted every state and deleted all 3)",
		in: input(map[string]int{"vol-1": 2},
			inState(inventory.StateError, snap("e1", "vol-1", 1, past)),
			snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past), snap("s4", "vol-1", 4, future)),
		want: []verdict{
			deleted("e1", "expired on 2026-11-20, error-state snapshot (not counted toward minimum)"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s3", "kept: minimum 2 reached (2 completed snapshots of vol-1)"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "error-state snapshot deleted even at the minimum, but not when ignored, backing an AMI or not due",
		in: with(input(map[string]int{"vol-1": 5},
			inState(inventory.StateError, snap("e1", "vol-1", 1, past)),
			inState(inventory.StateError, snap("e2", "vol-1", 2, past)),
			inState(inventory.StateError, snap("e3", "vol-1", 3, past)),
			inState(inventory.StateError, snap("e4", "vol-1", 4, future)),
			snap("s5", "vol-1", 5, past)),
			func(in *Input) {
				in.Ignore = set("e2")
				backsAMIs(in, map[string]string{"e3": "ami-3"})
			}),
		want: []verdict{
			deleted("e1", "expired on 2026-11-20, error-state snapshot (not counted toward minimum)"),
			kept("e2", "kept: snapshot e2 is ignored"),
			kept("e3", "kept: backs ami-3"),
			kept("e4", "kept: expires on 2026-12-01"),
			kept("s5", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		// Issue 10, item 2: ebs_snapper (and this tool before) counted
		// the pending one and deleted the only restore point.
		name: "pending snapshot is not a backup: the due completed one stays",
		in: input(map[string]int{"vol-1": 1},
			snap("s1", "vol-1", 1, past),
			inState(inventory.StatePending, snap("p2", "vol-1", 2, past))),
		want: []verdict{
			kept("s1", "kept: newest completed snapshot of vol-1"),
			kept("p2", `kept: snapshot is "pending", not a completed backup yet`),
		},
	}, {
		name: "pending snapshots do not count toward the minimum",
		in: input(map[string]int{"vol-1": 2},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past),
			inState(inventory.StatePending, snap("p4", "vol-1", 4))),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s2", "kept: minimum 2 reached (2 completed snapshots of vol-1)"),
			kept("s3", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "pending orphan is kept even with ignore_retention, and so is any unknown state",
		in: with(input(nil,
			snap("s1", "vol-9", 1, past), snap("s2", "vol-9", 2, past),
			inState(inventory.StatePending, snap("p3", "vol-9", 3, past)),
			inState("recoverable", snap("r4", "vol-9", 4, past))),
			func(in *Input) { in.IgnoreRetention = true }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, minimum unknown and ignore_retention is set"),
			kept("s2", "kept: newest completed snapshot of vol-9"),
			kept("p3", `kept: snapshot is "pending", not a completed backup yet`),
			kept("r4", `kept: snapshot is "recoverable", not a completed backup yet`),
		},
	}, {
		name: "DeleteOn that is not YYYY-MM-DD: kept, value quoted",
		in: input(map[string]int{"vol-1": 0},
			snap("b1", "vol-1", 1, "DeleteOn="), snap("b2", "vol-1", 2, "DeleteOn=soon"),
			snap("b3", "vol-1", 3, "DeleteOn=2026-11-5"), snap("b4", "vol-1", 4, "DeleteOn=2026-02-30"),
			snap("b5", "vol-1", 5, "DeleteOn=2026-11-20T00:00:00Z"), snap("b6", "vol-1", 6, "DeleteOn= 2026-11-20"),
			snap("b7", "vol-1", 7, "DeleteOn=20-11-2026"), snap("b8", "vol-1", 8, "DeleteOn=2026/11/20"),
			snap("b9", "vol-1", 9, "DeleteOn=2026-11-20\n"), snap("s10", "vol-1", 10)),
		want: []verdict{
			kept("b1", `kept: DeleteOn "" is not a YYYY-MM-DD date`),
			kept("b2", `kept: DeleteOn "soon" is not a YYYY-MM-DD date`),
			kept("b3", `kept: DeleteOn "2026-11-5" is not a YYYY-MM-DD date`),
			kept("b4", `kept: DeleteOn "2026-02-30" is not a YYYY-MM-DD date`),
			kept("b5", `kept: DeleteOn "2026-11-20T00:00:00Z" is not a YYYY-MM-DD date`),
			kept("b6", `kept: DeleteOn " 2026-11-20" is not a YYYY-MM-DD date`),
			kept("b7", `kept: DeleteOn "20-11-2026" is not a YYYY-MM-DD date`),
			kept("b8", `kept: DeleteOn "2026/11/20" is not a YYYY-MM-DD date`),
			kept("b9", `kept: DeleteOn "2026-11-20\n" is not a YYYY-MM-DD date`),
		},
	}, {
		name: "date compared in UTC: 23:30 at UTC-5 on the 25th is the 26th (ebs_snapper used the host's local date)",
		in: with(input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, "DeleteOn=2026-11-26"), snap("s2", "vol-1", 2, "DeleteOn=2026-11-27"), snap("s3", "vol-1", 3)),
			func(in *Input) { in.Now = time.Date(2026, 11, 25, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)) }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-26, 3 completed snapshots > minimum 0"),
			kept("s2", "kept: expires on 2026-11-27"),
		},
	}, {
		name: "date compared in UTC: 01:00 at UTC+3 on the 26th is still the 25th",
		in: with(input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, "DeleteOn=2026-11-25"), snap("s2", "vol-1", 2, "DeleteOn=2026-11-26"), snap("s3", "vol-1", 3)),
			func(in *Input) { in.Now = time.Date(2026, 11, 26, 1, 0, 0, 0, time.FixedZone("MSK", 3*3600)) }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-25, 3 completed snapshots > minimum 0"),
			kept("s2", "kept: expires on 2026-11-26"),
		},
	}, {
		name: "due from the first instant of its UTC date",
		in: with(input(map[string]int{"vol-1": 0},
			snap("s1", "vol-1", 1, "DeleteOn=2026-11-26"), snap("s2", "vol-1", 2, "DeleteOn=2026-11-27"), snap("s3", "vol-1", 3)),
			func(in *Input) { in.Now = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-26, 3 completed snapshots > minimum 0"),
			kept("s2", "kept: expires on 2026-11-27"),
		},
	}})
}

// TestPlanRules covers the order of the rules and the per-volume state.
func TestPlanRules(t *testing.T) {
	runPlanCases(t, []planCase{{
		name: "no snapshots, no decisions",
		in:   input(map[string]int{"vol-1": 0}),
	}, {
		name: "snapshots without DeleteOn get no decision",
		in:   input(map[string]int{"vol-1": 0}, snap("s1", "vol-1", 1), snap("s2", "vol-1", 2, "Name=x")),
	}, {
		name: "equal start times: the greater id is the newer",
		in: input(map[string]int{"vol-1": 0},
			snap("snap-b", "vol-1", 1, past), snap("snap-a", "vol-1", 1, past)),
		want: []verdict{
			deleted("snap-a", "expired on 2026-11-20, 2 completed snapshots > minimum 0"),
			kept("snap-b", "kept: newest completed snapshot of vol-1"),
		},
	}, {
		name: "volumes counted apart, decisions by volume then time",
		in: input(map[string]int{"vol-1": 1, "vol-2": 0},
			snap("b1", "vol-2", 1, past), snap("a1", "vol-1", 1, past), snap("b2", "vol-2", 2, past),
			snap("a2", "vol-1", 2, past), snap("b3", "vol-2", 3), snap("a3", "vol-1", 3, past)),
		want: []verdict{
			deleted("a1", "expired on 2026-11-20, 3 completed snapshots > minimum 1"),
			deleted("a2", "expired on 2026-11-20, 2 completed snapshots > minimum 1"),
			kept("a3", "kept: newest completed snapshot of vol-1"),
			deleted("b1", "expired on 2026-11-20, 3 completed snapshots > minimum 0"),
			deleted("b2", "expired on 2026-11-20, 2 completed snapshots > minimum 0"),
		},
	}, {
		name: "a bad date is reported before anything else",
		in: with(input(map[string]int{"vol-1": 0}, snap("s1", "vol-1", 1, "DeleteOn=never")),
			func(in *Input) { in.Ignore = set("s1") }),
		want: []verdict{kept("s1", `kept: DeleteOn "never" is not a YYYY-MM-DD date`)},
	}, {
		name: "not due is reported before an ignore",
		in: with(input(map[string]int{"vol-1": 0}, snap("s1", "vol-1", 1, future), snap("s2", "vol-1", 2)),
			func(in *Input) { in.Ignore = set("s1") }),
		want: []verdict{kept("s1", "kept: expires on 2026-12-01")},
	}, {
		name: "a protection is named before an ignore; ignores: snapshot, then volume, then instance",
		in: with(input(map[string]int{"vol-1": 0, "vol-2": 0},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("t1", "vol-2", 1, past)),
			func(in *Input) {
				in.Ignore = set("s1", "vol-1", "i-1", "i-2")
				backsAMIs(in, map[string]string{"s1": "ami-1", "t1": "ami-2"})
			}),
		want: []verdict{
			kept("s1", "kept: backs ami-1"),
			kept("s2", "kept: volume vol-1 is ignored"),
			kept("t1", "kept: backs ami-2"),
		},
	}, {
		name: "the policy's instance ignored protects too, even if Volumes should not hold it",
		in: with(input(map[string]int{"vol-1": 0}, snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past)),
			func(in *Input) {
				in.VolumeInstance = nil
				in.Ignore = set("i-1")
			}),
		want: []verdict{
			kept("s1", "kept: instance i-1 is ignored"),
			kept("s2", "kept: instance i-1 is ignored"),
		},
	}, {
		name: "an AMI-backed newest snapshot is reported as backing the AMI",
		in: with(input(map[string]int{"vol-1": 0}, snap("s1", "vol-1", 1, past)),
			func(in *Input) { backsAMIs(in, map[string]string{"s1": "ami-1"}) }),
		want: []verdict{kept("s1", "kept: backs ami-1")},
	}, {
		name: "not governed with ignore_retention: error-state deleted, newest usable kept",
		in: with(input(nil,
			snap("s1", "vol-9", 1, past), inState(inventory.StateError, snap("e2", "vol-9", 2, past))),
			func(in *Input) { in.IgnoreRetention = true }),
		want: []verdict{
			kept("s1", "kept: newest completed snapshot of vol-9"),
			deleted("e2", "expired on 2026-11-20, minimum unknown and ignore_retention is set"),
		},
	}, {
		name: "not governed without ignore_retention: error-state kept too",
		in:   input(nil, inState(inventory.StateError, snap("e1", "vol-9", 1, past))),
		want: []verdict{
			kept("e1", "kept: minimum unknown, volume vol-9 is not attached to an instance any stanza matches"),
		},
	}, {
		name: "only error-state snapshots: all due ones deleted",
		in: input(map[string]int{"vol-1": 3},
			inState(inventory.StateError, snap("e1", "vol-1", 1, past)),
			inState(inventory.StateError, snap("e2", "vol-1", 2, past))),
		want: []verdict{
			deleted("e1", "expired on 2026-11-20, error-state snapshot (not counted toward minimum)"),
			deleted("e2", "expired on 2026-11-20, error-state snapshot (not counted toward minimum)"),
		},
	}, {
		name: "not-due and protected snapshots count toward the minimum",
		in: with(input(map[string]int{"vol-1": 3},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past),
			snap("s4", "vol-1", 4, future), snap("s5", "vol-1", 5, past)),
			func(in *Input) { backsAMIs(in, map[string]string{"s3": "ami-3"}) }),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 5 completed snapshots > minimum 3"),
			deleted("s2", "expired on 2026-11-20, 4 completed snapshots > minimum 3"),
			kept("s3", "kept: backs ami-3"),
			kept("s4", "kept: expires on 2026-12-01"),
			kept("s5", "kept: newest completed snapshot of vol-1"),
		},
	}})
}

// TestPlanDecisionFields checks whole decisions: the policy's config and
// instance for a governed volume (even when VolumeInstance says otherwise),
// VolumeInstance's instance for one that is not, neither for a snapshot
// without a volume id.
func TestPlanDecisionFields(t *testing.T) {
	in := with(input(map[string]int{"vol-1": 0},
		snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past),
		snap("t1", "vol-8", 1, past), snap("t2", "vol-8", 2, past), snap("u1", "", 1, past)),
		func(in *Input) {
			in.Volumes["vol-1"] = VolumePolicy{ConfigID: "cfg-a", InstanceID: "i-gov", Minimum: 0}
			in.VolumeInstance["vol-8"] = "i-8"
		})
	at := func(day int) time.Time { return time.Date(2026, 11, day, 3, 0, 0, 0, time.UTC) }
	want := []Decision{
		{SnapshotID: "u1", VolumeID: "", StartTime: at(1), DeleteOn: "2026-11-20", Action: Keep,
			Reason: "kept: newest completed snapshot of "},
		{SnapshotID: "s1", VolumeID: "vol-1", InstanceID: "i-gov", ConfigID: "cfg-a", StartTime: at(1), DeleteOn: "2026-11-20",
			Action: Delete, Reason: "expired on 2026-11-20, 2 completed snapshots > minimum 0"},
		{SnapshotID: "s2", VolumeID: "vol-1", InstanceID: "i-gov", ConfigID: "cfg-a", StartTime: at(2), DeleteOn: "2026-11-20",
			Action: Keep, Reason: "kept: newest completed snapshot of vol-1"},
		{SnapshotID: "t1", VolumeID: "vol-8", InstanceID: "i-8", StartTime: at(1), DeleteOn: "2026-11-20",
			Action: Keep, Reason: "kept: minimum unknown, volume vol-8 is not attached to an instance any stanza matches"},
		{SnapshotID: "t2", VolumeID: "vol-8", InstanceID: "i-8", StartTime: at(2), DeleteOn: "2026-11-20",
			Action: Keep, Reason: "kept: newest completed snapshot of vol-8"},
	}
	if diff := cmp.Diff(want, planChecked(t, in)); diff != "" {
		t.Errorf("Plan() mismatch (-want +got):\n%s", diff)
	}
}

func TestCount(t *testing.T) {
	ds := []Decision{{Action: Delete}, {Action: Keep}, {Action: Delete}, {Action: Keep}, {Action: Keep}}
	if d, k := Count(ds); d != 2 || k != 3 {
		t.Errorf("Count() = %d, %d; want 2, 3", d, k)
	}
	if d, k := Count(nil); d != 0 || k != 0 {
		t.Errorf("Count(nil) = %d, %d; want 0, 0", d, k)
	}
}
