package snapper

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// TestEveryActionStartsBeforeItIsDone: every action kind reports its start
// and its end, so that a caller counting calls in flight (started − done,
// the CLI's Ctrl-C notice) never goes negative. Replication reported only
// the end of its copies.
func TestEveryActionStartsBeforeItIsDone(t *testing.T) {
	fakes := twoRegions(east, west)
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-orig", VolumeID: "vol-1", Description: "Created from i-1",
		Tags: tags("DeleteOn", "2026-12-01", "replication_dst_region", west)}, "")
	opts := engineOptions(now)
	other := remote(fakes)
	obs := &startDone{t: t}
	opts.Observer = obs
	started, done := &obs.started, &obs.done
	rep := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts)
	if got := rep.Regions[0].Summary.Copied; got != 1 {
		t.Fatalf("copied %d, want 1: %+v", got, rep.Regions[0].Replication)
	}
	if started.Load() != 1 || done.Load() != 1 {
		t.Errorf("started %d, done %d; want 1 and 1", started.Load(), done.Load())
	}
}

// startDone counts the actions started and done, and fails t when one is
// done before it started.
type startDone struct {
	NoObserver
	t             *testing.T
	started, done atomic.Int32
}

func (o *startDone) ActionStarted(string) { o.started.Add(1) }

func (o *startDone) ActionDone(string, bool) {
	if o.started.Load() <= o.done.Load() {
		o.t.Error("an action was done before it started")
	}
	o.done.Add(1)
}

// mutatingOps are the EC2 calls that change state, one action each.
var mutatingOps = []string{ec2fake.OpCreateSnapshot, ec2fake.OpDeleteSnapshot, ec2fake.OpModifySnapshotTier,
	ec2fake.OpLockSnapshot, ec2fake.OpCopySnapshot}

// callsObserved counts what a run tells its Observer: planned, started
// and done, and whether an action was ever done before it started.
type callsObserved struct {
	mu                     sync.Mutex
	planned, started, done int
	negative               bool
}

func (o *callsObserved) Inventory(*Inventory) {}

func (o *callsObserved) Planned(_ string, n int) { o.mu.Lock(); o.planned += n; o.mu.Unlock() }

func (o *callsObserved) ActionStarted(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started++
}

func (o *callsObserved) ActionDone(string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done++
	o.negative = o.negative || o.done > o.started
}

