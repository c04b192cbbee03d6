package deploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// ParamReservedConcurrency is the template's reserved concurrency of each
// worker (each fan-out then reserves 1; 0 reserves none).
const ParamReservedConcurrency = "ReservedConcurrency"

// ErrConcurrencyQuota is returned by Run when a new stack's reserved
// concurrency would leave the account less unreserved concurrency than
// Lambda keeps (100, or the whole quota when it is below 100: Lambda
// Developer Guide, "Configuring reserved concurrency"), which would fail
// the stack's creation halfway.
var ErrConcurrencyQuota = errors.New("the account's Lambda concurrency quota is too small for the stack's reserved concurrency")

// checkConcurrency asks Lambda GetAccountSettings how much concurrency is
// unreserved and fails with a *ConcurrencyQuotaError when the stack's
// reservation (value, per worker, and 1 per fan-out and for the report
// function when report is true) would leave less than Lambda keeps
// unreserved. An answer it cannot get (an emulator
// without the call) is a warning on warn, not an error: CloudFormation
// still checks.
func checkConcurrency(ctx context.Context, api LambdaAPI, value string, report bool, region string, warn func(string, ...any)) error {
	n, err := strconv.Atoi(value)
	if err != nil || n == 0 {
		return nil
	}
	out, err := api.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || out.AccountLimit == nil || out.AccountLimit.UnreservedConcurrentExecutions == nil {
		warn("concurrency quota not checked in %s: %v", region, err)
		return nil
	}
	limit := int(out.AccountLimit.ConcurrentExecutions)
	unreserved := int(aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions))
	keep := min(100, limit)
	want, singles := 3*n+3, "3 fan-outs"
	if report {
		want, singles = want+1, "3 fan-outs and the report function"
	}
	if unreserved-want < keep {
		return &ConcurrencyQuotaError{Parameter: ParamReservedConcurrency, Want: want, PerWorker: n, Singles: singles,
			Unreserved: unreserved, Region: region, Keep: keep, Limit: limit}
	}
	return nil
}

// ParamWorkerMaxConcurrency is the template's most concurrent invocations
// of each worker that its queue's event source mapping starts.
const ParamWorkerMaxConcurrency = "WorkerMaxConcurrency"

// checkQueueConcurrency fails when a worker's queue may start more
// invocations at once (WorkerMaxConcurrency) than the worker may run
// (ReservedConcurrency, when not 0): Lambda throttles the extra ones, and
// their messages, received again and again, end in the dead-letter queue
// (Lambda Developer Guide, "Configuring maximum concurrency for Amazon SQS
// event sources"). value gives a parameter's value for the stack.
func checkQueueConcurrency(value func(name string) string) error {
	reserved, err1 := strconv.Atoi(value(ParamReservedConcurrency))
	most, err2 := strconv.Atoi(value(ParamWorkerMaxConcurrency))
	if err1 != nil || err2 != nil || reserved == 0 || most <= reserved {
		return nil
	}
	return fmt.Errorf("%s=%d is more than %s=%d: the queues would start invocations Lambda throttles, and their cells would end in the dead-letter queue; set --parameter %s=%d or less, or %s=%d or more (or 0)",
		ParamWorkerMaxConcurrency, most, ParamReservedConcurrency, reserved, ParamWorkerMaxConcurrency, reserved, ParamReservedConcurrency, most)
}
