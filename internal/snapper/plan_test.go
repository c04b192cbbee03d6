package snapper

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func stanza(t *testing.T, id, frequency string, minimum int, ignore ...string) config.Stanza {
	t.Helper()
	f, err := config.ParseFrequency(frequency)
	if err != nil {
		t.Fatal(err)
	}
	return config.Stanza{ID: id, Retention: 4 * 24 * time.Hour, Minimum: minimum, Frequency: f, Ignore: ignore,
		Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}}}
}

// region is a region of running instances, each matched by the one
// stanza assigned to it.
func region(instances map[string][]string, assigned map[string]string, snaps ...inventory.Snapshot) *Inventory {
	r := &Inventory{Name: "us-east-1", Instances: map[string]inventory.Instance{}, Matched: map[string][]string{}, Snapshots: snaps}
	for id, vols := range instances {
		r.Instances[id] = inventory.Instance{ID: id, ImageID: "ami-1", State: inventory.InstanceRunning, VolumeIDs: vols}
	}
	for id, cfg := range assigned {
		r.Matched[id] = []string{cfg}
	}
	return r
}

func snap(id, vol, state string, age time.Duration, deleteOn string) inventory.Snapshot {
	s := inventory.Snapshot{ID: id, VolumeID: vol, State: state, StartTime: now.Add(-age)}
	if deleteOn != "" {
		s.Tags = []inventory.Tag{{Key: "DeleteOn", Value: deleteOn}}
	}
	return s
}

type planRow struct{ Instance, Volume, Action string }

func rowsOf(ds []SnapshotDecision) []planRow {
	var out []planRow
	for _, d := range ds {
		out = append(out, planRow{d.InstanceID, d.VolumeID, d.Action})
	}
	return out
}

func TestPlanSnapshots(t *testing.T) {
	daily := stanza(t, "daily", "12 hours", 5)
	tests := []struct {
		name   string
		policy Policy
		region *Inventory
		want   []planRow
	}{
		{
			name:   "no snapshot yet: every volume is due",
			policy: NewPolicy([]config.Stanza{daily}, 0),
			region: region(map[string][]string{"i-1": {"vol-a", "vol-b"}}, map[string]string{"i-1": "daily"}),
			want:   []planRow{{"i-1", "vol-a", Create}, {"i-1", "vol-b", Create}},
		},
		{
			name:   "recent snapshot: not due; old one: due",
			policy: NewPolicy([]config.Stanza{daily}, 0),
			region: region(map[string][]string{"i-1": {"vol-a", "vol-b"}}, map[string]string{"i-1": "daily"},
				snap("snap-1", "vol-a", inventory.StateCompleted, 11*time.Hour, ""),
				snap("snap-2", "vol-b", inventory.StateCompleted, 13*time.Hour, "")),
			want: []planRow{{"i-1", "vol-a", Skip}, {"i-1", "vol-b", Create}},
		},
		{
			name:   "a pending snapshot counts, an error one does not",
			policy: NewPolicy([]config.Stanza{daily}, 0),
			region: region(map[string][]string{"i-1": {"vol-a", "vol-b"}}, map[string]string{"i-1": "daily"},
				snap("snap-1", "vol-a", inventory.StatePending, time.Minute, ""),
				snap("snap-2", "vol-b", inventory.StateError, time.Minute, "")),
			want: []planRow{{"i-1", "vol-a", Skip}, {"i-1", "vol-b", Create}},
		},
		{
			name:   "ignored instance and ignored volume are skipped",
			policy: NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5, "i-2", "vol-b")}, 0),
			region: region(map[string][]string{"i-1": {"vol-a", "vol-b"}, "i-2": {"vol-c"}}, map[string]string{"i-1": "daily", "i-2": "daily"}),
			want:   []planRow{{"i-1", "vol-a", Create}, {"i-1", "vol-b", Skip}, {"i-2", "vol-c", Skip}},
		},
		{
			name:   "an ignore list in one stanza applies to all stanzas",
			policy: NewPolicy([]config.Stanza{daily, stanza(t, "other", "1 day", 1, "vol-a")}, 0),
			region: region(map[string][]string{"i-1": {"vol-a"}}, map[string]string{"i-1": "daily"}),
			want:   []planRow{{"i-1", "vol-a", Skip}},
		},
		{
			name:   "multi-attached volume planned once, with the first instance",
			policy: NewPolicy([]config.Stanza{daily}, 0),
			region: region(map[string][]string{"i-1": {"vol-a"}, "i-2": {"vol-a"}}, map[string]string{"i-1": "daily", "i-2": "daily"}),
			want:   []planRow{{"i-1", "vol-a", Create}, {"i-2", "vol-a", Skip}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanSnapshots(tt.region, tt.policy, now)
			if diff := cmp.Diff(tt.want, rowsOf(got)); diff != "" {
				t.Errorf("PlanSnapshots() mismatch (-want +got):\n%s", diff)
			}
			for _, d := range got {
				if d.Reason == "" {
					t.Errorf("%s/%s: decision without a reason", d.InstanceID, d.VolumeID)
				}
				if d.Action == Create && d.DeleteOn != "2026-11-30" {
					t.Errorf("%s: DeleteOn = %q, want 2026-11-30 (now + 4 days, rounded up to a UTC midnight)", d.VolumeID, d.DeleteOn)
				}
			}
		})
	}
}

