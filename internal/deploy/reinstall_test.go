package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// reinstallCFN is CloudFormation after a deploy --delete: no live stack,
// a deleted one with its parameters. It plays an IMPORT change set (which
// moto cannot execute) and the update after it, recording each change set.
type reinstallCFN struct {
	CloudFormationAPI
	live       *cfntypes.Stack
	changeSets []*cfn.CreateChangeSetInput
	executed   []string
}

const deletedID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/ebs-snapper-123456789012/old"

func (f *reinstallCFN) DescribeStacks(_ context.Context, in *cfn.DescribeStacksInput, _ ...func(*cfn.Options)) (*cfn.DescribeStacksOutput, error) {
	if aws.ToString(in.StackName) == deletedID {
		return &cfn.DescribeStacksOutput{Stacks: []cfntypes.Stack{{StackName: aws.String("ebs-snapper-123456789012"), StackStatus: cfntypes.StackStatusDeleteComplete,
			Parameters: []cfntypes.Parameter{
				{ParameterKey: aws.String("LambdaMemorySnapshot"), ParameterValue: aws.String("512")},
				{ParameterKey: aws.String("CostCenter"), ParameterValue: aws.String("ops")},
				{ParameterKey: aws.String(ParamArchitecture), ParameterValue: aws.String("x86_64")},
				{ParameterKey: aws.String(ParamBucket), ParameterValue: aws.String("old-bucket")},
				{ParameterKey: aws.String("Gone"), ParameterValue: aws.String("x")},
			}}}}, nil
	}
	if f.live == nil {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + aws.ToString(in.StackName) + " does not exist"}
	}
	return &cfn.DescribeStacksOutput{Stacks: []cfntypes.Stack{*f.live}}, nil
}

func (f *reinstallCFN) ListStacks(context.Context, *cfn.ListStacksInput, ...func(*cfn.Options)) (*cfn.ListStacksOutput, error) {
	return &cfn.ListStacksOutput{StackSummaries: []cfntypes.StackSummary{
		{StackName: aws.String("ebs-snapper-123456789012"), StackId: aws.String(deletedID), StackStatus: cfntypes.StackStatusDeleteComplete,
			DeletionTime: aws.Time(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))},
		{StackName: aws.String("other"), StackId: aws.String("x"), StackStatus: cfntypes.StackStatusDeleteComplete},
	}}, nil
}

func (f *reinstallCFN) CreateChangeSet(_ context.Context, in *cfn.CreateChangeSetInput, _ ...func(*cfn.Options)) (*cfn.CreateChangeSetOutput, error) {
	f.changeSets = append(f.changeSets, in)
	return &cfn.CreateChangeSetOutput{}, nil
}

func (f *reinstallCFN) DescribeChangeSet(context.Context, *cfn.DescribeChangeSetInput, ...func(*cfn.Options)) (*cfn.DescribeChangeSetOutput, error) {
	return &cfn.DescribeChangeSetOutput{Status: cfntypes.ChangeSetStatusCreateComplete, Changes: []cfntypes.Change{{ResourceChange: &cfntypes.ResourceChange{
		Action: cfntypes.ChangeActionAdd, LogicalResourceId: aws.String("CleanSnapshotFunction"), ResourceType: aws.String("AWS::Lambda::Function")}}}}, nil
}

func (f *reinstallCFN) ExecuteChangeSet(_ context.Context, in *cfn.ExecuteChangeSetInput, _ ...func(*cfn.Options)) (*cfn.ExecuteChangeSetOutput, error) {
	f.executed = append(f.executed, aws.ToString(in.ChangeSetName))
	cs := f.changeSets[len(f.changeSets)-1]
	status := cfntypes.StackStatusUpdateComplete
	if cs.ChangeSetType == cfntypes.ChangeSetTypeImport {
		status = cfntypes.StackStatusImportComplete
	}
	f.live = &cfntypes.Stack{StackName: cs.StackName, StackStatus: status, Parameters: cs.Parameters}
	return &cfn.ExecuteChangeSetOutput{}, nil
}

func (f *reinstallCFN) GetTemplate(context.Context, *cfn.GetTemplateInput, ...func(*cfn.Options)) (*cfn.GetTemplateOutput, error) {
	return &cfn.GetTemplateOutput{TemplateBody: aws.String(string(ImportTemplate()))}, nil
}

