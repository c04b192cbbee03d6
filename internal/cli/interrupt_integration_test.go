package cli

// Interruption and unknown outcomes through the built binary, with the
// fault-injecting proxy between it and moto.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// running is the built binary started in the background.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

// startBinary starts ebs-snapper with args, every AWS call sent to
// endpoint, and kills it when the test ends.
func startBinary(t *testing.T, e *engineEnv, endpoint string, args ...string) *running {
	t.Helper()
	return startBinaryEnv(t, e, endpoint, []string{"XDG_CACHE_HOME=" + t.TempDir()}, args...)
}

// startBinaryEnv is startBinary with env added to the environment (later
// entries win).
func startBinaryEnv(t *testing.T, e *engineEnv, endpoint string, env []string, args ...string) *running {
	t.Helper()
	r := &running{done: make(chan struct{})}
	r.cmd = exec.Command(buildBinary(t), args...)
	r.cmd.Env = append(append(append(os.Environ(), e.srv.Env()...), "AWS_ENDPOINT_URL="+endpoint), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			r.code = exit.ExitCode()
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for the process to exit, at most limit.
func (r *running) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		t.Fatalf("still running after %s\nstderr:\n%s", limit, r.stderr.String())
	}
}

func (r *running) signal(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// waitForAttempts waits until the proxy has received n requests of action.
func waitForAttempts(t *testing.T, p *faults.Proxy, action string, n int, r *running) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for p.Counts()[action].Attempts < n {
		select {
		case <-r.done:
			t.Fatalf("exited (%d) before %d %s requests\nstdout:\n%s\nstderr:\n%s", r.code, n, action, r.stdout.String(), r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d %s requests after 2 minutes", n, action)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func decodeReport(t *testing.T, stdout string) output {
	t.Helper()
	var out output
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout)
	}
	return out
}

// Issue 12, item 1: after one Ctrl-C the creates already sent finish and
// are reported done with their ids, nothing new starts, the rest is
// "not started", and the exit status is 130.
func TestInterruptFinishesCallsInFlight(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 60, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	p := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.Delay, Rate: 1, Delay: 100 * time.Millisecond}}})

	r := startBinary(t, e, p.URL, "snapshot", "--region", "us-east-1", "--json")
	waitForAttempts(t, p, "CreateSnapshot", 4, r)
	r.signal(t)
	r.wait(t, 30*time.Second)

	if r.code != ExitInterrupted || !strings.Contains(r.stderr.String(), "interrupted: finishing ") {
		t.Fatalf("exit %d, want %d and the interruption message\nstderr:\n%s", r.code, ExitInterrupted, r.stderr.String())
	}
	out := decodeReport(t, r.stdout.String())
	inMoto := map[string]bool{}
	for _, snaps := range e.snapshots() {
		for _, s := range snaps {
			inMoto[aws.ToString(s.SnapshotId)] = true
		}
	}
	done, notStarted := 0, 0
	for _, row := range out.Regions[0].Snapshots {
		switch row.Status {
		case snapper.StatusDone:
			done++
			if !inMoto[row.SnapshotID] {
				t.Errorf("%s: reported done with %q, which moto does not hold", row.VolumeID, row.SnapshotID)
			}
		case snapper.StatusNotStarted:
			notStarted++
		default:
			t.Errorf("%s: %s [%s], want done or not started", row.VolumeID, row.Status, row.Error)
		}
	}
	if done == 0 || notStarted == 0 || done+notStarted != 60 || len(inMoto) != done {
		t.Errorf("%d done, %d not started, %d snapshots in moto; want some of each, 60 rows, one snapshot per done row", done, notStarted, len(inMoto))
	}
	if s := out.Regions[0].Summary; s.NotStarted != notStarted || s.Failed != 0 {
		t.Errorf("summary %+v: not started is no failure", s)
	}
	// Nothing started after the signal: the creates EC2 received are the
	// ones reported done.
	if got := p.Counts()["CreateSnapshot"].Forwarded; got != done {
		t.Errorf("moto received %d creates, %d reported done", got, done)
	} // The notice counts the calls in flight (started, not yet done), which
	// all finish done: never negative, never more than were done.
	m := regexp.MustCompile(`finishing (-?\d+) calls in flight`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Errorf("no count of calls in flight in the notice:\n%s", r.stderr.String())
	} else if n, _ := strconv.Atoi(m[1]); n < 1 || n > done {
		t.Errorf("notice %q, want 1 to %d calls in flight", m[0], done)
	}
}

// A second Ctrl-C aborts at once, without waiting for the calls in flight.
func TestSecondInterruptAbortsAtOnce(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 4, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	const hold = 8 * time.Second
	p := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.Delay, Rate: 1, Delay: hold}}})

	r := startBinary(t, e, p.URL, "snapshot", "--region", "us-east-1", "--json")
	waitForAttempts(t, p, "CreateSnapshot", 1, r)
	r.signal(t)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	r.signal(t)
	r.wait(t, hold)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("exited %s after the second signal, want at once (the calls in flight were held %s)", took, hold)
	}
	if stderr := r.stderr.String(); r.code != ExitInterrupted || !strings.Contains(stderr, "aborted: ") || !strings.Contains(stderr, snapper.RunTag+"=") {
		t.Errorf("exit %d, want %d, and the abort message naming the run tag\nstderr:\n%s", r.code, ExitInterrupted, stderr)
	}
}

// Issue 12, item 2 and issue 11, item 2: a create whose answer is dropped
// after moto acted is reported done with the right id, the SDK does not
// retry it into a duplicate, and the next run creates nothing for it.
func TestDroppedCreateAnswerIsSettledWithoutDuplicate(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	p := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.DropAfter, First: 1}}})

	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, p.URL, "snapshot", "--region", "us-east-1", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	out := decodeReport(t, stdout)
	held := e.snapshots()
	for _, vol := range inst[0].VolumeIDs {
		snaps := held[vol]
		if len(snaps) != 1 {
			t.Fatalf("%s: %d snapshots in moto, want exactly 1", vol, len(snaps))
		}
		if got := tagMap(snaps[0].Tags)[snapper.RunTag]; got != out.RunToken || got == "" {
			t.Errorf("%s: tag %s=%q, want the run's token %q", vol, snapper.RunTag, got, out.RunToken)
		}
	}
	for _, row := range out.Regions[0].Snapshots {
		if want := aws.ToString(held[row.VolumeID][0].SnapshotId); row.Status != snapper.StatusDone || row.SnapshotID != want {
			t.Errorf("%s: %s %q [%s], want done with %s", row.VolumeID, row.Status, row.SnapshotID, row.Error, want)
		}
	}
	c := p.Counts()
	if c["CreateSnapshot"].Attempts != 2 || c["CreateSnapshot"].Faults[faults.DropAfter] != 1 {
		t.Errorf("CreateSnapshot counts %+v, want 2 attempts (no retry of the dropped one)", c["CreateSnapshot"])
	}
	if n := c["DescribeSnapshots"].Attempts; n != 2 {
		t.Errorf("%d DescribeSnapshots, want 2 (the inventory and one settling listing)", n)
	}

	// The next run, straight to moto, finds both snapshots: nothing is due.
	again := e.run(ExitOK, "snapshot")
	if s := again.Regions[0].Summary; s.Created != 0 {
		t.Errorf("re-run created %d snapshots, want 0", s.Created)
	}
	for _, vol := range inst[0].VolumeIDs {
		if n := len(e.snapshots()[vol]); n != 1 {
			t.Errorf("%s: %d snapshots after the re-run, want 1", vol, n)
		}
	}
}
