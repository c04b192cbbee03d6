package release

import (
	"archive/tar"
	"bytes"
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

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// TestReleaseIsReproducible builds the release of the test machine's
// Linux target twice, into two directories, and checks that every
// artefact is byte-identical, that SHA256SUMS verifies (with sha256sum -c
// where the machine has it), and what the binary says it is. One target
// keeps it fast. The second build takes the binary from the Go build
// cache, whose keys leave out what -trimpath strips, so the archives, the
// Lambda zip and the SBOM are made twice but the binary is compiled once;
// make release-check builds the whole release a second time with an empty
// build cache.
func TestReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	src, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// Through the command make release runs, in a process of its own: in
	// this one, -race would make compressing 60 MB take minutes.
	opts := Options{Version: "v0.99.0-test", Commit: "0123456789abcdef"}
	var dirs [2]string
	var names []string
	for k := range dirs {
		dirs[k] = t.TempDir()
		cmd := exec.Command("go", "run", "./cmd/release", "-out", dirs[k], "-version", opts.Version, "-commit", opts.Commit,
			"-date", "2026-12-06T20:00:00Z", "-targets", "linux/"+runtime.GOARCH)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run ./cmd/release: %v\n%s", err, out)
		}
		names = nil
		for line := range strings.Lines(string(out)) {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			names = append(names, name)
		}
	}
	arch := lambdaArch[runtime.GOARCH]
	want := []string{"ebs-snapper_0.99.0-test_linux_" + runtime.GOARCH + ".tar.gz", "ebs-snapper_0.99.0-test_lambda_" + arch + ".zip", "ebs-snapper_0.99.0-test_sbom.cdx.json", "SHA256SUMS"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("artefacts %v, want %v", names, want)
	}
	for _, n := range names {
		a, errA := os.ReadFile(filepath.Join(dirs[0], n))
		b, errB := os.ReadFile(filepath.Join(dirs[1], n))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of one commit (%v, %v)", n, errA, errB)
		}
	}
	if sum, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sum, "-c", "SHA256SUMS")
		cmd.Dir = dirs[0]
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
		}
	}

	bin, entries := untar(t, filepath.Join(dirs[0], want[0]))
	if strings.Join(entries, " ") != "ebs-snapper 0755 README.md 0644 CHANGELOG.md 0644" {
		t.Errorf("archive entries %v", entries)
	}
	for _, leak := range []string{src, os.TempDir() + "/", "/root/go/pkg/mod"} {
		if bytes.Contains(bin, []byte(leak)) {
			t.Errorf("the binary holds the build path %q", leak)
		}
	}
	got, err := version.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != opts.Version || got.Commit != opts.Commit || got.GOOS != "linux" || got.GOARCH != runtime.GOARCH {
		t.Errorf("the binary is %+v, want %s %s linux/%s", got, opts.Version, opts.Commit, runtime.GOARCH)
	}
	exe := filepath.Join(t.TempDir(), "ebs-snapper")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "--version").Output()
	wantLine := "ebs-snapper v0.99.0-test (commit 0123456789abcdef, linux/" + runtime.GOARCH + ", " + runtime.Version() + ")\n"
	if err != nil || string(out) != wantLine {
		t.Errorf("--version printed %q (%v), want %q", out, err, wantLine)
	}
}

// untar returns the archive's binary and "name mode" of each entry,
// checking that every entry carries the commit's time and no owner.
func untar(t *testing.T, path string) ([]byte, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var bin []byte
	var entries []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)) || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: time %s, owner %d %q", h.Name, h.ModTime, h.Uid, h.Uname)
		}
		entries = append(entries, h.Name, fmt.Sprintf("%04o", h.Mode))
		if h.Name == "ebs-snapper" {
			if bin, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return bin, entries
}
