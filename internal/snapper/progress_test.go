package snapper

import (
	"sync"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// progress records what a run tells its Observer about its actions.
type progress struct {
	NoObserver
	mu                   sync.Mutex
	planned, done, fails map[string]int
}

func (p *progress) hook(o Options) Options {
	p.planned, p.done, p.fails = map[string]int{}, map[string]int{}, map[string]int{}
	o.Observer = p
	return o
}

func (p *progress) Planned(region string, n int) { p.mu.Lock(); p.planned[region] += n; p.mu.Unlock() }

func (p *progress) ActionDone(region string, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[region]++
	if failed {
		p.fails[region]++
	}
}

func TestProgressHooks(t *testing.T) {
	f := webFleet()
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0)
	var pr progress
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, pr.hook(engineOptions(now)))
	s := rep.Regions[0].Summary
	if pr.planned["us-east-1"] != 4 || pr.done["us-east-1"] != s.Created+s.Failed || pr.fails["us-east-1"] != s.Failed {
		t.Errorf("snapshot: planned %v done %v failed %v; summary %+v", pr.planned, pr.done, pr.fails, s)
	}

	// Nothing due: no progress at all.
	runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, pr.hook(engineOptions(now.Add(time.Hour))))
	if len(pr.planned)+len(pr.done) != 0 {
		t.Errorf("idle run: planned %v done %v, want none", pr.planned, pr.done)
	}

	// A second round 13 hours later, then a clean a month on: each
	// volume's older snapshot goes (minimum 0; the newest always stays).
	runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now.Add(13*time.Hour)))
	rep = runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, pr.hook(engineOptions(now.Add(30*24*time.Hour))))
	planned := 0
	for _, r := range rep.Regions[0].Clean {
		if r.Status != "" {
			planned++
		}
	}
	if planned == 0 || pr.planned["us-east-1"] != planned || pr.done["us-east-1"] != planned {
		t.Errorf("clean: planned %v done %v, want %d each", pr.planned, pr.done, planned)
	}
}
