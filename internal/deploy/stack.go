package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// CloudFormationAPI lists the CloudFormation operations deploy calls.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, in *cfn.DescribeStacksInput, optFns ...func(*cfn.Options)) (*cfn.DescribeStacksOutput, error)
	GetTemplate(ctx context.Context, in *cfn.GetTemplateInput, optFns ...func(*cfn.Options)) (*cfn.GetTemplateOutput, error)
	CreateStack(ctx context.Context, in *cfn.CreateStackInput, optFns ...func(*cfn.Options)) (*cfn.CreateStackOutput, error)
	UpdateStack(ctx context.Context, in *cfn.UpdateStackInput, optFns ...func(*cfn.Options)) (*cfn.UpdateStackOutput, error)
	DeleteStack(ctx context.Context, in *cfn.DeleteStackInput, optFns ...func(*cfn.Options)) (*cfn.DeleteStackOutput, error)
	DescribeStackEvents(ctx context.Context, in *cfn.DescribeStackEventsInput, optFns ...func(*cfn.Options)) (*cfn.DescribeStackEventsOutput, error)
	ListStackResources(ctx context.Context, in *cfn.ListStackResourcesInput, optFns ...func(*cfn.Options)) (*cfn.ListStackResourcesOutput, error)
	ListStacks(ctx context.Context, in *cfn.ListStacksInput, optFns ...func(*cfn.Options)) (*cfn.ListStacksOutput, error)
	ChangeSetAPI
}

var _ CloudFormationAPI = (*cfn.Client)(nil)

// Waiting for a stack: CloudFormation takes a minute or two for this
// template; the waiters poll DescribeStacks between these delays.
const (
	stackWaitMin = 5 * time.Second
	stackWaitMax = 15 * time.Second
	stackWaitFor = 30 * time.Minute
)

