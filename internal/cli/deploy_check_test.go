package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
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
