package cli

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/ebs-snapper/ebs-snapper/internal/release"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// The install routes the README documents, each through to a deploy into
// moto with the Lambda code each route really produces (x86_64, the test
// machine's architecture, so that no route needs an arm64 toolchain
// cache). They build the binary several ways (a few minutes on a busy
// 2-core machine), so they run only with EBS_SNAPPER_INSTALL_TEST=1:
// make test-install, which .ci/run calls after make test.

// installTest skips the test unless EBS_SNAPPER_INSTALL_TEST=1.
func installTest(t *testing.T) {
	t.Helper()
	if os.Getenv("EBS_SNAPPER_INSTALL_TEST") != "1" {
		t.Skip("builds and installs the binary; make test-install (EBS_SNAPPER_INSTALL_TEST=1) runs it")
	}
}

// hostLambdaArch is the Lambda architecture of the test machine.
func hostLambdaArch(t *testing.T) string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	t.Skipf("no Lambda architecture for %s", runtime.GOARCH)
	return ""
}

// runIn runs a command in dir with env added, failing the test on error.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(motoserver.Context(t), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// runTool runs an ebs-snapper binary other than the one buildBinary built,
// in dir, pointed at srv.
func runTool(t *testing.T, srv *motoserver.Server, bin, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(motoserver.Context(t), bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), srv.Env()...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return out.String(), errOut.String(), code
}

// deployWith runs bin's deploy and fails unless it exits 0 and prints
// every wanted text.
func deployWith(t *testing.T, srv *motoserver.Server, bin, dir string, env []string, want []string, args ...string) {
	t.Helper()
	stdout, stderr, code := runTool(t, srv, bin, dir, env, append([]string{"deploy", "--region", deployRegion, "--yes"}, args...)...)
	if code != 0 {
		t.Fatalf("%s deploy %v: exit %d\nstdout:\n%s\nstderr:\n%s", bin, args, code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("%s deploy %v: stdout lacks %q:\n%s", bin, args, w, stdout)
		}
	}
}

