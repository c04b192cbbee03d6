// Package version names a build of ebs-snapper: program, version, commit,
// platform and Go version, for the running binary (Current) and for any
// other ebs-snapper binary (Read), so that deploy can tell whether the
// Lambda code it is about to install is the CLI's own version.
package version

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Program is the program's name as --version prints it.
const Program = "ebs-snapper"

// stamp is set by the build to Stamp(version, commit) with
//
//	-ldflags "-X 'github.com/ebs-snapper/ebs-snapper/internal/version.stamp=…'"
//
// (BuildFlags in internal/deploy, and make build, make lambda and make
// release). Left empty, Current reads version and commit from the Go build
// information instead: the module version that `go install …@version`
// records, and the VCS revision a build in a git checkout records.
var stamp string

// StampVar is the -X name of the stamp.
const StampVar = "github.com/ebs-snapper/ebs-snapper/internal/version.stamp"

// Stamp is the value to stamp a build of version and commit with:
// "ebs-snapper-build;v=<version>;c=<commit>;". Read finds it in a binary
// by its marker even when the build dropped the symbol table (-s -w) and
// the -ldflags from its build information (-trimpath does); neither part
// may hold ";".
func Stamp(version, commit string) string {
	return stampMarker() + ";v=" + version + ";c=" + commit + ";"
}

// stampMarker is the stamp's fixed start, assembled at run time so that
// the whole marker is in a binary's data only when the binary is stamped.
func stampMarker() string { return strings.Join([]string{"ebs-snapper-build", ""}, "") }

// parseStamp splits a stamp into version and commit.
func parseStamp(s string) (version, commit string, ok bool) {
	rest, ok := strings.CutPrefix(s, stampMarker()+";v=")
	if !ok {
		return "", "", false
	}
	version, rest, ok = strings.Cut(rest, ";c=")
	if !ok {
		return "", "", false
	}
	commit, _, ok = strings.Cut(rest, ";")
	return version, commit, ok
}

// Devel is the version of a build that carries none: stamped by no
// -ldflags and not installed from a module version.
const Devel = "devel"

// Unknown stands for a commit the build did not record.
const Unknown = "unknown"

// Info identifies one build.
type Info struct {
	// Version is the release version (v1.2.3), the module version a
	// go install recorded, or Devel.
	Version string
	// Commit is the git commit the binary was built from (with -dirty when
	// the tree had changes), or Unknown.
	Commit string
	// GOOS and GOARCH are the platform the binary runs on.
	GOOS, GOARCH string
	// GoVersion is the toolchain that built it (go1.26.8).
	GoVersion string
	// Module is the module version the binary was built from by
	// go install …@version (v1.2.3), "" for a build in a source tree.
	Module string
}

// String is the --version line: "ebs-snapper v1.2.3 (commit 0f1ad24…,
// linux/arm64, go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("%s %s (commit %s, %s/%s, %s)", Program, i.Version, i.Commit, i.GOOS, i.GOARCH, i.GoVersion)
}

// Current identifies the running binary.
func Current() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{GoVersion: runtime.Version()}
	}
	v, c, _ := parseStamp(stamp)
	i := fromBuildInfo(bi, v, c)
	i.GOOS, i.GOARCH = runtime.GOOS, runtime.GOARCH
	return i
}

// Read identifies the Go binary bin (an ebs-snapper executable such as a
// Lambda bootstrap) from the build information the Go linker writes into
// every binary, stripped or not, and its stamp: from the -ldflags the
// build information records (builds without -trimpath), else found in
// the binary's data by its marker. It fails when bin is not a Go binary.
func Read(bin []byte) (Info, error) {
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return Info{}, fmt.Errorf("read the Go build information: %w", err)
	}
	v, c, ok := parseStamp(xValue(setting(bi, "-ldflags"), StampVar))
	if !ok {
		if k := bytes.Index(bin, []byte(stampMarker()+";v=")); k >= 0 {
			end := min(len(bin), k+512)
			v, c, _ = parseStamp(string(bin[k:end]))
		}
	}
	i := fromBuildInfo(bi, v, c)
	i.GOOS, i.GOARCH = setting(bi, "GOOS"), setting(bi, "GOARCH")
	return i, nil
}

// fromBuildInfo fills an Info from build information and the stamped
// values (empty when not stamped).
func fromBuildInfo(bi *debug.BuildInfo, version, commit string) Info {
	i := Info{Version: version, Commit: commit, GoVersion: bi.GoVersion}
	if real := bi.Main.Version; real != "" && real != "(devel)" {
		if i.Version == "" {
			i.Version = real
		}
		// Only a module the go command downloaded has a sum: a build in a
		// checkout gets a version from its VCS (Go 1.24 and later) but
		// none, and go install could not fetch that version.
		if bi.Main.Sum != "" {
			i.Module = real
		}
	}
	if i.Version == "" {
		i.Version = Devel
	}
	if i.Commit == "" {
		i.Commit = vcsCommit(bi)
	}
	return i
}

// pseudoCommit is the commit prefix a pseudo-version ends with
// (v0.0.0-20261206205400-0f1ad24a1b2c).
var pseudoCommit = regexp.MustCompile(`-\d{14}-([0-9a-f]{12})(\+dirty)?$`)

// vcsCommit is the revision the go command recorded (vcs.revision, with
// -dirty for vcs.modified), else the one a pseudo-version names, else
// Unknown.
func vcsCommit(bi *debug.BuildInfo) string {
	if rev := setting(bi, "vcs.revision"); rev != "" {
		if setting(bi, "vcs.modified") == "true" {
			rev += "-dirty"
		}
		return rev
	}
	if m := pseudoCommit.FindStringSubmatch(bi.Main.Version); m != nil {
		return m[1]
	}
	return Unknown
}

func setting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// xValue finds "-X name=value" in an -ldflags string ("" when absent).
func xValue(ldflags, name string) string {
	fields := strings.Fields(ldflags)
	for k, f := range fields {
		var def string
		switch {
		case f == "-X" && k+1 < len(fields):
			def = fields[k+1]
		case strings.HasPrefix(f, "-X="):
			def = f[len("-X="):]
		default:
			continue
		}
		def = strings.Trim(def, `"'`)
		if v, ok := strings.CutPrefix(def, name+"="); ok {
			return v
		}
	}
	return ""
}

// Same reports whether a and b are the same version of ebs-snapper: the
// same Version and, when both recorded one, the same Commit.
func Same(a, b Info) bool {
	if a.Version != b.Version {
		return false
	}
	return a.Commit == Unknown || b.Commit == Unknown || a.Commit == b.Commit
}
