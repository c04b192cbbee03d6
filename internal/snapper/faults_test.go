package snapper

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// faultMix is issue 11's: 20 % of EC2 calls throttled, 5 % answered 500,
// 2 % reset before and 2 % dropped after forwarding; and the first hangs
// of DescribeSnapshots and CreateSnapshot never answer (a Delay far past
// the attempt timeout).
func faultMix(hangs int) []faults.Rule {
	return []faults.Rule{
		{Action: "DescribeSnapshots", Fault: faults.Delay, First: 1, Delay: time.Hour},
		{Action: "CreateSnapshot", Fault: faults.Delay, First: hangs, Delay: time.Hour},
		{Fault: faults.Throttle, Rate: 0.20},
		{Fault: faults.ServerError, Rate: 0.05},
		{Fault: faults.ResetBefore, Rate: 0.02},
		{Fault: faults.DropAfter, Rate: 0.02},
	}
}

// fleetRun is what fleetUnderFaults saw.
type fleetRun struct {
	created        []int // per run
	failed         []int // per run
	quotaFailures  int   // rows failed because the SDK's retry quota ran dry
	attempts       int   // EC2 requests, retries included
	throttled      int   // answered RequestLimitExceeded (rules and buckets)
	bucketThrottle int   // of which by an empty bucket
	hangs          int   // attempts that never got an answer
	elapsed        time.Duration
	missing        int // volumes without a snapshot after the runs
	duplicates     int // volumes with more than one snapshot (one period)
	// otherFailures counts failed rows other than settled creates: a
	// create whose answer was lost twice in a run is honestly "not
	// created" (the next run takes it); anything else is a defect.
	otherFailures int
	sample        string
}

// fleetUnderFaults snapshots instances×4 volumes through the SDK client
// over the fake with the fault mix and EC2's buckets, up to three runs a
// minute apart, on synctest's virtual clock (EC2's real rates: a run takes
// minutes of virtual time and seconds of real time).
func fleetUnderFaults(t *testing.T, instances, hangs int, retryer func() aws.Retryer, opts ebs.Options) fleetRun {
	var res fleetRun
	synctest.Test(t, func(t *testing.T) {
		f := &ec2fake.Fake{Now: time.Now}
		var vols []string
		for i := range instances {
			ids := make([]string, 4)
			for j := range ids {
				ids[j] = fmt.Sprintf("vol-%05d%d", i, j)
				vols = append(vols, ids[j])
			}
			f.AddInstance(inventory.Instance{ID: fmt.Sprintf("i-%05d", i), ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: ids})
		}
		cfg, proxy := faults.InProcess(t, f, faults.ProxyOptions{Seed: 11, Buckets: true, Rules: faultMix(hangs)})
		if retryer != nil {
			cfg.Retryer = retryer
		}
		freq, err := config.ParseFrequency("1 day")
		if err != nil {
			t.Fatal(err)
		}
		p := NewPolicy([]config.Stanza{{ID: "daily", Retention: 96 * time.Hour, Minimum: 1, Frequency: freq,
			Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}}}}, 0)
		start := time.Now()
		for run := range 3 {
			rep := runUseCase(t.Context(), useSnapshot, []EC2{ebs.NewForRegion(cfg, "us-east-1", opts)}, p, Options{Now: time.Now(), Version: "test"})
			rr := rep.Regions[0]
			if rr.Error != "" {
				t.Fatalf("run %d: region failed: %s", run+1, rr.Error)
			}
			res.created = append(res.created, rr.Summary.Created)
			res.failed = append(res.failed, rr.Summary.Failed)
			for _, r := range rr.Snapshots {
				if r.Status == StatusFailed {
					if strings.Contains(r.Error, "retry quota exceeded") {
						res.quotaFailures++
					}
					if !strings.HasPrefix(r.Error, "not created: ") {
						res.otherFailures++
					}
					if res.sample == "" {
						res.sample = r.Error
					}
				}
			}
			time.Sleep(time.Minute)
		}
		res.elapsed = time.Since(start) - 3*time.Minute
		have := map[string]int{}
		for _, s := range f.Snapshots() {
			have[s.VolumeID]++
		}
		for _, v := range vols {
			switch {
			case have[v] == 0:
				res.missing++
			case have[v] > 1:
				res.duplicates++
			}
		}
		for _, c := range proxy.Counts() {
			res.attempts += c.Attempts
			res.throttled += c.Faults[faults.Throttle] + c.BucketThrottled
			res.bucketThrottle += c.BucketThrottled
			res.hangs += c.Faults[faults.Delay]
		}
	})
	t.Logf("%d volumes: created per run %v, failed per run %v (%d for the retry quota; e.g. %q); %d attempts, %d throttled (%d by an empty bucket); %s of virtual time",
		instances*4, res.created, res.failed, res.quotaFailures, res.sample, res.attempts, res.throttled, res.bucketThrottle, res.elapsed.Round(time.Second))
	return res
}

// Issue 11, Done when: the fault mix over 2,000 volumes — every due volume
// done within three runs, retries never abandoned for quota reasons, and
// responses that never come time out while the run goes on. Paced, the
// client stays under EC2's buckets; unpaced, half the attempts bounce off
// them and the retries still get every volume done.
func TestFleetUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ebs.Options
	}{{"paced", ebs.Options{}}, {"unpaced", unpaced}} {
		t.Run(tc.name, func(t *testing.T) {
			got := fleetUnderFaults(t, 500, 3, nil, tc.opts)
			if got.missing != 0 || got.duplicates != 0 || got.quotaFailures != 0 || got.otherFailures != 0 {
				t.Errorf("after three runs: %d volumes without a snapshot, %d with two; %d retries abandoned for the retry quota, %d failures other than settled creates; want none",
					got.missing, got.duplicates, got.quotaFailures, got.otherFailures)
			}
			if got.hangs != 4 {
				t.Errorf("%d attempts hung, want 4 (1 DescribeSnapshots, 3 CreateSnapshot), each timed out and retried", got.hangs)
			}
		})
	}
}

// unpaced turns the client's limiters off: the run bounces off EC2's
// buckets, as it does when another tool spends the same buckets.
var unpaced = ebs.Options{Rates: map[string]float64{"CreateSnapshot": ebs.Unlimited, "DescribeInstances": ebs.Unlimited, "DescribeSnapshots": ebs.Unlimited, "DescribeVolumes": ebs.Unlimited}}

// The SDK's default retry quota (500 tokens a client) on the unpaced run:
// it runs dry and abandons retries, most of the fleet fails, which is why
// awsclient.Retryer has none. This guards the measurement in
// docs/performance.md.
func TestFleetUnderFaultsDefaultRetryQuota(t *testing.T) {
	withQuota := func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = awsclient.MaxAttempts
			so.MaxBackoff = awsclient.MaxBackoff
		})
	}
	got := fleetUnderFaults(t, 500, 0, withQuota, unpaced)
	if got.quotaFailures == 0 {
		t.Errorf("no call failed for the retry quota; the default quota no longer runs dry on this run")
	}
}
