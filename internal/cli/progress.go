package cli

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// progress draws one live line per region of a snapshot or clean run on a
// terminal: actions done / planned, failed, rate and ETA. It is the run's
// snapper.Observer of planned and finished actions.
type progress struct {
	snapper.NoObserver
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*regionBar
}

type regionBar struct {
	bar    *mpb.Bar
	failed atomic.Int64
	start  time.Time
}

// newProgress returns a progress display on w, which must be a terminal
// (ioStreams.progressAllowed).
func newProgress(w io.Writer) *progress {
	return &progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(30)), bars: map[string]*regionBar{}}
}

// observe adds pr to opts' observers; a nil progress adds nothing.
func (pr *progress) observe(opts *snapper.Options) {
	if pr == nil {
		return
	}
	opts.Observer = observers(opts.Observer, pr)
}

// observers is o followed by add: add alone when o is unset.
func observers(o, add snapper.Observer) snapper.Observer {
	if o == nil {
		return add
	}
	return snapper.Observers{o, add}
}

// writer is where logs go while the bars are drawn: above them.
func (pr *progress) writer() io.Writer { return pr.p }

// Planned adds n to region's bar, drawing it on the first call.
func (pr *progress) Planned(region string, n int) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if rb := pr.bars[region]; rb != nil {
		// snapshot then clean in one run: the region's total grows.
		rb.bar.SetTotal(rb.bar.Current()+int64(n), false)
		return
	}
	rb := &regionBar{start: time.Now()}
	rb.bar = pr.p.AddBar(int64(n),
		mpb.PrependDecorators(decor.Name(region, decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d", decor.WCSyncSpace)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("failed %d", rb.failed.Load()) }, decor.WCSyncSpace),
			decor.Any(func(s decor.Statistics) string { return rateText(s.Current, time.Since(rb.start)) }, decor.WCSyncSpace),
			decor.OnComplete(decor.Any(func(s decor.Statistics) string { return etaText(s.Current, s.Total, time.Since(rb.start)) }, decor.WCSyncSpace), "done"),
		))
	pr.bars[region] = rb
}

// ActionDone moves region's bar on and counts a failure.
func (pr *progress) ActionDone(region string, failed bool) {
	pr.mu.Lock()
	rb := pr.bars[region]
	pr.mu.Unlock()
	if rb == nil {
		return
	}
	if failed {
		rb.failed.Add(1)
	}
	rb.bar.Increment()
}

// finish ends every bar (actions a cancelled run never reached leave a
// bar short of its total) and draws the final lines.
func (pr *progress) finish() {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	for _, rb := range pr.bars {
		if !rb.bar.Completed() {
			rb.bar.Abort(false)
		}
	}
	pr.mu.Unlock()
	pr.p.Wait()
}

// rateText is the actions done a second so far, or "-/s" before the
// first is done: no rate is known yet.
func rateText(done int64, elapsed time.Duration) string {
	if done <= 0 {
		return "-/s"
	}
	return fmt.Sprintf("%.1f/s", float64(done)/max(elapsed.Seconds(), 1e-3))
}

// etaText is the time left at the average pace so far ("ETA 2m10s"), or
// "ETA -" before the first action is done: never "0s" with nothing to
// measure the pace by.
func etaText(done, total int64, elapsed time.Duration) string {
	if done <= 0 {
		return "ETA -"
	}
	left := time.Duration(float64(elapsed) / float64(done) * float64(max(total-done, 0)))
	return "ETA " + config.FormatDuration(left.Round(time.Second))
}
