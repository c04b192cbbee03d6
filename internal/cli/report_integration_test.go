package cli

// Integration tests of report and of the progress display: the built
// binary against moto.

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/report/reporttest"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// TestReportStatuses seeds an ok, a late, a missing and an orphaned volume.
// moto stamps every snapshot with its own clock, so lateness comes from the
// stanzas' frequencies and --now three hours ahead: the hourly volume is
// late (3h > 1h + 1h grace), the weekly one ok, the daily one has nothing.
func TestReportStatuses(t *testing.T) {
	e := newEngineEnv(t)
	tagged := func(v string) seeder.Group {
		return seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "tier", Value: v}}}
	}
	ok := e.launch(tagged("weekly"))[0].VolumeIDs[0]
	late := e.launch(tagged("hourly"))[0].VolumeIDs[0]
	missing := e.launch(tagged("daily"))[0].VolumeIDs[0]
	gone := e.launch(seeder.Group{Count: 1})[0]
	e.snapshot(ok, date(7))
	e.snapshot(late, date(1))
	orphan := e.snapshot(gone.VolumeIDs[0])
	if err := seeder.Terminate(e.ctx, e.ec2, gone.ID); err != nil {
		t.Fatal(err)
	}
	for id, freq := range map[string]string{"weekly": "7 days", "hourly": "1 hour", "daily": "1 day"} {
		e.stanza(id, `{"match": {"tag:tier": "`+id+`"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "`+freq+`"}}`)
	}
	now := at(3 * time.Hour)

	stdout, stderr, code := runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--now", now, "--json")
	if code != ExitLate {
		t.Fatalf("report --json: exit %d, want %d\n%s\n%s", code, ExitLate, stdout, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	r := rep.Regions[0]
	statuses := map[string]report.Status{}
	for _, v := range r.Volumes {
		statuses[v.VolumeID] = v.Status
	}
	want := map[string]report.Status{ok: report.OK, late: report.Late, missing: report.Missing}
	if len(statuses) != 3 || statuses[ok] != report.OK || statuses[late] != report.Late || statuses[missing] != report.Missing {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if c := rep.Coverage; c.Matched != 3 || c.OK != 1 || c.Late != 1 || c.Missing != 1 || c.Percent < 33.3 || c.Percent > 33.4 {
		t.Errorf("coverage %+v, want 1 of 3 ok", c)
	}
	if len(r.Orphans) != 1 || r.Orphans[0].VolumeID != gone.VolumeIDs[0] || r.Orphans[0].Counts.Count != 1 || r.Orphans[0].SizeGiB != 8 {
		t.Errorf("orphans %+v, want the terminated instance's volume (8 GiB, 1 snapshot)", r.Orphans)
	}
	if len(r.NoDeleteOn) != 1 || r.NoDeleteOn[0].SnapshotID != orphan {
		t.Errorf("no DeleteOn %+v, want %s", r.NoDeleteOn, orphan)
	}
	// Three volumes with snapshots, 8 GiB each.
	if rep.SnapshottedVolumeGiB != 24 {
		t.Errorf("storage bound %d GiB, want 24", rep.SnapshottedVolumeGiB)
	}
	figs := map[string]report.CoverageFigures{}
	for _, f := range rep.Figures {
		figs[f.ConfigID] = *f.Coverage
	}
	if figs[""] != (report.CoverageFigures{VolumesMatched: 3, VolumesLate: 1, VolumesMissing: 1}) || figs["hourly"].VolumesLate != 1 || figs["daily"].VolumesMissing != 1 {
		t.Errorf("figures %+v", figs)
	}

	page := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--now", now, "--html", page)
	if code != ExitLate {
		t.Fatalf("report: exit %d, want %d\n%s\n%s", code, ExitLate, stdout, stderr)
	}
	for _, w := range []string{"1 of 3 matched volumes ok (33.3%)", "late     " + late, "missing  " + missing, "ok       " + ok,
		"Orphaned snapshots", gone.VolumeIDs[0], "Snapshotted volumes: 24 GiB"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("text report lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Index(stdout, late) > strings.Index(stdout, ok) {
		t.Errorf("late volume not listed before the ok one:\n%s", stdout)
	}
	got := reporttest.Open(t, page)
	if len(got.Console) > 0 || len(got.Requests) > 0 {
		t.Errorf("page console %q, requests %q; want neither", got.Console, got.Requests)
	}
	for _, w := range []string{"33.3%", "Needs attention", ok, late, missing, gone.VolumeIDs[0]} {
		if !strings.Contains(got.DOM, w) {
			t.Errorf("rendered page lacks %q", w)
		}
	}

	// With a grace of a day nothing is late; the missing volume still is.
	_, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--now", now, "--grace", "1 day")
	if code != ExitLate {
		t.Errorf("with a missing volume: exit %d, want %d", code, ExitLate)
	}
	e.snapshot(missing, date(1))
	if stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--now", now, "--grace", "1 day"); code != 0 {
		t.Errorf("every volume ok: exit %d, want 0\n%s", code, stdout)
	}
	if _, stderr, code = runBinary(t, e.srv, "", "report", "--grace", "soon"); code != ExitUsage || !strings.Contains(stderr, "--grace") {
		t.Errorf("bad --grace: exit %d, stderr %q", code, stderr)
	}
}

// TestProgressOnATerminal runs snapshot with stderr on a pseudo-terminal
// and sees the region's progress line; with stderr on a pipe, nothing of
// it is printed.
func TestProgressOnATerminal(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	e.launch(seeder.Group{Count: 3, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	// A terminal of no size draws nothing: give it one.
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t) // before the run context starts: a build can outlast it
	cmd := exec.CommandContext(motoserver.Context(t), bin, "snapshot", "--region", "us-east-1")
	cmd.Env = append(os.Environ(), append(e.srv.Env(), "XDG_CACHE_HOME="+t.TempDir())...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	runErr := cmd.Run()
	tty.Close()
	<-read
	if runErr != nil {
		t.Fatalf("snapshot on a terminal: %v\n%s\n%s", runErr, stdout.String(), screen.String())
	}
	for _, w := range []string{"us-east-1", "3 / 3", "failed 0", "/s"} {
		if !strings.Contains(screen.String(), w) {
			t.Errorf("terminal lacks %q:\n%q", w, screen.String())
		}
	}
	if strings.Contains(stdout.String(), "3 / 3") {
		t.Error("progress went to stdout")
	}

	// Without a terminal: the log lines (-V) and nothing else.
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	stdout2, stderr, code := runBinary(t, e.srv, "", "snapshot", "-V", "--region", "us-east-1")
	if code != 0 || !strings.Contains(stdout2, "create") {
		t.Fatalf("snapshot: exit %d\n%s\n%s", code, stdout2, stderr)
	}
	if strings.Count(stderr, "msg=\"snapshot created\"") != 2 || strings.Contains(stderr, "\x1b") || strings.Contains(stderr, "2 / 2") {
		t.Errorf("without a terminal stderr is %q, want the two log lines only", stderr)
	}
}
