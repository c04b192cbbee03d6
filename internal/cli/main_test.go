package cli

// Shared test set-up of package cli. Every test binary of the package gets
// one moto server (motoserver.RunTests; a test takes it, freshly reset,
// with motoserver.Require) and at most one build of the ebs-snapper binary,
// made by buildBinary the first time an integration test needs it, so unit
// tests never pay for the build. Integration tests run the binary with
// runBinary, which points it at moto and nowhere else.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

var (
	// binDir holds the built binary; TestMain removes it.
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ebs-snapper-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// Tests use the default table unless they set the variable themselves.
	os.Unsetenv(TableEnv)
	// Every binary a test starts keeps its run lock files (the CLI's lease
	// without a stack) under this process's own cache directory, never the
	// user's: a test run beside another checkout's, or an operator's run
	// on the same machine, must not find their locks held.
	// The go commands the tests run keep the user's build cache, which Go
	// would otherwise look for under XDG_CACHE_HOME.
	if os.Getenv("GOCACHE") == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			os.Setenv("GOCACHE", filepath.Join(cache, "go-build"))
		}
	}
	if err := os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := motoserver.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds ./cmd/ebs-snapper once per test binary and returns its
// path; a failed build fails every test that asks for it.
func buildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := motoserver.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(binDir, "ebs-snapper")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/ebs-snapper")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ebs-snapper: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runBinary runs the built ebs-snapper with args and stdin as its standard
// input, in the test's environment plus srv.Env() (moto's endpoint, static
// credentials, us-east-1, no profile, no instance metadata), and returns
// what it printed and its exit code. Set variables such as
// EBS_SNAPPER_TABLE with t.Setenv before calling it.
func runBinary(t testing.TB, srv *motoserver.Server, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBinaryEnv(t, srv.Env(), stdin, args...)
}

// runBinaryEnv runs the built ebs-snapper in the test's environment plus
// env (later entries win).
func runBinaryEnv(t testing.TB, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// Built before the run's context starts: on a busy machine the build
	// alone can take longer than that context allows.
	bin := buildBinary(t)
	cmd := exec.CommandContext(motoserver.Context(t), bin, withUnsafeNow(args)...)
	// Each run its own cache directory, so that no two tests (nor the
	// tests of two checkouts on one machine) share the lock files of a
	// run without a lease table (lease.File); a test that means two runs
	// to share them passes XDG_CACHE_HOME in env.
	cmd.Env = append(append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run ebs-snapper %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// withUnsafeNow adds --unsafe-now to a snapshot, clean or replication run
// that sets --now and is not a dry run: moto stamps snapshots with its own
// clock, so the integration tests move the tool's clock instead, which the
// CLI refuses for real runs without that flag.
func withUnsafeNow(args []string) []string {
	if len(args) == 0 || !slices.Contains(args, "--now") || slices.Contains(args, "--dry-run") || slices.Contains(args, "--unsafe-now") {
		return args
	}
	switch args[0] {
	case "snapshot", "clean", "replication":
		return append(slices.Clone(args), "--unsafe-now")
	}
	return args
}

// builtVersion identifies the binary buildBinary built, as its
// --version and its snapshots' descriptions name it.
func builtVersion(t testing.TB) version.Info {
	t.Helper()
	bin, err := os.ReadFile(buildBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	info, err := version.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
