package schedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// simulate runs the snapshot job at each of runs (its start time): when the
// volume is due, a snapshot is stamped latency(i) after the start. It
// returns the stamps.
func simulate(t *testing.T, frequency string, runs []time.Time, latency func(i int) time.Duration) []time.Time {
	t.Helper()
	f, err := config.ParseFrequency(frequency)
	if err != nil {
		t.Fatal(err)
	}
	var taken []time.Time
	for i, now := range runs {
		var last time.Time
		if len(taken) > 0 {
			last = taken[len(taken)-1]
		}
		if Due(f, last, len(taken) > 0, now).Due {
			taken = append(taken, now.Add(latency(i)))
		}
	}
	return taken
}

var simStart = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)

// Issue 10, item 5: a daily schedule run once a day at the same clock time
// must take a snapshot every day, whatever the run's own latency (1-30 s
// here) and the scheduler's jitter (up to a minute either way).
func TestDailyRunsNeverSkipADay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, frequency := range []string{"1 day", "24 hours", "0 6 * * *", "0 6 * * ? *"} {
		t.Run(frequency, func(t *testing.T) {
			var runs []time.Time
			for day := range 60 {
				jitter := time.Duration(rng.IntN(121)-60) * time.Second
				runs = append(runs, simStart.AddDate(0, 0, day).Add(jitter))
			}
			taken := simulate(t, frequency, runs, func(int) time.Duration {
				return time.Duration(1+rng.IntN(30)) * time.Second
			})
			if len(taken) != len(runs) {
				t.Errorf("%d snapshots in %d daily runs, want one per run", len(taken), len(runs))
			}
		})
	}
}

// Runs every 30 minutes with jitter never take two snapshots in one
// period: a duration keeps snapshots at least frequency - slack apart, a
// cron takes one per fire.
func TestFrequentRunsNeverTakeTwoPerPeriod(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var runs []time.Time
	for i := range 30 * 48 { // 30 days
		jitter := time.Duration(rng.IntN(181)-90) * time.Second
		runs = append(runs, simStart.Add(time.Duration(i)*30*time.Minute+jitter))
	}
	latency := func(int) time.Duration { return time.Duration(1+rng.IntN(120)) * time.Second }

	for _, every := range []time.Duration{time.Hour, 2 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		frequency := fmt.Sprintf("%d minutes", int(every.Minutes()))
		t.Run(frequency, func(t *testing.T) {
			taken := simulate(t, frequency, runs, latency)
			floor := every - Slack(every)
			for i := 1; i < len(taken); i++ {
				if gap := taken[i].Sub(taken[i-1]); gap < floor {
					t.Fatalf("snapshots %s and %s are %s apart, less than %s - slack", taken[i-1], taken[i], gap, every)
				}
			}
			// And the slack is used: no period is stretched by a whole run
			// interval plus the jitter, except by the latency.
			for i := 1; i < len(taken); i++ {
				if gap := taken[i].Sub(taken[i-1]); gap > every+30*time.Minute+5*time.Minute {
					t.Errorf("snapshots %s and %s are %s apart: a run was skipped", taken[i-1], taken[i], gap)
				}
			}
		})
	}

	// For cron, each fire's window [fire - slack, next fire - slack) holds
	// exactly one snapshot once the first is taken.
	for _, frequency := range []string{"0 5 * * *", "0 */6 * * *", "0 5 ? * MON-FRI *", "15 1,13 * * *"} {
		t.Run(frequency, func(t *testing.T) {
			f, err := config.ParseFrequency(frequency)
			if err != nil {
				t.Fatal(err)
			}
			taken := simulate(t, frequency, runs, latency)
			windows := map[time.Time]int{}
			for _, s := range taken[1:] {
				windows[fireOf(t, f, s)]++
			}
			for fire, n := range windows {
				if n > 1 {
					t.Errorf("%d snapshots for the fire at %s", n, fire)
				}
			}
			fires := 0
			for fire, ok := f.Next(taken[0]); ok && fire.Before(runs[len(runs)-1].Add(-time.Hour)); fire, ok = f.Next(fire) {
				fires++
			}
			if len(taken)-1 < fires-1 {
				t.Errorf("%d snapshots after the first for %d fires: fires were skipped", len(taken)-1, fires)
			}
		})
	}
}

// fireOf is the fire whose window holds s: the first fire at or after s
// minus a minute, widened by at most MaxSlack (independent of Due).
func fireOf(t *testing.T, f config.Frequency, s time.Time) time.Time {
	t.Helper()
	fire, ok := f.Next(s.Add(-time.Minute))
	if !ok {
		t.Fatalf("no fire after %s", s)
	}
	next, _ := f.Next(fire)
	if fire.Sub(s) > Slack(next.Sub(fire)) {
		// s lies after the previous fire: it serves that one (a late run).
		prev := s
		for p, ok := f.Next(s.Add(-48 * time.Hour)); ok && !p.After(s); p, ok = f.Next(p) {
			prev = p
		}
		return prev
	}
	return fire
}