func TestPlanSnapshotsCron(t *testing.T) {
	p := NewPolicy([]config.Stanza{stanza(t, "nightly", "0 1 * * *", 1)}, 0)
	// Last snapshot yesterday 00:30: the 01:00 fire has passed, so due.
	r := region(map[string][]string{"i-1": {"vol-a", "vol-b"}}, map[string]string{"i-1": "nightly"},
		snap("snap-1", "vol-a", inventory.StateCompleted, 35*time.Hour+30*time.Minute, ""),
		// Last snapshot today 01:05: next fire is tomorrow 01:00.
		snap("snap-2", "vol-b", inventory.StateCompleted, 10*time.Hour+55*time.Minute, ""))
	got := rowsOf(PlanSnapshots(r, p, now))
	want := []planRow{{"i-1", "vol-a", Create}, {"i-1", "vol-b", Skip}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDeleteOnDateIsUTC(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	// 21:00 EST on the 25th is 02:00 UTC on the 26th; a day later is
	// 02:00 UTC on the 27th, so the first whole UTC date is the 28th.
	got := DeleteOnDate(time.Date(2026, 11, 25, 21, 0, 0, 0, est), 24*time.Hour)
	if got != "2026-11-28" {
		t.Errorf("DeleteOnDate = %s, want 2026-11-28", got)
	}
}

// Issue 10, item 4: clean deletes from 00:00Z of the DeleteOn date, so
// every snapshot is kept at least its whole retention.
func TestDeleteOnDateKeepsTheWholeRetention(t *testing.T) {
	for _, tc := range []struct {
		now       string
		retention time.Duration
		want      string
	}{
		{"2026-11-25T23:30:00Z", 4 * 24 * time.Hour, "2026-11-30"}, // was 2026-11-29: 3 days 30 minutes
		{"2026-11-25T20:00:00Z", 12 * time.Hour, "2026-11-27"},     // was 2026-11-26: 4 hours
		{"2026-11-25T00:00:00Z", 4 * 24 * time.Hour, "2026-11-29"}, // exactly midnight: that date
		{"2026-11-25T00:00:01Z", 24 * time.Hour, "2026-11-27"},
		{"2026-12-31T06:00:00Z", 7 * 24 * time.Hour, "2027-01-08"},
	} {
		now, err := time.Parse(time.RFC3339, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		got := DeleteOnDate(now, tc.retention)
		if got != tc.want {
			t.Errorf("DeleteOnDate(%s, %s) = %s, want %s", tc.now, tc.retention, got, tc.want)
		}
		deletable, _ := time.Parse(time.DateOnly, got)
		if kept := deletable.Sub(now); kept < tc.retention || kept >= tc.retention+24*time.Hour {
			t.Errorf("DeleteOnDate(%s, %s) = %s keeps the snapshot %s", tc.now, tc.retention, got, kept)
		}
	}
}

func TestNewPolicyHoldsBackIgnoreRetentionWhenAStanzaIsInvalid(t *testing.T) {
	s := stanza(t, "orphans", "1 day", 1)
	s.IgnoreRetention = true
	if !NewPolicy([]config.Stanza{s}, 0).IgnoreRetention {
		t.Error("ignore_retention set in a stanza: want it on")
	}
	if NewPolicy([]config.Stanza{s}, 1).IgnoreRetention {
		t.Error("an invalid stanza is stored: want ignore_retention held back")
	}
}

func TestPlanCleanPolicyPerVolume(t *testing.T) {
	low, high := stanza(t, "low", "1 day", 1), stanza(t, "high", "1 day", 3)
	p := NewPolicy([]config.Stanza{low, high, stanza(t, "skip", "1 day", 0, "i-3")}, 0)
	// vol-a is attached to two instances governed by different stanzas:
	// the larger minimum (3) protects it. i-3 is ignored.
	r := region(map[string][]string{"i-1": {"vol-a"}, "i-2": {"vol-a"}, "i-3": {"vol-c"}},
		map[string]string{"i-1": "low", "i-2": "high", "i-3": "low"})
	for i, age := range []time.Duration{50, 40, 30, 20} {
		r.Snapshots = append(r.Snapshots, snap("snap-a"+string(rune('0'+i)), "vol-a", inventory.StateCompleted, (age+100)*time.Hour, "2026-11-01"))
	}
	r.Snapshots = append(r.Snapshots,
		snap("snap-c0", "vol-c", inventory.StateCompleted, 150*time.Hour, "2026-11-01"),
		snap("snap-c1", "vol-c", inventory.StateCompleted, 140*time.Hour, "2026-11-01"))
	deleted := map[string]bool{}
	for _, d := range PlanClean(r, p, now) {
		if d.Action == retention.Delete {
			deleted[d.SnapshotID] = true
		}
	}
	want := map[string]bool{"snap-a0": true}
	if diff := cmp.Diff(want, deleted); diff != "" {
		t.Errorf("deleted mismatch (-want +got):\n%s", diff)
	}
}
