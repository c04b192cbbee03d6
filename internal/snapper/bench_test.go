package snapper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) {
	// Per-action info logs would drown the benchmark figures.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(motoserver.RunTests(m))
}

// benchStanza is the README's example: every 12 hours, kept 4 days.
func benchStanza(b *testing.B, minimum int) Policy {
	f, err := config.ParseFrequency("12 hours")
	if err != nil {
		b.Fatal(err)
	}
	return NewPolicy([]config.Stanza{{ID: "tagged_instances", Retention: 96 * time.Hour, Minimum: minimum, Frequency: f,
		Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}}}}, 0)
}

// BenchmarkMotoFleet runs one snapshot run, a second one 13 hours later and
// one clean run over fleets of 100, 500 and 2,000 volumes (2 an instance)
// in moto and reports the EC2 calls of each run beside their lower bound
// (every listing one page, as moto answers, and one call per action) and
// its wall time. The rate limiters are off: this measures the engine and
// the emulator, not EC2's token buckets. moto slows down with many tagged
// snapshots, so the 2,000-volume fleet runs only with
// EBS_SNAPPER_BENCH_LARGE=1. Figures go to docs/performance.md.
func BenchmarkMotoFleet(b *testing.B) {
	for _, volumes := range []int{100, 500, 2000} {
		b.Run(fmt.Sprintf("volumes=%d", volumes), func(b *testing.B) {
			if volumes > 500 && os.Getenv("EBS_SNAPPER_BENCH_LARGE") == "" {
				b.Skip("set EBS_SNAPPER_BENCH_LARGE=1 for the 2,000-volume moto fleet (minutes)")
			}
			benchMotoFleet(b, volumes/2, 2)
		})
	}
}

func benchMotoFleet(b *testing.B, instances, volumes int) {
	for b.Loop() {
		srv := motoserver.Require(b)
		srv.SetEnv(b)
		ctx := context.Background()
		calls := &awsclient.Calls{}
		cfg, err := awsclient.Load(ctx, "us-east-1", calls)
		if err != nil {
			b.Fatal(err)
		}
		seed, err := awsclient.Load(ctx, "us-east-1", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := seeder.Launch(ctx, ec2.NewFromConfig(seed), seeder.Group{Count: instances, Volumes: volumes,
			Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "bench"}}}); err != nil {
			b.Fatal(err)
		}
		// moto answers one DescribeSnapshots over 4,000 tagged snapshots in
		// over a minute (EC2 pages 1,000 a call in about a second), past
		// the product's per-attempt timeout: give its attempts longer.
		ec2opts := ec2fake.Unpaced()
		ec2opts.AttemptTimeout = 15 * time.Minute
		region := []EC2{ebs.NewForRegion(cfg, "us-east-1", ec2opts)}
		opts := Options{Version: "bench", Now: time.Now()}

		measure := func(name string, job useCase, p Policy, want func(Summary) bool) {
			before := calls.Snapshot()
			start := time.Now()
			rep := runUseCase(ctx, job, region, p, opts)
			elapsed := time.Since(start)
			s := rep.Regions[0].Summary
			if rep.Regions[0].Error != "" || !want(s) {
				b.Fatalf("%s: unexpected outcome %+v %s", name, s, rep.Regions[0].Error)
			}
			byOp := diffCalls(before, calls.Snapshot())
			made := 0
			for _, n := range byOp {
				made += n
			}
			// One page per listing (moto pages no snapshot or volume
			// listing), plus one call per action.
			bound := 2 + instances*volumes
			if job == useSnapshot {
				bound += (instances*volumes + 499) / 500
			} else {
				bound++ // DescribeImages
			}
			b.ReportMetric(elapsed.Seconds(), name+"-s")
			b.ReportMetric(float64(made), name+"-calls")
			b.ReportMetric(float64(bound), name+"-bound")
			b.Logf("%s: %s, summary %+v, EC2 calls %v", name, elapsed.Round(time.Millisecond), s, byOp)
		}
		p := benchStanza(b, 1)
		measure("snapshot", useSnapshot, p, func(s Summary) bool { return s.Created == instances*volumes })
		// A second generation 13 hours later, so each volume has two.
		opts.Now = opts.Now.Add(13 * time.Hour)
		measure("snapshot-2", useSnapshot, p, func(s Summary) bool { return s.Created == instances*volumes })
		// Six days on, both generations are due; minimum 1 keeps the newer.
		opts.Now = opts.Now.Add(6 * 24 * time.Hour)
		measure("clean", useClean, p, func(s Summary) bool { return s.Deleted == instances*volumes && s.Kept == instances*volumes })
	}
}

