package snapper

import (
	"context"
	"fmt"
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

// drillPolicy is benchStanza with drills every 7 days, no sample and no
// cap: every volume is due.
func drillPolicy(b *testing.B) Policy {
	p := benchStanza(b, 1)
	s := p.Stanzas["tagged_instances"]
	s.Drill = config.Drill{Every: 7 * 24 * time.Hour, VolumeType: "gp3", Timeout: 30 * time.Minute}
	return NewPolicy([]config.Stanza{s}, 0)
}

// BenchmarkSimDrills drills 1,000 volumes of 100 GiB in one region over
// the simulator, EC2's request buckets on, each restored volume taking 30
// seconds of virtual time to become available, with 8 (the default), 64
// and 512 drills in flight. It reports drills an hour of virtual time, the
// calls a drill costs, and the share of attempts EC2's buckets throttled:
// up to some hundred in flight, what bounds the rate is how many drills
// are in flight times how long a volume takes to become available; at 512
// the CreateVolume bucket (50, then 5 a second) paces it.
func BenchmarkSimDrills(b *testing.B) {
	for _, workers := range []int{8, 64, 512} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const volumes = 1000
			cfg := simConfig(b)
			for b.Loop() {
				b.StopTimer()
				sim := ec2sim.New(ec2sim.Options{Regions: []string{simRegion}, Buckets: true, Latency: simLatency, Now: time.Now,
					VolumeCreatingFor: 30 * time.Second})
				f := sim.Region(simRegion)
				for i := range volumes / 2 {
					inst := inventory.Instance{ID: fmt.Sprintf("i-%017x", i), ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}
					for v := range 2 {
						vol := fmt.Sprintf("vol-%016x%d", i, v)
						inst.VolumeIDs = append(inst.VolumeIDs, vol)
						f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-%015x%d", i, v), VolumeID: vol, StartTime: bubbleEpoch.Add(-time.Hour),
							VolumeSize: 100, Tags: []inventory.Tag{{Key: "DeleteOn", Value: "2000-01-05"}}}, "")
					}
					f.AddInstance(inst)
				}
				b.StartTimer()
				var virtual time.Duration
				var sum Summary
				inBubble(b, func(t *testing.T) {
					region := []EC2{ebs.NewForRegion(sim.InProcess(cfg), simRegion, ebs.Options{})}
					start := time.Now()
					rep := runUseCase(context.Background(), useDrill, region, drillPolicy(b), Options{Version: "bench", Now: start, Workers: workers})
					virtual = time.Since(start)
					if rep.Regions[0].Error != "" {
						t.Fatalf("region failed: %s", rep.Regions[0].Error)
					}
					sum = rep.Regions[0].Summary
				})
				counts := sim.Counts()
				total, throttled := 0, 0
				for _, n := range counts {
					total += n.Calls
					throttled += n.Throttled
				}
				if sum.Drilled != volumes || sum.DrillsFailed != 0 {
					b.Fatalf("summary %+v, want %d drills passed", sum, volumes)
				}
				b.ReportMetric(virtual.Seconds(), "virtual-s")
				b.ReportMetric(float64(sum.Drilled)/virtual.Hours(), "drills/h")
				b.ReportMetric(float64(total)/float64(sum.Drilled), "calls/drill")
				b.ReportMetric(100*float64(throttled)/float64(total), "throttled-%")
				b.Logf("%d drills in %s virtual with %d in flight; calls %v", sum.Drilled, virtual.Round(time.Second), workers, counts)
			}
		})
	}
}

// BenchmarkMotoDrills drills 100 volumes in moto (volumes available at
// once, rate limiters off): the engine's and the emulator's cost per
// drill in wall time and calls.
func BenchmarkMotoDrills(b *testing.B) {
	const instances, per = 50, 2
	for b.Loop() {
		srv := motoserver.Require(b)
		srv.SetEnv(b)
		ctx := context.Background()
		calls := &awsclient.Calls{}
		cfg, err := awsclient.Load(ctx, "us-east-1", calls)
		if err != nil {
			b.Fatal(err)
		}
		api := ec2.NewFromConfig(cfg)
		insts, err := seeder.Launch(ctx, api, seeder.Group{Count: instances, Volumes: per, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
		if err != nil {
			b.Fatal(err)
		}
		for _, inst := range insts {
			for _, v := range inst.VolumeIDs {
				if _, err := seeder.Snapshot(ctx, api, v, inventory.Tag{Key: "DeleteOn", Value: "2099-01-01"}); err != nil {
					b.Fatal(err)
				}
			}
		}
		before := calls.Snapshot()
		start := time.Now()
		rep := runUseCase(ctx, useDrill, []EC2{ebs.NewForRegion(cfg, "us-east-1", ec2fake.Unpaced())}, drillPolicy(b), Options{Version: "bench", Now: start})
		elapsed := time.Since(start)
		s := rep.Regions[0].Summary
		if s.Drilled != instances*per || s.DrillsFailed != 0 {
			b.Fatalf("summary %+v %s", s, rep.Regions[0].Error)
		}
		made := 0
		for _, n := range diffCalls(before, calls.Snapshot()) {
			made += n
		}
		b.ReportMetric(elapsed.Seconds(), "drill-s")
		b.ReportMetric(float64(s.Drilled)/elapsed.Hours(), "drills/h")
		b.ReportMetric(float64(made)/float64(s.Drilled), "calls/drill")
		b.Logf("%d drills in %s, EC2 calls %v", s.Drilled, elapsed.Round(time.Millisecond), diffCalls(before, calls.Snapshot()))
	}
}
