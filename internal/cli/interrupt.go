package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// ExitInterrupted is the status of a command stopped by SIGINT or SIGTERM:
// 128 + 2 (SIGINT), the shell's convention.
const ExitInterrupted = 130

// ErrInterrupted reports a run that a signal stopped: it started nothing
// new, let the calls in flight finish and printed its report. It exits
// with ExitInterrupted.
var ErrInterrupted = errors.New("interrupted")

// GracePeriod is how long the calls already sent may take to finish after
// the first signal; then their context is cancelled, and a call whose
// answer was cut off is settled by the run's listing (snapper's unknown
// outcomes).
const GracePeriod = 10 * time.Second

// Main runs the CLI with os.Args and returns the process exit status.
// sigs delivers SIGINT and SIGTERM (main subscribes them): the first one
// stops a snapshot, clean, replication or plan run gracefully (nothing new starts, the
// calls in flight finish within GracePeriod, the report is printed, exit
// ExitInterrupted) and cancels any other command at once; a second one
// aborts the process at once with ExitInterrupted.
func Main(stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := newIOStreams(nil, stdout, stderr)
	in := &interruption{stderr: stderr, notice: streams.diag(), grace: GracePeriod, cancel: cancel, exit: os.Exit}
	go in.watch(sigs)
	err := newRoot(streams, in).ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "ebs-snapper:", err)
	}
	return ExitCode(err)
}

// interruption turns signals into the CLI's two-stage stop.
type interruption struct {
	// stderr takes the abort message, written just before the process
	// exits; notice takes the first signal's notice: the streams'
	// diagnostics, above the progress bars while they are drawn.
	stderr, notice io.Writer
	grace          time.Duration
	// cancel cancels the commands' context; exit ends the process.
	cancel context.CancelFunc
	exit   func(code int)

	mu      sync.Mutex
	signals int
	run     *runWatch // the graceful run in progress, if any
}

// runWatch follows one engine run: its StopStarting channel and the
// mutating calls it started and finished, for the messages on signals.
type runWatch struct {
	snapper.NoObserver
	token    string
	pipeline string
	stop     chan struct{}

	mu                         sync.Mutex
	started, finished, failedN int // mutating calls
}

// ActionStarted counts a call in flight.
func (w *runWatch) ActionStarted(string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started++
}

// ActionDone counts a call finished, and a failure.
func (w *runWatch) ActionDone(_ string, failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.finished++
	if failed {
		w.failedN++
	}
}

// watch handles the signals until sigs is closed.
func (in *interruption) watch(sigs <-chan os.Signal) {
	for range sigs {
		in.mu.Lock()
		in.signals++
		n, run := in.signals, in.run
		in.mu.Unlock()
		switch {
		case n == 1 && run != nil:
			close(run.stop)
			fmt.Fprintf(in.notice, "interrupted: finishing %d calls in flight; press Ctrl-C again to abort\n", run.inFlight())
			time.AfterFunc(in.grace, in.cancel)
		case n == 1:
			in.cancel()
		default:
			msg := "aborted"
			if run != nil {
				msg = run.abortMessage()
			}
			fmt.Fprintln(in.stderr, msg)
			in.exit(ExitInterrupted)
		}
	}
}

// startRun registers a graceful run of pipeline whose snapshots (or drill
// volumes) carry token, and
// hooks opts: StopStarting closes on the first signal, and the run's
// observer (added to any already set) counts the calls in flight. The
// returned function ends the registration. A nil interruption (tests that
// call the commands directly) leaves opts alone.
func (in *interruption) startRun(opts *snapper.Options, pipeline string) (interrupted func() bool, done func()) {
	if in == nil {
		return func() bool { return false }, func() {}
	}
	w := &runWatch{token: opts.RunToken, pipeline: pipeline, stop: make(chan struct{})}
	opts.StopStarting = w.stop
	opts.Observer = observers(opts.Observer, w)
	in.mu.Lock()
	if in.signals > 0 {
		// A signal came while the run was being set up: start nothing.
		close(w.stop)
	}
	in.run = w
	in.mu.Unlock()
	interrupted = func() bool {
		select {
		case <-w.stop:
			return true
		default:
			return false
		}
	}
	return interrupted, func() {
		in.mu.Lock()
		in.run = nil
		in.mu.Unlock()
	}
}

func (w *runWatch) inFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started - w.finished
}

// abortMessage is what the CLI knows at once when a second signal aborts
// a run: the report cannot be printed while calls are in flight.
func (w *runWatch) abortMessage() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pipeline == snapper.PipelineDrill {
		return fmt.Sprintf("aborted: %d actions finished (%d failed); %d drills in flight abandoned. "+
			"Their drill volumes carry the tag %s=%s and are not deleted now: the next drill run's sweep deletes them once older than "+
			"the time allowed (list them: aws ec2 describe-volumes --filters Name=tag:%s,Values=%s).",
			w.finished, w.failedN, w.started-w.finished, snapper.DrillRunTag, w.token, snapper.DrillRunTag, w.token)
	}
	return fmt.Sprintf("aborted: %d actions finished (%d failed); %d calls in flight abandoned, their outcome unknown. "+
		"Snapshots this run created carry the tag %s=%s; the next run's inventory counts them, so it does not snapshot those volumes again.",
		w.finished, w.failedN, w.started-w.finished, snapper.RunTag, w.token)
}
