package deploy

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// modulePath is the module whose ./cmd/ebs-snapper is the Lambda binary.
const modulePath = "github.com/ebs-snapper/ebs-snapper"

// ZipTime is the modification time written into every zip, so that the
// same binary always gives the same zip bytes: then the S3 ETag and the
// functions' CodeSha256 match and a second deploy changes nothing.
var ZipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Code is a Lambda deployment package: a zip holding the binary as
// bootstrap, for one architecture.
type Code struct {
	Zip  []byte
	Arch string
	// Source says where the zip came from, for the operator.
	Source string
	// Build identifies the bootstrap (version.Read); BuildErr says why it
	// could not be identified (a bootstrap that is not a Go binary).
	Build    version.Info
	BuildErr error
}

// MD5Hex is the zip's MD5 in hex: the ETag S3 gives an object uploaded in
// one part.
func (c Code) MD5Hex() string { s := md5.Sum(c.Zip); return hex.EncodeToString(s[:]) }

// SHA256 is the base64 SHA-256 of the zip: the CodeSha256 Lambda reports.
func (c Code) SHA256() string {
	s := sha256.Sum256(c.Zip)
	return base64.StdEncoding.EncodeToString(s[:])
}

// PackageOptions says how to obtain the code.
type PackageOptions struct {
	// Arch is the target architecture: arm64 or x86_64.
	Arch string
	// ZipPath, when set, is a prepared zip: it must hold bootstrap.
	ZipPath string
	// Build is the CLI's own build: a cross-built bootstrap is stamped
	// with its version and commit, and one built by go install comes from
	// its module version.
	Build version.Info
}

// goArch maps a Lambda architecture to GOARCH.
func goArch(arch string) (string, error) {
	switch arch {
	case "arm64":
		return "arm64", nil
	case "x86_64":
		return "amd64", nil
	}
	return "", fmt.Errorf("architecture %q: want arm64 or x86_64", arch)
}

// BuildFlags are the go build flags of every ebs-snapper release binary
// and Lambda bootstrap, after "go build" or "go install": reproducible
// (-trimpath: no build paths; -buildvcs=false: nothing from the state of
// the checkout), stripped (-s -w: no symbol table or DWARF), stamped with
// b's version and commit, and without the Lambda RPC mode provided.al2023
// does not use. Build them with CGO_ENABLED=0, so the binary links no C
// library.
func BuildFlags(b version.Info) []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X '" + version.StampVar + "=" + version.Stamp(b.Version, b.Commit) + "'"}
}

// Package returns the code for opts.Arch: the zip at opts.ZipPath
// (checked against a SHA256SUMS file beside it, when there is one); else
// the running binary when it is a static Linux build of that
// architecture; else, for a binary installed with go install from a module
// version, the same module version built for Lambda by go install; else a
// cross-build of ./cmd/ebs-snapper from the module's source tree (found
// from the working directory, or from where this binary was built); else
// an error asking for --zip. Code.Build identifies what it packaged.
func Package(ctx context.Context, opts PackageOptions) (Code, error) {
	code, err := pack(ctx, opts)
	if err != nil {
		return code, err
	}
	code.Build, code.BuildErr = zipBuild(code.Zip)
	return code, nil
}

