package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

func TestRunningBinaryFitsOnlyAStaticLinuxBuildOfTheArchitecture(t *testing.T) {
	for _, tc := range []struct {
		goos, goarch, cgo, target string
		want                      bool
	}{
		{"linux", "arm64", "0", "arm64", true},
		{"linux", "amd64", "0", "amd64", true},
		{"linux", "amd64", "0", "arm64", false},
		{"linux", "amd64", "1", "amd64", false},
		{"darwin", "arm64", "0", "arm64", false},
	} {
		if got := fits(tc.goos, tc.goarch, tc.cgo, tc.target); got != tc.want {
			t.Errorf("fits(%s/%s cgo=%s, %s) = %v, want %v", tc.goos, tc.goarch, tc.cgo, tc.target, got, tc.want)
		}
	}
}

func TestZipIsDeterministicAndExecutable(t *testing.T) {
	a, err := ZipBootstrap([]byte("binary"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ZipBootstrap([]byte("binary"))
	if !bytes.Equal(a, b) {
		t.Error("the same binary gave two different zips: a re-deploy would upload again")
	}
	if err := checkZip(a); err != nil {
		t.Errorf("checkZip of our own zip: %v", err)
	}
}

func TestCheckZipRejectsWhatLambdaCannotRun(t *testing.T) {
	mk := func(name string, mode os.FileMode) []byte {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: name}
		h.SetMode(mode)
		f, _ := w.CreateHeader(h)
		f.Write([]byte("x"))
		w.Close()
		return buf.Bytes()
	}
	for name, tc := range map[string]struct {
		zip  []byte
		want string
	}{
		"not a zip":      {[]byte("hello"), "not a zip"},
		"no bootstrap":   {mk("main", 0o755), "no bootstrap"},
		"not executable": {mk("bootstrap", 0o644), "not executable"},
	} {
		if err := checkZip(tc.zip); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: checkZip = %v, want %q", name, err, tc.want)
		}
	}
}

func TestCheckParameters(t *testing.T) {
	if err := CheckParameters(map[string]string{"CostCenter": "ops", "LambdaMemorySnapshot": "512"}); err != nil {
		t.Errorf("valid parameters: %v", err)
	}
	for k, want := range map[string]string{
		"LambdaMemory":    "no such parameter",
		ParamBucket:       "deploy sets it",
		ParamKey:          "deploy sets it",
		ParamArchitecture: "from the architecture",
	} {
		err := CheckParameters(map[string]string{k: "x"})
		var pe *ParameterError
		if !errors.As(err, &pe) || pe.Name != k || !pe.NameProblem() || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "--") {
			t.Errorf("parameter %s: %v, want a *ParameterError naming it, saying %q and no command-line flag", k, err, want)
		}
	}
}

