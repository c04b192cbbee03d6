package handler

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// startEmulator runs bootstrap under the runtime interface emulator rie
// as a function with env (after srv's), and returns how to invoke it
// (one invocation at a time: the emulator takes no concurrent ones) and
// its output. The process group is killed at the test's end.
func startEmulator(t *testing.T, srv *motoserver.Server, rie, bootstrap string, env ...string) (invoke func(event []byte) (int, string), out *lockedBuffer) {
	t.Helper()
	apiAddr, invokeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append(append(srv.Env(), "PATH="+os.Getenv("PATH"),
		"AWS_LAMBDA_FUNCTION_NAME=ebs-snapper-snapshot", "AWS_LAMBDA_FUNCTION_TIMEOUT=120"), env...)
	out = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	waitListening(t, invokeAddr, out)
	return func(event []byte) (int, string) {
		resp, err := http.Post("http://"+invokeAddr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}, out
}

// TestBootstrapWorksACellOfAnotherAccount: the built bootstrap under the
// runtime interface emulator, as the snapshot worker of a hub, takes an
// SQS cell of a member account of moto's organisation, assumes that
// account's spoke role (EBS_SNAPPER_SPOKE_ROLE) and snapshots the volumes
// its OU's stanza governs there, in that account; a cell of a member
// without the role fails alone, its cause and fix logged.
func TestBootstrapWorksACellOfAnotherAccount(t *testing.T) {
	srv, bootstrap, rie := emulatorRig(t)
	ctx, cfg := motoAccount(t, dailyStanza)
	org, err := seeder.Organization(ctx, cfg, []seeder.Member{{Name: "alpha", OU: "prod", SpokeRole: "ebs-snapper-spoke"}, {Name: "bravo", OU: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	alpha, bravo, prod := org.Accounts[0], org.Accounts[1], org.OUs["prod"]
	store := configstore.NewDynamo(dynamodb.NewFromConfig(cfg), motoTable)
	db := `{"match": {"tag:tier": "db"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}}`
	if err := store.Put(ctx, configstore.Item{AccountID: prod, ID: "db", Configuration: db}); err != nil {
		t.Fatal(err)
	}
	inAlpha := ec2.NewFromConfig(awsclient.AssumeRole(cfg, "arn:aws:iam::"+alpha+":role/OrganizationAccountAccessRole", "", "test"), func(o *ec2.Options) { o.Region = "us-west-2" })
	insts, err := seeder.Launch(ctx, inAlpha, seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "tier", Value: "db"}}})
	if err != nil {
		t.Fatal(err)
	}

	invoke, out := startEmulator(t, srv, rie, bootstrap, NameEnv+"="+Snapshot, TableEnv+"="+motoTable,
		QueueEnv+"=http://127.0.0.1:1/123456789012/CreateSnapshotQueue", LeaseTableEnv+"="+leaseTable, SpokeRoleEnv+"=ebs-snapper-spoke")
	cell := func(acct string) string {
		return `{"region": "us-west-2", "account": "` + acct + `", "ous": ["` + prod + `"]}`
	}
	code, body := invoke(sqsEvent(t, cell(bravo), cell(alpha)))
	if code != http.StatusOK || compactJSON(t, body) != `{"batchItemFailures":[{"itemIdentifier":"m0"}]}` {
		t.Fatalf("invoke: HTTP %d %s, want bravo's cell (m0) alone failed\n%s", code, body, out)
	}
	for _, v := range insts[0].VolumeIDs {
		if got := snapshotsOf(t, ctx, inAlpha, v); len(got) != 1 {
			t.Errorf("volume %s of account %s has %d snapshots, want 1", v, alpha, len(got))
		}
	}
	logs := out.String()
	for _, want := range []string{`"msg":"cell not worked on"`, `"cause":"role_refused"`, `"account":"` + bravo + `"`, "deploy the spokes' StackSet to account " + bravo} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if !strings.Contains(logs, `"account":"`+alpha+`"`) {
		t.Errorf("log names no cell of %s:\n%s", alpha, logs)
	}
}