func pack(ctx context.Context, opts PackageOptions) (Code, error) {
	garch, err := goArch(opts.Arch)
	if err != nil {
		return Code{}, err
	}
	if opts.ZipPath != "" {
		b, err := os.ReadFile(opts.ZipPath)
		if err != nil {
			return Code{}, &ZipError{Path: opts.ZipPath, Read: true, Err: err}
		}
		if err := checkZip(b); err != nil {
			return Code{}, &ZipError{Path: opts.ZipPath, Err: err}
		}
		sums, err := verifySums(opts.ZipPath, b)
		if err != nil {
			return Code{}, &ZipError{Path: opts.ZipPath, Err: err}
		}
		source := opts.ZipPath
		if sums != "" {
			source += ", SHA-256 verified against " + sums
		}
		return Code{Zip: b, Arch: opts.Arch, Source: source}, nil
	}
	if runningFits(garch) {
		exe, err := os.Executable()
		if err != nil {
			return Code{}, fmt.Errorf("find the running binary: %w", err)
		}
		bin, err := os.ReadFile(exe)
		if err != nil {
			return Code{}, fmt.Errorf("read the running binary: %w", err)
		}
		z, err := ZipBootstrap(bin)
		return Code{Zip: z, Arch: opts.Arch, Source: "the running binary " + exe}, err
	}
	if opts.Build.Module != "" {
		return installModule(ctx, opts, garch)
	}
	return build(ctx, opts, garch)
}

// runningFits reports whether the running binary can serve as bootstrap
// for GOARCH garch: a Linux build of that architecture without cgo (a cgo
// binary links the build machine's C library, which provided.al2023 may
// not match).
func runningFits(garch string) bool {
	return fits(runtime.GOOS, runtime.GOARCH, cgoSetting(), garch)
}

func fits(goos, goarch, cgo, target string) bool {
	return goos == "linux" && goarch == target && cgo == "0"
}

func cgoSetting() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			return s.Value
		}
	}
	return ""
}

// build cross-compiles the Lambda binary from the source tree as the
// Makefile's lambda target does and zips it.
func build(ctx context.Context, opts PackageOptions, garch string) (Code, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return Code{}, &NoPackageError{GOARCH: garch, Why: "there is no Go toolchain to build one",
			Zip: fmt.Sprintf("the release's ebs-snapper_<version>_lambda_%s.zip, or make lambda", opts.Arch)}
	}
	src, err := sourceDir()
	if err != nil {
		return Code{}, &NoPackageError{GOARCH: garch, Why: err.Error(), Else: "run deploy from the ebs-snapper source tree",
			Zip: fmt.Sprintf("the release's ebs-snapper_<version>_lambda_%s.zip, or make lambda", opts.Arch)}
	}
	dir, err := os.MkdirTemp("", "ebs-snapper-build-")
	if err != nil {
		return Code{}, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "bootstrap")
	args := append(append([]string{"build"}, BuildFlags(opts.Build)...), "-o", out, "./cmd/ebs-snapper")
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+garch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return Code{}, fmt.Errorf("build linux/%s bootstrap in %s: %v\n%s", garch, src, err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return Code{}, err
	}
	z, err := ZipBootstrap(bin)
	return Code{Zip: z, Arch: opts.Arch, Source: fmt.Sprintf("built for linux/%s from %s", garch, src)}, err
}

// sourceDir finds the module's source: the working directory or a parent
// whose go.mod declares the module, else the tree this package was
// compiled from (recorded in builds without -trimpath).
func sourceDir() (string, error) {
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Dir(filepath.Dir(filepath.Dir(file))))
	}
	for _, d := range candidates {
		if declaresModule(filepath.Join(d, "go.mod")) {
			return d, nil
		}
	}
	return "", errors.New("the ebs-snapper source was not found")
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == modulePath
		}
	}
	return false
}

// ZipBootstrap zips bin as an executable named bootstrap,
// deterministically (one entry, modified at ZipTime): the Lambda
// deployment package of provided.al2023.
func ZipBootstrap(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: ZipTime}
	h.SetMode(0o755)
	f, err := w.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(bin); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkZip makes sure a prepared zip can run on provided.al2023: it is a
// zip and holds an executable file named bootstrap at its root.
func checkZip(b []byte) error {
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range r.File {
		if f.Name == "bootstrap" {
			if f.Mode()&0o111 == 0 {
				return errors.New("bootstrap is not executable (zip it with mode 0755)")
			}
			rc, err := f.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, rc)
			return err
		}
	}
	return errors.New("no bootstrap at the root of the zip")
}
