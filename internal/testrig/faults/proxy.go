package faults

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
)

// Fault is what a Proxy does to a request a Rule picks.
type Fault int

const (
	// Throttle answers HTTP 503 RequestLimitExceeded, as EC2 does when the
	// account's request bucket is empty, without forwarding.
	Throttle Fault = iota + 1
	// ServerError answers HTTP 500 InternalError without forwarding.
	ServerError
	// ResetBefore resets the connection (TCP RST) without forwarding: the
	// action did not happen and the client gets a connection error.
	ResetBefore
	// DropAfter forwards the request, waits for the target's answer and
	// then resets the connection instead of returning it: the action
	// happened and the client does not know.
	DropAfter
	// Delay waits Rule.Delay (or until the client gives up) and then
	// handles the request as if no rule had picked it.
	Delay
	// Reject answers HTTP 400 with Rule.Code and Rule.Message without
	// forwarding, as EC2 does for a request it refuses (for example
	// InvalidParameterValue for a filter name it does not know).
	Reject
)

func (f Fault) String() string {
	switch f {
	case Throttle:
		return "throttle"
	case ServerError:
		return "server-error"
	case ResetBefore:
		return "reset-before"
	case DropAfter:
		return "drop-after"
	case Delay:
		return "delay"
	case Reject:
		return "reject"
	default:
		return fmt.Sprintf("Fault(%d)", int(f))
	}
}

// Rule injects Fault into the requests of Action: first into the First
// requests the rule matches, then into each further one with probability
// Rate (0 to 1). Action is an EC2 Query API action such as
// "CreateSnapshot"; "" matches every action and a trailing "*" matches a
// prefix ("Describe*").
//
// A request gets at most one fault: the rules are tried in order, First
// before Rate, and the Rates of the rules matching an action share one
// seeded draw per request, so rates of 0.2 and 0.05 fault 20 % and 5 % of
// the requests, never the same one.
type Rule struct {
	Action string
	Fault  Fault
	First  int
	Rate   float64
	// Delay is how long a Delay fault holds the request.
	Delay time.Duration
	// Code and Message are the EC2 error a Reject fault answers.
	Code, Message string
	// When, if set, narrows the rule to the requests whose Query API
	// parameters it accepts (for example one filter name).
	When func(form url.Values) bool
	// Region, if set, narrows the rule to the requests signed for that
	// region (the SigV4 credential scope of their Authorization header).
	Region string
}

func (r Rule) matches(action, region string, form url.Values) bool {
	if r.When != nil && !r.When(form) {
		return false
	}
	if r.Region != "" && r.Region != region {
		return false
	}
	if prefix, ok := strings.CutSuffix(r.Action, "*"); ok {
		return strings.HasPrefix(action, prefix)
	}
	return r.Action == "" || r.Action == action
}

// ProxyOptions configure a Proxy. The zero value forwards everything.
type ProxyOptions struct {
	// Seed seeds the draws of the rules' rates (math/rand/v2 PCG): the
	// same seed and the same sequence of requests give the same faults.
	Seed uint64
	// Rules are tried in order for each request.
	Rules []Rule
	// Buckets enforces EC2's request token buckets (see Bucket): a request
	// whose bucket is empty is answered RequestLimitExceeded and not
	// forwarded.
	Buckets bool
	// BucketScale multiplies every bucket's refill rate (tokens a second),
	// so a test can drain and refill buckets quickly; the burst stays
	// EC2's. Zero means 1, EC2's rates.
	BucketScale float64
	// Now is the buckets' clock; nil means time.Now. A test that drives
	// buckets with a fixed clock gets exact answers.
	Now func() time.Time
}

