package cli

import (
	"bytes"
	"strings"
	"testing"
)

// A word the command line does not take, and a deploy print flag combined
// with what it would ignore, are usage errors (exit 2) before any AWS call,
// as an unknown flag is.
func TestCommandLineWordsUsageErrors(t *testing.T) {
	checkUsageErrors(t, []usageCase{
		{[]string{"snapshto"}, `unknown command "snapshto" for "ebs-snapper"; did you mean snapshot or snapshots?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "ebs-snapper"`},
		{[]string{"plan", "us-east-1"}, `ebs-snapper plan takes no arguments, got "us-east-1"`},
		{[]string{"snapshot", "--dry-run", "now"}, `ebs-snapper snapshot takes no arguments`},
		{[]string{"clean", "x"}, `ebs-snapper clean takes no arguments`},
		{[]string{"replication", "x"}, `ebs-snapper replication takes no arguments`},
		{[]string{"report", "x"}, `ebs-snapper report takes no arguments`},
		{[]string{"deploy", "eu-west-1"}, `ebs-snapper deploy takes no arguments`},
		{[]string{"deploy", "--print-template", "--print-import-template"}, "give one"},
		{[]string{"deploy", "--print-template", "--parameter", "Foo=1"}, "--print-template prints the template and exits"},
		{[]string{"deploy", "--print-import-template", "--delete"}, "--print-import-template prints the template and exits"},
	})
	// The print flags alone still print.
	var stdout, stderr bytes.Buffer
	root := NewRootCommand(&stdout, &stderr)
	root.SetArgs([]string{"deploy", "--print-template"})
	if err := root.ExecuteContext(t.Context()); err != nil || !strings.HasPrefix(strings.TrimSpace(stdout.String()), "{") {
		t.Errorf("deploy --print-template: %v, stdout %.40q", err, stdout.String())
	}
}

// usageCase is a command line and a part of the usage error it must give.
type usageCase struct {
	args []string
	want string
}

// checkUsageErrors runs each command line in-process and wants a usage
// error (exit 2) holding want, and nothing on stdout. The test binary's AWS
// endpoint is offline (motoserver.RunTests), so a check that regresses
// fails here rather than calling AWS.
func checkUsageErrors(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		root := NewRootCommand(&stdout, &stderr)
		root.SetArgs(tc.args)
		err := root.ExecuteContext(t.Context())
		if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v; want a usage error with %q", tc.args, ExitCode(err), err, tc.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("%v: printed %q on stdout", tc.args, stdout.String())
		}
	}
}
