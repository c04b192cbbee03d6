package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// The spokes trust only roles of the hub account: an output naming another
// account's role (a tampered or foreign stack) is refused before any
// StackSet call.
func TestHubRolesAreTheHubAccountsOnly(t *testing.T) {
	out := func(k, v string) cfntypes.Output {
		return cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)}
	}
	hub := "111111111111"
	for _, tc := range []struct {
		name      string
		outputs   []cfntypes.Output
		operators []string
		want      string // the roles, or the error's text
	}{
		{"workers and report", []cfntypes.Output{
			out("WorkerRoleArns", "arn:aws:iam::111111111111:role/s-CreateSnapshotRole-A,arn:aws:iam::111111111111:role/s-CleanSnapshotRole-B"),
			out("ReportRoleArn", "arn:aws:iam::111111111111:role/ebs/s-ReportRole-C"), out("LeaseTable", "t"),
		}, nil, "arn:aws:iam::111111111111:role/ebs/s-ReportRole-C,arn:aws:iam::111111111111:role/s-CleanSnapshotRole-B,arn:aws:iam::111111111111:role/s-CreateSnapshotRole-A"},
		{"an operator of the hub", []cfntypes.Output{out("WorkerRoleArns", "arn:aws:iam::111111111111:role/w")},
			[]string{"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Backup_0a1b"},
			"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Backup_0a1b,arn:aws:iam::111111111111:role/w"},
		{"an operator of another account", []cfntypes.Output{out("WorkerRoleArns", "arn:aws:iam::111111111111:role/w")},
			[]string{"arn:aws:iam::999999999999:role/admin"}, `role "arn:aws:iam::999999999999:role/admin" is not a role of the hub account 111111111111`},
		{"another account's role", []cfntypes.Output{out("WorkerRoleArns", "arn:aws:iam::111111111111:role/a,arn:aws:iam::999999999999:role/b")}, nil,
			`role "arn:aws:iam::999999999999:role/b" is not a role of the hub account 111111111111`},
		{"another account's role naming the hub's", []cfntypes.Output{out("WorkerRoleArns", "arn:aws:iam::999999999999:role/x:iam::111111111111:role/w")}, nil,
			"is not a role of the hub account"},
		{"a user", []cfntypes.Output{out("WorkerRoleArns", "arn:aws:iam::111111111111:user/a")}, nil, "is not a role of the hub account"},
		{"an older stack", []cfntypes.Output{out("LeaseTable", "t")}, nil, "has no WorkerRoleArns output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roles, err := hubRoles(&cfntypes.Stack{StackName: aws.String("ebs-snapper-" + hub), Outputs: tc.outputs}, hub, tc.operators)
			got := strings.Join(roles, ",")
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) || (err == nil) != !strings.Contains(tc.want, " ") {
				t.Errorf("hubRoles = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSpokesCheckNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		s    Spokes
		want string
	}{
		{Spokes{OrgUnits: []string{"ou-ab12-abcdefgh"}}, ""},
		{Spokes{OrgUnits: []string{"r-ab12"}}, ""},
		{Spokes{Accounts: []string{"222222222222"}, ExternalID: "xy"}, ""},
		{Spokes{OrgUnits: []string{"ou-ab12-abcdefgh"}, Accounts: []string{"222222222222"}}, "--org-units and --accounts: give one"},
		{Spokes{OrgUnits: []string{"workloads"}}, `--org-units "workloads": not an organizational unit id`},
		{Spokes{Accounts: []string{"22222222222"}}, `--accounts "22222222222": not a 12-digit account id`},
		{Spokes{Accounts: []string{"222222222222"}, RoleName: "a/b"}, `--spoke-role-name "a/b"`},
		{Spokes{Accounts: []string{"222222222222"}, ExternalID: "x"}, "--external-id: 1 characters"},
		{Spokes{Accounts: []string{"222222222222"}, ExternalID: "hub_secret-1"}, ""},
		{Spokes{Accounts: []string{"222222222222"}, ExternalID: "hub secret"}, "--external-id: want letters, digits and _+=,.@:/- only"},
		{Spokes{Operators: []string{"arn:aws:iam::111111111111:role/ops"}}, "--spoke-trust applies to the spokes"},
		{Spokes{Accounts: []string{"222222222222"}, Operators: []string{"arn:aws:iam::111111111111:user/ops"}}, `--spoke-trust "arn:aws:iam::111111111111:user/ops": not an IAM role ARN`},
	} {
		err := tc.s.Check()
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Check() = %v, want %q", tc.s, err, tc.want)
		}
	}
}

