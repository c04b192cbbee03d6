package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// deploy refuses a parameter value before any AWS call: the template's
// constraints (CloudFormation would refuse them only after the upload) and
// Ec2Rates, which CloudFormation cannot check and every worker would
// refuse at start.
func TestDeployParameterValuesUsageErrors(t *testing.T) {
	// Were a check missing, the run would reach AWS: keep it on this
	// machine, where nothing answers, and short.
	motoserver.Offline(t)
	for _, tc := range []struct{ param, want string }{
		{"CopyLimit=0", "--parameter CopyLimit=0: want a whole number of copies from 1 to 9999"},
		{"AllowAdoptedDeletes=yes", "--parameter AllowAdoptedDeletes=yes: want false or true"},
		{"LambdaMemorySnapshot=64", "--parameter LambdaMemorySnapshot=64: want 128 to 10240"},
		{"Ec2Rates=CreateSnapshot=fast", `--parameter Ec2Rates=CreateSnapshot=fast: rate "CreateSnapshot=fast": "fast" is not a number`},
		{"Ec2Rates=Delete=3", `unknown action "Delete"`},
		{"CreateScheduleExpression=rate(1 hours)", `--parameter CreateScheduleExpression=rate(1 hours): "rate(1 hours)": write rate(1 hour), singular`},
		{"CleanScheduleExpression=cron(0 2 * * *)", "cron() takes six fields"},
		{"Regions=us-east-1, eu-west-1", "--parameter Regions=us-east-1, eu-west-1: want empty, or region names separated by commas without spaces"},
		{"Regions=US-EAST-1", "region names separated by commas without spaces"},
		{"Architecture=x86_64", "--parameter Architecture: use --arch"},
		{"LambdaS3Bucket=mine", "--parameter LambdaS3Bucket: deploy sets it (the code bucket and key); use --zip for other code"},
		{"LambdaMemory=512", "--parameter LambdaMemory: the template has no such parameter; it has "},
	} {
		var stdout, stderr bytes.Buffer
		root := NewRootCommand(&stdout, &stderr)
		root.SetArgs([]string{"deploy", "--region", "eu-west-1", "-a", "123456789012", "--parameter", tc.param})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := root.ExecuteContext(ctx)
		cancel()
		if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploy --parameter %s: exit %d, %v; want a usage error with %q", tc.param, ExitCode(err), err, tc.want)
		}
	}
}

// A region from the AWS configuration that EC2 cannot be reached in fails
// with a message naming where the region came from and what failed, not a
// bare connection error.
func TestDeployUnreachableConfiguredRegion(t *testing.T) {
	motoserver.Offline(t)
	t.Setenv("AWS_REGION", "xx-east-9")
	var stdout, stderr bytes.Buffer
	root := NewRootCommand(&stdout, &stderr)
	root.SetArgs([]string{"deploy", "-a", "123456789012", "--yes"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	want := `check the AWS configuration's region (AWS_REGION or the profile; set --region) "xx-east-9": list the regions enabled for the account:`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("deploy with AWS_REGION=xx-east-9: %v; want an error starting %q", err, want)
	}
}

// deploy returns typed errors in its own terms; the CLI words each with
// the flag that sets what it names.
func TestDeployWording(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&deploy.NoCodeError{Bucket: "b", Key: "k.zip"}, "-m/--no_upload: there is no code at s3://b/k.zip to deploy; deploy once without -m"},
		{&deploy.ZipError{Path: "x.zip", Read: true, Err: errors.New("open x.zip: no such file")}, "read --zip: open x.zip: no such file"},
		{&deploy.ZipError{Path: "x.zip", Err: errors.New("no bootstrap")}, "--zip x.zip: no bootstrap"},
		{&deploy.NoPackageError{GOARCH: "arm64", Why: "there is no Go toolchain to build one", Zip: "the release's zip"},
			"the running binary is not a static linux/arm64 build and there is no Go toolchain to build one: pass --zip (the release's zip)"},
		{&deploy.NoPackageError{GOARCH: "arm64", Why: "no source", Else: "run deploy from the source tree", Zip: "z"},
			"the running binary is not a static linux/arm64 build and no source: run deploy from the source tree, or pass --zip (z)"},
		{&deploy.ConcurrencyQuotaError{Parameter: "ReservedConcurrency", Want: 63, PerWorker: 20, Singles: "3 fan-outs", Unreserved: 10, Region: "eu-west-1", Keep: 10, Limit: 10},
			"(quota 10); deploy with --parameter ReservedConcurrency=0 (or a smaller value), or ask AWS Support to raise the quota"},
		{&deploy.VersionMismatchError{Source: "x.zip", Code: version.Info{Version: "v1"}, CLI: version.Info{Version: "v2"}},
			"; nothing was uploaded or changed: deploy the zip of this version (the release's ebs-snapper_v2_lambda_<arch>.zip), or pass --allow-version-mismatch to deploy it anyway"},
		{&deploy.StackStateError{Stack: "ebs-snapper-1", Status: "DELETE_FAILED"}, "wrapped: stack ebs-snapper-1 is DELETE_FAILED: delete it again (ebs-snapper deploy --delete) and deploy"},
		{&deploy.StackStateError{Stack: "s", Status: "ROLLBACK_COMPLETE", CreateFailed: true}, "delete it (ebs-snapper deploy --delete, or aws cloudformation delete-stack --stack-name s)"},
	} {
		for _, flag := range []string{"--parameter", "--zip", "--no_upload", "-m ", "--allow-version-mismatch", "--delete", "--arch", "--yes", "ebs-snapper deploy"} {
			if strings.Contains(tc.err.Error(), flag) {
				t.Errorf("deploy's %T names the CLI's %s: %v", tc.err, flag, tc.err)
			}
		}
		if got := deployWording(fmt.Errorf("wrapped: %w", tc.err)); !strings.Contains(got, tc.want) {
			t.Errorf("%T worded %q, want it to hold %q", tc.err, got, tc.want)
		}
	}
}
