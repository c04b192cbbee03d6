// Package ec2sim is a fast EC2 simulator for fleet-scale tests and
// benchmarks: an HTTP server speaking the subset of the EC2 Query API that
// ebs-snapper calls, in front of one ec2fake.Fake per region, with EC2's
// request token buckets on a clock that can be virtual.
//
// moto takes minutes to list 10,000 tagged snapshots; the simulator pages
// through 100,000 in well under a second, and its state, filters and
// pagination are the Fake's own, so the Fake, the simulator and moto run
// one behaviour suite (ec2fake.RunSuite) and cannot drift apart.
//
// A request is decoded from its form into the SDK's input struct, served
// by the region's Fake, and the SDK's output struct is written back as
// EC2's XML (namespace http://ec2.amazonaws.com/doc/2016-11-15/), so the
// real aws-sdk-go-v2 EC2 client parses it. The region is the one the
// request is signed for (the SigV4 credential scope), so one server serves
// every region, as a single endpoint URL does for the SDK.
//
// Time: see Options.Now and docs/testing.md. Inside a testing/synctest
// bubble, served in-process (InProcess), time.Now is the bubble's
// virtual clock, which advances only while every goroutine waits (for
// the client's rate limiter, the SDK's retry back-off, a pending
// snapshot), so a 30-minute run takes the CPU time of its calls.
package ec2sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// Epoch is where the simulator's own virtual clock starts (UTC).
var Epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Options configure a Sim. The zero value serves us-east-1 with no token
// buckets on a virtual clock that only Advance moves.
type Options struct {
	// Regions are the regions served and listed by DescribeRegions; a
	// request signed for another region is answered AuthFailure, as EC2
	// answers for a region not enabled for the account. Empty means
	// us-east-1 alone.
	Regions []string
	// Buckets enforces EC2's request token buckets per region and action
	// (faults.Bucket's table: burst 100, 5/s CreateSnapshot, CreateSnapshots
	// and DeleteSnapshot, 20/s filtered or paginated Describe calls, ...):
	// a request finding its bucket empty is answered HTTP 503
	// RequestLimitExceeded and has no effect. Buckets start full.
	Buckets bool
	// BucketScale multiplies every bucket's refill rate (tokens a second);
	// zero means 1, EC2's published rates.
	BucketScale float64
	// PendingFor keeps created and copied snapshots pending for this long
	// on the simulator's clock (ec2fake.Fake.PendingFor); zero completes
	// them at once.
	PendingFor time.Duration
	// Latency holds every answer this long (time.Sleep: real time, or
	// the bubble's virtual time inside a testing/synctest bubble), as
	// EC2's round trip does; without it a virtual-time client would send
	// its Describe pages faster than any real one can.
	Latency time.Duration
	// Now is the simulator's clock, for the buckets' refills and the
	// snapshots' StartTime and completion. nil means a virtual clock that
	// starts at Epoch and moves only with Advance. Pass time.Now inside a
	// testing/synctest bubble to run on the bubble's virtual time.
	Now func() time.Time
}

// Counts are what the simulator did with one action's requests, in every
// region.
type Counts struct {
	// Calls counts the requests received, each SDK retry included.
	Calls int
	// Throttled counts the requests answered RequestLimitExceeded because
	// their token bucket was empty (they had no effect).
	Throttled int
	// Errors counts the other error answers (not found, in use, ...).
	Errors int
}

// Sim is the simulator. It is an http.Handler; Start serves it on
// 127.0.0.1 and InProcess serves it without a socket.
type Sim struct {
	opts    Options
	regions map[string]*ec2fake.Fake

	mu      sync.Mutex
	virtual time.Time // the own clock, when opts.Now is nil
	buckets map[string]*rate.Limiter
	counts  map[string]*Counts
	reqID   uint64
}