// A queue that may start more invocations than its worker may run is
// refused before the stack changes; 0 reserved concurrency reserves
// nothing and limits nothing.
func TestQueueConcurrencyWithinTheReservation(t *testing.T) {
	for _, tc := range []struct {
		reserved, most string
		want           string
	}{
		{"20", "20", ""},
		{"20", "10", ""},
		{"0", "500", ""},
		{"20", "50", "WorkerMaxConcurrency=50 is more than ReservedConcurrency=20"},
	} {
		err := checkQueueConcurrency(func(k string) string {
			return map[string]string{ParamReservedConcurrency: tc.reserved, ParamWorkerMaxConcurrency: tc.most}[k]
		})
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("reserved %s, most %s: %v, want %q", tc.reserved, tc.most, err, tc.want)
		}
	}
}

// fakeOperations is a StackSetAPI whose one operation ends in status with
// results; every other call is unused here.
type fakeOperations struct {
	StackSetAPI
	status  cfntypes.StackSetOperationStatus
	results []cfntypes.StackSetOperationResultSummary
}

func (f fakeOperations) DescribeStackSetOperation(context.Context, *cfn.DescribeStackSetOperationInput, ...func(*cfn.Options)) (*cfn.DescribeStackSetOperationOutput, error) {
	return &cfn.DescribeStackSetOperationOutput{StackSetOperation: &cfntypes.StackSetOperation{Action: cfntypes.StackSetOperationActionCreate, Status: f.status}}, nil
}

func (f fakeOperations) ListStackSetOperationResults(context.Context, *cfn.ListStackSetOperationResultsInput, ...func(*cfn.Options)) (*cfn.ListStackSetOperationResultsOutput, error) {
	return &cfn.ListStackSetOperationResultsOutput{Summaries: f.results}, nil
}

// A StackSet operation that failed is an error naming each failed account
// with CloudFormation's reason; one that succeeded within the tolerance
// still prints the accounts it could not reach, so none goes unnoticed.
func TestStackSetOperationFailuresNameTheAccounts(t *testing.T) {
	results := []cfntypes.StackSetOperationResultSummary{
		{Account: aws.String("222222222222"), Region: aws.String("eu-west-1"), Status: cfntypes.StackSetOperationResultStatusSucceeded},
		{Account: aws.String("333333333333"), Region: aws.String("eu-west-1"), Status: cfntypes.StackSetOperationResultStatusFailed,
			StatusReason: aws.String("Account 333333333333 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'.")},
	}
	var progress strings.Builder
	err := waitOperation(context.Background(), fakeOperations{status: cfntypes.StackSetOperationStatusFailed, results: results}, SpokeStackSet, "op-1", cfntypes.CallAsSelf, &progress)
	if err == nil || !strings.Contains(err.Error(), "account 333333333333 in eu-west-1: FAILED: Account 333333333333 should have") || strings.Contains(err.Error(), "222222222222") {
		t.Errorf("failed operation: %v, want the failed account alone with its reason", err)
	}
	progress.Reset()
	if err := waitOperation(context.Background(), fakeOperations{status: cfntypes.StackSetOperationStatusSucceeded, results: results}, SpokeStackSet, "op-2", cfntypes.CallAsSelf, &progress); err != nil {
		t.Errorf("succeeded operation: %v", err)
	}
	if !strings.Contains(progress.String(), "account 333333333333 in eu-west-1: FAILED") {
		t.Errorf("progress lacks the account the operation could not reach:\n%s", progress.String())
	}
}

// fakeInstances is a StackSetAPI holding a self-managed set's instances;
// it records the instances deleted.
type fakeInstances struct {
	StackSetAPI
	accounts []string
	deleted  []string
}

