// Package release builds ebs-snapper's release artefacts reproducibly:
// one stripped, static binary per platform in a .tar.gz (a .zip for
// Windows), the Lambda deployment package of each Lambda architecture
// (the Linux binary as bootstrap, exactly the zip deploy makes of it), a
// CycloneDX software bill of materials, and SHA256SUMS over all of them.
// Two builds of one commit with one Go toolchain give the same bytes: the
// binaries are built with -trimpath and no VCS stamping, and every archive
// entry carries the commit's time, mode and no owner.
package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// Target is one platform of the release.
type Target struct{ GOOS, GOARCH string }

func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// Targets are the platforms a full release builds: Linux, macOS and
// Windows on amd64 and arm64.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// lambdaArch is the Lambda architecture name of a Linux GOARCH.
var lambdaArch = map[string]string{"arm64": "arm64", "amd64": "x86_64"}

// Options is one release build.
type Options struct {
	// Source is the module's root directory; Out the directory the
	// artefacts are written to (created; existing artefacts replaced).
	Source, Out string
	// Version and Commit are stamped into the binaries; Date, the commit's
	// time, is every archive entry's modification time.
	Version, Commit string
	Date            time.Time
	// Targets to build (default Targets); a Lambda zip is made for each
	// Linux one.
	Targets []Target
	// SBOM, when set, is the package of the CycloneDX SBOM generator
	// (SBOMTool), built from the module file tools/go.mod.
	SBOM string
	// Log gets one line per artefact.
	Log io.Writer
}

// SBOMTool is cyclonedx-gomod, pinned in tools/go.mod. Its bin mode
// lists the modules linked into the Lambda's binary (linux/arm64, or the
// first Linux target built), from the build information the binary
// carries, in CycloneDX JSON without the serial number and timestamp that
// would make two builds differ.
const SBOMTool = "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"

// Build writes the release into opts.Out and returns the artefacts'
// names, SHA256SUMS last.
func Build(ctx context.Context, opts Options) ([]string, error) {
	if opts.Targets == nil {
		opts.Targets = Targets
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ebs-snapper-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	build := version.Info{Version: opts.Version, Commit: opts.Commit}
	prefix := "ebs-snapper_" + strings.TrimPrefix(opts.Version, "v")
	docs, err := readDocs(opts.Source)
	if err != nil {
		return nil, err
	}
	var names []string
	sbomDir := ""
	for _, t := range opts.Targets {
		dir := filepath.Join(work, t.GOOS+"_"+t.GOARCH)
		bin, err := compile(ctx, opts.Source, dir, t, build)
		if err != nil {
			return nil, err
		}
		exe := "ebs-snapper"
		if t.GOOS == "windows" {
			exe += ".exe"
		}
		files := append([]file{{name: exe, mode: 0o755, data: bin}}, docs...)
		name := prefix + "_" + t.GOOS + "_" + t.GOARCH
		var archive []byte
		if t.GOOS == "windows" {
			name += ".zip"
			archive, err = zipFiles(files, opts.Date)
		} else {
			name += ".tar.gz"
			archive, err = tarGz(files, opts.Date)
		}
		if err != nil {
			return nil, err
		}
		if err := write(opts, name, archive); err != nil {
			return nil, err
		}
		names = append(names, name)
		if t.GOOS == "linux" && (sbomDir == "" || t.GOARCH == "arm64") {
			sbomDir = dir
		}
		if arch, ok := lambdaArch[t.GOARCH]; ok && t.GOOS == "linux" {
			z, err := deploy.ZipBootstrap(bin)
			if err != nil {
				return nil, err
			}
			name := prefix + "_lambda_" + arch + ".zip"
			if err := write(opts, name, z); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
	}
	if opts.SBOM != "" && sbomDir != "" {
		name := prefix + "_sbom.cdx.json"
		if err := sbom(ctx, opts, work, sbomDir, name); err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, "%s\n", name)
		names = append(names, name)
	}
	sums, err := checksums(opts.Out, names)
	if err != nil {
		return nil, err
	}
	if err := write(opts, deploy.SumsFile, sums); err != nil {
		return nil, err
	}
	return append(names, deploy.SumsFile), nil
}

// sbom builds the SBOM tool, then runs it on the binary dir/ebs-snapper
// into opts.Out/name.
func sbom(ctx context.Context, opts Options, work, dir, name string) error {
	tool := filepath.Join(work, "sbom-tool")
	cmd := exec.CommandContext(ctx, "go", "build", "-modfile=tools/go.mod", "-trimpath", "-o", tool, opts.SBOM)
	cmd.Dir = opts.Source
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", opts.SBOM, err, out)
	}
	path, err := filepath.Abs(filepath.Join(opts.Out, name))
	if err != nil {
		return err
	}
	// Relative to dir, so that no build directory is recorded.
	cmd = exec.CommandContext(ctx, tool, "bin", "-json", "-noserial", "-notimestamp", "-version", opts.Version, "-output", path, "ebs-snapper")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("SBOM: %s: %v\n%s", opts.SBOM, err, out)
	}
	return nil
}

// compile builds ./cmd/ebs-snapper for t with deploy.BuildFlags, static
// (CGO_ENABLED=0) and with the environment's build settings that would
// change the bytes (GOFLAGS, GOAMD64, GOARM64) set to the defaults.
func compile(ctx context.Context, src, dir string, t Target, b version.Info) ([]byte, error) {
	out := filepath.Join(dir, "ebs-snapper")
	args := append(append([]string{"build"}, deploy.BuildFlags(b)...), "-o", out, "./cmd/ebs-snapper")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH,
		"GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", t, err, b)
	}
	return os.ReadFile(out)
}

// file is one archive entry.
type file struct {
	name string
	mode int64
	data []byte
}

// releaseDocs go into every archive beside the binary.
var releaseDocs = []string{"README.md", "CHANGELOG.md"}

func readDocs(src string) ([]file, error) {
	var fs []file
	for _, n := range releaseDocs {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return nil, err
		}
		fs = append(fs, file{name: n, mode: 0o644, data: b})
	}
	return fs, nil
}

// tarGz archives files with fixed metadata: mtime, mode, no owner.
func tarGz(files []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	gz.ModTime = mtime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipFiles archives files with fixed metadata.
func zipFiles(files []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime.UTC()}
		h.SetMode(os.FileMode(f.mode))
		e, err := w.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := e.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func write(opts Options, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(opts.Out, name), data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.Log, "%s (%d bytes)\n", name, len(data))
	return nil
}

// checksums is SHA256SUMS over the named files in dir, in the format
// sha256sum writes and `sha256sum -c` checks.
func checksums(dir string, names []string) ([]byte, error) {
	var b bytes.Buffer
	for _, n := range slices.Sorted(slices.Values(names)) {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		s := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(s[:]), n)
	}
	return b.Bytes(), nil
}
