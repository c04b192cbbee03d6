package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// rieModule is the Lambda runtime interface emulator, built from the Go
// module proxy (no Docker needed).
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// TestBootstrapUnderTheRuntimeEmulator builds bootstrap as `make lambda`
// does (for this machine's architecture) and runs it under the Lambda
// runtime interface emulator as the snapshot worker, against moto, with an
// SQS event for one cell of a seeded region, then a batch with one bad
// cell, then an SNS event as an older stack delivers it. Elsewhere than CI it skips when the
// emulator cannot be built; under CI=true that is a failure.
func TestBootstrapUnderTheRuntimeEmulator(t *testing.T) {
	srv, bootstrap, rie := emulatorRig(t)
	ctx, cfg := motoAccount(t, dailyStanza)
	west, inst := launchInRegion(t, ctx, cfg, "us-west-2")

	// EC2 through a proxy that rejects the group-name filter, as EC2
	// rejects a filter it does not know (moto accepts it): the second
	// invocation below stores a stanza matching on it.
	invoke, out := startEmulator(t, srv, rie, bootstrap, "AWS_ENDPOINT_URL_EC2="+faults.NewProxy(t, srv.URL, faults.ProxyOptions{Rules: []faults.Rule{faults.RejectFilter("group-name")}}).URL,
		NameEnv+"="+Snapshot, TableEnv+"="+motoTable, QueueEnv+"=http://127.0.0.1:1/123456789012/CreateSnapshotQueue",
		LeaseTableEnv+"="+leaseTable)
	// One cell, as the queue's event source mapping delivers it: no
	// failed message.
	if code, body := invoke(readJSON(t, "testdata/sqs-event.json", nil)); code != http.StatusOK || strings.Contains(body, "errorMessage") || strings.Contains(body, "itemIdentifier") {
		t.Fatalf("invoke: HTTP %d %s\n%s", code, body, out)
	}
	// A batch with a cell of an account this stack cannot reach: that
	// message alone is reported failed, the other cell is done, the
	// invocation succeeds.
	if code, body := invoke(sqsEvent(t, Message("us-west-2"), `{"account": "222222222222", "region": "us-west-2"}`)); code != http.StatusOK ||
		compactJSON(t, body) != `{"batchItemFailures":[{"itemIdentifier":"m1"}]}` {
		t.Errorf("invoke a batch with one bad cell: HTTP %d %s, want the second message alone failed\n%s", code, body, out)
	}
	// An SNS event as an older stack's topic delivers it is still read.
	if code, body := invoke(readJSON(t, "testdata/sns-event.json", nil)); code != http.StatusOK || strings.Contains(body, "errorMessage") {
		t.Errorf("invoke with an SNS event: HTTP %d %s\n%s", code, body, out)
	}
	defer func() {
		// A stanza whose match EC2 rejects, beside the good one: the
		// invocation fails (as the CLI exits 3), so that the function's
		// Errors metric and its alarm see it.
		store := configstore.NewDynamo(dynamodb.NewFromConfig(cfg), motoTable)
		rejected := `{"match": {"group-name": "prod"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}}`
		if err := store.Put(ctx, configstore.Item{AccountID: motoserver.AccountID, ID: "keyname", Configuration: rejected}); err != nil {
			t.Fatal(err)
		}
		if _, body := invoke(sqsEvent(t, Message("us-west-2"))); !strings.Contains(body, "errorMessage") || !strings.Contains(body, "1 stanza rejected by EC2") {
			t.Errorf("invoke with a stanza EC2 rejects: %s, want an errorMessage naming the rejected stanza\n%s", body, out)
		}
	}()

	for _, v := range inst.VolumeIDs {
		if got := snapshotsOf(t, ctx, west, v); len(got) != 1 {
			t.Errorf("volume %s has %d snapshots, want 1", v, len(got))
		}
	}
	var finished, cold map[string]any
	for line := range strings.Lines(out.String()) {
		var rec map[string]any
		// The first run's: the later invocations find nothing due.
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "run finished" && finished == nil {
			finished = rec
		}
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(fmt.Sprint(rec["msg"]), "cold start: ") {
			cold = rec
		}
	}
	// The cold start names the build as --version does.
	want := version.Info{Version: testBuild.Version, Commit: testBuild.Commit, GOOS: "linux", GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
	if cold["msg"] != "cold start: "+want.String() || cold["version"] != want.Version || cold["commit"] != want.Commit || cold["platform"] != "linux/"+runtime.GOARCH {
		t.Errorf("cold start line %v, want %q with its parts", cold, "cold start: "+want.String())
	}
	if id, _ := finished["request_id"].(string); id == "" || finished["region"] != "us-west-2" || finished["created"] != 2.0 {
		t.Errorf("no JSON report line with a request id, region us-west-2 and created 2 in the output:\n%s", out)
	}
	// The EMF lines share stdout with the log records, each on its own line.
	var region map[string]any
	for _, doc := range emfLines(t, linesFrom(out.String(), "{")) {
		if doc["ConfigId"] == nil && region == nil {
			region = doc
		}
	}
	if region["Region"] != "us-west-2" || region["SnapshotsCreated"] != 2.0 || region["VolumesMatched"] != 2.0 {
		t.Errorf("no EMF line of the region with 2 snapshots created and 2 volumes matched in the output:\n%s", out)
	}
}

// compactJSON is body without insignificant space.
func compactJSON(t *testing.T, body string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(body)); err != nil {
		return body
	}
	return b.String()
}

// linesFrom keeps the lines of out that start with prefix: the bootstrap's
// JSON lines, without the emulator's own log lines.
func linesFrom(out, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// testBuild is the version and commit the emulator tests stamp.
var testBuild = version.Info{Version: "v0.99.2-rie-test", Commit: "0123456789ab"}

// buildBootstrap builds cmd/ebs-snapper as the Lambda bootstrap for this
// machine's architecture, with the release's flags (deploy.BuildFlags),
// stamped with testBuild.
func buildBootstrap(t testing.TB, dir string) string {
	return buildBootstrapWith(t, dir, deploy.BuildFlags(testBuild))
}

// buildBootstrapWith builds the bootstrap with the given go build flags.
func buildBootstrapWith(t testing.TB, dir string, flags []string) string {
	t.Helper()
	root, err := motoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, "./cmd/ebs-snapper")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bootstrap: %v\n%s", err, out)
	}
	return bin
}

// emulatorRig skips the test in short mode or off Linux, and otherwise
// returns moto, the built bootstrap and the runtime interface emulator.
// The binaries are built before any call's context starts: on a busy
// machine the builds alone can take longer than motoserver.Context allows.
func emulatorRig(t *testing.T) (srv *motoserver.Server, bootstrap, rie string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the emulator and provided.al2023 are Linux only")
	}
	srv = motoserver.Require(t)
	dir := t.TempDir()
	return srv, buildBootstrap(t, dir), buildRIE(t, dir)
}

// buildRIE installs the emulator from the module proxy into dir (the Go
// build cache makes later builds quick).
func buildRIE(t testing.TB, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "install", rieModule)
	cmd.Dir = dir // outside this module: its go.mod must not apply
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the runtime interface emulator is required under CI: %v\n%s", err, out)
		}
		t.Skipf("cannot build the runtime interface emulator: %v\n%s", err, out)
	}
	return filepath.Join(dir, "aws-lambda-rie")
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t testing.TB, addr string, out fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("the emulator does not listen on %s; its output:\n%s", addr, out)
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
