package snapper

import "context"

// Observer follows a run as it goes, for a progress display, a count of
// the calls in flight (the CLI's Ctrl-C notice) or the inventory a caller
// judges afterwards. Its methods are called from the run's goroutines, so
// an implementation must be safe for concurrent use. Embed NoObserver to
// implement only some of them.
type Observer interface {
	// Inventory receives each region's inventory once it is built, before
	// planning, so that a caller can judge RPO freshness without listing
	// the region again. It must not modify inv.
	Inventory(inv *Inventory)
	// Planned says how many mutating actions a region is about to run
	// (more than zero). A region may report twice in one run (snapshot,
	// then clean).
	Planned(region string, actions int)
	// ActionStarted is called as each mutating action starts.
	ActionStarted(region string)
	// ActionDone is called once per action that started, after it ended;
	// failed is whether its status is StatusFailed.
	ActionDone(region string, failed bool)
}

// NoObserver is the Observer that does nothing, the default of
// Options.Observer.
type NoObserver struct{}

// Inventory does nothing.
func (NoObserver) Inventory(*Inventory) {}

// Planned does nothing.
func (NoObserver) Planned(string, int) {}

// ActionStarted does nothing.
func (NoObserver) ActionStarted(string) {}

// ActionDone does nothing.
func (NoObserver) ActionDone(string, bool) {}

// Observers is an Observer that tells each of its members, in order.
type Observers []Observer

// Inventory tells each member.
func (os Observers) Inventory(inv *Inventory) {
	for _, o := range os {
		o.Inventory(inv)
	}
}

// Planned tells each member.
func (os Observers) Planned(region string, actions int) {
	for _, o := range os {
		o.Planned(region, actions)
	}
}

// ActionStarted tells each member.
func (os Observers) ActionStarted(region string) {
	for _, o := range os {
		o.ActionStarted(region)
	}
}

// ActionDone tells each member.
func (os Observers) ActionDone(region string, failed bool) {
	for _, o := range os {
		o.ActionDone(region, failed)
	}
}

// observer is o's Observer, NoObserver when unset.
func (o Options) observer() Observer {
	if o.Observer == nil {
		return NoObserver{}
	}
	return o.Observer
}

// planned tells the observer of a region's n planned actions, if any.
func (o Options) planned(region string, n int) {
	if n > 0 {
		o.observer().Planned(region, n)
	}
}

// perform runs a region's mutating actions 0..n-1, at most o.Workers at a
// time and none once ctx is done or o.StopStarting has fired (forEach). It
// is the one place every mutating action passes through, so that the
// observer hears of each one's start before its call and of its end after
// it. act(i) returns the statuses of the rows action i decides (one, or a
// multi-volume set's, or a lock's outcome) and the call that decides them;
// a nil call skips i. Every mutating call of a run (create, multi-volume
// create, delete, archive, lock, copy, replica delete, and the re-issue of
// one whose answer was lost) goes through it, each after its count was
// given to Options.planned.
func perform(ctx context.Context, o Options, region string, n int, act func(i int) ([]*string, func(context.Context))) {
	obs := o.observer()
	forEach(ctx, o.StopStarting, o.Workers, n, func(i int) {
		statuses, call := act(i)
		if call == nil {
			return
		}
		for range statuses {
			obs.ActionStarted(region)
		}
		defer func() {
			for _, s := range statuses {
				obs.ActionDone(region, *s == StatusFailed)
			}
		}()
		call(ctx)
	})
}
