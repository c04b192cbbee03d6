package snapper

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// When StopStarting fires during the actions, the call in flight finishes
// (its context is not cancelled), nothing more starts, and the rest is
// reported not started, which is no failure.
func TestRunStopStartingLetsCallsInFlightFinish(t *testing.T) {
	for _, tc := range []struct {
		name string
		job  useCase
		op   string
		seed func(f *ec2fake.Fake)
	}{
		{name: "snapshot", job: useSnapshot, op: ec2fake.OpCreateSnapshot},
		{name: "clean", job: useClean, op: ec2fake.OpDeleteSnapshot, seed: func(f *ec2fake.Fake) {
			// Five due snapshots: the newest is always kept, four are deleted.
			for i := range 5 {
				f.AddSnapshot(snap(fmt.Sprintf("snap-%d", i), "vol-b1", inventory.StateCompleted, time.Duration(100-i)*time.Hour, "2026-11-20"), "")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := webFleet()
			if tc.seed != nil {
				tc.seed(f)
			}
			stop := make(chan struct{})
			f.OnCall = func(op string, _ any) error {
				// The second action closes stop while it is itself in flight.
				if op == tc.op && f.Calls(tc.op) == 2 {
					close(stop)
				}
				return nil
			}
			opts := engineOptions(now)
			opts.Workers, opts.StopStarting = 1, stop
			p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0)
			rep := runUseCase(t.Context(), tc.job, []EC2{client(f, "us-east-1")}, p, opts)

			if n := f.Calls(tc.op); n != 2 {
				t.Errorf("%d %s calls, want 2 (none after stop)", n, tc.op)
			}
			done, notStarted := 0, 0
			count := func(status string) {
				switch status {
				case StatusDone:
					done++
				case StatusNotStarted:
					notStarted++
				case StatusPlanned, StatusFailed:
					t.Errorf("row left %q", status)
				}
			}
			for _, r := range rep.Regions[0].Snapshots {
				count(r.Status)
			}
			for _, r := range rep.Regions[0].Clean {
				if r.Action == retention.Delete {
					count(r.Status)
				}
			}
			if done != 2 || notStarted != 2 {
				t.Errorf("%d done, %d not started; want 2 and 2", done, notStarted)
			}
			if s := rep.Regions[0].Summary; s.NotStarted != 2 || s.Failed != 0 || rep.Failed() != 0 {
				t.Errorf("summary %+v, Failed() %d; want 2 not started and no failure", s, rep.Failed())
			}
		})
	}
}

// A region the run reaches after StopStarting fired makes no call at all.
func TestRunStopStartingBeforeARegion(t *testing.T) {
	f := webFleet()
	stop := make(chan struct{})
	close(stop)
	opts := engineOptions(now)
	opts.StopStarting = stop
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), opts)
	if calls := f.AllCalls(); len(calls) != 0 {
		t.Errorf("calls after stop: %v", calls)
	}
	if rr := rep.Regions[0]; rr.Skipped != regionNotStarted || rr.Error != "" || rep.Failed() != 0 {
		t.Errorf("region report %+v, want skipped as not started", rr)
	}
}