// Values are checked against the template's own constraints before
// anything is uploaded, as CloudFormation would check them at CreateStack
// or UpdateStack.
func TestCheckParameterValues(t *testing.T) {
	for _, ok := range []map[string]string{
		{"CopyLimit": "1"}, {"CopyLimit": "40"}, {"CopyLimit": "9999"},
		{"AllowAdoptedDeletes": "true"}, {"CostCenter": ""}, {"LambdaMemoryClean": "10240"},
		{"WorkerTimeout": "60"}, {ParamEc2Rates: "CreateSnapshot=3"},
		{"Regions": ""}, {"Regions": "us-east-1"}, {"Regions": "eu-west-1,us-gov-west-1,ap-southeast-2"},
	} {
		if err := CheckParameters(ok); err != nil {
			t.Errorf("%v: %v, want it accepted", ok, err)
		}
	}
	for _, tc := range []struct{ k, v, want string }{
		{"CopyLimit", "0", "from 1 to 9999"},
		{"CopyLimit", "-3", "from 1 to 9999"},
		{"CopyLimit", "twenty", "from 1 to 9999"},
		{"CopyLimit", "", "from 1 to 9999"},
		{"CopyLimit", "020", "from 1 to 9999"},
		{"CopyLimit", "10000", "from 1 to 9999"},
		{"AllowAdoptedDeletes", "yes", "want false or true"},
		{"LambdaMemorySnapshot", "64", "want 128 to 10240"},
		{"WorkerTimeout", "901", "want 60 to 900"},
		{"FanoutTimeout", "5m", "want a number"},
		{"Regions", "us-east-1, eu-west-1", "region names separated by commas without spaces"},
		{"Regions", "us-east-1,", "region names separated by commas without spaces"},
		{"Regions", "US-EAST-1", "region names separated by commas without spaces"},
		{"Regions", "useast1", "region names separated by commas without spaces"},
	} {
		err := CheckParameters(map[string]string{tc.k: tc.v})
		if err == nil || !strings.Contains(err.Error(), tc.k+"="+tc.v) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v, want an error naming it and saying %q", tc.k, tc.v, err, tc.want)
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	for _, ok := range []string{"rate(1 minute)", "rate(30 minutes)", "rate(1 hour)", "rate(6 hours)", "rate(1 day)", "rate(7 days)",
		"cron(0 2 * * ? *)", "cron(15 10 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 8 1 * ? 2027)", "cron(0 18 ? * 6L *)"} {
		if err := CheckSchedule(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, tc := range []struct{ expr, want string }{
		{"rate(1 minutes)", "write rate(1 minute), singular"},
		{"rate(5 minute)", "write rate(5 minutes), plural"},
		{"rate(0 minutes)", "1 or more"},
		{"rate(30 seconds)", "want rate(N minutes|hours|days)"},
		{"every 30 minutes", "want rate(N minutes|hours|days)"},
		{"cron(0 2 * * *)", "six fields"},
		{"cron(0 2 * * * *)", "exactly one of day-of-month"},
		{"cron(0 2 ? * ? *)", "exactly one of day-of-month"},
		{"cron(0 2 * * ? $)", "field 6"},
	} {
		if err := CheckSchedule(tc.expr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.expr, err, tc.want)
		}
	}
	for _, p := range Parameters() {
		if strings.HasSuffix(p.Name, "ScheduleExpression") {
			if !slices.Contains(scheduleParams, p.Name) {
				t.Errorf("%s is not checked as a schedule", p.Name)
			}
			if err := CheckSchedule(p.Default); err != nil {
				t.Errorf("%s's default: %v", p.Name, err)
			}
		}
	}
	err := CheckParameters(map[string]string{"CleanScheduleExpression": "rate(6 hour)"})
	if err == nil || !strings.Contains(err.Error(), "parameter CleanScheduleExpression=rate(6 hour): ") {
		t.Errorf("CheckParameters with a bad schedule: %v", err)
	}
}

// Every default passes its own parameter's constraints (and every pattern
// compiles): a stack made with the defaults must be valid.
func TestParameterDefaultsPassTheirConstraints(t *testing.T) {
	for _, p := range Parameters() {
		if !p.HasDefault {
			continue
		}
		if err := p.Check(p.Default); err != nil {
			t.Errorf("%s's default: %v", p.Name, err)
		}
	}
}

// TestPackageCrossBuilds builds the real bootstrap once, from this source
// tree, for the architecture the running test binary is not. With a cold
// build cache that compiles the whole SDK for another platform (minutes on
// a busy 2-core machine), so it runs only with EBS_SNAPPER_BUILD_TEST=1.
func TestPackageCrossBuilds(t *testing.T) {
	if os.Getenv("EBS_SNAPPER_BUILD_TEST") != "1" {
		t.Skip("cross-compiles the binary; set EBS_SNAPPER_BUILD_TEST=1 to run it")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "go.mod")); err != nil {
		t.Skip("not in the source tree")
	}
	arch := "arm64"
	if runtime.GOARCH == "arm64" {
		arch = "x86_64"
	}
	code, err := Package(context.Background(), PackageOptions{Arch: arch, Build: version.Info{Version: "v9.9.9-test", Commit: "0123456789ab"}})
	if err != nil {
		t.Fatal(err)
	}
	if code.Build.Version != "v9.9.9-test" || code.Build.Commit != "0123456789ab" || code.Build.GOOS != "linux" {
		t.Errorf("the bootstrap is %+v, want v9.9.9-test 0123456789ab for linux", code.Build)
	}
	if !strings.HasPrefix(code.Source, "built for linux/") {
		t.Errorf("source %q, want a build", code.Source)
	}
	r, err := zip.NewReader(bytes.NewReader(code.Zip), int64(len(code.Zip)))
	if err != nil || len(r.File) != 1 || r.File[0].Name != "bootstrap" {
		t.Fatalf("zip: %v %v", err, r)
	}
	f, _ := r.File[0].Open()
	bin, _ := io.ReadAll(f)
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) || !bytes.Contains(bin, []byte("v9.9.9-test")) {
		t.Errorf("bootstrap is not a Linux binary stamped with the version (%d bytes)", len(bin))
	}
}