// Route 1: a release archive. Its binary deploys the release's Lambda zip,
// checked against SHA256SUMS, and then (a static Linux build of the
// Lambda's architecture) itself, which is the same zip byte for byte.
// The binary of another version refuses that zip.
func TestInstallFromReleaseArchiveThenDeploy(t *testing.T) {
	installTest(t)
	srv := motoserver.Require(t)
	arch := hostLambdaArch(t)
	root, err := motoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	const ver = "v0.99.1-release-test"
	if _, err := release.Build(motoserver.Context(t), release.Options{Source: root, Out: dist, Version: ver, Commit: "0123456789abcdef0123456789abcdef01234567",
		Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Targets: []release.Target{{GOOS: "linux", GOARCH: runtime.GOARCH}}, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	bin := untarBinary(t, filepath.Join(dist, "ebs-snapper_0.99.1-release-test_linux_"+runtime.GOARCH+".tar.gz"), home)
	lambdaZip := filepath.Join(dist, "ebs-snapper_0.99.1-release-test_lambda_"+arch+".zip")

	stdout, _, _ := runTool(t, srv, bin, home, nil, "--version")
	if want := fmt.Sprintf("ebs-snapper %s (commit 0123456789abcdef0123456789abcdef01234567, linux/%s, %s)\n", ver, runtime.GOARCH, runtime.Version()); stdout != want {
		t.Errorf("--version printed %q, want %q", stdout, want)
	}

	// The development binary is another version: refused, nothing uploaded.
	_, stderr, code := runBinary(t, srv, "", "deploy", "--region", deployRegion, "--yes", "--arch", arch, "--zip", lambdaZip)
	if code != ExitError || !strings.Contains(stderr, "the bootstrap in "+lambdaZip+", SHA-256 verified against "+filepath.Join(dist, "SHA256SUMS")+" is ebs-snapper "+ver) ||
		!strings.Contains(stderr, "not this CLI's ebs-snapper "+builtVersion(t).Version) {
		t.Errorf("deploy of another version's zip: exit %d, stderr:\n%s", code, stderr)
	}

	deployWith(t, srv, bin, home, nil, []string{
		"(" + lambdaZip + ", SHA-256 verified against " + filepath.Join(dist, "SHA256SUMS") + ")",
		"stack " + deployStack + " (" + deployRegion + "): created",
		"deployed ebs-snapper " + ver,
	}, "--arch", arch, "--zip", lambdaZip)
	deployWith(t, srv, bin, home, nil, []string{
		"(the running binary " + bin + ")",
		"upload s3://" + deployBucket + "/ebs-snapper-" + arch + ".zip: skipped, already up to date",
		"nothing changed",
	}, "--arch", arch)

	// A zip that does not match its SHA256SUMS is refused.
	tampered := filepath.Join(dist, "copy.zip")
	data, _ := os.ReadFile(lambdaZip)
	if err := os.WriteFile(tampered, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	line := strings.SplitN(string(sums), "\n", 3)[1] // the Lambda zip's line
	hash, _, _ := strings.Cut(line, "  ")
	if err := os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(string(sums)+hash+"  copy.zip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runTool(t, srv, bin, home, nil, "deploy", "--region", deployRegion, "--yes", "--arch", arch, "--zip", tampered)
	if code != ExitError || !strings.Contains(stderr, "SHA-256 checksum mismatch") {
		t.Errorf("deploy of a zip that does not match SHA256SUMS: exit %d, stderr:\n%s", code, stderr)
	}
}

// untarBinary extracts the ebs-snapper binary of a release archive into dir.
func untarBinary(t *testing.T, archive, dir string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no ebs-snapper: %v", archive, err)
		}
		if h.Name == "ebs-snapper" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "ebs-snapper")
			if err := os.WriteFile(path, data, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
}

// Route 2: go install from a module proxy (here a file-based GOPROXY
// serving this tree as a module version, backed by the module cache for
// the dependencies). The installed binary links cgo, so it cannot be its
// own bootstrap: deploy builds the same module version for Lambda with go
// install.
func TestInstallWithGoInstallThenDeploy(t *testing.T) {
	installTest(t)
	srv := motoserver.Require(t)
	arch := hostLambdaArch(t)
	root, err := motoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	modcache := strings.TrimSpace(runIn(t, root, nil, "go", "env", "GOMODCACHE"))
	// A version of its own per run, removed from the module cache after:
	// the cache must not keep serving an older tree under this version.
	ver := fmt.Sprintf("v0.0.0-%s-%012x", time.Now().UTC().Format("20060102150405"), os.Getpid())
	proxy := t.TempDir()
	serveModule(t, root, proxy, ver)
	t.Cleanup(func() {
		for _, p := range []string{filepath.Join(modcache, "github.com", "ebs-snapper", "ebs-snapper@"+ver)} {
			_ = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
				if err == nil {
					_ = os.Chmod(path, 0o755)
				}
				return nil
			})
			os.RemoveAll(p)
		}
		dl := filepath.Join(modcache, "cache", "download", "github.com", "ebs-snapper", "ebs-snapper", "@v")
		for _, ext := range []string{".info", ".mod", ".zip", ".ziphash", ".lock"} {
			os.Remove(filepath.Join(dl, ver+ext))
		}
	})
	gobin := t.TempDir()
	env := []string{
		"GOPROXY=file://" + proxy + ",file://" + filepath.Join(modcache, "cache", "download"),
		"GOSUMDB=off", "GOFLAGS=-modcacherw", "GOBIN=" + gobin,
	}
	runIn(t, t.TempDir(), env, "go", "install", "github.com/ebs-snapper/ebs-snapper/cmd/ebs-snapper@"+ver)
	bin := filepath.Join(gobin, "ebs-snapper")

	stdout, _, _ := runTool(t, srv, bin, t.TempDir(), env, "--version")
	if !strings.HasPrefix(stdout, "ebs-snapper "+ver+" (commit ") {
		t.Errorf("--version printed %q, want the module version %s", stdout, ver)
	}
	// Run outside any source tree, as a user's go install is.
	deployWith(t, srv, bin, t.TempDir(), env, []string{
		"(go install github.com/ebs-snapper/ebs-snapper/cmd/ebs-snapper@" + ver + " for linux/",
		"stack " + deployStack + " (" + deployRegion + "): created",
		"deployed ebs-snapper " + ver,
	}, "--arch", arch)
}

// serveModule writes this tree (its tracked and untracked, not ignored
// files: what a commit of it would hold) into proxy as module version ver,
// in the layout of a GOPROXY.
func serveModule(t *testing.T, root, proxy, ver string) {
	t.Helper()
	dir := filepath.Join(proxy, "github.com", "ebs-snapper", "ebs-snapper", "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var files []modzip.File
	for _, name := range strings.Split(strings.TrimSpace(runIn(t, root, nil, "git", "ls-files", "-co", "--exclude-standard")), "\n") {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			files = append(files, treeFile{root: root, name: name})
		}
	}
	z, err := os.Create(filepath.Join(dir, ver+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	// Create leaves out what a module zip may not hold (nested modules
	// such as tools/, vendor directories) and checks the rest.
	if err := modzip.Create(z, module.Version{Path: "github.com/ebs-snapper/ebs-snapper", Version: ver}, files); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		ver + ".mod":  gomod,
		ver + ".info": fmt.Appendf(nil, `{"Version":%q,"Time":%q}`, ver, time.Now().UTC().Format(time.RFC3339)),
		"list":        []byte(ver + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// treeFile is a file of the source tree for modzip.Create.
type treeFile struct{ root, name string }

func (f treeFile) Path() string                 { return f.name }
func (f treeFile) Lstat() (os.FileInfo, error)  { return os.Lstat(filepath.Join(f.root, f.name)) }
func (f treeFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.root, f.name)) }

// Route 3: clone and make. make build's binary links cgo, so deploy
// cross-builds the bootstrap from the clone it runs in, stamped with the
// same version.
func TestInstallFromCloneAndMakeThenDeploy(t *testing.T) {
	installTest(t)
	srv := motoserver.Require(t)
	arch := hostLambdaArch(t)
	root, err := motoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "ebs-snapper")
	runIn(t, root, nil, "git", "clone", "-q", root, clone)
	// A user's go command stamps the checkout's VCS version (this
	// machine's go env turns that off): the binary then carries a module
	// version that go install could not fetch, which deploy must not try.
	vcs := []string{"GOFLAGS=-buildvcs=true"}
	runIn(t, clone, vcs, "make", "build")
	bin := filepath.Join(clone, "bin", "ebs-snapper")
	commit := strings.TrimSpace(runIn(t, clone, nil, "git", "rev-parse", "HEAD"))
	stdout, _, _ := runTool(t, srv, bin, clone, vcs, "--version")
	if !strings.Contains(stdout, "(commit "+commit+", linux/"+runtime.GOARCH) {
		t.Errorf("--version printed %q, want commit %s", stdout, commit)
	}
	deployWith(t, srv, bin, clone, vcs, []string{
		"(built for linux/",
		"from " + clone + ")",
		"stack " + deployStack + " (" + deployRegion + "): created",
		"function " + deployStack + "-snapshot: published version 1",
	}, "--arch", arch)
}
