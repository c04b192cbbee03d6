package cli

// Integration tests of what report claims: the built binary against moto.
// The report must never overstate protection.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/report/reporttest"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// reportJSON runs report --json in us-east-1 and decodes it.
func reportJSON(t *testing.T, e *engineEnv, wantCode int, args ...string) report.Report {
	t.Helper()
	args = append([]string{"report", "--region", "us-east-1", "--json"}, args...)
	stdout, stderr, code := runBinary(t, e.srv, "", args...)
	if code != wantCode {
		t.Fatalf("ebs-snapper %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	return rep
}

// A volume matched by a 12-hour stanza and a nightly cron is late 30 hours
// after its snapshot: the stricter limit (1 day) applies, not the cron's 2.
func TestReportTwoStanzasStricterLimit(t *testing.T) {
	e := newEngineEnv(t)
	vol := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0].VolumeIDs[0]
	e.stanza("a_nightly", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "0 1 * * *"}}`)
	e.stanza("b_12h", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "12 hours"}}`)
	e.snapshot(vol, date(4))

	rep := reportJSON(t, e, ExitLate, "--now", at(30*time.Hour))
	v := rep.Regions[0].Volumes[0]
	if v.Status != report.Late || v.ConfigID != "b_12h" || v.LimitSeconds != 86400 || strings.Join(v.ConfigIDs, ",") != "a_nightly,b_12h" {
		t.Errorf("volume under %s of %v: %s, limit %ds; want late under b_12h, limit 86400", v.ConfigID, v.ConfigIDs, v.Status, v.LimitSeconds)
	}
	// Retention is the longer of the two: the timeline's window.
	if v.RetentionSeconds != 7*86400 {
		t.Errorf("retention %ds, want 7 days", v.RetentionSeconds)
	}
}

// Nothing matched is not 100 %: no stanza, an -a with none, and stanzas
// matching nothing each say no volume is protected and exit 4; an invalid
// stanza next to a good one lowers the headline and exits 3, saying what
// happened rather than that actions failed.
func TestReportNothingProtectedAndInvalidStanzas(t *testing.T) {
	e := newEngineEnv(t)
	vol := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0].VolumeIDs[0]

	stdout, stderr, code := runBinary(t, e.srv, "", "report", "--region", "us-east-1")
	want := "no volume is protected: account " + motoserver.AccountID + " has no configuration stanza"
	if code != ExitLate || !strings.Contains(stdout, want) || !strings.Contains(stderr, "no volume is protected") {
		t.Errorf("no stanza: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", code, ExitLate, want, stdout, stderr)
	}
	if strings.Contains(stdout, "100") {
		t.Errorf("no stanza: the report claims 100 %%:\n%s", stdout)
	}
	if rep := reportJSON(t, e, ExitLate); rep.Coverage.Percent != 0 || rep.ValidStanzas != 0 || rep.InvalidStanzas == nil {
		t.Errorf("no stanza --json: coverage %+v, valid %d, invalid %v; want 0 %%, 0, []", rep.Coverage, rep.ValidStanzas, rep.InvalidStanzas)
	}

	e.stanza("web", webStanza)
	e.snapshot(vol, date(4))
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "-a", "999999999999")
	if code != ExitLate || !strings.Contains(stdout, "no volume is protected: account 999999999999 has no configuration stanza") {
		t.Errorf("-a of an account with no stanza: exit %d\n%s", code, stdout)
	}
	e.stanza("web", `{"match": {"tag:backup": "nobody"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours"}}`)
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1")
	if code != ExitLate || !strings.Contains(stdout, "no volume is protected: the 1 valid stanzas of account "+motoserver.AccountID+" match no volume") {
		t.Errorf("a stanza matching nothing: exit %d\n%s", code, stdout)
	}

	e.stanza("web", webStanza)
	if rep := reportJSON(t, e, 0); rep.Coverage.Percent != 100 {
		t.Errorf("one fresh volume: coverage %+v, want 100 %%", rep.Coverage)
	}
	e.stanza("broken", `{"match": {"tag:db": "yes"}, "snapshot": {"retention": "4 months", "minimum": 2, "frequency": "12 hours"}}`)
	stdout, stderr, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1")
	if code != ExitPartial || !strings.Contains(stdout, "1 of 1 matched volumes ok (at most 50.0%: 1 invalid stored stanzas protect nothing") {
		t.Errorf("with an invalid stanza: exit %d, want %d and the headline at most 50 %%\n%s", code, ExitPartial, stdout)
	}
	if !strings.Contains(stderr, "partial failure: 1 stored stanza is invalid") || strings.Contains(stderr, "actions failed") {
		t.Errorf("report with an invalid stanza: stderr %q", stderr)
	}
	if rep := reportJSON(t, e, ExitPartial); rep.Coverage.Percent != 50 || rep.Coverage.InvalidStanzas != 1 || len(rep.InvalidStanzas) != 1 {
		t.Errorf("with an invalid stanza --json: coverage %+v, invalid %v", rep.Coverage, rep.InvalidStanzas)
	}
	_, stderr, code = runBinary(t, e.srv, "", "plan", "--region", "us-east-1")
	if code != ExitPartial || !strings.Contains(stderr, "partial failure: 1 stored stanza is invalid") || strings.Contains(stderr, "actions failed") {
		t.Errorf("plan with an invalid stanza: exit %d, stderr %q", code, stderr)
	}
	e.stanza("web", `{, 123 bare words :: }`)
	_, stderr, code = runBinary(t, e.srv, "", "plan", "--region", "us-east-1")
	if code != ExitError || !strings.Contains(stderr, "run failed: every stored stanza is invalid") || strings.Contains(stderr, "actions failed") {
		t.Errorf("plan with only invalid stanzas: exit %d, stderr %q", code, stderr)
	}
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1")
	if code != ExitLate || !strings.Contains(stdout, "no volume is protected: account "+motoserver.AccountID+" has no valid configuration stanza (2 stored stanzas are invalid)") {
		t.Errorf("report with only invalid stanzas: exit %d\n%s", code, stdout)
	}
}

