package retention

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// at is a completed snapshot of vol-1 started at the given UTC time,
// due long ago.
func at(id string, t time.Time) inventory.Snapshot {
	return inventory.Snapshot{ID: id, VolumeID: "vol-1", State: inventory.StateCompleted, StartTime: t,
		Tags: []inventory.Tag{{Key: DeleteOnTag, Value: "2020-01-01"}}}
}

func utc(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// tiered plans vol-1 (minimum 0) with tiers at now and returns, per
// snapshot, "delete" or the keep reason.
func tiered(t *testing.T, tiers Tiers, now time.Time, snaps ...inventory.Snapshot) map[string]string {
	t.Helper()
	in := Input{Now: now, Snapshots: snaps, Volumes: map[string]VolumePolicy{"vol-1": {ConfigID: "cfg", Minimum: 0, Tiers: tiers}}}
	got := map[string]string{}
	for _, d := range planChecked(t, in) {
		got[d.SnapshotID] = d.Reason
		if d.Action == Delete {
			got[d.SnapshotID] = "delete"
		}
	}
	return got
}

func TestTiers(t *testing.T) {
	newest := "kept: newest completed snapshot of vol-1"
	tests := []struct {
		name  string
		tiers Tiers
		now   time.Time
		snaps []inventory.Snapshot
		want  map[string]string
	}{
		{
			name:  "daily keeps the newest of each day, newest days first",
			tiers: Tiers{Daily: 2},
			now:   utc(2026, 10, 10, 0),
			snaps: []inventory.Snapshot{at("a", utc(2026, 10, 7, 1)), at("b", utc(2026, 10, 8, 1)), at("c", utc(2026, 10, 8, 20)), at("d", utc(2026, 10, 9, 1))},
			want:  map[string]string{"a": "delete", "b": "delete", "c": "kept: daily 2026-10-08", "d": newest},
		},
		{
			name:  "empty buckets do not count",
			tiers: Tiers{Daily: 3},
			now:   utc(2026, 10, 20, 0),
			snaps: []inventory.Snapshot{at("a", utc(2026, 10, 1, 1)), at("b", utc(2026, 10, 5, 1)), at("c", utc(2026, 10, 15, 1)), at("d", utc(2026, 10, 19, 1))},
			want:  map[string]string{"a": "delete", "b": "kept: daily 2026-10-05", "c": "kept: daily 2026-10-15", "d": newest},
		},
		{
			name:  "ties on StartTime: the later id is the newer",
			tiers: Tiers{Daily: 2},
			now:   utc(2026, 10, 10, 0),
			snaps: []inventory.Snapshot{at("x2", utc(2026, 10, 8, 1)), at("x1", utc(2026, 10, 8, 1)), at("y", utc(2026, 10, 9, 1))},
			want:  map[string]string{"x1": "delete", "x2": "kept: daily 2026-10-08", "y": newest},
		},
		{
			name:  "ISO weeks across New Year: 2026-12-31 and 2027-01-03 share week 2026-W53",
			tiers: Tiers{Weekly: 4},
			now:   utc(2027, 1, 12, 0),
			snaps: []inventory.Snapshot{at("a", utc(2026, 12, 27, 1)), at("b", utc(2026, 12, 31, 1)), at("c", utc(2027, 1, 3, 1)), at("d", utc(2027, 1, 4, 1)), at("e", utc(2027, 1, 11, 1))},
			want:  map[string]string{"a": "kept: weekly 2026-W52", "b": "delete", "c": "kept: weekly 2026-W53", "d": "kept: weekly 2027-W01", "e": newest},
		},
		{
			name:  "leap day is a day of its own, and February a month",
			tiers: Tiers{Daily: 2, Monthly: 2},
			now:   utc(2028, 3, 2, 0),
			snaps: []inventory.Snapshot{at("a", utc(2028, 2, 28, 1)), at("b", utc(2028, 2, 29, 1)), at("c", utc(2028, 3, 1, 1))},
			want:  map[string]string{"a": "delete", "b": "kept: daily 2028-02-29, monthly 2028-02", "c": newest},
		},
		{
			name:  "hourly, yearly and last",
			tiers: Tiers{Hourly: 2, Yearly: 2, Last: 3},
			now:   utc(2026, 1, 2, 0),
			snaps: []inventory.Snapshot{at("y1", utc(2024, 6, 1, 1)), at("y2", utc(2025, 6, 1, 1)), at("h1", utc(2026, 1, 1, 9)), at("h2", utc(2026, 1, 1, 10)), at("h3", utc(2026, 1, 1, 11))},
			want: map[string]string{"y1": "delete", "y2": "kept: yearly 2025", "h1": "kept: last 3 of 3",
				"h2": "kept: last 2 of 3, hourly 2026-01-01T10", "h3": newest},
		},
		{
			name:  "within is measured from the newest snapshot, not now",
			tiers: Tiers{Within: 48 * time.Hour},
			now:   utc(2027, 1, 1, 0),
			snaps: []inventory.Snapshot{at("a", utc(2026, 10, 1, 0)), at("b", utc(2026, 10, 3, 0)), at("c", utc(2026, 10, 4, 0)), at("d", utc(2026, 10, 5, 0))},
			want:  map[string]string{"a": "delete", "b": "kept: within 2d of the newest", "c": "kept: within 2d of the newest", "d": newest},
		},
		{
			name:  "pending and error snapshots take no bucket",
			tiers: Tiers{Daily: 2},
			now:   utc(2026, 10, 10, 0),
			snaps: []inventory.Snapshot{at("a", utc(2026, 10, 7, 1)), inState(inventory.StateError, at("b", utc(2026, 10, 8, 1))), inState(inventory.StatePending, at("c", utc(2026, 10, 9, 1))), at("d", utc(2026, 10, 9, 0))},
			want: map[string]string{"a": "kept: daily 2026-10-07", "b": "delete",
				"c": `kept: snapshot is "pending", not a completed backup yet`, "d": newest},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tiered(t, tt.tiers, tt.now, tt.snaps...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTiersWithDeleteOnAndMinimum: a tier only keeps what DeleteOn and the
// minimum would let go; a not-due snapshot says so, and the minimum is
// counted as if the tiers kept nothing.
func TestTiersWithDeleteOnAndMinimum(t *testing.T) {
	in := Input{Now: utc(2026, 10, 10, 12), Volumes: map[string]VolumePolicy{"vol-1": {ConfigID: "cfg", Minimum: 2, Tiers: Tiers{Monthly: 2}}}}
	in.Snapshots = []inventory.Snapshot{
		at("aug", utc(2026, 8, 30, 1)), at("sep", utc(2026, 9, 30, 1)), at("oct1", utc(2026, 10, 1, 1)),
		at("oct2", utc(2026, 10, 2, 1)), at("oct3", utc(2026, 10, 3, 1)),
	}
	in.Snapshots[4].Tags[0].Value = "2026-10-20" // newest, not due
	in.Snapshots[3].Tags[0].Value = "2026-10-15" // not due
	got := map[string]string{}
	for _, d := range planChecked(t, in) {
		got[d.SnapshotID] = string(d.Action) + ": " + d.Reason
	}
	want := map[string]string{
		"aug":  "delete: expired on 2020-01-01, 5 completed snapshots > minimum 2",
		"sep":  "keep: kept: monthly 2026-09",
		"oct1": "delete: expired on 2020-01-01, 3 completed snapshots > minimum 2",
		"oct2": "keep: kept: expires on 2026-10-15",
		"oct3": "keep: kept: expires on 2026-10-20",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// TestTierRelease pins when a tier lets a snapshot go at the earliest,
// which decides archiving.
func TestTierRelease(t *testing.T) {
	snaps := []inventory.Snapshot{at("a", utc(2026, 8, 15, 0)), at("b", utc(2026, 9, 15, 0)), at("c", utc(2026, 10, 15, 0))}
	got := keepByTiers(Tiers{Monthly: 3}, snaps, utc(2026, 10, 16, 0))
	want := map[string]time.Time{"c": utc(2027, 1, 1, 0), "b": utc(2026, 12, 1, 0), "a": utc(2026, 11, 1, 0)}
	for id, w := range want {
		if got[id] == nil || !got[id].release.Equal(w) {
			t.Errorf("%s released at %v, want %v", id, got[id], w)
		}
	}
}

// TestArchive: archived are old tier keeps and not-due snapshots that no
// rule can delete within 90 days; never the newest, never one already
// archived, never a minimum keep, never one due soon.
func TestArchive(t *testing.T) {
	now := utc(2026, 10, 10, 0)
	mk := func(id string, start time.Time, deleteOn, tier string) inventory.Snapshot {
		s := at(id, start)
		s.Tags[0].Value, s.StorageTier = deleteOn, tier
		return s
	}
	in := Input{Now: now, Volumes: map[string]VolumePolicy{"vol-1": {ConfigID: "cfg", Minimum: 1, Tiers: Tiers{Monthly: 12}, ArchiveAfter: 30 * 24 * time.Hour}}}
	in.Snapshots = []inventory.Snapshot{
		mk("jan", utc(2026, 1, 20, 0), "2026-02-01", ""),         // monthly, rank 7 of 12: released 2027-04-01 at the earliest
		mk("may", utc(2026, 5, 20, 0), "2026-06-01", "standard"), // monthly
		mk("jun", utc(2026, 6, 20, 0), "2026-07-01", "archive"),  // already archived
		mk("jul", utc(2026, 7, 20, 0), "2027-07-01", "standard"), // monthly, and not due for long
		mk("aug", utc(2026, 8, 20, 0), "2026-11-01", "standard"), // not the newest of August: due in 3 weeks
		mk("aug2", utc(2026, 8, 25, 0), "2026-09-01", ""),        // monthly
		mk("sep", utc(2026, 9, 20, 0), "2026-10-20", "standard"), // only 20 days old
		mk("oct", utc(2026, 10, 5, 0), "2026-10-30", "standard"), // newest
	}
	got := map[string]Action{}
	for _, d := range planChecked(t, in) {
		got[d.SnapshotID] = d.Action
		if d.Action == Archive && !slices.Contains([]string{"jan", "may", "jul", "aug2"}, d.SnapshotID) {
			t.Errorf("%s archived: %s", d.SnapshotID, d.Reason)
		}
	}
	want := map[string]Action{"jan": Archive, "may": Archive, "jun": Keep, "jul": Archive, "aug": Keep, "aug2": Archive, "sep": Keep, "oct": Keep}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	in.Volumes["vol-1"] = VolumePolicy{ConfigID: "cfg", Minimum: 1, Tiers: Tiers{Monthly: 12}}
	for _, d := range Plan(in) {
		if d.Action == Archive {
			t.Errorf("%s archived without archive_after", d.SnapshotID)
		}
	}
}

// TestOrphans: a volume no stanza governs follows the orphans policy of
// the stanza named by its snapshots; without one, ignore_retention.
// a names no stanza (ebs_snapper made it, or anyone with
// ec2:CreateSnapshot): the orphans policy the others name does not reach
// it, it keeps the old rule.
func TestOrphans(t *testing.T) {
	tagged := func(id string, day int, cfg string) inventory.Snapshot {
		s := at(id, utc(2026, 10, day, 0))
		if cfg != "" {
			s.Tags = append(s.Tags, inventory.Tag{Key: ConfigIDTag, Value: cfg})
			s.Description = madeBy(cfg)
		}
		return s
	}
	snaps := []inventory.Snapshot{tagged("a", 1, ""), tagged("b", 2, "web"), tagged("c", 3, "web"), tagged("d", 4, "web")}
	for _, tt := range []struct {
		name    string
		policy  *OrphanPolicy
		ir      bool
		deleted []string
		reason  string // of b
	}{
		{"no orphans key, no ignore_retention: kept", nil, false, nil, "kept: minimum unknown, volume vol-1 is not attached to an instance any stanza matches"},
		{"no orphans key, ignore_retention: deleted when due", nil, true, []string{"a", "b", "c"}, "expired on 2020-01-01, minimum unknown and ignore_retention is set"},
		{"keep", &OrphanPolicy{Keep: true, Name: "keep"}, true, nil, `kept: orphans "keep" of stanza web, volume vol-1 is not attached to an instance any stanza matches`},
		{"retain with minimum 2", &OrphanPolicy{Minimum: 2, Name: "retain"}, false, []string{"b", "c"}, `expired on 2020-01-01, 4 completed snapshots > minimum 2; orphans "retain" of stanza web`},
		{"retain with a tier", &OrphanPolicy{Minimum: 1, Tiers: Tiers{Daily: 2}, Name: "retain"}, false, []string{"b"}, `expired on 2020-01-01, 4 completed snapshots > minimum 1; orphans "retain" of stanza web`},
		{"keep_last 3", &OrphanPolicy{Minimum: 3, Name: "keep_last 3"}, false, []string{"b"}, `expired on 2020-01-01, 4 completed snapshots > minimum 3; orphans "keep_last 3" of stanza web`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Now: utc(2026, 10, 10, 0), Snapshots: snaps, IgnoreRetention: tt.ir}
			if tt.policy != nil {
				in.Orphans = map[string]OrphanPolicy{"web": *tt.policy}
			}
			var deleted []string
			for _, d := range planChecked(t, in) {
				if d.Action == Delete {
					deleted = append(deleted, d.SnapshotID)
				}
				if d.SnapshotID == "b" && d.Reason != tt.reason {
					t.Errorf("b: reason %q, want %q", d.Reason, tt.reason)
				}
			}
			if diff := cmp.Diff(tt.deleted, deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdopt: snapshots without DeleteOn are candidates due at StartTime +
// retention only where the policy adopts them, never AWS Backup's.
func TestAdopt(t *testing.T) {
	plain := func(id string, day int, tags ...inventory.Tag) inventory.Snapshot {
		return inventory.Snapshot{ID: id, VolumeID: "vol-1", State: inventory.StateCompleted, StartTime: utc(2026, 10, day, 6), Tags: tags}
	}
	// The inventory reads AWS Backup's recovery points from their tags.
	backup := plain("backup", 3, inventory.Tag{Key: "aws:backup:source-resource", Value: "arn"})
	backup.Protections = []inventory.Protection{{Kind: inventory.ProtectedByAWSBackup, Resource: "arn"}}
	snaps := []inventory.Snapshot{
		plain("dlm1", 1, inventory.Tag{Key: "dlm:managed", Value: "true"}),
		plain("hand", 2),
		backup,
		plain("dlm2", 9, inventory.Tag{Key: "dlm:managed", Value: "true"}),
		plain("new", 10),
	}
	for _, tt := range []struct {
		name    string
		adopt   *Adopt
		deleted []string
		decided int
	}{
		{"off: no decision, nothing deleted", nil, nil, 0},
		{"all but AWS Backup's", &Adopt{Retention: 3 * 24 * time.Hour}, []string{"dlm1", "hand"}, 4},
		{"only the filter's", &Adopt{Retention: 3 * 24 * time.Hour, Only: map[string]bool{"dlm1": true, "dlm2": true}}, []string{"dlm1"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Now: utc(2026, 10, 10, 12), Snapshots: snaps,
				Volumes: map[string]VolumePolicy{"vol-1": {ConfigID: "cfg", Minimum: 1, Adopt: tt.adopt}}}
			ds := planChecked(t, in)
			var deleted []string
			for _, d := range ds {
				if !d.Adopted {
					t.Errorf("%s: not marked adopted", d.SnapshotID)
				}
				if d.Action == Delete {
					deleted = append(deleted, d.SnapshotID)
				}
			}
			if len(ds) != tt.decided {
				t.Errorf("%d decisions, want %d", len(ds), tt.decided)
			}
			if diff := cmp.Diff(tt.deleted, deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			for _, d := range ds {
				if d.SnapshotID == "dlm1" && (d.DeleteOn != "2026-10-05" || d.Reason != "expired on 2026-10-05, 4 completed snapshots > minimum 1; adopted: no DeleteOn tag, expires StartTime + 3d") && tt.adopt.Only == nil {
					t.Errorf("dlm1: DeleteOn %s, reason %q", d.DeleteOn, d.Reason)
				}
			}
		})
	}
}

func ExampleTiers() {
	// A year of dailies at 02:00 UTC, keep_daily 7, keep_weekly 4,
	// keep_monthly 12, minimum 3, every DeleteOn due.
	var snaps []inventory.Snapshot
	start := utc(2026, 1, 1, 2)
	for d := range 365 {
		snaps = append(snaps, inventory.Snapshot{ID: fmt.Sprintf("snap-%03d", d), VolumeID: "vol-1", State: inventory.StateCompleted,
			StartTime: start.AddDate(0, 0, d), Tags: []inventory.Tag{{Key: DeleteOnTag, Value: "2026-01-01"}}})
	}
	in := Input{Now: utc(2027, 1, 1, 0), Snapshots: snaps,
		Volumes: map[string]VolumePolicy{"vol-1": {ConfigID: "daily", Minimum: 3, Tiers: Tiers{Daily: 7, Weekly: 4, Monthly: 12}}}}
	for _, d := range Plan(in) {
		if d.Action == Keep {
			fmt.Println(d.StartTime.Format(time.DateOnly), d.Reason)
		}
	}
	deleted, kept := Count(Plan(in))
	fmt.Println(deleted, "deleted,", kept, "kept")
	// Output:
	// 2026-01-31 kept: monthly 2026-01
	// 2026-02-28 kept: monthly 2026-02
	// 2026-03-31 kept: monthly 2026-03
	// 2026-04-30 kept: monthly 2026-04
	// 2026-05-31 kept: monthly 2026-05
	// 2026-06-30 kept: monthly 2026-06
	// 2026-07-31 kept: monthly 2026-07
	// 2026-08-31 kept: monthly 2026-08
	// 2026-09-30 kept: monthly 2026-09
	// 2026-10-31 kept: monthly 2026-10
	// 2026-11-30 kept: monthly 2026-11
	// 2026-12-13 kept: weekly 2026-W50
	// 2026-12-20 kept: weekly 2026-W51
	// 2026-12-25 kept: daily 2026-12-25
	// 2026-12-26 kept: daily 2026-12-26
	// 2026-12-27 kept: daily 2026-12-27, weekly 2026-W52
	// 2026-12-28 kept: daily 2026-12-28
	// 2026-12-29 kept: daily 2026-12-29
	// 2026-12-30 kept: daily 2026-12-30
	// 2026-12-31 kept: newest completed snapshot of vol-1
	// 345 deleted, 20 kept
}
