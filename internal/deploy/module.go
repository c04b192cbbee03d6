package deploy

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// installModule builds the bootstrap of a binary that go install made
// from a module version: the same module version, built for Lambda by go
// install from the module cache (or the module proxy, as the operator's go
// install did), with a scratch GOPATH so that the cross-compiled binary
// lands there and not in the operator's GOBIN.
func installModule(ctx context.Context, opts PackageOptions, garch string) (Code, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return Code{}, &NoPackageError{GOARCH: garch, Why: fmt.Sprintf("there is no Go toolchain to build %s@%s for Lambda", modulePath, opts.Build.Module),
			Zip: fmt.Sprintf("the release's ebs-snapper_%s_lambda_%s.zip", opts.Build.Module, opts.Arch)}
	}
	modcache, err := exec.CommandContext(ctx, goTool, "env", "GOMODCACHE").Output()
	if err != nil {
		return Code{}, fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	dir, err := os.MkdirTemp("", "ebs-snapper-install-")
	if err != nil {
		return Code{}, err
	}
	defer os.RemoveAll(dir)
	pkg := modulePath + "/cmd/ebs-snapper@" + opts.Build.Module
	args := append(append([]string{"install"}, BuildFlags(opts.Build)...), pkg)
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+garch,
		"GOPATH="+dir, "GOBIN=", "GOMODCACHE="+strings.TrimSpace(string(modcache)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return Code{}, fmt.Errorf("go install %s for linux/%s: %v\n%s", pkg, garch, err, b)
	}
	// go install puts a cross-compiled binary in bin/GOOS_GOARCH, a native
	// one in bin.
	var bin []byte
	for _, p := range []string{filepath.Join(dir, "bin", "linux_"+garch, "ebs-snapper"), filepath.Join(dir, "bin", "ebs-snapper")} {
		if bin, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if err != nil {
		return Code{}, fmt.Errorf("go install %s for linux/%s: no binary: %w", pkg, garch, err)
	}
	z, err := ZipBootstrap(bin)
	return Code{Zip: z, Arch: opts.Arch, Source: fmt.Sprintf("go install %s for linux/%s", pkg, garch)}, err
}

// SumsFile is the release's checksum file: one "<sha256 hex>  <name>" line
// per artefact, as sha256sum writes and `sha256sum -c` checks.
const SumsFile = "SHA256SUMS"

// ErrChecksum is returned when a zip's SHA-256 differs from the one its
// SHA256SUMS lists.
var ErrChecksum = errors.New("SHA-256 checksum mismatch")

// verifySums checks data, read from path, against the SHA256SUMS file in
// the same directory when there is one that lists the file's name. It
// returns the checksum file's path when it verified, "" when there is no
// such file or line.
func verifySums(path string, data []byte) (string, error) {
	sums := filepath.Join(filepath.Dir(path), SumsFile)
	f, err := os.Open(sums)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	name := filepath.Base(path)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok || strings.TrimPrefix(file, "*") != name {
			continue
		}
		got := sha256.Sum256(data)
		if !strings.EqualFold(want, hex.EncodeToString(got[:])) {
			return "", fmt.Errorf("%w: %s lists %s for %s, the file has %s", ErrChecksum, sums, want, name, hex.EncodeToString(got[:]))
		}
		return sums, nil
	}
	return "", sc.Err()
}

// zipBuild identifies the bootstrap inside a deployment package.
func zipBuild(z []byte) (version.Info, error) {
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return version.Info{}, err
	}
	for _, f := range r.File {
		if f.Name != "bootstrap" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return version.Info{}, err
		}
		defer rc.Close()
		bin, err := io.ReadAll(rc)
		if err != nil {
			return version.Info{}, err
		}
		return version.Read(bin)
	}
	return version.Info{}, errors.New("no bootstrap")
}

// VersionMismatchError is returned by Run when the code to deploy is not
// the deploying binary's own version (or its version cannot be read), and
// Options.AllowVersionMismatch is not set: the stack would run code other
// than the CLI that manages it.
type VersionMismatchError struct {
	// Source is where the code came from; CLI is the deploying binary.
	Source string
	Code   version.Info
	CLI    version.Info
	// Err says why the code's version could not be read (nil when it was).
	Err error
}

func (e *VersionMismatchError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cannot tell the version of the bootstrap in %s (%v), so it may not be this CLI's %s", e.Source, e.Err, e.CLI)
	}
	return fmt.Sprintf("the bootstrap in %s is %s, not this CLI's %s", e.Source, e.Code, e.CLI)
}

// checkVersion refuses code of another version than the CLI's.
func checkVersion(code Code, cli version.Info) error {
	if code.BuildErr != nil {
		return &VersionMismatchError{Source: code.Source, CLI: cli, Err: code.BuildErr}
	}
	if !version.Same(code.Build, cli) {
		return &VersionMismatchError{Source: code.Source, Code: code.Build, CLI: cli}
	}
	return nil
}
