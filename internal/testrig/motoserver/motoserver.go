// Package motoserver runs moto, the AWS emulator, in server mode on
// 127.0.0.1 for integration tests and the demo, patched with the calls
// moto lacks (patch.py: snapshot locks, disabled AMIs, Recycle Bin) and an
// endpoint to stage snapshots (stage.py). Tests share one server per
// test binary (started by the first Require, stopped by RunTests from
// TestMain) and reset its state before each test through Require.
//
// moto is looked up in this order: $MOTO_PYTHON, the machine's python3,
// then the repository's .venv (made by scripts/ensure-moto.sh). Without it
// integration tests skip, except under CI=true, where a skip is a failure.
package motoserver

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// Version is the moto release the project pins.
const Version = "5.2.1"

// patch patches moto's server with snapshot locks, DisableImage and
// DescribeImages' IncludeDisabled, and the Recycle Bin rules API added in
// memory: moto 5.2.1 implements none of them.
//
//go:embed patch.py
var patch string

// AccountID is the account moto reports for every caller.
const AccountID = "123456789012"

// Server is one running moto server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the moto process has exited
}

// startAttempts bounds how often Start picks a new port after moto found
// its port taken.
const startAttempts = 5

// errPortTaken says moto could not bind the port it was given.
var errPortTaken = errors.New("port taken")

// Start launches moto on a free loopback port and waits until it answers.
//
// The port is picked by binding port 0 and closing the listener, and moto
// binds it a moment later: go test runs packages in parallel, so another
// test binary's moto can take the same port in between. That moto would
// answer our readiness probe, so Start only trusts a server whose own log
// says it is listening, and when moto exits because the port is taken it
// retries on another port (up to 5 times).
func Start() (*Server, error) {
	py, err := findPython()
	if err != nil {
		return nil, err
	}
	return start(py, freePort, startAttempts)
}