// describeStack returns the live stack of that name, or nil when there is
// none (CloudFormation answers ValidationError "Stack with id … does not
// exist").
func describeStack(ctx context.Context, api CloudFormationAPI, name, region string) (*cfntypes.Stack, error) {
	out, err := api.DescribeStacks(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if errorCode(err) == "ValidationError" && strings.Contains(err.Error(), "does not exist") {
			return nil, nil
		}
		return nil, fmt.Errorf("describe stack %s in %s: %w", name, region, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// stackParameter returns the value of a parameter of a stack.
func stackParameter(s *cfntypes.Stack, name string) (string, bool) {
	for _, p := range s.Parameters {
		if aws.ToString(p.ParameterKey) == name {
			return aws.ToString(p.ParameterValue), true
		}
	}
	return "", false
}

// updatable explains why a stack in this status cannot be updated, with
// the fix, or returns nil.
func updatable(s *cfntypes.Stack) error {
	name, status := aws.ToString(s.StackName), s.StackStatus
	switch {
	case status == cfntypes.StackStatusRollbackComplete || status == cfntypes.StackStatusRollbackFailed || status == cfntypes.StackStatusCreateFailed:
		return &StackStateError{Stack: name, Status: string(status), CreateFailed: true}
	case status == cfntypes.StackStatusUpdateRollbackFailed:
		return fmt.Errorf("stack %s is %s: finish the rollback first (aws cloudformation continue-update-rollback --stack-name %s), then deploy again", name, status, name)
	case status == cfntypes.StackStatusDeleteFailed:
		return &StackStateError{Stack: name, Status: string(status)}
	case strings.HasSuffix(string(status), "_IN_PROGRESS"):
		return fmt.Errorf("stack %s is busy (%s): wait until it finishes, then deploy again", name, status)
	}
	// CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE (a failed
	// update rolled back: the stack works and takes updates) and the
	// IMPORT_* completions.
	return nil
}

// sameTemplate reports whether the stack already runs this template
// (compared as JSON values, so formatting does not matter).
func sameTemplate(ctx context.Context, api CloudFormationAPI, name string, body []byte) (bool, error) {
	out, err := api.GetTemplate(ctx, &cfn.GetTemplateInput{StackName: aws.String(name), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		return false, fmt.Errorf("get the template of stack %s: %w", name, err)
	}
	var have, want any
	if json.Unmarshal([]byte(aws.ToString(out.TemplateBody)), &have) != nil {
		// A YAML template (the Python tool's was JSON): not ours.
		return false, nil
	}
	if err := json.Unmarshal(body, &want); err != nil {
		return false, err
	}
	return reflect.DeepEqual(have, want), nil
}

// compactTemplate is the template as sent: compact JSON, well under
// CreateStack's 51,200-byte TemplateBody limit, so no S3 URL is needed.
func compactTemplate() ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, templateJSON); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stackResult says what happened to the stack.
type stackResult int

const (
	stackUnchanged stackResult = iota
	stackCreated
	stackUpdated
)

// applyStack creates the stack, or updates it when the template or a
// parameter deploy sets differs. set holds the parameters to set (deploy's
// own and the operator's --parameter values); every other parameter the
// stack has and the template still declares keeps its value
// (UsePreviousValue, or the template's default when that is the value),
// so an operator's earlier choices survive; a parameter new to the
// template takes its default.
//
// An update is a change set: its changes are printed on out and confirm
// is asked before it is executed (nil executes). A new stack is listed
// (its parameters) and confirmed likewise before CreateStack.
func applyStack(ctx context.Context, api CloudFormationAPI, stack *cfntypes.Stack, name, region string, set map[string]string, confirm Confirm, out, progress io.Writer) (stackResult, error) {
	body, err := compactTemplate()
	if err != nil {
		return 0, err
	}
	if stack == nil {
		var params []cfntypes.Parameter
		for _, k := range slices.Sorted(maps.Keys(set)) {
			params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(set[k])})
		}
		fmt.Fprintf(out, "stack %s (%s) will be created with these parameters (the rest take the template's defaults):\n", name, region)
		for _, k := range slices.Sorted(maps.Keys(set)) {
			fmt.Fprintf(out, "  parameter %s: %s\n", k, set[k])
		}
		if err := ask(confirm, fmt.Sprintf("Create stack %s in %s?", name, region)); err != nil {
			return 0, err
		}
		start := time.Now()
		if _, err := api.CreateStack(ctx, &cfn.CreateStackInput{
			StackName: aws.String(name), TemplateBody: aws.String(string(body)), Parameters: params,
			Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
		}); err != nil {
			return 0, fmt.Errorf("create stack %s in %s: %w", name, region, err)
		}
		w := cfn.NewStackCreateCompleteWaiter(api, func(o *cfn.StackCreateCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = stackWaitMin, stackWaitMax
			o.Retryable = reportProgress(o.Retryable, name, start, progress)
		})
		if err := w.Wait(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)}, stackWaitFor); err != nil {
			return 0, stackFailed(ctx, api, name, region, "create", err, progress)
		}
		return stackCreated, nil
	}
	if err := updatable(stack); err != nil {
		return 0, err
	}
	changed := false
	var params []cfntypes.Parameter
	for _, p := range Parameters() {
		k := p.Name
		cur, had := stackParameter(stack, k)
		switch v, ok := set[k]; {
		case ok:
			changed = changed || !had || cur != v
			params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
		case had && !(p.HasDefault && p.Default == cur):
			params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
		}
		// Otherwise the parameter is new to the stack, or holds the
		// template's default: leaving it out gives the same value (and
		// moto refuses UsePreviousValue for a parameter created from its
		// default).
	}
	if !changed {
		same, err := sameTemplate(ctx, api, name, body)
		if err != nil {
			return 0, err
		}
		if same {
			return stackUnchanged, nil
		}
	}
	cs, err := previewUpdate(ctx, api, stack, name, region, body, params, set, out)
	if err != nil || cs == "" {
		return stackUnchanged, err
	}
	if err := ask(confirm, fmt.Sprintf("Execute change set %s on stack %s in %s?", cs, name, region)); err != nil {
		_, _ = api.DeleteChangeSet(ctx, &cfn.DeleteChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)})
		return 0, err
	}
	start := time.Now()
	if _, err := api.ExecuteChangeSet(ctx, &cfn.ExecuteChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)}); err != nil {
		return 0, fmt.Errorf("execute change set %s on stack %s in %s: %w", cs, name, region, err)
	}
	w := cfn.NewStackUpdateCompleteWaiter(api, func(o *cfn.StackUpdateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = stackWaitMin, stackWaitMax
		o.Retryable = reportProgress(o.Retryable, name, start, progress)
	})
	if err := w.Wait(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)}, stackWaitFor); err != nil {
		return 0, stackFailed(ctx, api, name, region, "update", err, progress)
	}
	return stackUpdated, nil
}

