package ebstest_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs/ebstest"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// TestThrottleProxyRetries checks the product's retry path end to end: EC2
// throttles (as the proxy sends them) are retried by the SDK's adaptive
// retryer, for the Describe calls and for CreateSnapshot's own retryer.
func TestThrottleProxyRetries(t *testing.T) {
	// Seeding goes to moto directly, so only the calls under test cross
	// the proxy.
	srv, api := moto(t)
	vol := ebstest.SDKSeeder(api).Instance(t, ebstest.InstanceSpec{}).VolumeIDs[0]
	proxy := ebstest.NewThrottleProxy(srv.URL, map[string]int{"CreateSnapshot": 2, "DescribeSnapshots": 2})
	defer proxy.Close()

	calls := &awsclient.Calls{}
	cfg, err := awsclient.Load(t.Context(), "us-east-1", calls)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(proxy.URL)
	c := ebs.NewForRegion(cfg, "us-east-1", ebs.Options{})

	snap, err := c.CreateSnapshot(t.Context(), vol, "through the proxy", []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}})
	if err != nil {
		t.Fatalf("CreateSnapshot through 2 throttles: %v", err)
	}
	listed, err := c.Snapshots(t.Context())
	if err != nil {
		t.Fatalf("Snapshots through 2 throttles: %v", err)
	}
	if len(listed) != 1 || listed[0].ID != snap.ID {
		t.Errorf("listed %v, want only %s", listed, snap.ID)
	}
	for _, op := range []string{"EC2.CreateSnapshot", "EC2.DescribeSnapshots"} {
		if got := calls.Get(op); got.Calls != 3 || got.Throttled != 2 {
			t.Errorf("%s: %d attempts, %d throttled; want 3 attempts, 2 throttled", op, got.Calls, got.Throttled)
		}
	}
	t.Logf("attempts: %+v", calls.Snapshot())
}

// TestThrottleProxyErrorClassified checks that EC2's throttle, as the SDK
// decodes it from the wire, is what ebs.IsThrottle recognises.
func TestThrottleProxyErrorClassified(t *testing.T) {
	srv, _ := moto(t)
	proxy := ebstest.NewThrottleProxy(srv.URL, map[string]int{"DescribeSnapshots": 1})
	defer proxy.Close()
	cfg, err := awsclient.Load(t.Context(), "eu-west-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(proxy.URL)
	api := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	_, err = ebs.New(api, "eu-west-1", ebs.Options{}).Snapshots(t.Context())
	if !ebs.IsThrottle(err) || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("got %v, want a throttle naming eu-west-1", err)
	}
}
