package snapper

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
)

// Fleet-scale benchmarks over the EC2 simulator (package ec2sim), on the
// virtual clock of a testing/synctest bubble: the product's own client
// (ebs.NewForRegion with its per-bucket pacing, awsclient's standard
// retryer without a retry quota) runs unchanged against EC2's request
// buckets, and a run of half an hour of virtual time costs the CPU time of
// its calls. Figures go to docs/performance.md.

// simRegion is the one region the simulated fleets live in.
const simRegion = "us-east-1"

// simLatency is the round trip the simulator adds to each call: EC2's are
// of this order, and it keeps the sequential Describe pages (10 a second)
// under their bucket's 20 a second, as in a real run.
const simLatency = 100 * time.Millisecond

// bubbleEpoch is where a synctest bubble's clock starts.
var bubbleEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// inBubble runs f in a testing/synctest bubble, whose clock advances only
// while every goroutine in it waits. synctest.Test takes a *testing.T,
// which a benchmark does not have, so the bubble runs as a one-test run of
// the testing package's own runner (testing.RunTests), whatever -run says.
func inBubble(b *testing.B, f func(t *testing.T)) {
	b.Helper()
	all := func(string, string) (bool, error) { return true, nil }
	if !testing.RunTests(all, []testing.InternalTest{{Name: b.Name(), F: func(t *testing.T) { synctest.Test(t, f) }}}) {
		b.Fatal("the run in the virtual-time bubble failed (see its log above)")
	}
}

// seedFleet seeds instances × 2 volumes tagged backup=yes, each volume
// with one snapshot of each age at now, tagged DeleteOn 4 days after it
// was taken, and returns the number of snapshots.
func seedFleet(f *ec2fake.Fake, instances int, now time.Time, ages ...time.Duration) int {
	return seedFleetOf(f, instances, 2, now, ages...)
}

// seedFleetOf is seedFleet with perInstance (at most 10) volumes an
// instance.
func seedFleetOf(f *ec2fake.Fake, instances, perInstance int, now time.Time, ages ...time.Duration) int {
	n := 0
	for i := range instances {
		inst := inventory.Instance{ID: fmt.Sprintf("i-%017x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
		for v := range perInstance {
			vol := fmt.Sprintf("vol-%016x%d", i, v)
			inst.VolumeIDs = append(inst.VolumeIDs, vol)
			f.AddVolume(inventory.Volume{ID: vol, Tags: []inventory.Tag{{Key: "Name", Value: vol}}})
			for _, age := range ages {
				start := now.Add(-age)
				f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%016x", n), VolumeID: vol, StartTime: start,
					Tags: []inventory.Tag{{Key: "DeleteOn", Value: start.Add(96 * time.Hour).Format(time.DateOnly)}}}, "")
				n++
			}
		}
		f.AddInstance(inst)
	}
	return n
}

// simCase is one benchmarked run.
type simCase struct {
	job     useCase
	volumes int
	// drained empties the job's EC2 bucket before the run, as another
	// tool of the account spending it would.
	drained bool
	// multi turns multi_volume on, with 4 volumes an instance instead of
	// 2: one CreateSnapshots call per instance.
	multi bool
}

// perInstance is the number of volumes an instance.
func (c simCase) perInstance() int {
	if c.multi {
		return 4
	}
	return 2
}

func (c simCase) action() string {
	switch {
	case c.job == useSnapshot && c.multi:
		return "CreateSnapshots"
	case c.job == useSnapshot:
		return "CreateSnapshot"
	}
	return "DeleteSnapshot"
}

// actions is the number of calls of action() the run needs: one per
// volume, or one per instance for multi-volume sets.
func (c simCase) actions() int {
	if c.action() == "CreateSnapshots" {
		return c.volumes / c.perInstance()
	}
	return c.volumes
}

// bound is the fewest calls the run can make, by action: each listing's
// pages at EC2's largest page size and one call per action.
func (c simCase) bound(snapshots int) map[string]int {
	pages := func(n, size int) int { return (n + size - 1) / size }
	b := map[string]int{
		"DescribeInstances": pages(c.volumes/c.perInstance(), 1000),
		"DescribeSnapshots": pages(snapshots, 1000),
		c.action():          c.actions(),
	}
	if c.job == useSnapshot {
		b["DescribeVolumes"] = pages(c.volumes, 500)
	} else {
		b["DescribeImages"] = 1
	}
	return b
}

