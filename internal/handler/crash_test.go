package handler

import (
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// Issue 16 item 9: a worker killed mid-run leaves its lease until its
// deadline; Lambda's retry of that invocation (the same request id) takes
// it back and does the region's work at once, while any other invocation,
// a continuation of the same chain from another holder included, is still
// turned away as "region busy".
func TestRetryOfACrashedWorkerTakesItsLeaseBack(t *testing.T) {
	fakes, store := fakeWorld(t, 2, dailyStanza)
	leases := &lease.Memory{}
	// What the crashed invocation left: its lease until its deadline.
	dead := lease.Lease{Key: lease.Key(Snapshot, "us-west-2"), Holder: "req-crashed", Chain: "req-crashed", Expires: time.Now().Add(10 * time.Minute)}
	if err := leases.Acquire(t.Context(), dead, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	logs := captureLogs(t)
	worker := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases})

	other := snsEvent(t, `{"region": "us-west-2", "hop": 1, "chain": "req-crashed", "from": "req-other"}`)
	if err := worker.Invoke(invokeCtx(t, "req-intruder", 5*time.Minute), other); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-west-2"].Snapshots()); n != 0 {
		t.Fatalf("another invocation of the chain ran beside the lease's holder: %d snapshots", n)
	}
	if busy := logLines(t, logs, "region busy: another worker holds its lease and does the work"); len(busy) != 1 {
		t.Errorf("busy lines %v, want one", busy)
	}

	if err := worker.Invoke(invokeCtx(t, "req-crashed", 5*time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-west-2"].Snapshots()); n != 2 {
		t.Errorf("the retry made %d snapshots, want 2", n)
	}
	// It released the lease at the end.
	if err := leases.Acquire(t.Context(), lease.Lease{Key: dead.Key, Holder: "next", Expires: time.Now().Add(time.Minute)}, "", time.Now()); err != nil {
		t.Errorf("after the retry: %v", err)
	}
}