// Bucket returns EC2's request token bucket for one request of action
// (form is the request's Query API parameters): the bucket's key (requests
// with one key share the bucket), its capacity (burst) and refill rate in
// tokens a second, and ok=false for actions the proxy leaves unlimited.
// The table is ebs.BucketFor's, the one the client's limiters use; a
// request with a Filter.*, MaxResults or NextToken parameter counts as
// filtered.
func Bucket(action string, form url.Values) (key string, burst int, refill float64, ok bool) {
	filtered := false
	for k := range form {
		if strings.HasPrefix(k, "Filter.") || k == "MaxResults" || k == "NextToken" {
			filtered = true
		}
	}
	b, ok := ebs.BucketFor(action, filtered)
	return b.Key, b.Burst, b.Refill, ok
}

// ActionCounts are what a Proxy did with one action's requests.
type ActionCounts struct {
	// Attempts counts the requests received, each SDK retry included.
	Attempts int
	// Forwarded counts the requests passed to the target, DropAfter's
	// included (their action happened).
	Forwarded int
	// BucketThrottled counts the requests answered RequestLimitExceeded
	// because the action's token bucket was empty.
	BucketThrottled int
	// Faults counts the faults the rules injected, by kind.
	Faults map[Fault]int
}

// Proxy is a loopback HTTP server in front of an EC2 endpoint (moto's, or
// another loopback server) that injects EC2's failures per action: rule
// faults at seeded rates, EC2's token buckets, and counts of everything.
// Point an SDK client's BaseEndpoint (or AWS_ENDPOINT_URL) at URL. It
// speaks HTTP/1.1, which the resets and drops need.
type Proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:port.
	URL string

	srv     *httptest.Server
	forward *httputil.ReverseProxy
	opts    ProxyOptions

	mu      sync.Mutex
	rnd     *rand.Rand
	matched []int // requests matched so far, per rule
	buckets map[string]*rate.Limiter
	counts  map[string]*ActionCounts
	reqID   int
}

// NewProxy starts a Proxy in front of target, which must be a loopback URL
// (the proxy never sends traffic elsewhere), and closes it when t ends. It
// fails t on a target that is not a loopback URL or a rule without a fault.
func NewProxy(t testing.TB, target string, opts ProxyOptions) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("faults proxy: target %q: %v", target, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("faults proxy: target %q is not a loopback URL", target)
	}
	p := newFaults(t, opts)
	p.forward = httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// newFaults returns a Proxy's rules, buckets and counts, without a
