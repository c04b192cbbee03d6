package faults_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

// moto resets moto, points the process's AWS environment at it and returns
// an SDK client for it, configured as the product configures its own.
func moto(t *testing.T) (*motoserver.Server, *ec2.Client) {
	t.Helper()
	srv := motoserver.Require(t)
	return srv, ec2.NewFromConfig(srv.Config(t))
}

// proxiedClient is the product's EC2 client for us-east-1 (its config, its
// retryers) sending every call through p; calls counts its attempts.
func proxiedClient(t *testing.T, p *faults.Proxy, calls *awsclient.Calls, optFns ...func(*ec2.Options)) *ebs.Client {
	t.Helper()
	cfg, err := awsclient.Load(t.Context(), "us-east-1", calls)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(p.URL)
	if len(optFns) > 0 {
		return ebs.New(ec2.NewFromConfig(cfg, optFns...), "us-east-1")
	}
	return ebs.NewForRegion(cfg, "us-east-1", ebs.Options{})
}

// TestProxyFaultsAreRetried checks the product's retry path end to end:
// EC2 throttles and 500s, as the proxy sends them, are retried by the SDK's
// retryer, for the Describe calls and for CreateSnapshot (which retries only
// errors that prove EC2 did not act).
func TestProxyFaultsAreRetried(t *testing.T) {
	// Seeding goes to moto directly, so only the calls under test cross
	// the proxy.
	srv, api := moto(t)
	vol := seeder.SDK(api).Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	p := faults.NewProxy(t, srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.Throttle, First: 2},
		{Action: "DescribeSnapshots", Fault: faults.ServerError, First: 2},
	}})
	calls := &awsclient.Calls{}
	c := proxiedClient(t, p, calls)

	snap, err := c.CreateSnapshot(t.Context(), vol, "through the proxy", []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}})
	if err != nil {
		t.Fatalf("CreateSnapshot through 2 throttles: %v", err)
	}
	listed, err := c.Snapshots(t.Context())
	if err != nil {
		t.Fatalf("Snapshots through 2 server errors: %v", err)
	}
	if len(listed) != 1 || listed[0].ID != snap.ID {
		t.Errorf("listed %v, want only %s", listed, snap.ID)
	}
	// The SDK counts throttles as throttles and 500s as plain retries.
	for op, want := range map[string]awsclient.Count{
		"EC2.CreateSnapshot":    {Operation: "EC2.CreateSnapshot", Calls: 3, Throttled: 2},
		"EC2.DescribeSnapshots": {Operation: "EC2.DescribeSnapshots", Calls: 3},
	} {
		if got := calls.Get(op); got != want {
			t.Errorf("%s: SDK counted %+v, want %+v", op, got, want)
		}
	}
	counts := p.Counts()
	if c := counts["CreateSnapshot"]; c.Attempts != 3 || c.Faults[faults.Throttle] != 2 || c.Forwarded != 1 {
		t.Errorf("proxy counted CreateSnapshot %+v, want 3 attempts, 2 throttled, 1 forwarded", c)
	}
	if c := counts["DescribeSnapshots"]; c.Attempts != 3 || c.Faults[faults.ServerError] != 2 || c.Forwarded != 1 {
		t.Errorf("proxy counted DescribeSnapshots %+v, want 3 attempts, 2 server errors, 1 forwarded", c)
	}
}

// TestProxyDroppedCreateHappened shows the unknown outcome the proxy
// stages: a CreateSnapshot whose answer is dropped after forwarding fails
// for the client, yet EC2 made the snapshot, tagged.
func TestProxyDroppedCreateHappened(t *testing.T) {
	srv, api := moto(t)
	vol := seeder.SDK(api).Instance(t, seeder.InstanceSpec{}).VolumeIDs[0]
	p := faults.NewProxy(t, srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.DropAfter, First: 1},
	}})
	// One attempt: the SDK would otherwise retry the lost answer and make
	// a second snapshot (the duplicate issue 11 item 2 is about).
	c := proxiedClient(t, p, nil, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	_, err := c.CreateSnapshot(t.Context(), vol, "answer lost", []inventory.Tag{{Key: "DeleteOn", Value: "2026-12-01"}})
	if err == nil {
		t.Fatal("CreateSnapshot whose answer was dropped succeeded for the client")
	}
	out, derr := api.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if derr != nil {
		t.Fatal(derr)
	}
	if len(out.Snapshots) != 1 || aws.ToString(out.Snapshots[0].VolumeId) != vol || len(out.Snapshots[0].Tags) != 1 {
		t.Fatalf("moto holds %+v, want one tagged snapshot of %s", out.Snapshots, vol)
	}
	if c := p.Counts()["CreateSnapshot"]; c.Attempts != 1 || c.Forwarded != 1 || c.Faults[faults.DropAfter] != 1 {
		t.Errorf("proxy counted %+v, want 1 attempt forwarded and dropped", c)
	}
	t.Logf("client error: %v", err)
}

// TestProxyThrottleIsClassified checks that EC2's throttle, as the SDK
// decodes it from the wire, is what ebs.IsThrottle recognises.
func TestProxyThrottleIsClassified(t *testing.T) {
	srv, _ := moto(t)
	p := faults.NewProxy(t, srv.URL, faults.ProxyOptions{Rules: []faults.Rule{{Action: "DescribeSnapshots", Fault: faults.Throttle, First: 1}}})
	cfg, err := awsclient.Load(t.Context(), "eu-west-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(p.URL)
	api := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	_, err = ebs.New(api, "eu-west-1").Snapshots(t.Context())
	if !ebs.IsThrottle(err) || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("got %v, want a throttle naming eu-west-1", err)
	}
}
