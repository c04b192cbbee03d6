package handler

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestDrillWorkerUnderTheRuntimeEmulator runs the built bootstrap as the
// drill worker under the Lambda runtime interface emulator, against moto,
// for one run in a seeded region: two volumes, the second's snapshot
// restoring to a volume EC2 puts in error (moto patched in process). The
// first drill passes, the second fails: the invocation fails (as the CLI
// exits 3), both drill volumes are deleted, both snapshots carry the
// outcome, and the EMF line counts 2 drills and 1 failure.
func TestDrillWorkerUnderTheRuntimeEmulator(t *testing.T) {
	srv, bootstrap, rie := emulatorRig(t)
	ctx, cfg := motoAccount(t, `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "1 day"},
		"drill": {"every": "7 days", "timeout": "5 minutes"}}`)
	west, inst := launchInRegion(t, ctx, cfg, "us-west-2")
	var snaps []string
	for i, v := range inst.VolumeIDs {
		tags := []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String("2099-01-01")}}
		if i == 1 {
			tags = append(tags, ec2types.Tag{Key: aws.String("ebs-snapper-test:volume-state"), Value: aws.String("error")})
		}
		out, err := west.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}})
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, aws.ToString(out.SnapshotId))
	}

	apiAddr, invokeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append(srv.Env(), "PATH="+os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=ebs-snapper-drill", "AWS_LAMBDA_FUNCTION_TIMEOUT=120",
		NameEnv+"="+Drill, TableEnv+"="+motoTable, QueueEnv+"=http://127.0.0.1:1/123456789012/DrillQueue", LeaseTableEnv+"="+leaseTable)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	waitListening(t, invokeAddr, &out)
	resp, err := http.Post("http://"+invokeAddr+"/2015-03-31/functions/function/invocations", "application/json",
		bytes.NewReader(readJSON(t, "testdata/sqs-event.json", nil)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "errorMessage") || !strings.Contains(string(body), "drill in us-west-2") {
		t.Errorf("invoke: HTTP %d %s: want the failed drill as the invocation's error\n%s", resp.StatusCode, body, &out)
	}

	left, err := west.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"ebs-snapper:drill-run"}}}})
	if err != nil || len(left.Volumes) != 0 {
		t.Errorf("drill volumes left: %v, %v", left, err)
	}
	got, err := west.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[string]string{}
	for _, s := range got.Snapshots {
		for _, tg := range s.Tags {
			if aws.ToString(tg.Key) == "ebs-snapper:last-drill" {
				outcome[aws.ToString(s.SnapshotId)] = strings.Fields(aws.ToString(tg.Value))[1]
			}
		}
	}
	if outcome[snaps[0]] != "passed" || outcome[snaps[1]] != "failed" {
		t.Errorf("outcomes %v, want %s passed and %s failed", outcome, snaps[0], snaps[1])
	}
	var region map[string]any
	for _, doc := range emfLines(t, linesFrom(out.String(), "{")) {
		if doc["DrillsRun"] != nil {
			region = doc
		}
	}
	if region["Region"] != "us-west-2" || region["DrillsRun"] != 2.0 || region["DrillsFailed"] != 1.0 {
		b, _ := json.Marshal(region)
		t.Errorf("EMF drill line %s, want 2 drills and 1 failure in us-west-2\n%s", b, &out)
	}
}
