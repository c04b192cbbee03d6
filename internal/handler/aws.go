package handler

import (
	"context"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// This file is the handler's adapter: the only one of the package to
// import AWS SDK service packages (the layering test in
// cmd/ebs-snapper checks it). The fan-outs and workers call SNS and
// EventBridge through the functions below.

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

// sdkClients returns the SNS and EventBridge clients of cfg
// (awsclient.Load's).
func sdkClients(cfg aws.Config) (SNSAPI, EventsAPI) {
	return sns.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
}

// publishMessage publishes body to topic (SNS Publish:
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
func publishMessage(ctx context.Context, api SNSAPI, topic, body string) error {
	_, err := api.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(body)})
	return err
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