// The HTML page through the binary: a region with nothing to show is left
// out, the instance's Name tag is next to its id (in the text too), every
// timeline carries the shared axis, and the page fits 1280 px and a phone.
func TestReportHTMLPage(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "web-frontend"}}})
	e.stanza("web", webStanza)
	e.snapshot(inst[0].VolumeIDs[0], date(4))
	page := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--region", "us-west-2", "--html", page)
	if code != ExitLate || !strings.Contains(stdout, inst[0].ID+" (web-frontend)") {
		t.Fatalf("report: exit %d, want %d and the Name next to the id\n%s\n%s", code, ExitLate, stdout, stderr)
	}
	got := reporttest.Open(t, page)
	if len(got.Console) > 0 || len(got.Requests) > 0 {
		t.Errorf("page console %q, requests %q; want neither", got.Console, got.Requests)
	}
	if strings.Contains(got.DOM, `id="region-us-west-2"`) || !strings.Contains(got.DOM, "Left out, nothing to show: us-west-2.") {
		t.Error("the empty region us-west-2 is on the page, or not named as left out")
	}
	if !strings.Contains(got.DOM, "<code>"+inst[0].ID+"</code> web-frontend") {
		t.Error("the page lacks the Name tag next to the instance id")
	}
	if n := strings.Count(got.DOM, `text-anchor="end">now</text>`); n != 2 || !strings.Contains(got.DOM, `id="legend"`) {
		t.Errorf("%d timelines with the shared axis, want 2, and a legend", n)
	}
	for _, size := range [][2]int{{1280, 900}, {390, 844}} {
		if l := reporttest.Measure(t, page, size[0], size[1]); l.ScrollWidth > l.Viewport || l.Viewport != size[0] {
			t.Errorf("%dx%d: document %d px wide in a %d px window (screenshot %s)", size[0], size[1], l.ScrollWidth, l.Viewport, l.Screenshot)
		}
	}
}
