package faults_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// backend is a stand-in EC2 endpoint that answers 200 and counts the
// requests it received by action.
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newBackend(t *testing.T) *backend {
	b := &backend{hits: map[string]int{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		b.mu.Lock()
		b.hits[r.PostForm.Get("Action")]++
		b.mu.Unlock()
		io.WriteString(w, "<Response>ok</Response>")
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) got(action string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[action]
}

// call posts one EC2 Query API request for action through the proxy on a
// connection of its own; extra are further form parameters.
func call(t *testing.T, p *faults.Proxy, action string, extra ...string) (status int, body string, err error) {
	t.Helper()
	form := url.Values{"Action": {action}, "Version": {"2016-11-15"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.PostForm(p.URL, form)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestProxyFaultKinds(t *testing.T) {
	for _, tc := range []struct {
		fault       faults.Fault
		status      int    // of the first request; 0 for a connection error
		code        string // EC2 error code in the body
		reachedEC2  bool   // the first request reached the target
		minDuration time.Duration
	}{
		{fault: faults.Throttle, status: 503, code: "RequestLimitExceeded"},
		{fault: faults.ServerError, status: 500, code: "InternalError"},
		{fault: faults.ResetBefore},
		{fault: faults.DropAfter, reachedEC2: true},
		{fault: faults.Delay, status: 200, reachedEC2: true, minDuration: 50 * time.Millisecond},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			b := newBackend(t)
			p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Rules: []faults.Rule{
				{Action: "CreateSnapshot", Fault: tc.fault, First: 1, Delay: tc.minDuration}}})
			start := time.Now()
			status, body, err := call(t, p, "CreateSnapshot")
			took := time.Since(start)
			switch {
			case tc.status == 0 && (err == nil || !strings.Contains(err.Error(), "connection reset")):
				t.Errorf("got HTTP %d, %v; want the connection reset", status, err)
			case tc.status != 0 && (err != nil || status != tc.status):
				t.Errorf("got HTTP %d, %v; want HTTP %d", status, err, tc.status)
			}
			if tc.code != "" {
				want := fmt.Sprintf("<Response><Errors><Error><Code>%s</Code><Message>", tc.code)
				if !strings.Contains(body, want) || !strings.Contains(body, "<RequestID>") {
					t.Errorf("body %q is not EC2's error document for %s", body, tc.code)
				}
			}
			if took < tc.minDuration {
				t.Errorf("answered after %s, want at least %s", took, tc.minDuration)
			}
			if got, want := b.got("CreateSnapshot"), map[bool]int{false: 0, true: 1}[tc.reachedEC2]; got != want {
				t.Errorf("the target received %d requests, want %d", got, want)
			}
			// The rule has spent its First; the next request goes through,
			// and another action was never touched.
			if status, _, err := call(t, p, "CreateSnapshot"); err != nil || status != 200 {
				t.Errorf("second request: HTTP %d, %v; want 200", status, err)
			}
			if status, _, err := call(t, p, "DeleteSnapshot"); err != nil || status != 200 {
				t.Errorf("other action: HTTP %d, %v; want 200", status, err)
			}
			wantForwarded := b.got("CreateSnapshot")
			c := p.Counts()["CreateSnapshot"]
			if c.Attempts != 2 || c.Faults[tc.fault] != 1 || len(c.Faults) != 1 || c.Forwarded != wantForwarded {
				t.Errorf("counts %+v; want 2 attempts, 1 %s, %d forwarded", c, tc.fault, wantForwarded)
			}
		})
	}
}

func TestProxyRuleMatchesPrefixAndEveryAction(t *testing.T) {
	b := newBackend(t)
	p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "Describe*", Fault: faults.Throttle, First: 2},
		{Action: "", Fault: faults.ServerError, First: 3},
	}})
	var got []int
	for _, action := range []string{"DescribeVolumes", "DescribeImages", "CreateSnapshot", "DescribeVolumes"} {
		status, _, err := call(t, p, action)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, status)
	}
	// The "" rule matched all four requests: its First 3 were spent on the
	// first three, of which the first two had the Describe* throttle.
	if want := []int{503, 503, 500, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// statuses sends n requests of action one after the other and returns the
// outcome of each (an HTTP status, 0 for a connection error).
func statuses(t *testing.T, p *faults.Proxy, action string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i], _, _ = call(t, p, action)
	}
	return out
}

func TestProxySeededRatesRepeatAndAreCounted(t *testing.T) {
	b := newBackend(t)
	rules := []faults.Rule{
		{Fault: faults.Throttle, Rate: 0.2},
		{Fault: faults.ServerError, Rate: 0.05},
		{Fault: faults.ResetBefore, Rate: 0.05},
	}
	const n = 400
	run := func(seed uint64) ([]int, faults.ActionCounts) {
		p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Seed: seed, Rules: rules})
		return statuses(t, p, "DescribeSnapshots", n), p.Counts()["DescribeSnapshots"]
	}
	first, counts := run(7)
	again, _ := run(7)
	other, _ := run(8)
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Error("the same seed gave different faults")
	}
	if fmt.Sprint(first) == fmt.Sprint(other) {
		t.Error("seeds 7 and 8 gave the same faults")
	}
	seen := map[int]int{}
	for _, s := range first {
		seen[s]++
	}
	want := map[int]faults.Fault{503: faults.Throttle, 500: faults.ServerError, 0: faults.ResetBefore}
	for status, fault := range want {
		if seen[status] != counts.Faults[fault] {
			t.Errorf("%s: the client saw %d, the proxy counted %d", fault, seen[status], counts.Faults[fault])
		}
	}
	if counts.Attempts != n || counts.Forwarded != seen[200] {
		t.Errorf("counts %+v; want %d attempts and %d forwarded", counts, n, seen[200])
	}
	// Loose bounds (about 4 standard deviations) on the drawn fractions.
	for fault, bounds := range map[faults.Fault][2]int{faults.Throttle: {50, 110}, faults.ServerError: {6, 38}, faults.ResetBefore: {6, 38}} {
		if got := counts.Faults[fault]; got < bounds[0] || got > bounds[1] {
			t.Errorf("%s: %d of %d requests, want between %d and %d", fault, got, n, bounds[0], bounds[1])
		}
	}
}