// Deploying after --delete is one command: the retained table is imported
// into the new stack (asked once), the stack is then updated to the full
// template, and the deleted stack's parameters are kept under the
// operator's.
func TestRunAfterDeleteImportsTheTableAndKeepsTheParameters(t *testing.T) {
	f := &reinstallCFN{}
	var out strings.Builder
	asked := 0
	err := Run(context.Background(), Clients{CloudFormation: f, DynamoDB: fakeDynamoDB{}, S3: &recordingS3{inputs: map[string]any{}}, Lambda: &quotaLambda{limit: 1000, unreserved: 1000}}, Options{
		Account: "123456789012", Region: "eu-west-1", NoUpload: true,
		Parameters: map[string]string{"CostCenter": "platform"},
		Confirm:    func(string) (bool, error) { asked++; return true, nil },
		Out:        &out, Progress: &out,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	if len(f.changeSets) != 2 || f.changeSets[0].ChangeSetType != cfntypes.ChangeSetTypeImport || f.changeSets[1].ChangeSetType != cfntypes.ChangeSetTypeUpdate {
		t.Fatalf("change sets %+v, want an IMPORT then an UPDATE", f.changeSets)
	}
	imp := f.changeSets[0]
	if len(imp.ResourcesToImport) != 1 || aws.ToString(imp.ResourcesToImport[0].LogicalResourceId) != tableLogicalID ||
		imp.ResourcesToImport[0].ResourceIdentifier["TableName"] != Table || aws.ToString(imp.TemplateBody) != string(ImportTemplate()) {
		t.Errorf("import change set %+v", imp)
	}
	params := map[string]string{}
	for _, p := range f.changeSets[1].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for k, want := range map[string]string{"LambdaMemorySnapshot": "512", "CostCenter": "platform", ParamArchitecture: "x86_64",
		ParamBucket: BucketName("123456789012", "eu-west-1"), ParamKey: CodeKey("x86_64")} {
		if params[k] != want {
			t.Errorf("update parameter %s = %q, want %q", k, params[k], want)
		}
	}
	if _, ok := params["Gone"]; ok {
		t.Error("a parameter the template no longer declares was passed")
	}
	if asked != 1 {
		t.Errorf("asked %d times, want once for the import and the rest", asked)
	}
	for _, want := range []string{
		"parameters kept from stack ebs-snapper-123456789012 deleted 2026-12-01T08:00:00Z: LambdaMemorySnapshot=512\n",
		"table ebs_snapshot_configuration (eu-west-1): imported into stack ebs-snapper-123456789012\n",
		"stack ebs-snapper-123456789012 (eu-west-1): created\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
}

func (f *reinstallCFN) DeleteStack(context.Context, *cfn.DeleteStackInput, ...func(*cfn.Options)) (*cfn.DeleteStackOutput, error) {
	f.executed = append(f.executed, "DeleteStack")
	return &cfn.DeleteStackOutput{}, nil
}

// A "no" to the import executes nothing and removes the empty stack the
// change set made.
func TestRunAfterDeleteDeclinedChangesNothing(t *testing.T) {
	f := &reinstallCFN{}
	err := Run(context.Background(), Clients{CloudFormation: f, DynamoDB: fakeDynamoDB{}, S3: &recordingS3{inputs: map[string]any{}}, Lambda: &quotaLambda{limit: 1000, unreserved: 1000}}, Options{
		Account: "123456789012", Region: "eu-west-1", NoUpload: true,
		Confirm: func(string) (bool, error) { return false, nil },
		Out:     &strings.Builder{}, Progress: &strings.Builder{},
	})
	if !errors.Is(err, ErrDeclined) || len(f.executed) != 1 || f.executed[0] != "DeleteStack" {
		t.Errorf("declined: %v, calls %v; want ErrDeclined and only the empty stack deleted", err, f.executed)
	}
}

// quotaLambda answers GetAccountSettings with a quota and what of it is
// unreserved, or err.
type quotaLambda struct {
	LambdaAPI
	limit, unreserved int32
	err               error
	asked             int
}

func (f *quotaLambda) GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	f.asked++
	if f.err != nil {
		return nil, f.err
	}
	return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{ConcurrentExecutions: f.limit, UnreservedConcurrentExecutions: aws.Int32(f.unreserved)}}, nil
}

// A new stack whose reserved concurrency would leave the account less
// unreserved concurrency than Lambda keeps stops before anything is
// created, naming the parameter that fixes it.
func TestCheckConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name              string
		value             string
		report            bool
		limit, unreserved int32
		err               error
		want, warn        string
		asked             int
	}{
		{name: "default quota", value: "20", limit: 1000, unreserved: 1000, asked: 1},
		{name: "new account", value: "20", limit: 10, unreserved: 10, asked: 1,
			want: "ReservedConcurrency reserves 63 (3 workers × 20, 3 fan-outs × 1) of the 10 unreserved in eu-west-1, leaving less than the 10 Lambda keeps unreserved (quota 10)"},
		{name: "others reserved most", value: "20", limit: 1000, unreserved: 150, asked: 1, want: "of the 150 unreserved"},
		{name: "with the report function", value: "20", report: true, limit: 10, unreserved: 10, asked: 1,
			want: "reserves 64 (3 workers × 20, 3 fan-outs and the report function × 1)"},
		{name: "the report function tips it", value: "20", report: true, limit: 1000, unreserved: 163, asked: 1, want: "reserves 64"},
		{name: "fits without the report function", value: "20", limit: 1000, unreserved: 163, asked: 1},
		{name: "none reserved", value: "0", limit: 10, unreserved: 10},
		{name: "not answered", value: "20", err: errors.New("not implemented"), asked: 1, warn: "concurrency quota not checked in eu-west-1: not implemented"},
	} {
		f := &quotaLambda{limit: tc.limit, unreserved: tc.unreserved, err: tc.err}
		var warned string
		err := checkConcurrency(context.Background(), f, tc.value, tc.report, "eu-west-1", func(format string, a ...any) { warned = fmt.Sprintf(format, a...) })
		switch {
		case tc.want == "" && err != nil, tc.want != "" && (!errors.Is(err, ErrConcurrencyQuota) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case f.asked != tc.asked || warned != tc.warn:
			t.Errorf("%s: asked %d, warned %q; want %d, %q", tc.name, f.asked, warned, tc.asked, tc.warn)
		}
	}
}