// BenchmarkFakeFleet plans, snapshots and cleans a 10,000-volume region
// (5,000 instances × 2 volumes, 10 snapshots each 12 hours apart, the newest
// 13 hours old: 100,000 snapshots) through the in-memory fake, which pages
// like EC2. It reports the calls and the time of the engine itself, at the
// size where moto is too slow.
func BenchmarkFakeFleet(b *testing.B) {
	const instances, volumes, perVolume = 5000, 2, 10
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		f := &ec2fake.Fake{Now: func() time.Time { return base }}
		n := 0
		for i := 0; i < instances; i++ {
			inst := inventory.Instance{ID: fmt.Sprintf("i-%08x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
			for v := 0; v < volumes; v++ {
				vol := fmt.Sprintf("vol-%08x%d", i, v)
				inst.VolumeIDs = append(inst.VolumeIDs, vol)
				for s := 0; s < perVolume; s++ {
					age := time.Duration(perVolume-s)*12*time.Hour + time.Hour
					f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%08x", n), VolumeID: vol, StartTime: base.Add(-age),
						Tags: []inventory.Tag{{Key: "DeleteOn", Value: base.Add(-age).Add(96 * time.Hour).Format(time.DateOnly)}}}, "")
					n++
				}
			}
			f.AddInstance(inst)
		}
		region := []EC2{ebs.New(f, "us-east-1")}
		opts := Options{Version: "bench", Now: base}
		b.StartTimer()

		start := time.Now()
		rep := runUseCase(context.Background(), usePlan, region, benchStanza(b, 5), opts)
		b.ReportMetric(time.Since(start).Seconds(), "plan-s")
		creates, deletes := 0, 0
		for _, r := range rep.Regions[0].Snapshots {
			if r.Action == Create {
				creates++
			}
		}
		for _, r := range rep.Regions[0].Clean {
			if r.Action == "delete" {
				deletes++
			}
		}
		planCalls := f.AllCalls()
		start = time.Now()
		rep = runUseCase(context.Background(), useClean, region, benchStanza(b, 5), opts)
		b.ReportMetric(time.Since(start).Seconds(), "clean-s")
		if rep.Regions[0].Summary.Deleted != deletes {
			b.Fatalf("clean deleted %d, plan said %d", rep.Regions[0].Summary.Deleted, deletes)
		}
		start = time.Now()
		rep = runUseCase(context.Background(), useSnapshot, region, benchStanza(b, 5), opts)
		b.ReportMetric(time.Since(start).Seconds(), "snapshot-s")
		if rep.Regions[0].Summary.Created != creates {
			b.Fatalf("snapshot created %d, plan said %d", rep.Regions[0].Summary.Created, creates)
		}
		b.Logf("plan: %d creates, %d deletes planned over %d snapshots; plan's EC2 calls %v; plan+clean+snapshot %v", creates, deletes, n, planCalls, f.AllCalls())
	}
}

// diffCalls returns the calls made between two counter snapshots, by
// operation.
func diffCalls(before, after []awsclient.Count) map[string]int {
	was := map[string]int{}
	for _, c := range before {
		was[c.Operation] = c.Calls
	}
	out := map[string]int{}
	for _, c := range after {
		if d := c.Calls - was[c.Operation]; d > 0 {
			out[c.Operation] = d
		}
	}
	return out
}