func (f *fakeInstances) ListStackInstances(context.Context, *cfn.ListStackInstancesInput, ...func(*cfn.Options)) (*cfn.ListStackInstancesOutput, error) {
	var out cfn.ListStackInstancesOutput
	for _, a := range f.accounts {
		out.Summaries = append(out.Summaries, cfntypes.StackInstanceSummary{Account: aws.String(a), Region: aws.String("eu-west-1")})
	}
	return &out, nil
}

func (f *fakeInstances) DeleteStackInstances(_ context.Context, in *cfn.DeleteStackInstancesInput, _ ...func(*cfn.Options)) (*cfn.DeleteStackInstancesOutput, error) {
	f.deleted = append(f.deleted, in.Accounts...)
	return &cfn.DeleteStackInstancesOutput{OperationId: aws.String("op-delete")}, nil
}

func (f *fakeInstances) DescribeStackSetOperation(context.Context, *cfn.DescribeStackSetOperationInput, ...func(*cfn.Options)) (*cfn.DescribeStackSetOperationOutput, error) {
	return &cfn.DescribeStackSetOperationOutput{StackSetOperation: &cfntypes.StackSetOperation{Action: cfntypes.StackSetOperationActionDelete, Status: cfntypes.StackSetOperationStatusSucceeded}}, nil
}

func (f *fakeInstances) ListStackSetOperationResults(context.Context, *cfn.ListStackSetOperationResultsInput, ...func(*cfn.Options)) (*cfn.ListStackSetOperationResultsOutput, error) {
	return &cfn.ListStackSetOperationResultsOutput{}, nil
}

// Removing a spoke deletes a role in someone's account: deploy asks
// first, naming the accounts, and a "no" deletes nothing (ErrDeclined);
// a "yes" deletes the accounts no longer listed, and only those.
func TestSpokeRemovalAsksFirst(t *testing.T) {
	for _, answer := range []bool{false, true} {
		api := &fakeInstances{accounts: []string{"222222222222", "333333333333"}}
		var asked []string
		opts := Options{Region: "eu-west-1", Out: io.Discard, Progress: io.Discard, Spokes: Spokes{Accounts: []string{"222222222222"}},
			Confirm: func(q string) (bool, error) { asked = append(asked, q); return answer, nil }}
		err := reconcileInstances(context.Background(), Clients{StackSets: api}, spokeSet{model: cfntypes.PermissionModelsSelfManaged, callAs: cfntypes.CallAsSelf}, opts)
		if len(asked) != 1 || !strings.Contains(asked[0], "Remove the spoke role from accounts 333333333333") {
			t.Errorf("answer %v: asked %q, want the removal of 333333333333", answer, asked)
		}
		switch {
		case !answer && (!errors.Is(err, ErrDeclined) || len(api.deleted) != 0):
			t.Errorf("declined: %v, deleted %v; want ErrDeclined and nothing deleted", err, api.deleted)
		case answer && (err != nil || !slices.Equal(api.deleted, []string{"333333333333"})):
			t.Errorf("confirmed: %v, deleted %v; want 333333333333 alone", err, api.deleted)
		}
	}
}

// The templates' external id parameters take what Check and STS take (an
// underscore too), so a value deploy accepts is never refused by
// CloudFormation halfway through.
func TestExternalIDPatternsAgree(t *testing.T) {
	for name, body := range map[string][]byte{"spoke.json ExternalId": spokeJSON, "template.json SpokeExternalId": Template()} {
		var tpl struct {
			Parameters map[string]struct{ AllowedPattern string }
		}
		if err := json.Unmarshal(body, &tpl); err != nil {
			t.Fatal(err)
		}
		key := strings.Fields(name)[1]
		re, err := regexp.Compile(tpl.Parameters[key].AllowedPattern)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for v, ok := range map[string]bool{"hub_secret-1": true, "a+b=c,d.e@f:g/h": true, "": true, "hub secret": false} {
			checked := Spokes{Accounts: []string{"222222222222"}, ExternalID: v}.Check() == nil
			if re.MatchString(v) != ok || checked != ok {
				t.Errorf("%s %q: pattern %v, Check %v; want %v", name, v, re.MatchString(v), checked, ok)
			}
		}
	}
}
