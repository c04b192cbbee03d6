package handler

import (
	"context"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSAPI lists exactly the SNS operations the handlers call, with the SDK's
// signatures: *sns.Client implements it, tests record the calls.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// EventsAPI lists exactly the EventBridge operations the handlers call
// (the snapshot fan-out switching the replication rule).
type EventsAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	EnableRule(ctx context.Context, in *eventbridge.EnableRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error)
	DisableRule(ctx context.Context, in *eventbridge.DisableRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DisableRuleOutput, error)
}

var (
	_ SNSAPI    = (*sns.Client)(nil)
	_ EventsAPI = (*eventbridge.Client)(nil)
)

// IAMActions returns, sorted, the IAM actions of every AWS operation the
// handlers' adapters can call ("events:DescribeRule", "sns:Publish", ...),
// derived from SNSAPI and EventsAPI so that the template's policy test
// follows the code. An IAM action is named like the API operation, which
// is the SDK method's name.
func IAMActions() []string {
	var actions []string
	for prefix, api := range map[string]reflect.Type{
		"sns":    reflect.TypeFor[SNSAPI](),
		"events": reflect.TypeFor[EventsAPI](),
	} {
		for m := range api.Methods() {
			actions = append(actions, prefix+":"+m.Name)
		}
	}
	slices.Sort(actions)
	return actions
}