// New returns a simulator with empty regions. Seed them through Region.
func New(opts Options) *Sim {
	if len(opts.Regions) == 0 {
		opts.Regions = []string{"us-east-1"}
	}
	if opts.BucketScale == 0 {
		opts.BucketScale = 1
	}
	s := &Sim{
		opts:    opts,
		regions: map[string]*ec2fake.Fake{},
		virtual: Epoch,
		buckets: map[string]*rate.Limiter{},
		counts:  map[string]*Counts{},
	}
	names := slices.Sorted(slices.Values(opts.Regions))
	for _, name := range names {
		f := &ec2fake.Fake{Now: s.Now, PendingFor: opts.PendingFor}
		f.SetRegions(names...)
		s.regions[name] = f
	}
	// One account across the regions: CopySnapshot reads its source from
	// the fake of SourceRegion.
	ec2fake.Link(s.regions)
	return s
}

// Region returns the Fake behind a region, to seed it (AddInstance,
// AddSnapshot, Seeder, ...) and to inspect it. It panics for a region the
// simulator does not serve: that is a mistake in the test.
func (s *Sim) Region(name string) *ec2fake.Fake {
	f, ok := s.regions[name]
	if !ok {
		panic(fmt.Sprintf("ec2sim: region %q is not one of %v", name, s.opts.Regions))
	}
	return f
}

// Now is the simulator's time.
func (s *Sim) Now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.virtual
}

// Advance moves the simulator's own virtual clock forward by d: buckets
// refill and pending snapshots complete as if d had passed. It panics when
// Options.Now supplies the clock.
func (s *Sim) Advance(d time.Duration) {
	if s.opts.Now != nil {
		panic("ec2sim: Advance with Options.Now set; that clock moves by itself")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.virtual = s.virtual.Add(d)
}

// Counts returns a copy of the counts so far, by EC2 action.
func (s *Sim) Counts() map[string]Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Counts, len(s.counts))
	for a, c := range s.counts {
		out[a] = *c
	}
	return out
}

// Drain empties the token bucket of action in region now, as another tool
// of the account spending it would (the filtered bucket for a Describe
// action). It does nothing without Options.Buckets.
func (s *Sim) Drain(region, action string) {
	if !s.opts.Buckets {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucket(region, action, url.Values{"MaxResults": {"1000"}})
	if b != nil {
		now := s.clockLocked()
		b.AllowN(now, int(b.TokensAt(now)))
	}
}

// Start serves the simulator on 127.0.0.1 until t ends and returns its
// base URL, for an SDK client's BaseEndpoint or the binary's
// AWS_ENDPOINT_URL.
func (s *Sim) Start(t testing.TB) string {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Credentials are static test credentials for clients of the simulator,
// which reads the region from their signature and checks nothing else.
var Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDEC2SIM", SecretAccessKey: "ec2sim", Source: "ec2sim"}, nil
})

// InProcess returns cfg (retryer, API options and all) with its requests
// served in-process by the simulator, without a socket, signed with
// Credentials. Use it inside a testing/synctest bubble, where waiting on
// the network would stop the virtual clock. The endpoint is a loopback
// address that is never dialled.
func (s *Sim) InProcess(cfg aws.Config) aws.Config {
	cfg.HTTPClient = inProcess{s}
	cfg.BaseEndpoint = aws.String("http://127.0.0.1:1")
	cfg.Credentials = Credentials
	return cfg
}

// Client returns an SDK client for region that calls url (as Start
// returns it) with Credentials and the SDK's default retryer.
func Client(url, region string) *ec2.Client {
	return ec2.New(ec2.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: Credentials})
}

type inProcess struct{ h http.Handler }

