package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// The report shows each drilled volume's last drill and flags a failed
// one, an overdue one and one never drilled, in text, CSV and HTML.
func TestReportShowsDrills(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	rec := func(age time.Duration, outcome string, secs int) []inventory.Tag {
		return []inventory.Tag{{Key: "DeleteOn", Value: "2027-01-01"},
			{Key: snapper.LastDrillTag, Value: snapper.DrillRecord{At: now.Add(-age), Outcome: outcome, Seconds: secs}.String()}}
	}
	snap := func(id, vol string, tags []inventory.Tag) inventory.Snapshot {
		return inventory.Snapshot{ID: id, VolumeID: vol, State: inventory.StateCompleted, StartTime: now.Add(-time.Hour), Tags: tags}
	}
	inv := &snapper.Inventory{Name: "eu-west-1",
		Instances: map[string]inventory.Instance{"i-1": {ID: "i-1", State: "running", VolumeIDs: []string{"vol-ok", "vol-failed", "vol-overdue", "vol-never"}}},
		Matched:   map[string][]string{"i-1": {"web"}},
		Snapshots: []inventory.Snapshot{
			snap("snap-ok", "vol-ok", rec(24*time.Hour, snapper.DrillPassed, 41)),
			snap("snap-failed", "vol-failed", rec(24*time.Hour, snapper.DrillFailed, 0)),
			snap("snap-overdue", "vol-overdue", rec(15*24*time.Hour, snapper.DrillPassed, 9)),
			snap("snap-never", "vol-never", []inventory.Tag{{Key: "DeleteOn", Value: "2027-01-01"}}),
		}}
	freq, _ := config.ParseFrequency("1 day")
	s := config.Stanza{ID: "web", Retention: 7 * 24 * time.Hour, Frequency: freq, Drill: config.Drill{Every: 7 * 24 * time.Hour, VolumeType: "gp3", Timeout: time.Hour}}
	r := ForRegion(inv, snapper.NewPolicy([]config.Stanza{s}, 0), Options{Now: now})
	flags := map[string]string{}
	for _, v := range r.Volumes {
		if v.Drill == nil {
			t.Fatalf("%s: no drill", v.VolumeID)
		}
		flags[v.VolumeID] = v.Drill.Flag
	}
	want := map[string]string{"vol-ok": "", "vol-failed": DrillFlagFailed, "vol-overdue": DrillFlagOverdue, "vol-never": DrillFlagNever}
	for v, f := range want {
		if flags[v] != f {
			t.Errorf("%s flagged %q, want %q", v, flags[v], f)
		}
	}
	if r.Drills != (DrillCoverage{Volumes: 4, Passed: 1, Failed: 1, Overdue: 1, Never: 1}) {
		t.Errorf("drill coverage %+v", r.Drills)
	}
	rep := New("123456789012", now, nil, []Region{r})
	var text, csv, html bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Restore drills:", "vol-failed", "FAILED", "OVERDUE", "NEVER", "2026-12-06T01:00:00Z", "passed", "41"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("text report lacks %q:\n%s", line, text.String())
		}
	}
	if err := WriteCSV(&csv, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), ",last_drill,drill_outcome,drill_seconds,drill_flag\n") || !strings.Contains(csv.String(), ",2026-12-06T01:00:00Z,failed,0,failed\n") {
		t.Errorf("csv:\n%s", csv.String())
	}
	if err := WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{"<h3>Restore drills</h3>", `<span class="badge failed">failed</span>`, `<span class="badge late">overdue</span>`, "1 never drilled"} {
		if !strings.Contains(html.String(), frag) {
			t.Errorf("HTML lacks %q", frag)
		}
	}
}