// simConfig is the product's SDK configuration (awsclient.Load), for
// clients of the simulator (Sim.InProcess signs with its credentials).
func simConfig(b *testing.B) aws.Config {
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDEC2SIM")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "ec2sim")
	cfg, err := awsclient.Load(context.Background(), simRegion, nil)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func runSimCase(b *testing.B, c simCase) {
	cfg := simConfig(b)
	for b.Loop() {
		b.StopTimer()
		sim := ec2sim.New(ec2sim.Options{Regions: []string{simRegion}, Buckets: true, Latency: simLatency, Now: time.Now})
		// Every volume is due a snapshot (the newest is 13 hours old) and
		// has one expired snapshot above the minimum of 1 (5 days old).
		snapshots := seedFleetOf(sim.Region(simRegion), c.volumes/c.perInstance(), c.perInstance(), bubbleEpoch, 13*time.Hour, 48*time.Hour, 120*time.Hour)
		b.StartTimer()

		var virtual time.Duration
		var sum Summary
		wall := time.Now()
		inBubble(b, func(t *testing.T) {
			if c.drained {
				sim.Drain(simRegion, c.action())
			}
			region := []EC2{ebs.NewForRegion(sim.InProcess(cfg), simRegion, ebs.Options{})}
			start := time.Now()
			policy := benchStanza(b, 1)
			if c.multi {
				s := policy.Stanzas["tagged_instances"]
				s.MultiVolume = true
				policy = NewPolicy([]config.Stanza{s}, 0)
			}
			rep := runUseCase(context.Background(), c.job, region, policy, Options{Version: "bench", Now: start})
			virtual = time.Since(start)
			if rep.Regions[0].Error != "" {
				t.Fatalf("region failed: %s", rep.Regions[0].Error)
			}
			sum = rep.Regions[0].Summary
		})
		b.ReportMetric(time.Since(wall).Seconds(), "wall-s")

		counts := sim.Counts()
		total, throttled := 0, 0
		for action, want := range c.bound(snapshots) {
			b.ReportMetric(float64(counts[action].Calls), action+"-calls")
			b.ReportMetric(float64(want), action+"-bound")
			total += counts[action].Calls
		}
		for _, n := range counts {
			throttled += n.Throttled
		}
		done := sum.Created + sum.Deleted
		// EC2's bucket allows its burst at once (none when drained), then
		// its refill rate.
		burst := ebs.DefaultBurst
		if c.drained {
			burst = 0
		}
		boundTime := time.Duration(float64(c.actions()-burst) / ebs.DefaultRate * float64(time.Second))
		b.ReportMetric(virtual.Seconds(), "virtual-s")
		b.ReportMetric(boundTime.Seconds(), "bound-s")
		b.ReportMetric(virtual.Seconds()/boundTime.Seconds(), "x-bound")
		b.ReportMetric(100*float64(throttled)/float64(total), "throttled-%")
		b.ReportMetric(float64(done), "done")
		b.ReportMetric(float64(sum.Failed), "failed")
		b.ReportMetric(float64(done)/virtual.Seconds(), "volumes/s")
		b.Logf("%s: %d done, %d failed in %s virtual (bound %s); calls %v", c.action(), done, sum.Failed,
			virtual.Round(time.Second), boundTime.Round(time.Second), counts)
	}
}

// BenchmarkSimFleet snapshots and cleans 10,000- and 50,000-volume regions
// (2 volumes an instance, 3 snapshots a volume) over the simulator, EC2's
// buckets full at the start. It reports the calls by action beside their
// lower bound, the virtual time beside the buckets' bound ((volumes − 100
// burst) / 5 a second), the share of attempts throttled, volumes done a
// second of virtual time, and the wall time. snapshot-multi is the
// 10,000-volume snapshot as 2,500 instances × 4 volumes with multi_volume
// on: one CreateSnapshots an instance, on that action's own bucket, so its
// bound is (2,500 − 100) / 5 a second.
func BenchmarkSimFleet(b *testing.B) {
	for _, volumes := range []int{10_000, 50_000} {
		for _, job := range []useCase{useSnapshot, useClean} {
			b.Run(fmt.Sprintf("%s/volumes=%d", job, volumes), func(b *testing.B) {
				runSimCase(b, simCase{job: job, volumes: volumes})
			})
		}
	}
	b.Run("snapshot-multi/volumes=10000", func(b *testing.B) {
		runSimCase(b, simCase{job: useSnapshot, volumes: 10_000, multi: true})
	})
}

// BenchmarkSimDrainedBucket is BenchmarkSimFleet at 10,000 volumes with
// the job's bucket emptied just before the run, as by another tool of the
// account: the client's own bucket is full, EC2's is not, and the SDK's
// retries must absorb the difference.
func BenchmarkSimDrainedBucket(b *testing.B) {
	for _, job := range []useCase{useSnapshot, useClean} {
		b.Run(job.String(), func(b *testing.B) {
			runSimCase(b, simCase{job: job, volumes: 10_000, drained: true})
		})
	}
}

// BenchmarkPlanner plans snapshot and clean (the plan job: the inventory
// listings and both planners, no mutating call) for 20,000 volumes with
// 100,000 snapshots over the in-memory fake, and reports the time and the
// heap's high-water mark above what the fake itself holds: what a Lambda
// needs for a region this size.
func BenchmarkPlanner(b *testing.B) {
	const instances = 10_000
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := &ec2fake.Fake{Now: func() time.Time { return base }}
	n := seedFleet(f, instances, base, 25*time.Hour, 49*time.Hour, 73*time.Hour, 97*time.Hour, 121*time.Hour)
	region := []EC2{ebs.New(f, simRegion)}
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		baseline := heapBytes()
		stop := sampleHeap()
		start := time.Now()
		rep := runUseCase(context.Background(), usePlan, region, benchStanza(b, 1), Options{Version: "bench", Now: base})
		elapsed := time.Since(start)
		peak := stop()
		if rr := rep.Regions[0]; rr.Error != "" || len(rr.Snapshots) != 2*instances || len(rr.Clean) != n {
			b.Fatalf("plan: %d snapshot rows, %d clean rows, error %q; want %d and %d", len(rr.Snapshots), len(rr.Clean), rr.Error, 2*instances, n)
		}
		b.ReportMetric(elapsed.Seconds(), "plan-s")
		b.ReportMetric(float64(peak-baseline)/(1<<20), "peak-heap-MB")
	}
}

// heapObjects is the runtime metric of heap memory held by objects, live
// or not yet swept: what the process must have, whatever it keeps.
const heapObjects = "/memory/classes/heap/objects:bytes"

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap samples heapBytes every millisecond until the returned stop
// is called, which returns the highest sample.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		high := heapBytes()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				high = max(high, heapBytes())
			case <-done:
				peak <- max(high, heapBytes())
				return
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}