func (c inProcess) Do(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// scope finds the region in a SigV4 Authorization header:
// "Credential=AKID/20261125/eu-west-1/ec2/aws4_request".
var scope = regexp.MustCompile(`Credential=[^/,]+/\d{8}/([a-z0-9-]+)/ec2/aws4_request`)

// ServeHTTP answers one EC2 Query API request (POST, form-encoded).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeError(w, "", http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	form := r.PostForm
	if len(form) == 0 {
		form = r.Form
	}
	action := form.Get("Action")
	s.count(action, func(c *Counts) { c.Calls++ })
	m := scope.FindStringSubmatch(r.Header.Get("Authorization"))
	var f *ec2fake.Fake
	if m != nil {
		f = s.regions[m[1]]
	}
	if f == nil {
		s.writeError(w, action, http.StatusUnauthorized, ebs.CodeAuthFailure, "AWS was not able to validate the provided access credentials (no SigV4 scope for a region this simulator serves)")
		return
	}
	h, ok := handlers[action]
	if !ok {
		s.writeError(w, action, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action))
		return
	}
	if !s.take(m[1], action, form) {
		s.count(action, func(c *Counts) { c.Throttled++ })
		s.writeError(w, "", http.StatusServiceUnavailable, ebs.CodeRequestLimitExceeded, "Request limit exceeded.")
		return
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	out, err := h(r.Context(), f, form)
	if err != nil {
		status, code, msg := httpError(err)
		s.writeError(w, action, status, code, msg)
		return
	}
	out.setHead(s.requestID())
	writeXML(w, out)
}

// handler serves one action on a region's Fake.
type handler func(ctx context.Context, f *ec2fake.Fake, form url.Values) (response, error)

var handlers = map[string]handler{
	"DescribeRegions":   describeRegions,
	"DescribeInstances": describeInstances,
	"DescribeVolumes":   describeVolumes,
	"DescribeSnapshots": describeSnapshots,
	"DescribeImages":    describeImages,
	"CreateSnapshot":    createSnapshot,
	"CreateSnapshots":   createSnapshots,
	"DeleteSnapshot":    deleteSnapshot,
	"CopySnapshot":      copySnapshot,
}

// take spends a token of the request's bucket and reports false when it
// is empty.
func (s *Sim) take(region, action string, form url.Values) bool {
	if !s.opts.Buckets {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucket(region, action, form)
	return b == nil || b.AllowN(s.clockLocked(), 1)
}

// bucket returns the request's bucket in region, nil for an unlimited
// action. Callers hold s.mu.
func (s *Sim) bucket(region, action string, form url.Values) *rate.Limiter {
	key, burst, refill, ok := faults.Bucket(action, form)
	if !ok {
		return nil
	}
	key = region + "/" + key
	b := s.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(refill*s.opts.BucketScale), burst)
		s.buckets[key] = b
	}
	return b
}

// clockLocked is Now for callers holding s.mu.
func (s *Sim) clockLocked() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return s.virtual
}

func (s *Sim) count(action string, f func(*Counts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts[action]
	if c == nil {
		c = &Counts{}
		s.counts[action] = c
	}
	f(c)
}

func (s *Sim) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqID++
	return fmt.Sprintf("ec2sim-%012d", s.reqID)
}

// writeError answers an EC2 error and counts it against action (throttles
// are counted apart, with action "").
func (s *Sim) writeError(w http.ResponseWriter, action string, status int, code, message string) {
	if action != "" {
		s.count(action, func(c *Counts) { c.Errors++ })
	}
	faults.WriteError(w, status, code, message, s.requestID())
}

// httpError maps a Fake error to EC2's answer: HTTP 400 for the caller's
// faults (InvalidSnapshot.NotFound, InvalidParameterValue, ...), 503 for a
// throttle, 500 InternalError for anything else.
func httpError(err error) (status int, code, message string) {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return http.StatusInternalServerError, "InternalError", err.Error()
	}
	switch {
	case ebs.IsThrottle(err):
		return http.StatusServiceUnavailable, apiErr.ErrorCode(), apiErr.ErrorMessage()
	case apiErr.ErrorFault() == smithy.FaultServer:
		return http.StatusInternalServerError, apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	return http.StatusBadRequest, apiErr.ErrorCode(), apiErr.ErrorMessage()
}
