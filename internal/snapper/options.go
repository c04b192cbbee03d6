package snapper

import (
	"time"
)

// DefaultSettleTimeout bounds the listing (and re-issues) that settle
// unknown outcomes when the run's context has already ended (a deadline,
// or the CLI's grace period after Ctrl-C).
const DefaultSettleTimeout = 10 * time.Second

// Options tune a run.
type Options struct {
	// Now is the evaluation time (the --now flag; the clock otherwise).
	Now time.Time
	// DryRun plans only and makes no mutating call.
	DryRun bool
	// Scope narrows the snapshot and clean rows a run reports and acts on
	// (the CLI's --instance, --volume, --stanza); empty holds everything.
	Scope Scope
	// Version goes into new snapshots' descriptions.
	Version string
	// Workers bounds the mutating calls in flight in one region; the EC2
	// adapter's token buckets bound their rate.
	Workers int
	// RegionWorkers bounds how many regions run at once.
	RegionWorkers int
	// StopStarting, once closed, stops the run from starting anything new:
	// no region, listing or action starts after it, while the calls in
	// flight keep ctx and finish. Actions never reached are reported with
	// StatusNotStarted. It is separate from ctx so that a Lambda worker can
	// stop starting work a margin before its deadline while its last calls
	// still complete. Nil never fires.
	StopStarting <-chan struct{}
	// Observer follows the run: inventories, planned actions and each
	// mutating action's start and end. Nil means NoObserver.
	Observer Observer
	// RunToken marks every snapshot the run creates (tag RunTag, set in
	// the CreateSnapshot call). Empty means NewRunToken(time.Now()).
	RunToken string
	// SettleTimeout bounds the settlement of unknown outcomes once ctx has
	// ended; zero means DefaultSettleTimeout.
	SettleTimeout time.Duration
	// CopyLimit is how many snapshot copies may be in progress in one
	// destination region (replication); zero means DefaultCopyLimit, EC2's
	// quota. Set it only where AWS Support raised that quota.
	CopyLimit int
}

func (o Options) copyLimit() int {
	if o.CopyLimit > 0 {
		return o.CopyLimit
	}
	return DefaultCopyLimit
}

func withDefaults(o Options) Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.RegionWorkers <= 0 {
		o.RegionWorkers = 4
	}
	if o.RunToken == "" {
		o.RunToken = NewRunToken(time.Now())
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	return o
}
