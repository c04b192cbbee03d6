package handler

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// initDuration is the emulator's report of a cold start's init phase:
// from starting the bootstrap to its first request for an event (the
// Go runtime's start, FromEnvironment with its STS call).
var initDuration = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// BenchmarkBootstrapColdStart compares the bootstrap built as before
// issue 22 (not stripped) with the release's flags (-s -w): the binary's
// and the Lambda zip's size, and the init duration the runtime interface
// emulator reports for a fresh process, over several cold starts of the
// snapshot worker against moto (its init asks STS for the account). The
// figures are in docs/performance.md.
func BenchmarkBootstrapColdStart(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the emulator is Linux only")
	}
	srv := motoserver.Require(b)
	dir := b.TempDir()
	rie := buildRIE(b, dir)
	for _, v := range []struct {
		name  string
		flags []string
	}{
		{"unstripped", []string{"-tags", "lambda.norpc", "-trimpath"}},
		{"release", deploy.BuildFlags(testBuild)},
	} {
		b.Run(v.name, func(b *testing.B) {
			vdir := b.TempDir()
			bootstrap := buildBootstrapWith(b, vdir, v.flags)
			bin, err := os.ReadFile(bootstrap)
			if err != nil {
				b.Fatal(err)
			}
			z, err := deploy.ZipBootstrap(bin)
			if err != nil {
				b.Fatal(err)
			}
			const starts = 7
			var inits []float64
			for range starts {
				inits = append(inits, coldStart(b, srv, rie, bootstrap))
			}
			slices.Sort(inits)
			b.ReportMetric(float64(len(bin))/1e6, "binary-MB")
			b.ReportMetric(float64(len(z))/1e6, "zip-MB")
			b.ReportMetric(inits[len(inits)/2], "init-ms-median")
			b.ReportMetric(inits[0], "init-ms-min")
			b.ReportMetric(inits[len(inits)-1], "init-ms-max")
		})
	}
}

// coldStart starts the emulator with bootstrap, invokes it once and
// returns the init duration it reports, in ms.
func coldStart(b *testing.B, srv *motoserver.Server, rie, bootstrap string) float64 {
	b.Helper()
	apiAddr, invokeAddr := freeAddr(b), freeAddr(b)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append(srv.Env(), "PATH="+os.Getenv("PATH"),
		"AWS_LAMBDA_FUNCTION_NAME=ebs-snapper-snapshot", "AWS_LAMBDA_FUNCTION_TIMEOUT=60",
		NameEnv+"="+Snapshot, TableEnv+"="+motoTable, QueueEnv+"=http://127.0.0.1:1/123456789012/CreateSnapshotQueue",
		LeaseTableEnv+"="+leaseTable)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	waitListening(b, invokeAddr, &out)
	// An empty SNS event: init is what is measured, not the work.
	resp, err := http.Post("http://"+invokeAddr+"/2015-03-31/functions/function/invocations", "application/json",
		bytes.NewReader([]byte(`{"Records": []}`)))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := initDuration.FindStringSubmatch(out.String()); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			return ms
		}
	}
	b.Fatalf("no INIT REPORT in the emulator's output:\n%s", &out)
	return 0
}
