// Package awsclient loads the AWS SDK configuration once per process: the
// standard credential chain and profiles, AWS_ENDPOINT_URL for emulators
// (the SDK reads it itself), retries tuned for throttling (Retryer), and a
// middleware that counts API calls by service and operation.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// DefaultRegion is used when neither a flag nor the AWS configuration
// names a region, as the original did.
const DefaultRegion = "us-east-1"

// Retry settings of every AWS call (Retryer). The run's context deadline
// bounds the retries too: the Lambda's invoke deadline, the CLI's signal.
const (
	// MaxAttempts bounds the attempts of one call, throttles included. At
	// 20 % throttles and 9 % other faults, ten straight failures happen to
	// one call in about 120,000; twenty, never in practice. A call that
	// fails every attempt is reported with its last error (the SDK's
	// MaxAttemptsError wraps it).
	MaxAttempts = 20
	// MaxBackoff caps the wait between two attempts. The SDK's default,
	// 20 s, lets a few unlucky calls sleep through a good part of a
	// Lambda's budget while the bucket has tokens again after a second.
	MaxBackoff = 10 * time.Second
)

// Retryer returns the retryer of every AWS call: the SDK's standard
// retryer with MaxAttempts attempts at most, MaxBackoff between them, and
// no client-side retry quota.
//
// Why no quota: the standard retryer draws every retry from a bucket of
// 500 tokens shared by all calls of the client (14 a retry, 5 a throttled
// one, refunded when the retry succeeds, +1 for a call that succeeds at
// once) and stops retrying while the bucket is empty, so that a client
// facing a service outage backs off. A snapshot run is the opposite case:
// thousands of independent calls against a service that is up but
// throttles, where every abandoned retry is a volume without its snapshot
// (docs/performance.md has the run that shows it). What bounds retries
// instead: MaxAttempts, the backoff, the run's deadline, and the pace the
// EC2 adapter keeps (package ebs paces every attempt to EC2's bucket).
//
// Why not adaptive mode: its client-side rate is one rate for every call
// sharing the retryer, cut by 30 % at each throttle whatever bucket the
// throttle came from, while the EC2 adapter already paces each EC2 bucket
// at its published rate; and while its bucket is a rounding error short
// of a token it asks to wait 0 s and spins (aws/retry's
// adaptiveRateLimit.AcquireToken), which never yields on a virtual clock.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = MaxAttempts
		so.MaxBackoff = MaxBackoff
		so.RateLimiter = ratelimit.None
	})
}

// Load returns the SDK configuration. region overrides the configured one;
// the result always has a region. calls, when non-nil, counts every API
// call made with the configuration. Its retryer is Retryer.
func Load(ctx context.Context, region string, calls *Calls) (aws.Config, error) {
	return LoadWith(ctx, Settings{Region: region}, calls)
}

// Settings are what the command line may set over the standard
// configuration, as aws-cli's global options do.
type Settings struct {
	// Region overrides the configured region ("" keeps it).
	Region string
	// Profile selects a shared configuration profile, as AWS_PROFILE
	// does ("" keeps the default or AWS_PROFILE).
	Profile string
	// Endpoint sends every call to this URL, as AWS_ENDPOINT_URL does.
	Endpoint string
}

// LoadWith is Load with the command line's settings. A profile that the
// shared files do not hold is a *awsconfig.SharedConfigProfileNotExistError
// as a *ProfileError.
func LoadWith(ctx context.Context, set Settings, calls *Calls) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithAppID("ebs-snapper"),
		awsconfig.WithRetryer(Retryer),
	}
	if set.Region != "" {
		opts = append(opts, awsconfig.WithRegion(set.Region))
	}
	if set.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(set.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	var noProfile awsconfig.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		return aws.Config{}, &ProfileError{Profile: noProfile.Profile, Err: err}
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if set.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(set.Endpoint)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if calls != nil {
		cfg.APIOptions = append(cfg.APIOptions, calls.register)
	}
	return cfg, nil
}

// Calls counts API calls by "Service.Operation", including every retry
// attempt, and how many of them AWS throttled. It is safe for concurrent
// use.
type Calls struct {
	mu     sync.Mutex
	counts map[string]*Count
	// throttledIn counts throttled calls by region, for the per-region
	// ThrottledCalls figure.
	throttledIn map[string]int
}

// Count is one row of Calls.Snapshot.
type Count struct {
	Operation string `json:"operation"`
	Calls     int    `json:"calls"`
	Throttled int    `json:"throttled,omitempty"`
}

// throttles is the SDK's own classification of throttling errors, so no
// error-code strings live here.
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// Counting returns a copy of cfg whose calls c counts too, so that the
// calls of one account of an organisation run are counted apart.
func (c *Calls) Counting(cfg aws.Config) aws.Config {
	out := cfg.Copy()
	out.APIOptions = append(out.APIOptions, c.register)
	return out
}

func (c *Calls) register(stack *middleware.Stack) error {
	// Finalize after the retry middleware runs once per attempt, so
	// retries are counted as calls: they spend rate-limit tokens just the
	// same.
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ebs-snapper-count",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
			out, md, err := next.HandleFinalize(ctx, in)
			throttled := err != nil && throttles.IsErrorThrottle(err) == aws.TrueTernary
			if throttled {
				slog.DebugContext(ctx, "throttled; the SDK retries", "operation", op, "region", awsmiddleware.GetRegion(ctx), "error", err)
			}
			c.add(op, awsmiddleware.GetRegion(ctx), throttled)
			return out, md, err
		}), middleware.After)
}

func (c *Calls) add(op, region string, throttled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]*Count{}
		c.throttledIn = map[string]int{}
	}
	n := c.counts[op]
	if n == nil {
		n = &Count{Operation: op}
		c.counts[op] = n
	}
	n.Calls++
	if throttled {
		n.Throttled++
		c.throttledIn[region]++
	}
}

// ThrottledIn returns how many calls to region AWS throttled; 0 on a nil
// *Calls (a run that does not count its calls, such as one on fakes).
func (c *Calls) ThrottledIn(region string) int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttledIn[region]
}

// Get returns the count of one "Service.Operation".
func (c *Calls) Get(op string) Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.counts[op]; n != nil {
		return *n
	}
	return Count{Operation: op}
}

// Snapshot returns the counts sorted by operation.
func (c *Calls) Snapshot() []Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Count, 0, len(c.counts))
	for _, n := range c.counts {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Operation < out[j].Operation })
	return out
}
