package handler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
)

// chainRegion is the simulated region of BenchmarkChain10k.
const chainRegion = "us-east-1"

// countingEC2 counts the CreateSnapshot calls made through it.
type countingEC2 struct {
	snapper.EC2
	creates *atomic.Int64
}

func (c countingEC2) CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error) {
	c.creates.Add(1)
	return c.EC2.CreateSnapshot(ctx, volumeID, description, tags)
}

// countingLog is a slog handler that counts records by message and keeps
// the attributes of those whose message is in keep, discarding the rest: a
// 10,000-action chain's log is not worth holding.
type countingLog struct {
	mu    sync.Mutex
	keep  []string
	count map[string]int
	kept  map[string][]map[string]any
}

func (l *countingLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *countingLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *countingLog) WithGroup(string) slog.Handler            { return l }
func (l *countingLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count[r.Message]++
	if slices.Contains(l.keep, r.Message) {
		attrs := map[string]any{"time": r.Time.Format(time.TimeOnly)}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.Any(); return true })
		l.kept[r.Message] = append(l.kept[r.Message], attrs)
	}
	return nil
}

// BenchmarkChain10k finishes a 10,000-volume region (5,000 instances × 2
// volumes, none snapshotted yet) through continuations: the snapshot worker
// over the EC2 simulator with EC2's buckets and 100 ms a call, on the
// virtual clock of a testing/synctest bubble, each invocation with Lambda's
// 15-minute deadline and the default 60 s margin. Each continuation the
// worker publishes is fed back to it, as SNS would deliver it, until the
// chain ends. Five minutes into the second hop a scheduled fan-out message
// for the region (a new chain) arrives; it must find the lease held and do
// nothing. Reported: invocations, the virtual time of the chain beside the
// bucket bound ((volumes − 100 burst) / 5 a second), created snapshots,
// volumes with more than one (duplicates), the share of attempts
// throttled, and the fan-out's CreateSnapshot calls and busy lines.
func BenchmarkChain10k(b *testing.B) {
	const (
		instances = 5_000
		volumes   = 2 * instances
		deadline  = 15 * time.Minute
		fanoutAt  = 5 * time.Minute
	)
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDEC2SIM")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "ec2sim")
	cfg, err := awsclient.Load(context.Background(), chainRegion, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		sim := ec2sim.New(ec2sim.Options{Regions: []string{chainRegion}, Buckets: true, Latency: 100 * time.Millisecond, Now: time.Now})
		f := sim.Region(chainRegion)
		for i := range instances {
			inst := inventory.Instance{ID: fmt.Sprintf("i-%017x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
			for v := range 2 {
				vol := fmt.Sprintf("vol-%016x%d", i, v)
				inst.VolumeIDs = append(inst.VolumeIDs, vol)
				f.AddVolume(inventory.Volume{ID: vol})
			}
			f.AddInstance(inst)
		}
		store := &configstore.Memory{}
		if err := store.Put(context.Background(), configstore.Item{AccountID: ec2fake.AccountID, ID: "daily", Configuration: dailyStanza}); err != nil {
			b.Fatal(err)
		}
		sources := func(creates *atomic.Int64) account.Sources {
			return account.Sources{
				Store:    store,
				Identify: func(context.Context) (string, error) { return ec2fake.AccountID, nil },
				Regions:  func(context.Context) ([]string, error) { return []string{chainRegion}, nil },
				EC2: func(region string) snapper.EC2 {
					return countingEC2{ebs.NewForRegion(sim.InProcess(cfg), region, ebs.Options{}), creates}
				},
			}
		}
		const busy, finished = "region busy: another worker holds its lease and does the work", "run finished"
		logs := &countingLog{keep: []string{busy, finished}, count: map[string]int{}, kept: map[string][]map[string]any{}}
		prev := slog.Default()
		slog.SetDefault(slog.New(logs))
		b.StartTimer()

		var (
			hops                        int
			virtual                     time.Duration
			chainCreates, fanoutCreates atomic.Int64
			fanoutPublished             int
		)
		wall := time.Now()
		inBubbleRun(b, func(t *testing.T) {
			leases := &lease.Memory{}
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: Snapshot, Sources: sources(&chainCreates), QueueURL: queueURL, SQS: pub,
				Leases: leases, MaxHops: DefaultMaxHops})
			fanoutSNS := &recordingSQS{}
			fanout := newHandler(t, Config{Name: Snapshot, Sources: sources(&fanoutCreates), QueueURL: queueURL, SQS: fanoutSNS,
				Leases: leases, MaxHops: DefaultMaxHops})
			var wg sync.WaitGroup
			start := time.Now()
			msg := Message(chainRegion)
			for ; msg != ""; hops++ {
				if hops > DefaultMaxHops {
					t.Fatal("the chain does not end")
				}
				if hops == 1 {
					wg.Go(func() {
						time.Sleep(fanoutAt)
						if err := fanout.Invoke(invokeCtx(t, "req-scheduled", deadline), snsEvent(t, Message(chainRegion))); err != nil {
							t.Errorf("scheduled fan-out during the chain: %v", err)
						}
						fanoutPublished = len(fanoutSNS.take())
					})
				}
				if err := h.Invoke(invokeCtx(t, fmt.Sprintf("req-hop-%d", hops), deadline), snsEvent(t, msg)); err != nil {
					t.Fatalf("hop %d: %v", hops, err)
				}
				published := pub.take()
				if len(published) > 1 {
					t.Fatalf("hop %d published %d messages", hops, len(published))
				}
				msg = ""
				if len(published) == 1 {
					msg = published[0]
				}
			}
			virtual = time.Since(start)
			wg.Wait()
		})
		b.ReportMetric(time.Since(wall).Seconds(), "wall-s")
		slog.SetDefault(prev)

		perVolume := map[string]int{}
		for _, s := range f.Snapshots() {
			perVolume[s.VolumeID]++
		}
		duplicates, missing := 0, volumes-len(perVolume)
		for _, n := range perVolume {
			if n > 1 {
				duplicates++
			}
		}
		total, throttled := 0, 0
		for _, c := range sim.Counts() {
			total += c.Calls
			throttled += c.Throttled
		}
		bound := time.Duration(float64(volumes-ebs.DefaultBurst) / ebs.DefaultRate * float64(time.Second))
		b.ReportMetric(float64(hops), "invocations")
		b.ReportMetric(virtual.Seconds(), "virtual-s")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(virtual.Seconds()/bound.Seconds(), "x-bound")
		b.ReportMetric(float64(chainCreates.Load()), "created")
		b.ReportMetric(float64(duplicates), "duplicates")
		b.ReportMetric(float64(missing), "missing")
		b.ReportMetric(100*float64(throttled)/float64(total), "throttled-%")
		b.ReportMetric(float64(fanoutCreates.Load()), "fanout-creates")
		b.ReportMetric(float64(len(logs.kept[busy])), "fanout-busy")
		b.Logf("%d volumes in %d invocations, %s virtual (bound %s); %d created, %d duplicates, %d missing; calls %v",
			volumes, hops, virtual.Round(time.Second), bound.Round(time.Second), chainCreates.Load(), duplicates, missing, sim.Counts())
		b.Logf("scheduled fan-out %s into hop 1 (the second invocation): %d CreateSnapshot calls, %d published, busy lines %v; chain ends logged %d",
			fanoutAt, fanoutCreates.Load(), fanoutPublished, logs.kept[busy], logs.count["chain finished"])
		for i, run := range logs.kept[finished] {
			if i < hops {
				b.Logf("hop %d: run finished at %s (virtual), %v created, %v not started", i, run["time"], run["created"], run["not_started"])
			}
		}
		if duplicates != 0 || missing != 0 || fanoutCreates.Load() != 0 || len(logs.kept[busy]) != 1 || fanoutPublished != 0 {
			b.Errorf("want every volume snapshotted once and the fan-out turned away without a call")
		}
	}
}

// inBubbleRun runs f in a testing/synctest bubble, as a one-test run of
// the testing package's runner (a benchmark has no *testing.T; see
// internal/snapper's inBubble).
func inBubbleRun(b *testing.B, f func(t *testing.T)) {
	b.Helper()
	all := func(string, string) (bool, error) { return true, nil }
	if !testing.RunTests(all, []testing.InternalTest{{Name: b.Name(), F: func(t *testing.T) { synctest.Test(t, f) }}}) {
		b.Fatal("the run in the virtual-time bubble failed (see its log above)")
	}
}
