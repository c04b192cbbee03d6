package handler

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// take removes and returns the messages published so far.
func (r *recordingSQS) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.messages
	r.messages = nil
	return out
}

// logLines returns the JSON log records whose msg is msg.
func logLines(t *testing.T, logs fmt.Stringer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// slowCreates makes every CreateSnapshot of the fake take d.
func slowCreates(f *ec2fake.Fake, d time.Duration) {
	f.OnCall = func(op string, _ any) error {
		if op == ec2fake.OpCreateSnapshot {
			time.Sleep(d)
		}
		return nil
	}
}

// A worker whose deadline is too short for its region hands the rest to
// continuations on its own topic until the region is done: here each
// published message is fed back to the handler as SNS would deliver it.
func TestWorkerFinishesThroughContinuations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const volumes = 40
		fakes, store := fakeWorld(t, volumes, dailyStanza)
		slowCreates(fakes["us-west-2"], 50*time.Millisecond)
		logs := captureLogs(t)
		pub := &recordingSQS{}
		// Each invocation starts creates for 90 ms of the bubble's virtual
		// clock (400 ms timeout, 310 ms margin), 8 at a time at 50 ms each:
		// 16 of the 40 volumes, so 16, 16 and 8 in three invocations.
		h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub,
			Leases: &lease.Memory{}, MaxHops: 20, Margin: 310 * time.Millisecond})

		msg := Message("us-west-2")
		hops := 0
		for ; msg != ""; hops++ {
			if hops > 20 {
				t.Fatal("the chain does not end")
			}
			id := fmt.Sprintf("req-hop-%d", hops)
			if err := h.Invoke(invokeCtx(t, id, 400*time.Millisecond), snsEvent(t, msg)); err != nil {
				t.Fatalf("hop %d: %v", hops, err)
			}
			published := pub.take()
			if len(published) > 1 {
				t.Fatalf("hop %d published %d messages, want at most one", hops, len(published))
			}
			msg = ""
			if len(published) == 1 {
				msg = published[0]
				var next regionMessage
				if err := json.Unmarshal([]byte(msg), &next); err != nil {
					t.Fatal(err)
				}
				want := regionMessage{Region: "us-west-2", Hop: hops + 1, Chain: "req-hop-0", From: id}
				if !reflect.DeepEqual(next, want) {
					t.Errorf("continuation %+v, want %+v", next, want)
				}
			}
		}
		t.Logf("%d volumes in %d invocations", volumes, hops)
		if hops != 3 {
			t.Errorf("%d invocations, want 3: the region needs continuations", hops)
		}
		perVolume := map[string]int{}
		for _, s := range fakes["us-west-2"].Snapshots() {
			perVolume[s.VolumeID]++
		}
		for i := range volumes {
			if v := fmt.Sprintf("vol-%04d", i); perVolume[v] != 1 {
				t.Errorf("%s has %d snapshots, want exactly 1", v, perVolume[v])
			}
		}
		if n := fakes["us-west-2"].Calls(ec2fake.OpCreateSnapshot); n != volumes {
			t.Errorf("%d CreateSnapshot calls, want %d", n, volumes)
		}
		ends := logLines(t, logs, "chain finished")
		if len(ends) != 1 || ends[0]["invocations"] != float64(hops) || ends[0]["chain"] != "req-hop-0" {
			t.Errorf("chain ends logged %v, want one with %d invocations of chain req-hop-0", ends, hops)
		}
		if n := len(logLines(t, logs, "continuation published")); n != hops-1 {
			t.Errorf("%d continuations logged, want %d", n, hops-1)
		}
	})
}