func TestProxyBuckets(t *testing.T) {
	b := newBackend(t)
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		action string
		extra  []string
		scale  float64
		burst  int
		refill int // tokens in one second at the scale
	}{
		{name: "CreateSnapshot", action: "CreateSnapshot", burst: 100, refill: 5},
		{name: "DeleteSnapshot scaled", action: "DeleteSnapshot", scale: 4, burst: 100, refill: 20},
		{name: "CreateTags", action: "CreateTags", burst: 100, refill: 10},
		{name: "paginated Describe", action: "DescribeSnapshots", extra: []string{"MaxResults", "1000"}, burst: 100, refill: 20},
		{name: "unfiltered Describe", action: "DescribeVolumes", burst: 50, refill: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := clock
			p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Buckets: true, BucketScale: tc.scale, Now: func() time.Time { return now }})
			before := b.got(tc.action)
			ok := func(n int) int {
				var passed int
				for range n {
					if status, _, err := call(t, p, tc.action, tc.extra...); err == nil && status == 200 {
						passed++
					}
				}
				return passed
			}
			if got := ok(tc.burst + 1); got != tc.burst {
				t.Errorf("a full bucket let %d of %d requests through, want the burst %d", got, tc.burst+1, tc.burst)
			}
			now = now.Add(time.Second)
			if got := ok(tc.refill + 3); got != tc.refill {
				t.Errorf("a second later %d requests passed, want %d", got, tc.refill)
			}
			c := p.Counts()[tc.action]
			if c.BucketThrottled != 4 || c.Forwarded != tc.burst+tc.refill || b.got(tc.action)-before != c.Forwarded {
				t.Errorf("counts %+v; want 4 throttled by the bucket, %d forwarded", c, tc.burst+tc.refill)
			}
		})
	}
}

func TestProxyBucketsAreSeparate(t *testing.T) {
	b := newBackend(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Buckets: true, Now: func() time.Time { return now }})
	statuses(t, p, "CreateSnapshot", 100)
	for _, action := range []string{"DeleteSnapshot", "CreateSnapshots", "DescribeInstances", "RunInstances"} {
		if status, _, _ := call(t, p, action); status != 200 {
			t.Errorf("%s after CreateSnapshot's bucket emptied: HTTP %d, want 200", action, status)
		}
	}
	if status, _, _ := call(t, p, "CreateSnapshot"); status != 503 {
		t.Errorf("CreateSnapshot: HTTP %d, want 503", status)
	}
}

// fatalRecorder is a testing.TB whose Fatalf ends only the goroutine it
// runs on, so that a test can check that a helper refuses its input.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestProxyRefusesANonLoopbackTarget(t *testing.T) {
	for _, target := range []string{"https://ec2.us-east-1.amazonaws.com", "http://10.0.0.1:5000", "::"} {
		r := &fatalRecorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			faults.NewProxy(r, target, faults.ProxyOptions{})
		}()
		<-done
		if r.msg == "" {
			t.Errorf("NewProxy accepted %q", target)
		}
	}
}

// A Reject rule narrowed by When answers EC2's refusal only to the requests
// When accepts; the others reach the target.
func TestProxyRejectWhen(t *testing.T) {
	b := newBackend(t)
	p := faults.NewProxy(t, b.URL, faults.ProxyOptions{Rules: []faults.Rule{{
		Action: "DescribeInstances", Fault: faults.Reject, First: 100,
		Code: "InvalidParameterValue", Message: "The filter 'tags:env' is invalid",
		When: func(form url.Values) bool { return form.Get("Filter.1.Name") == "tags:env" },
	}}})
	status, body, err := call(t, p, "DescribeInstances", "Filter.1.Name", "tags:env")
	if err != nil || status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidParameterValue</Code>") ||
		!strings.Contains(body, "The filter &#39;tags:env&#39; is invalid") {
		t.Errorf("rejected request: status %d, err %v, body %s", status, err, body)
	}
	if status, _, err := call(t, p, "DescribeInstances", "Filter.1.Name", "tag:env"); err != nil || status != http.StatusOK {
		t.Errorf("other filter: status %d, err %v; want 200 from the target", status, err)
	}
	if got := b.got("DescribeInstances"); got != 1 {
		t.Errorf("target saw %d DescribeInstances, want 1 (only the accepted filter)", got)
	}
	if got := p.Counts()["DescribeInstances"].Faults[faults.Reject]; got != 1 {
		t.Errorf("counted %d rejects, want 1", got)
	}
}
