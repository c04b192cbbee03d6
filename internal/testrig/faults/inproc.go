// Package faults injects EC2's failures into the product's calls: Proxy,
// an HTTP proxy in front of a real endpoint (moto, the EC2 simulator), and
// InProcess, the same faults and EC2's request buckets served by an
// ec2fake.Fake inside the SDK's middleware stack, with no sockets. Both
// answer throttles, server errors, resets, lost answers and delays as EC2
// and the network do, so the SDK's real retryer and the product's client
// meet them (docs/testing.md).
package faults

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// InProcess returns an SDK configuration whose EC2 clients are served by
// f inside the process, with opts' faults and buckets injected into every
// attempt exactly where a Proxy would: after the SDK's retryer, signing and
// the ebs client's per-attempt middleware, in place of the HTTP round trip.
// So the SDK's real retryer, backoff, retry quota and the client's limiters
// and attempt timeout all run, at fleet scale, without moto or sockets —
// and, inside a testing/synctest bubble, on its virtual clock, so a
// 30-minute run takes seconds. Faults look to the SDK as they would over
// HTTP: Throttle a 503 RequestLimitExceeded, ServerError a 500, ResetBefore
// and DropAfter a connection reset (DropAfter after f acted), Delay holds
// the attempt until Rule.Delay or its context ends.
//
// The returned Proxy holds the counts (Counts); it has no URL. The
// configuration's retryer is awsclient.Retryer; a test may replace it.
// Its endpoint is a closed loopback port, never reached.
func InProcess(t testing.TB, f *ec2fake.Fake, opts ProxyOptions) (aws.Config, *Proxy) {
	t.Helper()
	p := newFaults(t, opts)
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "faults"}, nil
		}),
		Retryer:    awsclient.Retryer,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error { return p.serveInProcess(s, f) }},
	}
	return cfg, p
}

type paramsKey struct{}

func (p *Proxy) serveInProcess(stack *middleware.Stack, f *ec2fake.Fake) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("faults-params",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, paramsKey{}, in.Parameters), in)
		}), middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("faults-in-process",
		func(ctx context.Context, in middleware.DeserializeInput, _ middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, err := p.attempt(ctx, in, f)
			return middleware.DeserializeOutput{Result: out}, middleware.Metadata{}, err
		}), middleware.Before)
}

// attempt is one request's trip through the faults and buckets to f.
func (p *Proxy) attempt(ctx context.Context, in middleware.DeserializeInput, f *ec2fake.Fake) (any, error) {
	action := awsmiddleware.GetOperationName(ctx)
	var form url.Values
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.GetStream() != nil {
		body, err := io.ReadAll(req.GetStream())
		if err != nil {
			return nil, err
		}
		form, _ = url.ParseQuery(string(body))
	}
	rule := p.pick(action, awsmiddleware.GetRegion(ctx), form)
	switch rule.Fault {
	case Delay:
		select {
		case <-time.After(rule.Delay):
		case <-ctx.Done():
			// What the SDK's HTTP client answers once the attempt's
			// context ends.
			return nil, &smithy.CanceledError{Err: ctx.Err()}
		}
	case Throttle:
		return nil, httpError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	case ServerError:
		return nil, httpError(http.StatusInternalServerError, "InternalError", "An internal error has occurred.")
	case ResetBefore:
		return nil, connReset()
	case Reject:
		return nil, httpError(http.StatusBadRequest, rule.Code, rule.Message)
	}
	if !p.take(action, form) {
		return nil, httpError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	}
	p.count(action, func(c *ActionCounts) { c.Forwarded++ })
	out, err := call(ctx, f, middleware.GetStackValue(ctx, paramsKey{}))
	if rule.Fault == DropAfter {
		return nil, connReset()
	}
	return out, err
}

// call hands one SDK input to the fake's operation of the same name.
func call(ctx context.Context, f *ec2fake.Fake, params any) (any, error) {
	switch in := params.(type) {
	case *ec2.DescribeRegionsInput:
		return f.DescribeRegions(ctx, in)
	case *ec2.DescribeInstancesInput:
		return f.DescribeInstances(ctx, in)
	case *ec2.DescribeVolumesInput:
		return f.DescribeVolumes(ctx, in)
	case *ec2.DescribeSnapshotsInput:
		return f.DescribeSnapshots(ctx, in)
	case *ec2.DescribeImagesInput:
		return f.DescribeImages(ctx, in)
	case *ec2.CreateSnapshotInput:
		return f.CreateSnapshot(ctx, in)
	case *ec2.DeleteSnapshotInput:
		return f.DeleteSnapshot(ctx, in)
	}
	return nil, fmt.Errorf("faults in-process EC2: no fake operation for %T", params)
}

// httpError is an EC2 error answer as the SDK's deserializer returns it: an
// API error with its code inside a response error with the status.
func httpError(status int, code, message string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
		Err:      &smithy.GenericAPIError{Code: code, Message: message},
	}
}

// connReset is what the SDK's HTTP client returns for a connection reset.
func connReset() error {
	return &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
}