// ask asks confirm, when set, and returns ErrDeclined for a no.
func ask(confirm Confirm, question string) error {
	if confirm == nil {
		return nil
	}
	ok, err := confirm(question)
	if err != nil {
		return err
	}
	if !ok {
		return ErrDeclined
	}
	return nil
}

// deleteStack deletes the stack and waits until it is gone.
func deleteStack(ctx context.Context, api CloudFormationAPI, name, region string, progress io.Writer) error {
	start := time.Now()
	if _, err := api.DeleteStack(ctx, &cfn.DeleteStackInput{StackName: aws.String(name)}); err != nil {
		return fmt.Errorf("delete stack %s in %s: %w", name, region, err)
	}
	w := cfn.NewStackDeleteCompleteWaiter(api, func(o *cfn.StackDeleteCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = stackWaitMin, stackWaitMax
		o.Retryable = reportProgress(o.Retryable, name, start, progress)
	})
	if err := w.Wait(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)}, stackWaitFor); err != nil {
		return stackFailed(ctx, api, name, region, "delete", err, progress)
	}
	return nil
}

type retryable = func(context.Context, *cfn.DescribeStacksInput, *cfn.DescribeStacksOutput, error) (bool, error)

// reportProgress wraps a waiter's state check so that every poll prints
// the stack's status and the time waited on progress.
func reportProgress(next retryable, name string, start time.Time, progress io.Writer) retryable {
	return func(ctx context.Context, in *cfn.DescribeStacksInput, out *cfn.DescribeStacksOutput, err error) (bool, error) {
		if out != nil && len(out.Stacks) > 0 {
			fmt.Fprintf(progress, "stack %s: %s (%s)\n", name, out.Stacks[0].StackStatus, time.Since(start).Round(time.Second))
		}
		return next(ctx, in, out, err)
	}
}

// stackFailed prints the failed resources' events of the latest
// operation on progress and returns an error naming the stack's status.
func stackFailed(ctx context.Context, api CloudFormationAPI, name, region, op string, waitErr error, progress io.Writer) error {
	status := "unknown"
	if s, err := describeStack(ctx, api, name, region); err == nil && s != nil {
		status = string(s.StackStatus)
	}
	events, err := failedEvents(ctx, api, name)
	if err != nil {
		fmt.Fprintf(progress, "stack %s: could not read its events: %v\n", name, err)
	}
	for _, e := range events {
		fmt.Fprintf(progress, "  %s (%s): %s: %s\n", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), e.ResourceStatus, aws.ToString(e.ResourceStatusReason))
	}
	return fmt.Errorf("%s stack %s in %s: %s: %w", op, name, region, status, waitErr)
}

// failedEvents returns the *_FAILED events of the stack's latest
// operation, oldest first: events come newest first, back to the stack's
// own "User Initiated" event that started the operation.
func failedEvents(ctx context.Context, api CloudFormationAPI, name string) ([]cfntypes.StackEvent, error) {
	var failed []cfntypes.StackEvent
	p := cfn.NewDescribeStackEventsPaginator(api, &cfn.DescribeStackEventsInput{StackName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return failed, err
		}
		for _, e := range page.StackEvents {
			if strings.HasSuffix(string(e.ResourceStatus), "_FAILED") {
				failed = append(failed, e)
			}
			if aws.ToString(e.LogicalResourceId) == name && aws.ToString(e.ResourceStatusReason) == "User Initiated" {
				slices.Reverse(failed)
				return failed, nil
			}
		}
	}
	slices.Reverse(failed)
	return failed, nil
}

// functionNames returns the physical names of the stack's functions,
// sorted.
func functionNames(ctx context.Context, api CloudFormationAPI, name string) ([]string, error) {
	var names []string
	p := cfn.NewListStackResourcesPaginator(api, &cfn.ListStackResourcesInput{StackName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the resources of stack %s: %w", name, err)
		}
		for _, r := range page.StackResourceSummaries {
			if aws.ToString(r.ResourceType) == "AWS::Lambda::Function" && aws.ToString(r.PhysicalResourceId) != "" {
				names = append(names, aws.ToString(r.PhysicalResourceId))
			}
		}
	}
	slices.Sort(names)
	return names, nil
}