func start(py string, pickPort func() (int, error), attempts int) (*Server, error) {
	var errs []error
	for range attempts {
		port, err := pickPort()
		if err != nil {
			return nil, err
		}
		s, err := launch(py, port)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("start moto: %w", errors.Join(errs...))
}

// launch starts moto on port and waits until it is ready.
func launch(py string, port int) (*Server, error) {
	logf, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return nil, err
	}
	// moto's own server, patched with the EC2 and Recycle Bin calls it
	// lacks (patch.py) and one endpoint more to stage snapshots
	// (stage.py, which starts the server).
	cmd := exec.Command(py, "-c", patch+"\n"+stageScript, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Without this moto loads ~1,200 public AMI snapshots into us-east-1.
	// The test binary's AWS_* settings (RunTests's offline ones, or a
	// test's) are for clients of moto, not for moto itself.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "MOTO_EC2_LOAD_DEFAULT_AMIS=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Kill moto with its parent even when the test binary panics or is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.Remove(logf.Name())
		return nil, fmt.Errorf("start moto with %s: %w", py, err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		// Wait is the only way to learn that moto exited; Err reads the
		// outcome once done is closed.
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

//go:embed stage.py
var stageScript string

// SnapshotStage is what StageSnapshot changes on a snapshot: each field
// that is set.
type SnapshotStage struct {
	// StartTime backdates the snapshot (whole seconds, UTC).
	StartTime time.Time
	// VolumeID replaces its VolumeId, as EC2's copies read vol-ffffffff.
	VolumeID string
	// State sets its state ("error", "pending").
	State string
}

// StageSnapshot changes a snapshot of account AccountID in region inside
// moto's EC2 backend, for states moto's API cannot produce: moto stamps
// StartTime with its clock, keeps the source's VolumeId on copies (EC2
// gives them vol-ffffffff) and completes every snapshot at once. The server
// runs moto with one endpoint more for it (stage.py).
func (s *Server) StageSnapshot(region, id string, st SnapshotStage) error {
	body := map[string]string{"region": region, "snapshot_id": id}
	if !st.StartTime.IsZero() {
		body["start_time"] = st.StartTime.UTC().Format("2006-01-02T15:04:05Z")
	}
	if st.VolumeID != "" {
		body["volume_id"] = st.VolumeID
	}
	if st.State != "" {
		body["state"] = st.State
	}
	js, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := http.Post(s.URL+"/ebs-snapper-test/snapshot", "application/json", bytes.NewReader(js))
	if err != nil {
		return fmt.Errorf("stage snapshot %s in %s: %w", id, region, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg := new(bytes.Buffer)
		_, _ = msg.ReadFrom(resp.Body)
		return fmt.Errorf("stage snapshot %s in %s: %s: %s", id, region, resp.Status, msg)
	}
	return nil
}

// Env is the environment a process needs to talk to this server and
// nowhere else: endpoint, static credentials, a region, and no IMDS.
func (s *Server) Env() []string {
	return envFor(s.URL)
}

// OfflineEndpoint is a loopback address where nothing listens.
const OfflineEndpoint = "http://127.0.0.1:1"

// Offline points the process's AWS configuration at OfflineEndpoint, for
// a test that must make no AWS call: were a check it relies on to
// regress, the call fails on this machine instead of reaching AWS (or the
// instance metadata endpoint). RunTests applies it to the whole test
// binary; SetEnv replaces it with a server's for one test.
func Offline(t testing.TB) {
	setEnv(t, envFor(OfflineEndpoint))
}

func envFor(endpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetEnv applies Env to the current process (for in-process SDK clients).
func (s *Server) SetEnv(t testing.TB) {
	setEnv(t, s.Env())
}

func setEnv(t testing.TB, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Config points the process's AWS environment at the server (SetEnv) and
// returns an SDK configuration for us-east-1 built the way the product
// builds its own.
func (s *Server) Config(t testing.TB) aws.Config {
	t.Helper()
	s.SetEnv(t)
	cfg, err := awsclient.Load(Context(t), "us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Reset wipes every service's state.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the server and removes its log.
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.log.Close()
	os.Remove(s.log.Name())
}

// Err is nil while the moto process runs; once it has exited, Err says how
// and quotes its log, so a test fails with moto's own last words instead
// of a refused connection.
func (s *Server) Err() error {
	select {
	case <-s.done:
		out, _ := os.ReadFile(s.log.Name())
		return fmt.Errorf("moto on %s exited (%s); its log:\n%s", s.URL, s.cmd.ProcessState, out)
	default:
		return nil
	}
}

// waitReady waits until this moto process, and not another one that took
// the port, answers: its log must say it listens on s.URL before an HTTP
// probe counts. It returns errPortTaken when moto exited because the port
// was in use.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	listening := "Running on " + s.URL
	probe := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			out, _ := os.ReadFile(s.log.Name())
			if bytes.Contains(out, []byte("Address already in use")) {
				return fmt.Errorf("moto on %s: %w", s.URL, errPortTaken)
			}
			return s.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if out, _ := os.ReadFile(s.log.Name()); !bytes.Contains(out, []byte(listening)) {
			continue
		}
		resp, err := probe.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	out, _ := os.ReadFile(s.log.Name())
	return fmt.Errorf("moto did not answer on %s within %s; its log:\n%s", s.URL, limit, out)
}

var (
	// inMain is set by RunTests; Require refuses to start a server that
	// nothing would stop.
	inMain    bool
	startOnce sync.Once
	shared    *Server
	startErr  error
)

// RunTests is for TestMain: it runs the tests and stops the server that
// the first Require started, whatever the outcome. The server starts
// lazily, so a test binary whose selected tests need no emulator (under
// -short, or with -run naming unit tests) never pays moto's start-up.
//
// Before any test runs it points the process's AWS configuration at
// OfflineEndpoint (as Offline does), so that a test that neither asks for
// the server nor means to call AWS can never reach AWS.
func RunTests(m *testing.M) int {
	for _, kv := range envFor(OfflineEndpoint) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	inMain = true
	defer func() {
		if shared != nil {
			shared.Stop()
		}
	}()
	return m.Run()
}

// Require returns the test binary's shared server (started by the first
// call) with its state reset, for a test that needs the emulator. It skips
// the test under -short (an explicit request for no emulator, honoured
// even with CI=true), and when moto is not available, except under
// CI=true, where that is a failure. It fails the test when the shared
// server has died.
func Require(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("emulator test: skipped under -short")
	}
	startOnce.Do(func() {
		if !inMain {
			startErr = errors.New("motoserver.RunTests was not called from TestMain")
			return
		}
		shared, startErr = Start()
	})
	if startErr != nil {
		skipWithout(t, startErr)
	}
	if err := shared.Err(); err != nil {
		t.Fatal(err)
	}
	if err := shared.Reset(); err != nil {
		t.Fatal(err)
	}
	return shared
}

// skipWithout skips t because moto is not available (err says why), or
// fails it under CI=true, where every emulator test must run.
func skipWithout(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("moto is required under CI: %v", err)
	}
	t.Skipf("moto not available: %v", err)
}

// Context returns a context bounded so a hung emulator fails the test
// instead of the whole run.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func findPython() (string, error) {
	candidates := []string{os.Getenv("MOTO_PYTHON"), "python3"}
	if root, err := RepoRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, ".venv", "bin", "python"))
	}
	check := fmt.Sprintf("import moto, moto.server; assert moto.__version__ == %q", Version)
	for _, py := range candidates {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", check).Run() == nil {
			return py, nil
		}
	}
	return "", fmt.Errorf("no python3 with moto %s (run scripts/ensure-moto.sh)", Version)
}

// RepoRoot finds the module root by walking up to go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
