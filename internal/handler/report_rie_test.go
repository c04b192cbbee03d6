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
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// The built bootstrap under the runtime interface emulator as the report
// function, with the environment the template gives it, against moto: a
// scheduled event writes the report to the bucket (the prefix given
// without its "/"), and the report in latest.json is the account's in the
// stack's region only.
func TestReportFunctionUnderTheRuntimeEmulator(t *testing.T) {
	srv, bootstrap, rie := emulatorRig(t)
	ctx, cfg := motoAccount(t, dailyStanza)
	_, inst := launchInRegion(t, ctx, cfg, "us-west-2")
	s3api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if _, err := s3api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit")}); err != nil {
		t.Fatal(err)
	}

	apiAddr, invokeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append(srv.Env(), "PATH="+os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=ebs-snapper-report", "AWS_LAMBDA_FUNCTION_TIMEOUT=120",
		NameEnv+"="+Report, TableEnv+"="+motoTable, RegionsEnv+"=us-west-2", RatesEnv+"=",
		ReportBucketEnv+"=audit", ReportPrefixEnv+"=ebs-snapper")
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
		bytes.NewReader(readJSON(t, "testdata/scheduled-event.json", nil)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "errorMessage") {
		t.Fatalf("invoke: HTTP %d %s\n%s", resp.StatusCode, body, &out)
	}

	obj, err := s3api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audit"), Key: aws.String("ebs-snapper/" + motoserver.AccountID + "/latest.json")})
	if err != nil {
		t.Fatalf("latest.json: %v\n%s", err, &out)
	}
	defer obj.Body.Close()
	var rep report.Report
	if err := json.NewDecoder(obj.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Regions) != 1 || rep.Regions[0].Region != "us-west-2" || rep.Coverage.Matched != len(inst.VolumeIDs) || rep.Coverage.Missing != len(inst.VolumeIDs) {
		t.Errorf("latest.json: regions %d, coverage %+v; want us-west-2 only, %d volumes matched and missing", len(rep.Regions), rep.Coverage, len(inst.VolumeIDs))
	}
	if !strings.Contains(out.String(), `"msg":"report written"`) {
		t.Errorf("no \"report written\" log line:\n%s", &out)
	}
}
