package ebs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// DefaultAttemptTimeout bounds one attempt of one EC2 call. EC2 answers in
// well under a second, a 1,000-snapshot DescribeSnapshots page in a few;
// the margin is for moto, which takes tens of seconds to list a few
// thousand tagged snapshots. An attempt that reaches it is retried.
const DefaultAttemptTimeout = 60 * time.Second

// AttemptTimeoutError is one attempt of an EC2 call that got no answer
// within Options.AttemptTimeout while the call's own context was still
// live. The SDK's retryer retries it like a dropped connection (it is a
// Timeout and a RetryableError); the call fails with it only once every
// attempt timed out. It deliberately does not wrap the attempt's context
// error: the SDK never retries an error that wraps a cancellation.
type AttemptTimeoutError struct {
	// Operation is the EC2 action, such as "DescribeSnapshots".
	Operation string
	// Limit is the attempt's timeout.
	Limit time.Duration
}

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %s (per-attempt timeout)", e.Operation, e.Limit)
}

// Timeout reports true: the SDK's retryer retries timeouts.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// RetryableError reports true, for the SDK's RetryableError check.
func (e *AttemptTimeoutError) RetryableError() bool { return true }

// attempts holds one region's per-attempt middleware state: the limiters
// of EC2's buckets, created on first use, and the attempt timeout.
type attempts struct {
	opts    Options
	timeout time.Duration

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newAttempts(opts Options) *attempts {
	timeout := opts.AttemptTimeout
	if timeout == 0 {
		timeout = DefaultAttemptTimeout
	}
	return &attempts{opts: opts, timeout: timeout, limiters: map[string]*rate.Limiter{}}
}

// bucketKey carries the request's bucket from the Initialize step, which
// sees the input, to the per-attempt Finalize step, which does not.
type bucketKey struct{}

type requestBucket struct {
	action string
	bucket Bucket
	ok     bool
}

// register adds the three middlewares to an EC2 operation's stack: one
// that finds the request's bucket, and, right after the SDK's retry
// middleware (so once per attempt), one that waits for a token of that
// bucket and one that bounds the attempt.
func (a *attempts) register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ebs-snapper-bucket",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			action := awsmiddleware.GetOperationName(ctx)
			if slog.Default().Enabled(ctx, slog.LevelDebug) {
				slog.DebugContext(ctx, "ec2 request", "region", awsmiddleware.GetRegion(ctx), "action", action,
					"filters", loggedFilters(in.Parameters), "ids", countIDs(in.Parameters))
			}
			b, ok := BucketFor(action, filtered(in.Parameters))
			ctx = middleware.WithStackValue(ctx, bucketKey{}, requestBucket{action, b, ok})
			return next.HandleInitialize(ctx, in)
		}), middleware.After); err != nil {
		return err
	}
	if _, ok := stack.Finalize.Get("Retry"); !ok {
		// A stack that sends nothing, such as the one CopySnapshot runs
		// to presign its source-region URL: nothing to pace or bound.
		return nil
	}
	if err := stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ebs-snapper-rate-limit", a.wait), "Retry", middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ebs-snapper-attempt-timeout", a.bound), "ebs-snapper-rate-limit", middleware.After)
}

func (a *attempts) wait(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	rb, _ := middleware.GetStackValue(ctx, bucketKey{}).(requestBucket)
	if l := a.limiter(rb); l != nil {
		if err := l.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the %s rate limit: %w", rb.action, err)
		}
	}
	return next.HandleFinalize(ctx, in)
}

func (a *attempts) bound(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if a.timeout < 0 {
		return next.HandleFinalize(ctx, in)
	}
	actx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, md, err := next.HandleFinalize(actx, in)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &AttemptTimeoutError{Operation: awsmiddleware.GetOperationName(ctx), Limit: a.timeout}
	}
	return out, md, err
}

// limiter returns the limiter of rb's bucket (one per bucket key, shared
// by every action of that key), or nil for an action with no bucket.
func (a *attempts) limiter(rb requestBucket) *rate.Limiter {
	if !rb.ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.limiters[rb.bucket.Key]
	if l == nil {
		l = rate.NewLimiter(a.opts.rate(rb.action, rb.bucket))
		a.limiters[rb.bucket.Key] = l
	}
	return l
}

// filtered reports whether an SDK input has a filter or pagination
// (Filters, MaxResults or NextToken set): the test EC2 applies to pick a
// non-mutating call's bucket. Reflection keeps it to the field names the
// EC2 API shares, instead of one case per input type.
func filtered(params any) bool {
	v := reflect.Indirect(reflect.ValueOf(params))
	if v.Kind() != reflect.Struct {
		return false
	}
	for _, name := range []string{"Filters", "MaxResults", "NextToken"} {
		if f := v.FieldByName(name); f.IsValid() && !f.IsZero() {
			return true
		}
	}
	return false
}
