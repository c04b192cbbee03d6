package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// StackSetAPI lists the CloudFormation StackSet operations deploy calls to
// install the spokes (AWS CloudFormation API reference, "StackSets"):
// *cfn.Client implements it.
type StackSetAPI interface {
	DescribeStackSet(ctx context.Context, in *cfn.DescribeStackSetInput, optFns ...func(*cfn.Options)) (*cfn.DescribeStackSetOutput, error)
	CreateStackSet(ctx context.Context, in *cfn.CreateStackSetInput, optFns ...func(*cfn.Options)) (*cfn.CreateStackSetOutput, error)
	UpdateStackSet(ctx context.Context, in *cfn.UpdateStackSetInput, optFns ...func(*cfn.Options)) (*cfn.UpdateStackSetOutput, error)
	DeleteStackSet(ctx context.Context, in *cfn.DeleteStackSetInput, optFns ...func(*cfn.Options)) (*cfn.DeleteStackSetOutput, error)
	CreateStackInstances(ctx context.Context, in *cfn.CreateStackInstancesInput, optFns ...func(*cfn.Options)) (*cfn.CreateStackInstancesOutput, error)
	DeleteStackInstances(ctx context.Context, in *cfn.DeleteStackInstancesInput, optFns ...func(*cfn.Options)) (*cfn.DeleteStackInstancesOutput, error)
	ListStackInstances(ctx context.Context, in *cfn.ListStackInstancesInput, optFns ...func(*cfn.Options)) (*cfn.ListStackInstancesOutput, error)
	DescribeStackSetOperation(ctx context.Context, in *cfn.DescribeStackSetOperationInput, optFns ...func(*cfn.Options)) (*cfn.DescribeStackSetOperationOutput, error)
	ListStackSetOperationResults(ctx context.Context, in *cfn.ListStackSetOperationResultsInput, optFns ...func(*cfn.Options)) (*cfn.ListStackSetOperationResultsOutput, error)
}

// OrganizationsAPI is the one Organizations call deploy makes: the hub's
// organization (its id for the spokes' aws:PrincipalOrgID, its management
// account for CallAs).
type OrganizationsAPI interface {
	DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

var (
	_ StackSetAPI      = (*cfn.Client)(nil)
	_ OrganizationsAPI = (*organizations.Client)(nil)
)

// Waiting for a StackSet operation: one IAM role per account takes
// CloudFormation seconds per account, and it runs accounts in parallel
// (operationPreferences).
const (
	operationPoll = 5 * time.Second
	operationWait = 60 * time.Minute
)

// operationPreferences deploy every account at once (IAM is global, so one
// region) and tolerate a tenth of them failing, so that one account whose
// execution role is missing does not stop the organisation's others; the
// failures are listed after the operation (operationFailures).
var operationPreferences = &cfntypes.StackSetOperationPreferences{
	MaxConcurrentPercentage:    aws.Int32(100),
	FailureTolerancePercentage: aws.Int32(10),
	RegionConcurrencyType:      cfntypes.RegionConcurrencyTypeParallel,
}

// describeStackSet returns the stack set, or nil when there is none
// (StackSetNotFoundException) or it was deleted.
func describeStackSet(ctx context.Context, api StackSetAPI, name string, callAs cfntypes.CallAs) (*cfntypes.StackSet, error) {
	out, err := api.DescribeStackSet(ctx, &cfn.DescribeStackSetInput{StackSetName: aws.String(name), CallAs: callAs})
	var nf *cfntypes.StackSetNotFoundException
	switch {
	case errors.As(err, &nf) || errorCode(err) == "StackSetNotFoundException":
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe stack set %s: %w", name, err)
	case out.StackSet == nil || out.StackSet.Status == cfntypes.StackSetStatusDeleted:
		return nil, nil
	}
	return out.StackSet, nil
}

// instances returns the stack set's instances: the accounts, and for a
// service-managed set the organizational units they were deployed through.
func instances(ctx context.Context, api StackSetAPI, name string, callAs cfntypes.CallAs) (accounts, units []string, err error) {
	p := cfn.NewListStackInstancesPaginator(api, &cfn.ListStackInstancesInput{StackSetName: aws.String(name), CallAs: callAs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list the instances of stack set %s: %w", name, err)
		}
		for _, s := range page.Summaries {
			accounts = append(accounts, aws.ToString(s.Account))
			if ou := aws.ToString(s.OrganizationalUnitId); ou != "" {
				units = append(units, ou)
			}
		}
	}
	slices.Sort(accounts)
	slices.Sort(units)
	return slices.Compact(accounts), slices.Compact(units), nil
}

// waitOperation polls the StackSet operation until it ends: nil when it
// SUCCEEDED (its failed accounts, within the tolerance, are printed on
// progress), else an error with the status and the failed accounts'
// reasons.
func waitOperation(ctx context.Context, api StackSetAPI, name, id string, callAs cfntypes.CallAs, progress io.Writer) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, operationWait)
	defer cancel()
	for {
		out, err := api.DescribeStackSetOperation(ctx, &cfn.DescribeStackSetOperationInput{StackSetName: aws.String(name), OperationId: aws.String(id), CallAs: callAs})
		if err != nil {
			return fmt.Errorf("stack set %s operation %s: %w", name, id, err)
		}
		op := out.StackSetOperation
		fmt.Fprintf(progress, "stack set %s: %s %s (%s)\n", name, op.Action, op.Status, time.Since(start).Round(time.Second))
		switch op.Status {
		case cfntypes.StackSetOperationStatusSucceeded:
			failed, err := operationFailures(ctx, api, name, id, callAs)
			for _, f := range failed {
				fmt.Fprintf(progress, "  %s\n", f)
			}
			return err
		case cfntypes.StackSetOperationStatusFailed, cfntypes.StackSetOperationStatusStopped:
			failed, _ := operationFailures(ctx, api, name, id, callAs)
			return fmt.Errorf("stack set %s: %s %s: %s", name, op.Action, op.Status, strings.Join(failed, "; "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack set %s operation %s: still %s: %w", name, id, op.Status, ctx.Err())
		case <-time.After(operationPoll):
		}
	}
}

// operationFailures returns, one line each, the accounts and regions where
// the operation did not succeed, with CloudFormation's reason.
func operationFailures(ctx context.Context, api StackSetAPI, name, id string, callAs cfntypes.CallAs) ([]string, error) {
	var out []string
	p := cfn.NewListStackSetOperationResultsPaginator(api, &cfn.ListStackSetOperationResultsInput{StackSetName: aws.String(name), OperationId: aws.String(id), CallAs: callAs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list the results of stack set %s operation %s: %w", name, id, err)
		}
		for _, r := range page.Summaries {
			if r.Status == cfntypes.StackSetOperationResultStatusSucceeded {
				continue
			}
			out = append(out, fmt.Sprintf("account %s in %s: %s: %s (deploy the spoke there again once fixed)",
				aws.ToString(r.Account), aws.ToString(r.Region), r.Status, aws.ToString(r.StatusReason)))
		}
	}
	return out, nil
}
