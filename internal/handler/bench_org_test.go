package handler

import (
	"context"
	"encoding/json"
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

// benchRegions are the 17 regions an account has enabled by default.
var benchRegions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2"}

// countingStore counts the stanza queries (List: one DynamoDB Query each).
type countingStore struct {
	*configstore.Memory
	lists atomic.Int64
}

func (c *countingStore) List(ctx context.Context, acct string) ([]configstore.Item, error) {
	c.lists.Add(1)
	return c.Memory.List(ctx, acct)
}

// BenchmarkOrgCells runs an organisation-wide snapshot run, the fan-out
// included: EBS_SNAPPER_BENCH_ACCOUNTS accounts (default 12; the hub is
// one of them) × EBS_SNAPPER_BENCH_REGIONS regions (default 17, at most
// 17), each cell 100 volumes (50 instances × 2) tagged for an
// organisation-wide daily stanza, none snapshotted yet, served by its own
// EC2 simulator (its own buckets, 100 ms a call). The snapshot fan-out
// (Handler.Invoke on a scheduled event, Config.Accounts listing the other
// accounts) sends the cells to a recording queue; each message is then
// fed to the snapshot worker as an SQS event of one record, at most
// EBS_SNAPPER_BENCH_CONCURRENCY (default 50) at once (the event source
// mapping's maximum concurrency), on the virtual clock of a
// testing/synctest bubble. A cell's simulator is built when its message is
// taken and dropped once its snapshots are counted, so memory follows the
// concurrency, not the organisation. The other accounts are reached
// through the spoke path (a modelled 150 ms AssumeRole per invocation);
// the hub's own cells use its own credentials. Every hub call reported is
// counted at its seam: SendMessageBatch calls and messages, AssumeRole,
// lease writes, stanza queries.
func BenchmarkOrgCells(b *testing.B) {
	accounts := envInt(b, "EBS_SNAPPER_BENCH_ACCOUNTS", 12)
	nRegions := envInt(b, "EBS_SNAPPER_BENCH_REGIONS", len(benchRegions))
	concurrency := envInt(b, "EBS_SNAPPER_BENCH_CONCURRENCY", 50)
	if nRegions > len(benchRegions) {
		b.Fatalf("EBS_SNAPPER_BENCH_REGIONS=%d: at most %d", nRegions, len(benchRegions))
	}
	regions := benchRegions[:nRegions]
	const (
		instances = 50
		deadline  = 15 * time.Minute
		hubID     = "111111111111"
		unit      = "ou-ab12-cdef3456"
	)
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDEC2SIM")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "ec2sim")
	cfg, err := awsclient.Load(context.Background(), regions[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	// newSim is one cell's simulator: region with 100 tagged volumes.
	newSim := func(names ...string) *ec2sim.Sim {
		sim := ec2sim.New(ec2sim.Options{Regions: names, Buckets: true, Latency: 100 * time.Millisecond, Now: time.Now})
		for _, r := range names {
			f := sim.Region(r)
			for i := range instances {
				inst := inventory.Instance{ID: fmt.Sprintf("i-%017x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
				for v := range 2 {
					vol := fmt.Sprintf("vol-%016x%d", i, v)
					inst.VolumeIDs = append(inst.VolumeIDs, vol)
					f.AddVolume(inventory.Volume{ID: vol})
				}
				f.AddInstance(inst)
			}
		}
		return sim
	}
	// counted is how many volumes of r in sim have a snapshot, and how
	// many snapshots it holds.
	counted := func(sim *ec2sim.Sim, r string) (covered, made int) {
		perVolume := map[string]bool{}
		for _, s := range sim.Region(r).Snapshots() {
			perVolume[s.VolumeID] = true
			made++
		}
		return len(perVolume), made
	}
	for b.Loop() {
		b.StopTimer()
		var others []account.OrgAccount
		for c := range accounts - 1 {
			others = append(others, account.OrgAccount{ID: fmt.Sprintf("%012d", 200000000000+c), Status: "ACTIVE", OUs: []string{unit}})
		}
		store := &countingStore{Memory: &configstore.Memory{}}
		if err := store.Put(context.Background(), configstore.Item{AccountID: account.Organization, ID: "daily", Configuration: dailyStanza}); err != nil {
			b.Fatal(err)
		}
		hubSim := newSim(regions...)
		ec2For := func(sim *ec2sim.Sim) func(string) snapper.EC2 {
			return func(r string) snapper.EC2 { return ebs.NewForRegion(sim.InProcess(cfg), r, ebs.Options{}) }
		}
		hub := account.Sources{
			Store:    store,
			Identify: func(context.Context) (string, error) { return hubID, nil },
			Regions:  func(context.Context) ([]string, error) { return regions, nil },
			EC2:      ec2For(hubSim),
		}
		// The spokes' cells: built when a worker takes the message.
		var cellSims sync.Map // "account/region" -> *ec2sim.Sim
		empty := ec2sim.New(ec2sim.Options{Regions: regions, Buckets: true, Latency: 100 * time.Millisecond, Now: time.Now})
		var assumed atomic.Int64
		spoke := func(_ context.Context, acct, _, _ string) (account.Sources, error) {
			assumed.Add(1)
			time.Sleep(assumeRoleLatency)
			return account.Sources{
				Store:    store,
				Identify: func(context.Context) (string, error) { return acct, nil },
				Regions:  func(context.Context) ([]string, error) { return regions, nil },
				EC2: func(r string) snapper.EC2 {
					sim := empty
					if s, ok := cellSims.Load(acct + "/" + r); ok {
						sim = s.(*ec2sim.Sim)
					}
					return ebs.NewForRegion(sim.InProcess(cfg), r, ebs.Options{})
				},
			}, nil
		}
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.DiscardHandler))
		b.StartTimer()

		var (
			fanout, total, slowest time.Duration
			invocations            atomic.Int64
			published              atomic.Int64
			made, missing          atomic.Int64
			queries                int64
			fanQ                   = &recordingSQS{}
			leases                 = &countingLeases{}
		)
		wall := time.Now()
		inBubbleRun(b, func(t *testing.T) {
			start := time.Now()
			f := newHandler(t, Config{Name: FanoutSnapshot, Account: hubID, Sources: hub, QueueURL: queueURL, SQS: fanQ,
				ReplicationRule: "replication-rule", Events: &fakeRule{},
				Accounts: func(context.Context) ([]account.OrgAccount, error) { return others, nil }})
			if err := f.Invoke(invokeCtx(t, "req-fanout", deadline), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
				t.Fatalf("fan-out: %v", err)
			}
			fanout = time.Since(start)
			queries = store.lists.Load()
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: Snapshot, Account: hubID, Sources: hub, Spoke: spoke,
				QueueURL: queueURL, SQS: pub, Leases: leases, MaxHops: DefaultMaxHops})
			sem := make(chan struct{}, concurrency)
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, body := range fanQ.messages {
				var cell regionMessage
				if err := json.Unmarshal([]byte(body), &cell); err != nil {
					t.Fatal(err)
				}
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					sim := hubSim
					if cell.Account != hubID {
						sim = newSim(cell.Region)
						cellSims.Store(cell.Account+"/"+cell.Region, sim)
						defer cellSims.Delete(cell.Account + "/" + cell.Region)
					}
					cellStart := time.Now()
					msg := body
					for hop := 0; msg != ""; hop++ {
						invocations.Add(1)
						if err := h.Invoke(invokeCtx(t, fmt.Sprintf("req-%s-%s-%d", cell.Account, cell.Region, hop), deadline), sqsEvent(t, msg)); err != nil {
							t.Errorf("cell %s %s hop %d: %v", cell.Account, cell.Region, hop, err)
							return
						}
						msg = ""
						for _, m := range pub.takeFor(cell.Account, cell.Region) {
							published.Add(1)
							msg = m
						}
					}
					d := time.Since(cellStart)
					covered, n := counted(sim, cell.Region)
					made.Add(int64(n))
					missing.Add(int64(2*instances - covered))
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

		cells := len(fanQ.messages)
		perCell := func(n int64) float64 { return float64(n) / float64(cells) }
		waves := (cells + concurrency - 1) / concurrency
		b.ReportMetric(float64(cells), "cells")
		b.ReportMetric(total.Seconds(), "virtual-s")
		b.ReportMetric(slowest.Seconds(), "slowest-cell-s")
		b.ReportMetric((fanout + time.Duration(waves)*slowest).Seconds(), "waves-bound-s")
		b.ReportMetric(float64(fanQ.calls), "fanout-sendbatch")
		b.ReportMetric(perCell(invocations.Load()), "invocations/cell")
		b.ReportMetric(perCell(assumed.Load()), "assumerole/cell")
		b.ReportMetric(perCell(leases.writes.Load()), "lease-writes/cell")
		b.ReportMetric(perCell(store.lists.Load()-queries), "stanza-queries/cell")
		b.ReportMetric(perCell(published.Load()), "continuations/cell")
		b.ReportMetric(float64(made.Load()), "snapshots")
		b.Logf("%d accounts × %d regions = %d cells at concurrency %d: fan-out %s (%d SendMessageBatch, %d stanza queries), all %s virtual, slowest cell %s, %d waves; %d invocations, %d AssumeRole, %d lease writes, %d stanza queries, %d continuations; %d snapshots, %d volumes missing one",
			accounts, nRegions, cells, concurrency, fanout.Round(time.Millisecond), fanQ.calls, queries, total.Round(time.Millisecond),
			slowest.Round(time.Millisecond), waves, invocations.Load(), assumed.Load(), leases.writes.Load(), store.lists.Load()-queries,
			published.Load(), made.Load(), missing.Load())
		if cells != accounts*nRegions || missing.Load() != 0 || made.Load() != int64(cells*2*instances) {
			b.Errorf("want %d cells and every volume of every cell snapshotted once: %d cells, %d made, %d missing",
				accounts*nRegions, cells, made.Load(), missing.Load())
		}
	}
}

// takeFor removes and returns the messages published for acct's cell in
// region.
func (r *recordingSQS) takeFor(acct, region string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []string
	for _, m := range r.messages {
		if strings.Contains(m, `"account":"`+acct+`"`) && strings.Contains(m, `"region":"`+region+`"`) {
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
