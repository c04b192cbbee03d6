package snapper

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// BenchmarkBucketPacing snapshots 300 moto volumes twice (13 hours apart on
// the run's clock), then cleans the older generation, through
// the proxy enforcing EC2's buckets at 4× EC2's rates (20 creates or
// deletes a second after the burst of 100), with the client's limiters at
// the same scale (--rate-scale 4). It reports the time of each run's
// actions (from the end of the first to the end of the last, so listings
// are left out) against the bucket bound, (actions − 1 − tokens in the
// bucket) / rate, and
// the share of attempts the buckets throttled. Each measured run starts
// with its bucket full. Figures go to docs/performance.md.
func BenchmarkBucketPacing(b *testing.B) {
	const volumes, scale = 300, 4.0
	for b.Loop() {
		srv := motoserver.Require(b)
		srv.SetEnv(b)
		ctx := context.Background()
		seed, err := awsclient.Load(ctx, "us-east-1", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := seeder.Launch(ctx, ec2.NewFromConfig(seed), seeder.Group{Count: volumes, Volumes: 1,
			Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}}); err != nil {
			b.Fatal(err)
		}
		proxy := faults.NewProxy(b, srv.URL, faults.ProxyOptions{Buckets: true, BucketScale: scale})
		cfg := seed.Copy()
		cfg.BaseEndpoint = aws.String(proxy.URL)
		region := []EC2{ebs.NewForRegion(cfg, "us-east-1", ebs.Options{RateScale: scale})}
		now := time.Now()

		measure := func(name, action string, job useCase, at time.Time, want func(Summary) bool) {
			before := proxy.Counts()[action]
			var mu sync.Mutex
			var start, end time.Time
			opts := Options{Version: "bench", Now: at, Observer: actionDone(func() {
				mu.Lock()
				defer mu.Unlock()
				if end = time.Now(); start.IsZero() {
					start = end
				}
			})}
			rep := runUseCase(ctx, job, region, benchStanza(b, 0), opts)
			elapsed := end.Sub(start).Seconds()
			bound := float64(volumes-1-ebs.DefaultBurst) / (ebs.DefaultRate * scale)
			s := rep.Regions[0].Summary
			if rep.Regions[0].Error != "" || !want(s) {
				b.Fatalf("%s: unexpected outcome %+v %s", name, s, rep.Regions[0].Error)
			}
			c := proxy.Counts()[action]
			attempts, throttled := c.Attempts-before.Attempts, c.BucketThrottled-before.BucketThrottled
			b.ReportMetric(elapsed/bound, name+"-x-bound")
			b.ReportMetric(100*float64(throttled)/float64(attempts), name+"-throttled-%")
			b.Logf("%s: %.2f s against a bound of %.2f s (%.3f×); %s %d attempts, %d throttled by the bucket",
				name, elapsed, bound, elapsed/bound, action, attempts, throttled)
		}
		measure("snapshot", "CreateSnapshot", useSnapshot, now, func(s Summary) bool { return s.Created == volumes })
		// A second generation (its bucket only partly refilled, so not a
		// measure), then, six days on, both are expired: the newest
		// snapshot of a volume is always kept, so the older one goes.
		if rep := runUseCase(ctx, useSnapshot, region, benchStanza(b, 0), Options{Version: "bench", Now: now.Add(13 * time.Hour)}); rep.Regions[0].Summary.Created != volumes {
			b.Fatalf("second generation: %+v", rep.Regions[0].Summary)
		}
		measure("clean", "DeleteSnapshot", useClean, now.Add(6*24*time.Hour), func(s Summary) bool { return s.Deleted == volumes })
	}
}

// actionDone is an Observer that calls itself as each action ends.
type actionDone func()

func (actionDone) Inventory(*Inventory)      {}
func (actionDone) Planned(string, int)       {}
func (actionDone) ActionStarted(string)      {}
func (f actionDone) ActionDone(string, bool) { f() }
