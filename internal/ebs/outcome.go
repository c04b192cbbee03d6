package ebs

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// CreateSnapshot has no ClientToken (EC2 API Reference, CreateSnapshot:
// unlike CreateVolume or RunInstances it takes no idempotency token), so
// every attempt that reaches EC2 can make a snapshot. The SDK's standard
// retryer retries connection resets, timeouts and 5xx answers: after a lost
// answer that makes a second snapshot of the volume. The adapter therefore
// lets the SDK retry a CreateSnapshot only on an error proving EC2 did not
// act, and reports every other failure after sending as
// inventory.ErrOutcomeUnknown, which the engine settles with one listing.

// sdkThrottles is the SDK's own classification of throttling errors
// (RequestLimitExceeded and the other codes of retry.DefaultThrottleErrorCodes,
// HTTP 429): EC2 refused the request from its token bucket without acting.
var sdkThrottles = retry.IsErrorThrottles(retry.DefaultThrottles)

// notActed reports whether err proves that EC2 did not act on the request:
// it throttled it, the connection was never made (a dial error such as
// "connection refused"), or EC2 answered with a client error (4xx: it
// refused the request). A reset or EOF after the request was written, a
// timeout, a cancelled context and a 5xx answer prove nothing.
func notActed(err error) bool {
	if sdkThrottles.IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	// The SDK wraps a failed send in a ResponseError too, with status 0:
	// only a status proves that EC2 answered.
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		return resp.HTTPStatusCode() < 500
	}
	// An API error without an HTTP response comes from the in-memory fake,
	// which marks EC2's refusals as client faults.
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultClient
}

// outcome wraps err, the error of a mutating call that was handed to the
// SDK, with inventory.ErrOutcomeUnknown unless it proves that EC2 did not
// act; either way classify's sentinels still match.
func outcome(err error) error {
	err = classify(err)
	if notActed(err) {
		return err
	}
	return fmt.Errorf("%w: %w", inventory.ErrOutcomeUnknown, err)
}

// unsentOnlyRetryer narrows the retryer it wraps to the errors that prove
// EC2 did not act (notActed): the wrapped retryer still decides backoff,
// attempts and, in adaptive mode, its client-side rate limiting.
type unsentOnlyRetryer struct{ aws.Retryer }

// IsErrorRetryable retries err only if the wrapped retryer would and EC2
// provably did not act.
func (r unsentOnlyRetryer) IsErrorRetryable(err error) bool {
	return r.Retryer.IsErrorRetryable(err) && notActed(err)
}

// GetAttemptToken delegates to the wrapped retryer, so that adaptive mode
// keeps blocking attempts on its rate limiter (the SDK would otherwise fall
// back to the deprecated GetInitialToken for a plain aws.Retryer).
func (r unsentOnlyRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}

var _ aws.RetryerV2 = unsentOnlyRetryer{}

// retryOnlyUnsent is the per-operation option of CreateSnapshot,
// CreateSnapshots and CopySnapshot (none takes a ClientToken): it wraps
// the client's retryer in unsentOnlyRetryer.
func retryOnlyUnsent(o *ec2.Options) {
	if o.Retryer != nil {
		o.Retryer = unsentOnlyRetryer{o.Retryer}
	}
}
