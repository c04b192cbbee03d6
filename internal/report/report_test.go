package report

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

var now = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC) // a Saturday

func stanza(t *testing.T, id, freq string) config.Stanza {
	t.Helper()
	s, err := config.Parse(id, []byte(`{"match": {"tag:backup": "`+id+`"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "`+freq+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func snap(id, vol, state string, ago time.Duration, tags ...inventory.Tag) inventory.Snapshot {
	return inventory.Snapshot{ID: id, VolumeID: vol, State: state, StartTime: now.Add(-ago), Tags: tags, VolumeSize: 5}
}

var deleteOn = inventory.Tag{Key: "DeleteOn", Value: "2026-03-20"}

// fleet is a region with one instance per case under a daily stanza, one
// instance under an ignored id, and snapshots of two volumes no matched
// instance holds (one deleted, one still there).
func fleet(t *testing.T) (*snapper.Inventory, snapper.Policy) {
	daily := stanza(t, "daily", "1 day")
	inv := &snapper.Inventory{Name: "eu-west-1", Instances: map[string]inventory.Instance{}, Matched: map[string][]string{}}
	for _, c := range []string{"ok", "late", "missing", "pending", "failed", "stuck", "recentfail", "ignored"} {
		id := "i-" + c
		inv.Instances[id] = inventory.Instance{ID: id, State: "running", VolumeIDs: []string{"vol-" + c}}
		inv.Matched[id] = []string{"daily"}
	}
	h := time.Hour
	inv.Snapshots = []inventory.Snapshot{
		snap("snap-ok1", "vol-ok", "completed", 30*h, deleteOn),
		snap("snap-ok2", "vol-ok", "completed", 3*h, deleteOn),
		snap("snap-late", "vol-late", "completed", 49*h, deleteOn),
		snap("snap-pending", "vol-pending", "pending", h, deleteOn),
		// A fresh completed snapshot, then a failed attempt.
		snap("snap-failed1", "vol-failed", "completed", 20*h, deleteOn),
		snap("snap-failed2", "vol-failed", "error", h, deleteOn),
		// Nothing completed in three days: late, whatever the states.
		snap("snap-stuck", "vol-stuck", "pending", 72*h, deleteOn),
		snap("snap-recentfail", "vol-recentfail", "error", 2*h, deleteOn),
		snap("snap-ignored", "vol-ignored", "completed", 90*h),
		snap("snap-gone1", "vol-gone", "completed", 100*h),
		snap("snap-gone2", "vol-gone", "completed", 50*h, deleteOn),
		snap("snap-other", "vol-other", "completed", 10*h, deleteOn),
	}
	return inv, snapper.NewPolicy([]config.Stanza{daily}, 0)
}

func TestStatuses(t *testing.T) {
	inv, p := fleet(t)
	p.Ignore["i-ignored"] = true
	r := ForRegion(inv, p, Options{Now: now})
	got := map[string]Status{}
	var order []Status
	for _, v := range r.Volumes {
		got[v.VolumeID] = v.Status
		order = append(order, v.Status)
	}
	want := map[string]Status{"vol-ok": OK, "vol-late": Late, "vol-missing": Missing, "vol-pending": Pending,
		"vol-failed": Failed, "vol-stuck": Late, "vol-recentfail": Failed}
	for vol, w := range want {
		if got[vol] != w {
			t.Errorf("%s: status %q, want %q", vol, got[vol], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("volumes %v, want exactly %v (the ignored one apart)", got, want)
	}
	wantOrder := []Status{Late, Late, Missing, Failed, Failed, Pending, OK}
	if strings.Join(statusStrings(order), ",") != strings.Join(statusStrings(wantOrder), ",") {
		t.Errorf("order %v, want worst first %v", order, wantOrder)
	}
	if r.Ignored != 1 {
		t.Errorf("ignored %d, want 1", r.Ignored)
	}
	c := r.Coverage
	if c.Matched != 7 || c.OK != 1 || c.Late != 2 || c.Missing != 1 || c.Failed != 2 || c.Pending != 1 {
		t.Errorf("coverage %+v", c)
	}
	if want := 100.0 / 7; c.Percent != want {
		t.Errorf("percent %v, want %v", c.Percent, want)
	}
	for _, v := range r.Volumes {
		if v.VolumeID == "vol-ok" {
			if v.Newest == nil || !v.Newest.Equal(now.Add(-3*time.Hour)) || *v.AgeSeconds != 3*3600 || v.Counts.Count != 2 {
				t.Errorf("vol-ok: newest %v age %v counts %+v", v.Newest, v.AgeSeconds, v.Counts)
			}
			if v.PeriodSeconds != 86400 || v.LimitSeconds != 2*86400 {
				t.Errorf("vol-ok: period %d limit %d, want one day and two days", v.PeriodSeconds, v.LimitSeconds)
			}
		}
	}
}

func statusStrings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func TestGrace(t *testing.T) {
	inv, p := fleet(t)
	for _, tc := range []struct {
		grace time.Duration
		want  Status
	}{{time.Hour, Late}, {30 * time.Hour, OK}} {
		g := tc.grace
		r := ForRegion(inv, p, Options{Now: now, Grace: &g})
		for _, v := range r.Volumes {
			if v.VolumeID == "vol-late" && v.Status != tc.want {
				t.Errorf("grace %s: vol-late (49h old, daily) is %s, want %s", g, v.Status, tc.want)
			}
		}
	}
}

func TestOrphansNoDeleteOnAndStorage(t *testing.T) {
	inv, p := fleet(t)
	vols := map[string]inventory.Volume{"vol-ok": {ID: "vol-ok", Size: 100}, "vol-other": {ID: "vol-other", Size: 20}}
	r := ForRegion(inv, p, Options{Now: now, Volumes: vols})
	reasons := map[string]string{}
	for _, o := range r.Orphans {
		reasons[o.VolumeID] = o.Reason
		if o.VolumeID == "vol-gone" && (o.Counts.Count != 2 || !o.Counts.Oldest.Equal(now.Add(-100*time.Hour)) || o.SizeGiB != 5) {
			t.Errorf("vol-gone orphan: %+v", o)
		}
	}
	if reasons["vol-gone"] != "volume deleted" || reasons["vol-other"] != "volume not attached to a matched instance" || len(reasons) != 2 {
		t.Errorf("orphans %v", reasons)
	}
	var ids []string
	for _, s := range r.NoDeleteOn {
		ids = append(ids, s.SnapshotID)
	}
	if strings.Join(ids, ",") != "snap-gone1,snap-ignored" {
		t.Errorf("no DeleteOn: %v", ids)
	}
	// vol-ok 100 and vol-other 20 from DescribeVolumes; the other seven
	// volumes with snapshots (ignored and deleted included) 5 each from
	// their snapshots; vol-missing has none.
	if r.SnapshottedVolumeGiB != 100+20+7*5 {
		t.Errorf("storage bound %d GiB, want 155", r.SnapshottedVolumeGiB)
	}

	// Without a volume listing, orphans cannot tell deleted from unmatched.
	r = ForRegion(inv, p, Options{Now: now})
	for _, o := range r.Orphans {
		if o.Reason != "no matched instance holds the volume" {
			t.Errorf("%s: reason %q without a volume listing", o.VolumeID, o.Reason)
		}
	}
}

func TestByConfig(t *testing.T) {
	inv, p := fleet(t)
	weekly := stanza(t, "weekly", "7 days")
	p.Stanzas["weekly"] = weekly
	inv.Matched["i-late"] = []string{"weekly"}
	r := ForRegion(inv, p, Options{Now: now})
	if len(r.ByConfig) != 2 || r.ByConfig[0].ConfigID != "daily" || r.ByConfig[1].ConfigID != "weekly" {
		t.Fatalf("by config %+v", r.ByConfig)
	}
	if w := r.ByConfig[1]; w.Matched != 1 || w.OK != 1 || w.Percent != 100 {
		t.Errorf("weekly (49h-old snapshot, 7-day period): %+v", w)
	}
	figs := r.Figures()
	if len(figs) != 3 || figs[0].ConfigID != "" || figs[2].ConfigID != "weekly" || figs[0].Coverage.VolumesLate != 2 || figs[0].Coverage.VolumesMissing != 1 {
		t.Errorf("figures %+v, want 2 late (stuck, ignored is not ignored here) and 1 missing region-wide", figs)
	}
}

func TestPeriod(t *testing.T) {
	for _, tc := range []struct {
		freq string
		at   time.Time
		want time.Duration
	}{
		{"12 hours", now, 12 * time.Hour},
		// Weekdays at 01:00: Friday 01:00 to Monday 01:00 around a Saturday.
		{"0 1 * * mon-fri", now, 72 * time.Hour},
		{"0 1 * * mon-fri", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC), 24 * time.Hour},
		// Twice a day, unevenly: the gap around now is the one that counts.
		{"0 6,9 * * *", time.Date(2026, 3, 11, 7, 0, 0, 0, time.UTC), 3 * time.Hour},
		{"0 6,9 * * *", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC), 21 * time.Hour},
		// Exactly at a fire: that fire is the previous one.
		{"0 6,9 * * *", time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC), 21 * time.Hour},
		{"0 0 1 1 *", now, 365 * 24 * time.Hour},
	} {
		f, err := config.ParseFrequency(tc.freq)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Period(f, tc.at)
		if !ok || got != tc.want {
			t.Errorf("Period(%q, %s) = %s, %v; want %s", tc.freq, tc.at.Format(time.RFC3339), got, ok, tc.want)
		}
	}
}

func TestTextPutsLateAndMissingFirst(t *testing.T) {
	inv, p := fleet(t)
	p.Ignore["vol-ignored"] = true
	rep := New("123456789012", now, nil, []Region{ForRegion(inv, p, Options{Now: now})})
	var b strings.Builder
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Coverage as of 2026-03-14T12:00:00Z: 1 of 7 matched volumes ok (14.3%); late 2, missing 1",
		"eu-west-1  daily   7        1   2     1        2       1        14.3%     1 ignored volumes",
		"Orphaned snapshots", "vol-gone", "Snapshots with no DeleteOn tag (clean never deletes them): 2", "Snapshotted volumes: 45 GiB (the sizes of the volumes that have snapshots; not what the snapshots store"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	late, ok := strings.Index(out, "vol-late "), strings.Index(out, "vol-ok ")
	if late < 0 || ok < 0 || late > ok {
		t.Errorf("late volume not listed before the ok one:\n%s", out)
	}
	if !rep.Breach() {
		t.Error("a report with late and missing volumes is not a breach")
	}
}

// A volume governed by a 12-hour stanza and a nightly cron is judged by the
// stricter: 30 hours after its snapshot it is late (limit 1d), although the
// cron alone would allow two days.
func TestTwoStanzasTheStricterLimitApplies(t *testing.T) {
	nightly, twelve := stanza(t, "a_nightly", "0 1 * * *"), stanza(t, "b_12h", "12 hours")
	inv := &snapper.Inventory{Name: "eu-west-1",
		Instances: map[string]inventory.Instance{"i-db": {ID: "i-db", State: "running", VolumeIDs: []string{"vol-db"}}},
		Matched:   map[string][]string{"i-db": {"a_nightly", "b_12h"}},
		Snapshots: []inventory.Snapshot{snap("snap-db", "vol-db", "completed", 30*time.Hour, deleteOn)},
	}
	r := ForRegion(inv, snapper.NewPolicy([]config.Stanza{nightly, twelve}, 0), Options{Now: now})
	if len(r.Volumes) != 1 {
		t.Fatalf("volumes %+v", r.Volumes)
	}
	v := r.Volumes[0]
	if v.Status != Late || v.ConfigID != "b_12h" || v.LimitSeconds != 24*3600 || strings.Join(v.ConfigIDs, ",") != "a_nightly,b_12h" {
		t.Errorf("volume %s under %s (of %v): %s, limit %ds, want late under b_12h with limit 1d", v.VolumeID, v.ConfigID, v.ConfigIDs, v.Status, v.LimitSeconds)
	}
	if len(r.ByConfig) != 1 || r.ByConfig[0].ConfigID != "b_12h" || r.ByConfig[0].Late != 1 {
		t.Errorf("by config %+v, want the volume counted late under b_12h", r.ByConfig)
	}
}
