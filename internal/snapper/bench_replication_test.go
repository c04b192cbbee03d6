package snapper

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2sim"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// replicaRegion is the destination of the replication benchmarks.
const replicaRegion = "us-west-2"

// replicationCase is one benchmarked replication run over n snapshots.
type replicationCase struct {
	// retire seeds n replicas in replicaRegion whose originals are gone,
	// and runs the destination: n delete-replica rows. Otherwise n
	// completed originals in simRegion ask for replicaRegion, and the run
	// of simRegion copies DefaultCopyLimit of them and defers the rest.
	retire bool
	n      int
}

// BenchmarkSimReplication runs one replication run over the EC2 simulator
// (both regions, EC2's buckets, 100 ms a call, virtual time: the method of
// BenchmarkSimFleet) for 10,000 and 50,000 snapshots:
//
//   - copy: every snapshot of the source asks for the destination. One run
//     lists both regions once and copies DefaultCopyLimit (EC2's 20 copies
//     in progress per destination), deferring the rest; its cost is the
//     listings, whatever the backlog.
//   - retire: the destination holds a replica of each, whose original is
//     gone. One run deletes them all, paced at DeleteSnapshot's bucket.
//
// It reports the calls by action beside their lower bound (each listing at
// EC2's largest page, one call per action) and the virtual time beside the
// bucket's bound for deletes ((n − 100 burst) / 5 a second).
func BenchmarkSimReplication(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		for _, retire := range []bool{false, true} {
			name := map[bool]string{false: "copy", true: "retire"}[retire]
			b.Run(fmt.Sprintf("%s/snapshots=%d", name, n), func(b *testing.B) {
				runSimReplication(b, replicationCase{retire: retire, n: n})
			})
		}
	}
}

func runSimReplication(b *testing.B, c replicationCase) {
	cfg := simConfig(b)
	for b.Loop() {
		b.StopTimer()
		sim := ec2sim.New(ec2sim.Options{Regions: []string{simRegion, replicaRegion}, Buckets: true, Latency: simLatency, Now: time.Now})
		seedReplication(sim, c)
		b.StartTimer()

		var virtual time.Duration
		var sum Summary
		wall := time.Now()
		inBubble(b, func(t *testing.T) {
			clients := map[string]EC2{}
			for _, r := range []string{simRegion, replicaRegion} {
				clients[r] = ebs.NewForRegion(sim.InProcess(cfg), r, ebs.Options{})
			}
			run := simRegion
			if c.retire {
				run = replicaRegion
			}
			opts, other := Options{Version: "bench", Now: time.Now()}, func(r string) EC2 { return clients[r] }
			start := time.Now()
			rep := runWithOthers(context.Background(), other, useReplicate, []EC2{clients[run]}, replicatingStanza(b), opts)
			virtual = time.Since(start)
			if rep.Regions[0].Error != "" {
				t.Fatalf("region failed: %s", rep.Regions[0].Error)
			}
			sum = rep.Regions[0].Summary
		})
		b.ReportMetric(time.Since(wall).Seconds(), "wall-s")

		want := Summary{Copied: DefaultCopyLimit, Deferred: c.n - DefaultCopyLimit}
		action, actions := "CopySnapshot", DefaultCopyLimit
		if c.retire {
			want = Summary{Deleted: c.n}
			action, actions = "DeleteSnapshot", c.n
		}
		if sum != want {
			b.Fatalf("summary %+v, want %+v", sum, want)
		}
		// Both regions listed once: the n snapshots at 1,000 a page, and
		// the other region's single page (empty, or the 20 new replicas).
		bound := map[string]int{"DescribeSnapshots": (c.n+999)/1000 + 1, action: actions}
		counts := sim.Counts()
		for a, n := range bound {
			b.ReportMetric(float64(counts[a].Calls), a+"-calls")
			b.ReportMetric(float64(n), a+"-bound")
		}
		throttled := 0
		for _, n := range counts {
			throttled += n.Throttled
		}
		b.ReportMetric(virtual.Seconds(), "virtual-s")
		if c.retire {
			boundTime := float64(c.n-ebs.DefaultBurst) / ebs.DefaultRate
			b.ReportMetric(boundTime, "bound-s")
			b.ReportMetric(virtual.Seconds()/boundTime, "x-bound")
		}
		b.ReportMetric(float64(throttled), "throttled")
		b.Logf("%+v in %s virtual; calls %v", sum, virtual.Round(time.Second), counts)
	}
}

// seedReplication seeds c's snapshots: completed originals in simRegion
// tagged replication_dst_region, or replicas in replicaRegion of
// originals that no longer exist.
func seedReplication(sim *ec2sim.Sim, c replicationCase) {
	start := sim.Now().Add(-13 * time.Hour)
	deleteOn := inventory.Tag{Key: "DeleteOn", Value: start.Add(96 * time.Hour).Format(time.DateOnly)}
	for i := range c.n {
		s := inventory.Snapshot{ID: fmt.Sprintf("snap-%017x", i), VolumeID: fmt.Sprintf("vol-%017x", i), StartTime: start,
			State: inventory.StateCompleted, Tags: []inventory.Tag{deleteOn, {Key: ReplicationDestinationTag, Value: replicaRegion}}}
		region := simRegion
		if c.retire {
			region = replicaRegion
			s.Tags = []inventory.Tag{deleteOn, {Key: ReplicationSourceTag, Value: simRegion},
				{Key: ReplicationSnapshotIDTag, Value: fmt.Sprintf("snap-gone%08x", i)}}
		}
		sim.Region(region).AddSnapshot(s, "")
	}
}