// server; it fails t on a rule without a fault.
func newFaults(t testing.TB, opts ProxyOptions) *Proxy {
	t.Helper()
	for i, r := range opts.Rules {
		if r.Fault < Throttle || r.Fault > Reject || r.Rate < 0 || r.Rate > 1 {
			t.Fatalf("faults proxy: rule %d (%+v): want a Fault and a Rate between 0 and 1", i, r)
		}
	}
	if opts.BucketScale == 0 {
		opts.BucketScale = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Proxy{
		opts:    opts,
		rnd:     rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		matched: make([]int, len(opts.Rules)),
		buckets: map[string]*rate.Limiter{},
		counts:  map[string]*ActionCounts{},
	}
}

// Close stops the proxy; closing it twice is harmless.
func (p *Proxy) Close() {
	if p.srv != nil {
		p.srv.Close()
	}
}

// Counts returns a copy of the counts so far, by EC2 action.
func (p *Proxy) Counts() map[string]ActionCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]ActionCounts, len(p.counts))
	for action, c := range p.counts {
		cp := *c
		cp.Faults = make(map[Fault]int, len(c.Faults))
		for f, n := range c.Faults {
			cp.Faults[f] = n
		}
		out[action] = cp
	}
	return out
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	// EC2's Query API names the action in the form body; read it, then
	// hand the same bytes on.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")

	rule := p.pick(action, signedRegion(r.Header.Get("Authorization")), form)
	if rule.Fault == Delay {
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch rule.Fault {
	case Throttle:
		p.writeError(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		return
	case ServerError:
		p.writeError(w, http.StatusInternalServerError, "InternalError", "An internal error has occurred.")
		return
	case ResetBefore:
		reset(w)
		return
	case Reject:
		p.writeError(w, http.StatusBadRequest, rule.Code, rule.Message)
		return
	}
	if !p.take(action, form) {
		p.writeError(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		return
	}
	p.count(action, func(c *ActionCounts) { c.Forwarded++ })
	if rule.Fault == DropAfter {
		// The target acts and answers; the answer is thrown away.
		p.forward.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
		return
	}
	p.forward.ServeHTTP(w, r)
}

// signedRegion is the region of a SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/ec2/aws4_request,
// ..."), or "" for another header.
func signedRegion(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}

// pick counts the attempt and returns the rule whose fault the request
// gets (the zero Rule for none).
func (p *Proxy) pick(action, region string, form url.Values) Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.countsFor(action)
	c.Attempts++
	// One draw per request, whether or not a rule uses it, so that the nth
	// request gets the same draw under any set of rules.
	u := p.rnd.Float64()
	chosen := -1
	for i, r := range p.opts.Rules {
		if !r.matches(action, region, form) {
			continue
		}
		p.matched[i]++
		if chosen < 0 && p.matched[i] <= r.First {
			chosen = i
		}
	}
	var cum float64
	for i, r := range p.opts.Rules {
		if chosen >= 0 {
			break
		}
		if r.matches(action, region, form) {
			if cum += r.Rate; u < cum {
				chosen = i
			}
		}
	}
	if chosen < 0 {
		return Rule{}
	}
	r := p.opts.Rules[chosen]
	c.Faults[r.Fault]++
	return r
}

// take spends a token of the request's bucket, and reports false (counted)
// when it is empty.
func (p *Proxy) take(action string, form url.Values) bool {
	if !p.opts.Buckets {
		return true
	}
	key, burst, refill, ok := Bucket(action, form)
	if !ok {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(refill*p.opts.BucketScale), burst)
		p.buckets[key] = b
	}
	if b.AllowN(p.opts.Now(), 1) {
		return true
	}
	p.countsFor(action).BucketThrottled++
	return false
}

func (p *Proxy) count(action string, f func(*ActionCounts)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.countsFor(action))
}

// countsFor returns action's counts; callers hold p.mu.
func (p *Proxy) countsFor(action string) *ActionCounts {
	c := p.counts[action]
	if c == nil {
		c = &ActionCounts{Faults: map[Fault]int{}}
		p.counts[action] = c
	}
	return c
}

// writeError answers as EC2 does, with a request id of the proxy's.
func (p *Proxy) writeError(w http.ResponseWriter, status int, code, message string) {
	p.mu.Lock()
	p.reqID++
	id := fmt.Sprintf("faults-proxy-%08d", p.reqID)
	p.mu.Unlock()
	WriteError(w, status, code, message, id)
}

// WriteError answers an EC2 Query API request with an error as EC2 does:
// the HTTP status and EC2's XML error document (EC2 API Reference, "Error
// codes for the Amazon EC2 API"), which the SDK turns into a
// smithy.APIError with this code and message.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	type ec2Error struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	doc := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []ec2Error `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}{Errors: []ec2Error{{code, message}}, RequestID: requestID}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(doc)
}

// reset closes the client's connection with a TCP RST (linger 0), as a
// middlebox or a crashed endpoint would, without an HTTP answer.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic("faults proxy: hijack: " + err.Error())
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// RejectFilter is a rule that answers every DescribeInstances filtering
// on name with InvalidParameterValue "The filter '<name>' is invalid", as
// EC2 answers a filter it does not know (moto accepts more names than EC2).
func RejectFilter(name string) Rule {
	return Rule{
		Action: "DescribeInstances", Fault: Reject, First: math.MaxInt,
		Code: "InvalidParameterValue", Message: fmt.Sprintf("The filter '%s' is invalid", name),
		When: func(form url.Values) bool {
			for k, v := range form {
				if strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name") && slices.Contains(v, name) {
					return true
				}
			}
			return false
		},
	}
}
