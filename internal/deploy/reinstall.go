package deploy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// deletedStack returns the parameters of the newest deleted stack of that
// name, and when it was deleted, or nil: CloudFormation keeps a deleted
// stack's record, parameters included, for 90 days (ListStacks with
// DELETE_COMPLETE, then DescribeStacks by its stack id), so a deploy after
// --delete keeps the operator's earlier choices.
func deletedStack(ctx context.Context, api CloudFormationAPI, name, region string) (*cfntypes.Stack, error) {
	var newest *cfntypes.StackSummary
	p := cfn.NewListStacksPaginator(api, &cfn.ListStacksInput{StackStatusFilter: []cfntypes.StackStatus{cfntypes.StackStatusDeleteComplete}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the deleted stacks in %s: %w", region, err)
		}
		for i, s := range page.StackSummaries {
			if aws.ToString(s.StackName) != name {
				continue
			}
			if newest == nil || aws.ToTime(s.DeletionTime).After(aws.ToTime(newest.DeletionTime)) {
				newest = &page.StackSummaries[i]
			}
		}
	}
	if newest == nil {
		return nil, nil
	}
	out, err := api.DescribeStacks(ctx, &cfn.DescribeStacksInput{StackName: newest.StackId})
	if err != nil {
		return nil, fmt.Errorf("describe the deleted stack %s in %s: %w", aws.ToString(newest.StackId), region, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	s := out.Stacks[0]
	if s.DeletionTime == nil {
		s.DeletionTime = newest.DeletionTime
	}
	return &s, nil
}

// keptParameters adds to set every parameter of the deleted stack that the
// template still declares, that set does not hold and whose value is not
// the template's default (which it gets anyway, and should follow when a
// new template changes it), deploy's own code bucket and key excepted;
// it returns their names, sorted.
func keptParameters(prior *cfntypes.Stack, set map[string]string) []string {
	if prior == nil {
		return nil
	}
	declared := map[string]Parameter{}
	for _, p := range Parameters() {
		declared[p.Name] = p
	}
	var kept []string
	for _, p := range prior.Parameters {
		k := aws.ToString(p.ParameterKey)
		d, ok := declared[k]
		if _, given := set[k]; given || !ok || k == ParamBucket || k == ParamKey || (d.HasDefault && d.Default == aws.ToString(p.ParameterValue)) {
			continue
		}
		set[k] = aws.ToString(p.ParameterValue)
		kept = append(kept, k)
	}
	slices.Sort(kept)
	return kept
}

// importTable makes the stack from the retained configuration table alone
// (ImportTemplate, a CloudFormation resource import: an IMPORT change set
// naming the table), after printing what it does and asking confirm, and
// waits until the import is complete; the caller then updates the stack
// to the full template. CloudFormation cannot create a table whose name is
// taken, so this is how a deploy after --delete keeps the stanzas.
func importTable(ctx context.Context, api CloudFormationAPI, name, region string, set map[string]string, confirm Confirm, out, progress io.Writer) error {
	var params []cfntypes.Parameter
	for _, k := range []string{"CostCenter", "TableKmsKeyArn"} {
		if v, ok := set[k]; ok {
			params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
		}
	}
	cs := "import-" + tableLogicalID
	if _, err := api.CreateChangeSet(ctx, &cfn.CreateChangeSetInput{
		StackName: aws.String(name), ChangeSetName: aws.String(cs), ChangeSetType: cfntypes.ChangeSetTypeImport,
		TemplateBody: aws.String(string(ImportTemplate())), Parameters: params,
		ResourcesToImport: []cfntypes.ResourceToImport{{
			ResourceType: aws.String("AWS::DynamoDB::Table"), LogicalResourceId: aws.String(tableLogicalID),
			ResourceIdentifier: map[string]string{"TableName": Table},
		}},
	}); err != nil {
		return fmt.Errorf("create the change set importing table %s into stack %s in %s: %w", Table, name, region, err)
	}
	in := &cfn.DescribeChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)}
	w := cfn.NewChangeSetCreateCompleteWaiter(api, func(o *cfn.ChangeSetCreateCompleteWaiterOptions) { o.MinDelay, o.MaxDelay = time.Second, stackWaitMax })
	if err := w.Wait(ctx, in, stackWaitFor); err != nil {
		return fmt.Errorf("change set %s of stack %s in %s: %w", cs, name, region, err)
	}
	fmt.Fprintf(out, "table %s (%s) exists outside any stack (a deploy --delete keeps it): stack %s will be created by importing it with its stanzas, then updated to the full template\n", Table, region, name)
	if err := ask(confirm, fmt.Sprintf("Import table %s and create stack %s in %s?", Table, name, region)); err != nil {
		// The stack the change set made holds nothing yet (REVIEW_IN_PROGRESS).
		_, _ = api.DeleteStack(ctx, &cfn.DeleteStackInput{StackName: aws.String(name)})
		return err
	}
	start := time.Now()
	if _, err := api.ExecuteChangeSet(ctx, &cfn.ExecuteChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)}); err != nil {
		return fmt.Errorf("execute change set %s on stack %s in %s: %w", cs, name, region, err)
	}
	iw := cfn.NewStackImportCompleteWaiter(api, func(o *cfn.StackImportCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = stackWaitMin, stackWaitMax
		o.Retryable = reportProgress(o.Retryable, name, start, progress)
	})
	if err := iw.Wait(ctx, &cfn.DescribeStacksInput{StackName: aws.String(name)}, stackWaitFor); err != nil {
		return stackFailed(ctx, api, name, region, "import the table into", err, progress)
	}
	return nil
}
