package handler

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// This file is the handler's adapter: the only one of the package to
// import AWS SDK service packages (the layering test in
// cmd/ebs-snapper checks it). The fan-outs and workers call SQS and
// EventBridge through the functions below.

// SQSAPI lists exactly the SQS operations the handlers call, with the
// SDK's signatures: *sqs.Client implements it, tests record the calls.
// (Lambda's event source mapping receives and deletes the messages with
// the worker's role; the code does not.)
type SQSAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// EventsAPI lists exactly the EventBridge operations the handlers call
// (the snapshot fan-out switching the replication rule).
type EventsAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	EnableRule(ctx context.Context, in *eventbridge.EnableRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error)
	DisableRule(ctx context.Context, in *eventbridge.DisableRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DisableRuleOutput, error)
}

var (
	_ SQSAPI    = (*sqs.Client)(nil)
	_ EventsAPI = (*eventbridge.Client)(nil)
)

// sdkClients returns the SQS and EventBridge clients of cfg
// (awsclient.Load's).
func sdkClients(cfg aws.Config) (SQSAPI, EventsAPI) {
	return sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
}

// sqsBatch is the most messages one SendMessageBatch takes (SQS API
// reference, SendMessageBatch:
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
const sqsBatch = 10

// sendMessages sends bodies to the queue, ten to a SendMessageBatch call,
// and returns one error per body, nil for each one sent: a call that fails
// fails its ten, an entry SQS refuses fails alone (with SQS's code and
// message).
func sendMessages(ctx context.Context, api SQSAPI, queue string, bodies []string) []error {
	errs := make([]error, len(bodies))
	for start := 0; start < len(bodies); start += sqsBatch {
		chunk := bodies[start:min(start+sqsBatch, len(bodies))]
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue)}
		for i, b := range chunk {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(start + i)), MessageBody: aws.String(b)})
		}
		out, err := api.SendMessageBatch(ctx, in)
		if err != nil {
			for i := range chunk {
				errs[start+i] = err
			}
			continue
		}
		for _, f := range out.Failed {
			if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= start && i < start+len(chunk) {
				errs[i] = fmt.Errorf("SQS refused the message: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
	}
	return errs
}

// ruleEnabled reports whether the EventBridge rule is enabled (any state
// but DISABLED, as EventBridge DescribeRule reports it:
// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html).
func ruleEnabled(ctx context.Context, api EventsAPI, rule string) (bool, error) {
	out, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)})
	if err != nil {
		return false, err
	}
	return out.State != ebtypes.RuleStateDisabled, nil
}

// switchRule enables or disables the EventBridge rule (EnableRule,
// DisableRule).
func switchRule(ctx context.Context, api EventsAPI, rule string, enable bool) error {
	var err error
	if enable {
		_, err = api.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String(rule)})
	} else {
		_, err = api.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(rule)})
	}
	return err
}

// IAMActions returns, sorted, the IAM actions of every AWS operation the
// handlers' adapters can call ("events:DescribeRule", "sns:Publish", ...),
// derived from SQSAPI and EventsAPI so that the template's policy test
// follows the code. An IAM action is named like the API operation, which
// is the SDK method's name, except where the service authorises an
// operation as another action (batchActions).
func IAMActions() []string {
	var actions []string
	for prefix, api := range map[string]reflect.Type{
		"sqs":    reflect.TypeFor[SQSAPI](),
		"events": reflect.TypeFor[EventsAPI](),
	} {
		for m := range api.Methods() {
			a := prefix + ":" + m.Name
			actions = append(actions, IAMAction(a))
		}
	}
	slices.Sort(actions)
	return actions
}

// batchActions maps the operations IAM has no action of their own for to
// the action that authorises them: SQS authorises SendMessageBatch as
// sqs:SendMessage ("Amazon SQS API permissions: Actions and resource
// reference", Amazon SQS Developer Guide).
var batchActions = map[string]string{"sqs:SendMessageBatch": "sqs:SendMessage"}

// IAMAction is the IAM action that authorises the operation named
// prefix:Operation ("sqs:SendMessageBatch" is "sqs:SendMessage").
func IAMAction(op string) string { return cmp.Or(batchActions[op], op) }