// replicatingStanza is benchStanza with "replication": "yes".
func replicatingStanza(b *testing.B) Policy {
	p := benchStanza(b, 1)
	s := p.Stanzas["tagged_instances"]
	s.Replication = true
	return NewPolicy([]config.Stanza{s}, 0)
}

// BenchmarkMotoReplication is BenchmarkSimReplication's two runs in moto
// (both regions of one moto server, rate limiters off, wall time) over
// 100, 500 and 2,000 snapshots; the 2,000 only with
// EBS_SNAPPER_BENCH_LARGE=1, as for BenchmarkMotoFleet. moto answers each
// listing in one page, so the bound is one DescribeSnapshots a region
// plus the copies or deletes.
func BenchmarkMotoReplication(b *testing.B) {
	for _, n := range []int{100, 500, 2000} {
		for _, retire := range []bool{false, true} {
			name := map[bool]string{false: "copy", true: "retire"}[retire]
			b.Run(fmt.Sprintf("%s/snapshots=%d", name, n), func(b *testing.B) {
				if n > 500 && os.Getenv("EBS_SNAPPER_BENCH_LARGE") == "" {
					b.Skip("set EBS_SNAPPER_BENCH_LARGE=1 for 2,000 snapshots in moto (minutes)")
				}
				runMotoReplication(b, replicationCase{retire: retire, n: n})
			})
		}
	}
}

func runMotoReplication(b *testing.B, c replicationCase) {
	for b.Loop() {
		b.StopTimer()
		srv := motoserver.Require(b)
		srv.SetEnv(b)
		ctx := context.Background()
		calls := &awsclient.Calls{}
		cfg, err := awsclient.Load(ctx, simRegion, calls)
		if err != nil {
			b.Fatal(err)
		}
		seedMotoReplication(b, ctx, c)
		clients := map[string]EC2{}
		for _, r := range []string{simRegion, replicaRegion} {
			clients[r] = ebs.NewForRegion(cfg, r, ec2fake.Unpaced())
		}
		run := simRegion
		if c.retire {
			run = replicaRegion
		}
		opts, other := Options{Version: "bench", Now: time.Now()}, func(r string) EC2 { return clients[r] }
		b.StartTimer()

		start := time.Now()
		rep := runWithOthers(ctx, other, useReplicate, []EC2{clients[run]}, replicatingStanza(b), opts)
		elapsed := time.Since(start)
		want := Summary{Copied: DefaultCopyLimit, Deferred: c.n - DefaultCopyLimit}
		action, actions := "CopySnapshot", DefaultCopyLimit
		if c.retire {
			want = Summary{Deleted: c.n}
			action, actions = "DeleteSnapshot", c.n
		}
		if s := rep.Regions[0].Summary; rep.Regions[0].Error != "" || s != want {
			b.Fatalf("summary %+v, error %q; want %+v", s, rep.Regions[0].Error, want)
		}
		made := diffCalls(nil, calls.Snapshot())
		for a, n := range map[string]int{"DescribeSnapshots": 2, action: actions} {
			b.ReportMetric(float64(made["EC2."+a]), a+"-calls")
			b.ReportMetric(float64(n), a+"-bound")
		}
		b.ReportMetric(elapsed.Seconds(), "run-s")
		b.Logf("%s, EC2 calls %v", elapsed.Round(time.Millisecond), made)
	}
}

// seedMotoReplication seeds c's snapshots in moto, as seedReplication
// does on the simulator, all of one volume.
func seedMotoReplication(b *testing.B, ctx context.Context, c replicationCase) {
	region := simRegion
	if c.retire {
		region = replicaRegion
	}
	seed, err := awsclient.Load(ctx, region, nil)
	if err != nil {
		b.Fatal(err)
	}
	api := ec2.NewFromConfig(seed)
	insts, err := seeder.Launch(ctx, api, seeder.Group{Count: 1, Volumes: 1})
	if err != nil {
		b.Fatal(err)
	}
	deleteOn := inventory.Tag{Key: "DeleteOn", Value: time.Now().Add(96 * time.Hour).Format(time.DateOnly)}
	for i := range c.n {
		tags := []inventory.Tag{deleteOn, {Key: ReplicationDestinationTag, Value: replicaRegion}}
		if c.retire {
			tags = []inventory.Tag{deleteOn, {Key: ReplicationSourceTag, Value: simRegion},
				{Key: ReplicationSnapshotIDTag, Value: fmt.Sprintf("snap-gone%08x", i)}}
		}
		if _, err := seeder.Snapshot(ctx, api, insts[0].VolumeIDs[0], tags...); err != nil {
			b.Fatal(err)
		}
	}
}
