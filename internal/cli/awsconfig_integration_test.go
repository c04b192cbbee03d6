package cli

// Integration tests of the AWS conventions: --endpoint-url, --profile,
// configure --region, credential errors and the -VV request log, through
// the built binary against moto.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestAWSConventions(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	dead := append(e.srv.Env(), "AWS_ENDPOINT_URL="+motoserver.OfflineEndpoint)

	// --endpoint-url wins over AWS_ENDPOINT_URL (here a dead one).
	stdout, stderr, code := runBinaryEnv(t, dead, "", "plan", "--region", "us-east-1", "--endpoint-url", e.srv.URL)
	if code != 0 || !strings.Contains(stdout, "create") {
		t.Errorf("plan --endpoint-url: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A --endpoint-url that is not an http(s) URL is a usage error before
	// any call, not twenty retries of a request that cannot be sent.
	for _, bad := range []string{"not-a-url", "127.0.0.1:5000", "ftp://127.0.0.1/", "http://"} {
		_, stderr, code := runBinaryEnv(t, dead, "", "configure", "-l", "--endpoint-url", bad)
		if code != ExitUsage || !strings.Contains(stderr, "--endpoint-url \""+bad+"\"") || strings.Contains(stderr, "attempts") {
			t.Errorf("--endpoint-url %q: exit %d, stderr %q; want a usage error naming it", bad, code, stderr)
		}
	}
	// configure --region is the table's region, as -t.
	if stdout, stderr, code = runBinary(t, e.srv, "", "configure", "-l", "--region", "us-east-1"); code != 0 || !strings.Contains(stdout, "web") {
		t.Errorf("configure -l --region: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// No credentials at all: one line with a hint; the SDK's chain under -V.
	cfgFile := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfgFile, []byte("[profile moto]\naws_access_key_id = testing\naws_secret_access_key = testing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := append(e.srv.Env(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_CONFIG_FILE="+cfgFile)
	_, stderr, code = runBinaryEnv(t, none, "", "plan", "--region", "us-east-1")
	want := "ebs-snapper: no AWS credentials: set --profile or AWS_PROFILE, run `aws sso login` for an SSO profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-V shows what the SDK tried)\n"
	if code != ExitError || stderr != want {
		t.Errorf("no credentials: exit %d, stderr\n%q\nwant\n%q", code, stderr, want)
	}
	if _, stderr, _ = runBinaryEnv(t, none, "", "plan", "-V", "--region", "us-east-1"); !strings.Contains(stderr, "AWS credential chain") || strings.Count(stderr, "\n") < 2 {
		t.Errorf("no credentials, -V: stderr %q lacks the SDK's chain", stderr)
	}
	// --profile reads the shared config file; an unknown one is one line.
	if stdout, stderr, code = runBinaryEnv(t, none, "", "plan", "--region", "us-east-1", "--profile", "moto"); code != 0 || !strings.Contains(stdout, "create") {
		t.Errorf("plan --profile moto: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runBinaryEnv(t, none, "", "plan", "--region", "us-east-1", "--profile", "nope")
	if code != ExitError || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `AWS profile "nope" (from --profile) is not in the shared config or credentials files`) {
		t.Errorf("--profile nope: exit %d, stderr %q", code, stderr)
	}

	// -VV: every EC2 request with its filters, and each stanza's matches.
	_, stderr, code = runBinary(t, e.srv, "", "plan", "-VV", "--region", "us-east-1")
	for _, w := range []string{`msg="ec2 request" region=us-east-1 action=DescribeInstances filters="[tag:backup=yes instance-state-name=`, `msg="ec2 request" region=us-east-1 action=DescribeSnapshots`, `msg="stanza matched" region=us-east-1 config_id=web`} {
		if code != 0 || !strings.Contains(stderr, w) {
			t.Errorf("plan -VV: exit %d, stderr lacks %q:\n%s", code, w, stderr)
		}
	}
	if _, stderr, _ = runBinary(t, e.srv, "", "plan", "-V", "--region", "us-east-1"); strings.Contains(stderr, "ec2 request") {
		t.Errorf("plan -V logs the requests:\n%s", stderr)
	}
}
