package handler

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
)

// Modelled latencies of the hub's own calls, in virtual time: the
// simulator serves EC2 only.
const (
	assumeRoleLatency = 150 * time.Millisecond
	leaseLatency      = 10 * time.Millisecond
)

// countingLeases counts the lease writes (Acquire and Release are each one
// conditional DynamoDB write) and adds their latency.
type countingLeases struct {
	lease.Memory
	writes atomic.Int64
}

func (c *countingLeases) Acquire(ctx context.Context, l lease.Lease, from string, now time.Time) error {
	c.writes.Add(1)
	time.Sleep(leaseLatency)
	return c.Memory.Acquire(ctx, l, from, now)
}

func (c *countingLeases) Release(ctx context.Context, key, holder string) error {
	c.writes.Add(1)
	time.Sleep(leaseLatency)
	return c.Memory.Release(ctx, key, holder)
}

// BenchmarkOrgCells runs cells of an organisation-wide snapshot run: each
// cell one account × one region with 100 volumes (50 instances × 2), none
// snapshotted yet, served by its own EC2 simulator (its own buckets, 100 ms
// a call), worked on by the snapshot worker through the spoke path (one
// modelled AssumeRole per invocation), at most `concurrency` cells at once
// (the queue's maximum concurrency), on the virtual clock of a
// testing/synctest bubble. EBS_SNAPPER_BENCH_CELLS (default 200) and
// EBS_SNAPPER_BENCH_CONCURRENCY (default 50) size it. Reported: the
// virtual time of all cells and of the slowest cell, the waves bound
// (ceil(cells / concurrency) × slowest cell), invocations, AssumeRole
// calls, lease writes and messages published per cell, and the snapshots
// made (every volume once). docs/performance.md extrapolates the
// 17,000-cell organisation from it.
func BenchmarkOrgCells(b *testing.B) {
	cells := envInt(b, "EBS_SNAPPER_BENCH_CELLS", 200)
	concurrency := envInt(b, "EBS_SNAPPER_BENCH_CONCURRENCY", 50)
	const (
		instances = 50
		deadline  = 15 * time.Minute
		region    = "us-east-1"
	)
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDEC2SIM")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "ec2sim")
	cfg, err := awsclient.Load(context.Background(), region, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		sims := make(map[string]*ec2sim.Sim, cells)
		var accts []string
		for c := range cells {
			acct := fmt.Sprintf("%012d", 200000000000+c)
			accts = append(accts, acct)
			sim := ec2sim.New(ec2sim.Options{Regions: []string{region}, Buckets: true, Latency: 100 * time.Millisecond, Now: time.Now})
			f := sim.Region(region)
			for i := range instances {
				inst := inventory.Instance{ID: fmt.Sprintf("i-%017x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
				for v := range 2 {
					vol := fmt.Sprintf("vol-%016x%d", i, v)
					inst.VolumeIDs = append(inst.VolumeIDs, vol)
					f.AddVolume(inventory.Volume{ID: vol})
				}
				f.AddInstance(inst)
			}
			sims[acct] = sim
		}
		store := &configstore.Memory{}
		if err := store.Put(context.Background(), configstore.Item{AccountID: account.Organization, ID: "daily", Configuration: dailyStanza}); err != nil {
			b.Fatal(err)
		}
		var assumed atomic.Int64
		spoke := func(_ context.Context, acct, _, _ string) (account.Sources, error) {
			assumed.Add(1)
			time.Sleep(assumeRoleLatency)
			sim := sims[acct]
			return account.Sources{
				Store:    store,
				Identify: func(context.Context) (string, error) { return acct, nil },
				Regions:  func(context.Context) ([]string, error) { return []string{region}, nil },
				EC2:      func(r string) snapper.EC2 { return ebs.NewForRegion(sim.InProcess(cfg), r, ebs.Options{}) },
			}, nil
		}
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.DiscardHandler))
		b.StartTimer()

		var (
			total, slowest time.Duration
			invocations    atomic.Int64
			published      atomic.Int64
			leases         = &countingLeases{}
		)
		wall := time.Now()
		inBubbleRun(b, func(t *testing.T) {
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: Snapshot, Account: "111111111111", Sources: account.Sources{Store: store}, Spoke: spoke,
				QueueURL: queueURL, SQS: pub, Leases: leases, MaxHops: DefaultMaxHops})
			start := time.Now()
			sem := make(chan struct{}, concurrency)
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, acct := range accts {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					cellStart := time.Now()
					msg := cellMessageIn(region, acct)
					for hop := 0; msg != ""; hop++ {
						invocations.Add(1)
						if err := h.Invoke(invokeCtx(t, fmt.Sprintf("req-%s-%d", acct, hop), deadline), sqsEvent(t, msg)); err != nil {
							t.Errorf("cell %s hop %d: %v", acct, hop, err)
							return
						}
						msg = ""
						for _, m := range pub.takeFor(acct) {
							published.Add(1)
							msg = m
						}
					}
					d := time.Since(cellStart)
					mu.Lock()
					slowest = max(slowest, d)
					mu.Unlock()
				})
			}
			wg.Wait()
			total = time.Since(start)
		})
		slog.SetDefault(prev)
		b.ReportMetric(time.Since(wall).Seconds(), "wall-s")

		made, missing := 0, 0
		for _, sim := range sims {
			perVolume := map[string]bool{}
			for _, s := range sim.Region(region).Snapshots() {
				perVolume[s.VolumeID] = true
				made++
			}
			missing += 2*instances - len(perVolume)
		}
		waves := (cells + concurrency - 1) / concurrency
		b.ReportMetric(total.Seconds(), "virtual-s")
		b.ReportMetric(slowest.Seconds(), "slowest-cell-s")
		b.ReportMetric((time.Duration(waves) * slowest).Seconds(), "waves-bound-s")
		b.ReportMetric(float64(invocations.Load())/float64(cells), "invocations/cell")
		b.ReportMetric(float64(assumed.Load())/float64(cells), "assumerole/cell")
		b.ReportMetric(float64(leases.writes.Load())/float64(cells), "lease-writes/cell")
		b.ReportMetric(float64(published.Load())/float64(cells), "continuations/cell")
		b.ReportMetric(float64(made), "snapshots")
		b.Logf("%d cells at concurrency %d: %s virtual, slowest cell %s, %d waves; %d invocations, %d AssumeRole, %d lease writes, %d continuations; %d snapshots, %d volumes missing one",
			cells, concurrency, total.Round(time.Millisecond), slowest.Round(time.Millisecond), waves, invocations.Load(), assumed.Load(),
			leases.writes.Load(), published.Load(), made, missing)
		if missing != 0 || made != cells*2*instances {
			b.Errorf("want every volume of every cell snapshotted once: %d made, %d missing", made, missing)
		}
	}
}

// takeFor removes and returns the messages published for acct's cells.
func (r *recordingSQS) takeFor(acct string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []string
	for _, m := range r.messages {
		if strings.Contains(m, `"account":"`+acct+`"`) {
			out = append(out, m)
		} else {
			rest = append(rest, m)
		}
	}
	r.messages = rest
	return out
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a whole number, 1 or more", name, v)
	}
	return n
}