// TestEveryMutatingCallIsObserved: every kind of mutating call a run
// makes (create, lock, delete, archive, copy, replica delete, and the
// re-issue of a create whose outcome was unknown) passes through perform,
// so that the observer hears of each one planned, started and done: the
// CLI's count of calls in flight (its Ctrl-C notice) covers them all, and
// its progress bars reach their totals.
func TestEveryMutatingCallIsObserved(t *testing.T) {
	serverError := &smithy.GenericAPIError{Code: "InternalError", Message: "boom", Fault: smithy.FaultServer}
	tests := []struct {
		name string
		// run runs a use case with opts and returns the fakes it used.
		run func(t *testing.T, opts Options) []*ec2fake.Fake
		op  string // the kind of call the case is about
	}{
		{name: "create and lock", op: ec2fake.OpLockSnapshot, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			f := webFleet()
			st := stanza(t, "daily", "12 hours", 1)
			st.Lock = config.SnapshotLock{Mode: "governance", Duration: 60 * 24 * time.Hour}
			runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), opts)
			return []*ec2fake.Fake{f}
		}},
		{name: "create re-issued after an unknown outcome", op: ec2fake.OpCreateSnapshot, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			f := &ec2fake.Fake{Now: func() time.Time { return now }}
			f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1"}})
			f.Fail(ec2fake.OpCreateSnapshot, 1, serverError)
			runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), opts)
			if n := f.Calls(ec2fake.OpCreateSnapshot); n != 2 {
				t.Fatalf("%d CreateSnapshot calls, want 2 (one re-issued)", n)
			}
			return []*ec2fake.Fake{f}
		}},
		{name: "delete", op: ec2fake.OpDeleteSnapshot, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			f := webFleet()
			for i, age := range []time.Duration{90, 80, 70, 10} {
				f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-a1", inventory.StateCompleted, (age+100)*time.Hour, "2026-11-20"), "")
			}
			runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1)}, 0), opts)
			return []*ec2fake.Fake{f}
		}},
		{name: "archive", op: ec2fake.OpModifySnapshotTier, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			f := webFleet()
			for id, days := range map[string]int{"snap-old": 200, "snap-mid": 150, "snap-new": 1} {
				f.AddSnapshot(inventory.Snapshot{ID: id, VolumeID: "vol-b1", State: inventory.StateCompleted,
					StartTime: now.AddDate(0, 0, -days), Tags: tags("dlm:managed", "true")}, "")
			}
			st := stanza(t, "daily", "1 day", 1)
			st.Adopt = config.Adopt{Filters: []inventory.Filter{{Name: "tag:dlm:managed", Values: []string{"true"}}}}
			st.Tiers = retention.Tiers{Monthly: 12}
			st.ArchiveAfter = 30 * 24 * time.Hour
			runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), opts)
			return []*ec2fake.Fake{f}
		}},
		{name: "copy", op: ec2fake.OpCopySnapshot, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			fakes := twoRegions(east, west)
			fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-orig", VolumeID: "vol-1", Description: "Created from i-1",
				Tags: tags("DeleteOn", "2026-12-01", "replication_dst_region", west)}, "")
			runWithOthers(t.Context(), remote(fakes), useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts)
			return []*ec2fake.Fake{fakes[east], fakes[west]}
		}},
		{name: "replica delete", op: ec2fake.OpDeleteSnapshot, run: func(t *testing.T, opts Options) []*ec2fake.Fake {
			fakes := twoRegions(east, west)
			fakes[west].AddSnapshot(inventory.Snapshot{ID: "snap-replica", VolumeID: "vol-1", Description: "ebs-snapper copy of snap-gone from us-east-1 (vol-1): Created from i-1",
				Tags: tags("DeleteOn", "2026-12-01", "replication_src_region", east, "replication_snapshot_id", "snap-gone", "replication_volume_id", "vol-1")}, "")
			regions := []EC2{client(fakes[east], east), client(fakes[west], west)}
			rep := runWithOthers(t.Context(), remote(fakes), useReplicate, regions, replicating(t), opts)
			if got := rep.Regions[1].Summary.Deleted; got != 1 {
				t.Fatalf("%s deleted %d replicas, want 1: %+v", west, got, rep.Regions[1].Replication)
			}
			return []*ec2fake.Fake{fakes[east], fakes[west]}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := &callsObserved{}
			opts := engineOptions(now)
			opts.Observer = obs
			fakes := tc.run(t, opts)
			calls, kind := 0, 0
			for _, f := range fakes {
				for _, op := range mutatingOps {
					calls += f.Calls(op)
				}
				kind += f.Calls(tc.op)
			}
			if kind == 0 {
				t.Fatalf("no %s call: the case does not stage its kind", tc.op)
			}
			if obs.started != calls || obs.done != calls || obs.planned != calls || obs.negative {
				t.Errorf("%d mutating calls; observer heard %d planned, %d started, %d done (done before start: %v); want %d each",
					calls, obs.planned, obs.started, obs.done, obs.negative, calls)
			}
		})
	}
}

// TestLockNotStartedIsAFailure: a run that stops starting work after its
// creates and before their locks leaves snapshots without the lock their
// stanza asks for, which no later run adds: each is a failure naming why,
// not work left for a continuation.
func TestLockNotStartedIsAFailure(t *testing.T) {
	f := webFleet()
	stop := make(chan struct{})
	var once sync.Once
	f.OnCall = func(op string, _ any) error {
		if op == ec2fake.OpCreateSnapshot && f.Calls(op) == 4 {
			once.Do(func() { close(stop) })
		}
		return nil
	}
	st := stanza(t, "daily", "12 hours", 1)
	st.Lock = config.SnapshotLock{Mode: "governance", Duration: 60 * 24 * time.Hour}
	opts := engineOptions(now)
	opts.Workers = 1
	opts.StopStarting = stop
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), opts)
	if n := f.Calls(ec2fake.OpLockSnapshot); n != 0 {
		t.Fatalf("%d LockSnapshot calls after the stop, want 0", n)
	}
	s := rep.Regions[0].Summary
	for _, r := range rep.Regions[0].Snapshots {
		if r.Status == StatusDone && !strings.Contains(r.LockError, "not locked: the run stopped") {
			t.Errorf("%s: created, lock error %q; want one saying it was not locked", r.VolumeID, r.LockError)
		}
	}
	if s.Created != 4 || s.Failed != 4 || Judge(rep, 0).Outcome != OutcomePartial {
		t.Errorf("summary %+v, verdict %q; want 4 created, 4 failed (unlocked), partial", s, Judge(rep, 0).Outcome)
	}
}
