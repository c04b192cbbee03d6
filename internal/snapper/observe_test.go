package snapper

import (
	"sync/atomic"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
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
