package ebs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

const describeRegions = `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>` +
	`<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo></DescribeRegionsResponse>`

// proxiedRegions is an SDK client over real HTTP: the proxy in front of a
// backend that answers DescribeRegions.
func proxiedRegions(t *testing.T, rules []faults.Rule, opts ebs.Options) (*ebs.Client, *faults.Proxy) {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(describeRegions))
	}))
	t.Cleanup(backend.Close)
	p := faults.NewProxy(t, backend.URL, faults.ProxyOptions{Rules: rules})
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
		Retryer: awsclient.Retryer,
	}
	return ebs.NewForRegion(cfg, "us-east-1", opts), p
}

// A response that never comes costs one attempt: the attempt times out,
// the SDK retries, and the call succeeds.
func TestAttemptTimeoutRetriesAHang(t *testing.T) {
	c, p := proxiedRegions(t, []faults.Rule{{Action: "DescribeRegions", Fault: faults.Delay, First: 2, Delay: time.Minute}},
		ebs.Options{AttemptTimeout: 200 * time.Millisecond})
	start := time.Now()
	got, err := c.Regions(t.Context())
	if err != nil || len(got) != 1 {
		t.Fatalf("Regions = %v, %v; want us-east-1 after two timed-out attempts", got, err)
	}
	if n := p.Counts()["DescribeRegions"]; n.Attempts != 3 || n.Faults[faults.Delay] != 2 {
		t.Errorf("attempts %d (hung %d), want 3 (2)", n.Attempts, n.Faults[faults.Delay])
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s: the hung attempts were not cut at 200ms", d)
	}
}

// A call whose every attempt hangs fails, once, with the last attempt's
// timeout: the SDK's MaxAttemptsError wraps it. (On synctest's clock: 20
// attempts and their backoffs take minutes.)
func TestAttemptTimeoutEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, p := faults.InProcess(t, &ec2fake.Fake{}, faults.ProxyOptions{
			Rules: []faults.Rule{{Action: "DescribeRegions", Fault: faults.Delay, Rate: 1, Delay: time.Hour}}})
		_, err := ebs.NewForRegion(cfg, "us-east-1", ebs.Options{}).Regions(t.Context())
		var timeout *ebs.AttemptTimeoutError
		if !errors.As(err, &timeout) || timeout.Limit != ebs.DefaultAttemptTimeout || !strings.Contains(err.Error(), "exceeded maximum number of attempts, 20") {
			t.Fatalf("err = %v, want the SDK's max-attempts error wrapping an AttemptTimeoutError", err)
		}
		if n := p.Counts()["DescribeRegions"].Attempts; n != awsclient.MaxAttempts {
			t.Errorf("%d attempts, want %d", n, awsclient.MaxAttempts)
		}
	})
}

// Every attempt waits for its EC2 bucket's client-side token: after the
// burst of 100, 150 creates take (150-100)/rate seconds and EC2's bucket
// (the proxy's) never throttles; --rate and --rate-scale change the pace.
func TestBucketPacing(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ebs.Options
		want time.Duration
	}{
		{"EC2's rate", ebs.Options{}, 10 * time.Second},
		{"rate set", ebs.Options{Rates: map[string]float64{"CreateSnapshot": 2.5}}, 20 * time.Second},
		{"rate scaled", ebs.Options{RateScale: 0.5}, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &ec2fake.Fake{}
				f.AddVolume(inventory.Volume{ID: "vol-1"})
				cfg, p := faults.InProcess(t, f, faults.ProxyOptions{Buckets: true})
				c := ebs.NewForRegion(cfg, "us-east-1", tc.opts)
				start := time.Now()
				for range 150 {
					if _, err := c.CreateSnapshot(t.Context(), "vol-1", "d", deleteOn); err != nil {
						t.Fatal(err)
					}
				}
				if got := time.Since(start); got < tc.want-time.Second || got > tc.want+time.Second {
					t.Errorf("150 creates took %s, want %s", got, tc.want)
				}
				if n := p.Counts()["CreateSnapshot"]; n.BucketThrottled != 0 || n.Attempts != 150 {
					t.Errorf("attempts %d, throttled by EC2's bucket %d; want 150, 0", n.Attempts, n.BucketThrottled)
				}
			})
		})
	}
}

func TestParseRates(t *testing.T) {
	got, err := ebs.ParseRates(" CreateSnapshot=3, DeleteSnapshot=4.5 ")
	if err != nil || len(got) != 2 || got["CreateSnapshot"] != 3 || got["DeleteSnapshot"] != 4.5 {
		t.Errorf("ParseRates = %v, %v", got, err)
	}
	if got, err := ebs.ParseRates(""); err != nil || len(got) != 0 {
		t.Errorf("ParseRates(\"\") = %v, %v; want empty", got, err)
	}
	for in, want := range map[string]string{
		"CreateSnapshot":                    "want Action=requests-per-second",
		"=3":                                "want Action=requests-per-second",
		"CreateSnapshots=3,Bogus=1":         `unknown action "Bogus"`,
		"createsnapshot=3":                  `unknown action "createsnapshot"`,
		"CreateSnapshot=0":                  `"0" is not a number of requests a second > 0`,
		"CreateSnapshot=-1":                 `"-1" is not a number`,
		"CreateSnapshot=fast":               `"fast" is not a number`,
		"CreateSnapshot=1,CreateSnapshot=2": "CreateSnapshot is given twice",
	} {
		if _, err := ebs.ParseRates(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRates(%q) error = %v, want %q", in, err, want)
		}
	}
}
