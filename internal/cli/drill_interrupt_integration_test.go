package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// heldDrill stages a volume whose drill volume stays "creating" (the moto
// patch holds the volumes restored from its snapshot), and starts a drill
// of it through proxy rules.
func heldDrill(t *testing.T, rules ...faults.Rule) (*engineEnv, *faults.Proxy, *running) {
	e := newEngineEnv(t)
	e.stanza("web", drillStanza)
	vol := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0].VolumeIDs[0]
	e.tag(e.snapshot(vol, date(7)), "ebs-snapper-test:volume-state", "creating")
	p := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: rules})
	r := startBinary(t, e, p.URL, "drill", "--region", "us-east-1", "--json")
	waitForAttempts(t, p, "CreateVolume", 1, r)
	return e, p, r
}

// Ctrl-C while a drill waits for its volume: the volume is deleted at
// once, the drill is "not started" (nothing proven), exit 130.
func TestDrillInterruptedDeletesItsVolume(t *testing.T) {
	e, _, r := heldDrill(t)
	r.signal(t)
	r.wait(t, time.Minute)
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, ExitInterrupted, r.stderr.String())
	}
	rows := decodeReport(t, r.stdout.String()).Regions[0].Drills
	if len(rows) != 1 || rows[0].Status != snapper.StatusNotStarted || rows[0].DrillVolumeID == "" || !rows[0].Deleted {
		t.Errorf("drills %+v, want one not started, its volume deleted", rows)
	}
	if left := e.drillVolumes(); len(left) != 0 {
		t.Errorf("drill volumes left: %v", left)
	}
}

// A second Ctrl-C aborts while the drill volume's delete is in flight:
// the message names the drill tag (not the snapshot run tag), the volume
// is left tagged, and the next run's sweep deletes it once older than the
// time allowed.
func TestDrillAbortedLeavesItsVolumeToTheSweep(t *testing.T) {
	e, p, r := heldDrill(t, faults.Rule{Action: "DeleteVolume", Fault: faults.Delay, Rate: 1, Delay: 30 * time.Second})
	r.signal(t)
	waitForAttempts(t, p, "DeleteVolume", 1, r)
	r.signal(t)
	r.wait(t, 20*time.Second)
	stderr := r.stderr.String()
	if r.code != ExitInterrupted || !strings.Contains(stderr, "aborted: ") || !strings.Contains(stderr, snapper.DrillRunTag+"=") || strings.Contains(stderr, snapper.RunTag+"=") {
		t.Errorf("exit %d, want %d and the abort message naming the drill tag\nstderr:\n%s", r.code, ExitInterrupted, stderr)
	}
	left := e.drillVolumes()
	if len(left) != 1 {
		t.Fatalf("drill volumes %v, want the one whose delete was abandoned", left)
	}
	out := e.run(ExitOK, "drill", "--now", at(time.Hour), "--unsafe-now", "--dry-run")
	if sw := out.Regions[0].Swept; len(sw) != 1 || sw[0].VolumeID != left[0] || sw[0].Status != snapper.StatusPlanned {
		t.Errorf("the next run's sweep plans %+v, want %s deleted", sw, left[0])
	}
}