// fakeCFN answers DescribeStacks with one stack and UpdateStack with err.
type fakeCFN struct {
	CloudFormationAPI
	stack     cfntypes.Stack
	updateErr error
	updates   int
}

func (f *fakeCFN) DescribeStacks(context.Context, *cfn.DescribeStacksInput, ...func(*cfn.Options)) (*cfn.DescribeStacksOutput, error) {
	return &cfn.DescribeStacksOutput{Stacks: []cfntypes.Stack{f.stack}}, nil
}

func (f *fakeCFN) GetTemplate(context.Context, *cfn.GetTemplateInput, ...func(*cfn.Options)) (*cfn.GetTemplateOutput, error) {
	return &cfn.GetTemplateOutput{TemplateBody: aws.String(`{"older": "template"}`)}, nil
}

func (f *fakeCFN) CreateChangeSet(context.Context, *cfn.CreateChangeSetInput, ...func(*cfn.Options)) (*cfn.CreateChangeSetOutput, error) {
	f.updates++
	return &cfn.CreateChangeSetOutput{}, f.updateErr
}

// DescribeChangeSet answers as CloudFormation does for an update that
// changes nothing.
func (f *fakeCFN) DescribeChangeSet(context.Context, *cfn.DescribeChangeSetInput, ...func(*cfn.Options)) (*cfn.DescribeChangeSetOutput, error) {
	return &cfn.DescribeChangeSetOutput{Status: cfntypes.ChangeSetStatusFailed,
		StatusReason: aws.String("The submitted information didn't contain changes. Submit different information to create a change set.")}, nil
}

func (f *fakeCFN) DeleteChangeSet(context.Context, *cfn.DeleteChangeSetInput, ...func(*cfn.Options)) (*cfn.DeleteChangeSetOutput, error) {
	return &cfn.DeleteChangeSetOutput{}, nil
}

func TestApplyStackStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    cfntypes.StackStatus
		updateErr error
		want      stackResult
		wantErr   string
		updates   int
	}{
		// Real CloudFormation's answer to an update that changes nothing:
		// a failed change set.
		{status: cfntypes.StackStatusUpdateComplete, want: stackUnchanged, updates: 1},
		// A failed update rolled back: the stack takes updates again.
		{status: cfntypes.StackStatusUpdateRollbackComplete, want: stackUnchanged, updates: 1},
		{status: cfntypes.StackStatusRollbackComplete, wantErr: "delete it (deploy.Delete, or aws cloudformation delete-stack"},
		{status: cfntypes.StackStatusUpdateInProgress, wantErr: "is busy"},
		{status: cfntypes.StackStatusUpdateRollbackFailed, wantErr: "continue-update-rollback"},
		{status: cfntypes.StackStatusUpdateComplete, updateErr: errors.New("boom"), wantErr: "boom", updates: 1},
	} {
		f := &fakeCFN{stack: cfntypes.Stack{StackName: aws.String("s"), StackStatus: tc.status}, updateErr: tc.updateErr}
		got, err := applyStack(context.Background(), f, &f.stack, "s", "eu-west-1", map[string]string{}, nil, io.Discard, io.Discard)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.status, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %v, %v; want %v", tc.status, got, err, tc.want)
		}
		if f.updates != tc.updates {
			t.Errorf("%s: %d UpdateStack calls, want %d", tc.status, f.updates, tc.updates)
		}
	}
}

