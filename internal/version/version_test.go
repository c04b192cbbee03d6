package version

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0f1ad24a1b2c3d4e"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name            string
		main, sum       string
		settings        []debug.BuildSetting
		ldVer, ldCommit string
		want            Info
	}{
		{"stamped wins", "v1.0.0", "h1:x", vcs, "v2.0.0", "abc", Info{Version: "v2.0.0", Commit: "abc", Module: "v1.0.0"}},
		{"go install of a tag", "v1.2.3", "h1:x", nil, "", "", Info{Version: "v1.2.3", Commit: Unknown, Module: "v1.2.3"}},
		{"go install of a pseudo-version", "v0.0.0-20261206205400-0f1ad24a1b2c", "h1:x", nil, "", "", Info{Version: "v0.0.0-20261206205400-0f1ad24a1b2c", Commit: "0f1ad24a1b2c", Module: "v0.0.0-20261206205400-0f1ad24a1b2c"}},
		{"build in a checkout: a VCS version, no sum, not installable", "v0.0.0-20261206205400-0f1ad24a1b2c+dirty", "", vcs, "", "", Info{Version: "v0.0.0-20261206205400-0f1ad24a1b2c+dirty", Commit: "0f1ad24a1b2c3d4e-dirty"}},
		{"build with -buildvcs=false", "(devel)", "", nil, "", "", Info{Version: Devel, Commit: Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: tc.main, Sum: tc.sum}, Settings: tc.settings}
			tc.want.GoVersion = "go1.26.8"
			if got := fromBuildInfo(bi, tc.ldVer, tc.ldCommit); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestXValue(t *testing.T) {
	ld := `-s -w -X 'other.x=1' -X=` + StampVar + `=` + Stamp("v1.2.3", "abc") + ` -X other.Version=v9`
	if got := xValue(ld, StampVar); got != Stamp("v1.2.3", "abc") {
		t.Errorf("stamp %q", got)
	}
	if got := xValue(`-X '`+StampVar+`=`+Stamp("v1", "c")+`'`, StampVar); got != Stamp("v1", "c") {
		t.Errorf("quoted stamp %q", got)
	}
	if got := xValue("-s -w", StampVar); got != "" {
		t.Errorf("absent: %q", got)
	}
}

func TestStampRoundTrip(t *testing.T) {
	v, c, ok := parseStamp(Stamp("v1.2.3", "0f1ad24") + "trailing data")
	if !ok || v != "v1.2.3" || c != "0f1ad24" {
		t.Errorf("parseStamp = %q %q %v", v, c, ok)
	}
	if _, _, ok := parseStamp("ebs-snapper-build"); ok {
		t.Error("the bare marker parsed as a stamp")
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "v1.2.3", Commit: "abc", GOOS: "linux", GOARCH: "arm64", GoVersion: "go1.26.8"}
	if got, want := i.String(), "ebs-snapper v1.2.3 (commit abc, linux/arm64, go1.26.8)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestSame(t *testing.T) {
	a := Info{Version: "v1", Commit: "abc"}
	for _, tc := range []struct {
		b    Info
		want bool
	}{
		{Info{Version: "v1", Commit: "abc"}, true},
		{Info{Version: "v1", Commit: Unknown}, true},
		{Info{Version: "v1", Commit: "def"}, false},
		{Info{Version: "v2", Commit: "abc"}, false},
	} {
		if got := Same(a, tc.b); got != tc.want {
			t.Errorf("Same(%v, %v) = %v", a, tc.b, got)
		}
	}
}

// Read finds the build information of a real Go binary: this test's.
func TestReadsAGoBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got.GoVersion != runtime.Version() || got.GOOS != runtime.GOOS || got.GOARCH != runtime.GOARCH {
		t.Errorf("Read = %+v, want %s %s/%s", got, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	if bytes.Contains(bin, []byte(stampMarker()+";v=")) {
		t.Error("an unstamped binary holds the stamp's marker")
	}
	if _, err := Read([]byte("#!/bin/sh\n")); err == nil {
		t.Error("Read of something that is not a Go binary succeeded")
	}
}