// At the hop limit the chain ends with its work left, logged with how much,
// and releases the region for the next scheduled run.
func TestChainEndsAtTheHopLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes, store := fakeWorld(t, 40, dailyStanza)
		slowCreates(fakes["us-west-2"], 50*time.Millisecond)
		logs := captureLogs(t)
		pub := &recordingSQS{}
		leases := &lease.Memory{}
		h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub,
			Leases: leases, MaxHops: 1, Margin: 310 * time.Millisecond})
		if err := h.Invoke(invokeCtx(t, "req-a", 400*time.Millisecond), snsEvent(t, Message("us-west-2"))); err != nil {
			t.Fatal(err)
		}
		next := pub.take()
		if len(next) != 1 {
			t.Fatalf("published %v, want one continuation", next)
		}
		if err := h.Invoke(invokeCtx(t, "req-b", 400*time.Millisecond), snsEvent(t, next[0])); err != nil {
			t.Fatal(err)
		}
		if again := pub.take(); len(again) != 0 {
			t.Errorf("published %v past the hop limit", again)
		}
		// Two invocations of 16 (see TestWorkerFinishesThroughContinuations)
		// leave 8.
		done := len(fakes["us-west-2"].Snapshots())
		if done != 32 {
			t.Errorf("%d volumes snapshotted in two invocations, want 32", done)
		}
		ends := logLines(t, logs, "chain ended at the hop limit with work left; the next scheduled run resumes it")
		if len(ends) != 1 || ends[0]["left"] != fmt.Sprintf("%d actions", 40-done) || ends[0]["level"] != "ERROR" {
			t.Errorf("hop-limit lines %v, want one at ERROR with %d actions left", ends, 40-done)
		}
		// The lease was released: a new scheduled message is not turned away.
		if err := leases.Acquire(t.Context(), lease.Lease{Key: lease.Key(Snapshot, "us-west-2"), Holder: "x", Expires: time.Now().Add(time.Minute)}, "", time.Now()); err != nil {
			t.Errorf("lease still held after the chain ended: %v", err)
		}
	})
}

// Two workers started together on one region do the work once: the second
// finds the region's lease held, logs it and succeeds. A scheduled message
// arriving while a chain runs is the same case.
func TestTwoWorkersOnOneRegionDoTheWorkOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const volumes = 10
		fakes, store := fakeWorld(t, volumes, dailyStanza)
		// Slow listings keep both invocations inside their runs together: with
		// no lease both would plan every volume and create it.
		fakes["us-west-2"].OnCall = func(op string, _ any) error {
			if op == ec2fake.OpDescribeSnapshots {
				time.Sleep(100 * time.Millisecond)
			}
			return nil
		}
		logs := captureLogs(t)
		leases := &lease.Memory{}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases})
			ctx := invokeCtx(t, fmt.Sprintf("req-%d", i), time.Minute)
			wg.Go(func() { errs[i] = h.Invoke(ctx, snsEvent(t, Message("us-west-2"))) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := fakes["us-west-2"].Calls(ec2fake.OpCreateSnapshot); n != volumes {
			t.Errorf("%d CreateSnapshot calls, want %d: the work done once", n, volumes)
		}
		if n := len(logLines(t, logs, "region busy: another worker holds its lease and does the work")); n != 1 {
			t.Errorf("%d workers turned away, want 1:\n%s", n, logs)
		}
	})
}

// A second delivery of one continuation (SNS delivers at least once) finds
// the lease already handed over and does nothing.
func TestContinuationDeliveredTwiceRunsOnce(t *testing.T) {
	fakes, store := fakeWorld(t, 1, dailyStanza)
	logs := captureLogs(t)
	leases := &lease.Memory{}
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases, MaxHops: 8})
	// The previous hop req-a holds the lease and handed it over.
	key := lease.Key(Snapshot, "us-west-2")
	if err := leases.Acquire(t.Context(), lease.Lease{Key: key, Holder: "req-a", Chain: "req-a", Expires: time.Now().Add(time.Minute)}, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	cont := `{"region":"us-west-2","hop":1,"chain":"req-a","from":"req-a"}`
	// The first delivery is still running (it holds the lease) when the
	// second arrives.
	if err := leases.Acquire(t.Context(), lease.Lease{Key: key, Holder: "req-b", Chain: "req-a", Expires: time.Now().Add(time.Minute)}, "req-a", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.Invoke(invokeCtx(t, "req-c", time.Minute), snsEvent(t, cont)); err != nil {
		t.Fatal(err)
	}
	if n := fakes["us-west-2"].Calls(ec2fake.OpCreateSnapshot); n != 0 {
		t.Errorf("%d CreateSnapshot calls by the duplicate, want 0", n)
	}
	busy := logLines(t, logs, "region busy: another worker holds its lease and does the work")
	if len(busy) != 1 || busy[0]["hop"] != 1.0 || busy[0]["chain"] != "req-a" {
		t.Errorf("busy lines %v, want one for hop 1 of chain req-a", busy)
	}
}

func TestWorkerSkipsANegativeHop(t *testing.T) {
	fakes, store := fakeWorld(t, 1, dailyStanza)
	logs := captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store)})
	if err := h.Invoke(invokeCtx(t, "req-n", time.Minute), snsEvent(t, `{"region": "us-west-2", "hop": -1}`)); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-west-2"].Snapshots()); n != 0 || !strings.Contains(logs.String(), `\"hop\" is negative`) {
		t.Errorf("%d snapshots; logs:\n%s", n, logs)
	}
}