// fakeDynamoDB answers DescribeTable with err (nil: the table exists).
type fakeDynamoDB struct{ err error }

func (f fakeDynamoDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{}, f.err
}

// TestTableExists: a missing table lets the stack create it; any other
// answer than "exists" or "not found" (no permission, throttling) stops
// deploy rather than guessing.
func TestTableExists(t *testing.T) {
	for name, tc := range map[string]struct {
		err     error
		want    bool
		wantErr string
	}{
		"exists":    {want: true},
		"not found": {err: &ddbtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found")}},
		"denied":    {err: &smithy.GenericAPIError{Code: "AccessDeniedException"}, wantErr: "look up table " + Table + " in eu-west-1: "},
	} {
		got, err := tableExists(context.Background(), fakeDynamoDB{tc.err}, "eu-west-1")
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %v, %v; want %v, %q", name, got, err, tc.want, tc.wantErr)
		}
	}
}

// changesCFN answers CreateChangeSet with a change set that adds one
// resource and replaces another.
type changesCFN struct{ fakeCFN }

func (f *changesCFN) DescribeChangeSet(context.Context, *cfn.DescribeChangeSetInput, ...func(*cfn.Options)) (*cfn.DescribeChangeSetOutput, error) {
	rc := func(a cfntypes.ChangeAction, id, typ string, r cfntypes.Replacement) cfntypes.Change {
		return cfntypes.Change{ResourceChange: &cfntypes.ResourceChange{Action: a, LogicalResourceId: aws.String(id), ResourceType: aws.String(typ), Replacement: r}}
	}
	return &cfn.DescribeChangeSetOutput{Status: cfntypes.ChangeSetStatusCreateComplete, Changes: []cfntypes.Change{
		rc(cfntypes.ChangeActionAdd, "FailedEventsQueue", "AWS::SQS::Queue", ""),
		rc(cfntypes.ChangeActionModify, "CleanSnapshotLogGroup", "AWS::Logs::LogGroup", cfntypes.ReplacementTrue),
	}}, nil
}

// The preview names each resource added, modified (and whether replaced)
// and each parameter old -> new; a "no" executes nothing.
func TestPreviewListsEachResourceChange(t *testing.T) {
	f := &changesCFN{fakeCFN{stack: cfntypes.Stack{StackName: aws.String("s"), StackStatus: cfntypes.StackStatusUpdateComplete,
		Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("CopyLimit"), ParameterValue: aws.String("20")}}}}}
	var out strings.Builder
	asked := ""
	_, err := applyStack(context.Background(), f, &f.stack, "s", "eu-west-1", map[string]string{"CopyLimit": "40"},
		func(q string) (bool, error) { asked = q; return false, nil }, &out, io.Discard)
	if !errors.Is(err, ErrDeclined) || !strings.HasPrefix(asked, "Execute change set ebs-snapper-") {
		t.Errorf("declined: %v, asked %q", err, asked)
	}
	for _, want := range []string{"  Add    FailedEventsQueue (AWS::SQS::Queue)\n", "  Modify CleanSnapshotLogGroup (AWS::Logs::LogGroup): replaced\n", "  parameter CopyLimit: 20 -> 40\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("preview lacks %q:\n%s", want, out.String())
		}
	}
}
