// Command release builds ebs-snapper's release artefacts into a directory
// (make release): see internal/release.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/release"
)

func main() {
	out := flag.String("out", "dist/release", "directory to write the artefacts to")
	ver := flag.String("version", "", "version to stamp (v1.2.3)")
	commit := flag.String("commit", "", "git commit to stamp")
	date := flag.String("date", "", "the commit's time, RFC 3339: every archive entry's modification time")
	targets := flag.String("targets", "", "comma-separated GOOS/GOARCH list (default: linux, darwin and windows on amd64 and arm64)")
	sbom := flag.Bool("sbom", true, "write the CycloneDX SBOM (cyclonedx-gomod from tools/go.mod)")
	flag.Parse()
	if err := run(*out, *ver, *commit, *date, *targets, *sbom); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(out, ver, commit, date, targets string, sbom bool) error {
	if ver == "" || commit == "" || date == "" {
		return fmt.Errorf("-version, -commit and -date are required")
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return fmt.Errorf("-date %q: %w", date, err)
	}
	opts := release.Options{Source: ".", Out: out, Version: ver, Commit: commit, Date: t, Log: os.Stdout}
	for _, s := range strings.Split(targets, ",") {
		if s == "" {
			continue
		}
		goos, goarch, ok := strings.Cut(s, "/")
		if !ok {
			return fmt.Errorf("-targets %q: want GOOS/GOARCH", s)
		}
		opts.Targets = append(opts.Targets, release.Target{GOOS: goos, GOARCH: goarch})
	}
	if sbom {
		opts.SBOM = release.SBOMTool
	}
	_, err = release.Build(context.Background(), opts)
	return err
}
