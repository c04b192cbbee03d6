package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ebs-snapper/ebs-snapper/"

// sdkServices is the prefix of the AWS SDK's service packages.
const sdkServices = "github.com/aws/aws-sdk-go-v2/service/"

// adapters may import sdkServices: the product's adapters and the
// handler's adapter file. The test rig (isRig) may too.
var adapters = []string{
	"internal/awsclient", "internal/configstore", "internal/deploy", "internal/ebs", "internal/lease",
	"internal/handler/aws.go",
}

// rigRoot holds the test rig: the in-memory EC2 fake and its conformance
// suite, the fault proxy and in-process injector, the EC2 simulator, the
// moto harness and the seeder (docs/testing.md, "Layers").
const rigRoot = "internal/testrig/"

// isRig reports whether the package at rel (a path inside the module) is
// test infrastructure: the rig, a test-helper package named like Go's
// net/http/httptest, inside the package it helps and named after it
// (internal/account/accounttest), or cmd/seedfleet, the demo's seeder.
// Only these and _test.go files may import the rig.
func isRig(rel string) bool {
	return strings.HasPrefix(rel+"/", rigRoot) || path.Base(rel) == path.Base(path.Dir(rel))+"test" || rel == "cmd/seedfleet"
}

// pureCore lists packages that must not depend, even indirectly, on the
// listed import paths: the pure core imports no AWS SDK, and the engine
// reaches AWS only through the interfaces it owns.
var pureCore = map[string][]string{
	"internal/inventory":  {"github.com/aws/"},
	"internal/config":     {"github.com/aws/"},
	"internal/schedule":   {"github.com/aws/"},
	"internal/retention":  {"github.com/aws/"},
	"internal/provenance": {"github.com/aws/"},
	"internal/snapper":    {"github.com/aws/", module + "internal/ebs", module + "internal/configstore", module + "internal/cli"},
}

type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
}

// cliForbidden returns the entry of adapters that path is or lies under,
// when internal/cli may not import it: every package of adapters but
// internal/deploy (a use case of its own, whose errors the CLI words),
// and any AWS SDK package; the rig is forbidden to every product package.
// "" means the CLI may import path.
func cliForbidden(path string) string {
	if strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/") {
		return path
	}
	for _, a := range adapters {
		if strings.HasSuffix(a, ".go") || a == "internal/deploy" {
			continue
		}
		if path == module+a || strings.HasPrefix(path, module+a+"/") {
			return a
		}
	}
	return ""
}

// TestLayering checks every package of the module (go list ./...), file by
// file, against the layers of docs/testing.md ("Layers"): only the adapters
// (and the test rig) import the AWS SDK's service packages; no product
// package imports the test rig; internal/cli imports no AWS SDK package
// and no adapter either (cliForbidden), so that it keeps flags and
// printing and gets its dependencies from its factory, which
// internal/account (the composition root) wires; and the pure core
// depends on no AWS code at all. Test files (benchmarks among them) are
// left out: they may inspect the emulator with the SDK and stage state
// with the rig.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen, rigs := 0, 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasPrefix(rel+"/", rigRoot) {
			rigs++
		}
		for _, f := range p.GoFiles {
			file := rel + "/" + f
			parsed, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, sdkServices) && !isRig(rel) && !slices.Contains(adapters, rel) && !slices.Contains(adapters, file) {
					t.Errorf("%s imports %s: only the adapters may (%v)", file, path, adapters)
				}
				if dep, ok := strings.CutPrefix(path, module); ok && isRig(dep) && !isRig(rel) {
					t.Errorf("%s imports %s: the product never imports the test rig (only tests, benchmarks and cmd/seedfleet may)", file, path)
				}
				if rel == "internal/cli" {
					if a := cliForbidden(path); a != "" {
						t.Errorf("%s imports %s: the CLI keeps flags and printing and asks its factory, which account wires (%s is an adapter)", file, path, a)
					}
				}
			}
		}
	}
	if seen < 20 {
		t.Errorf("go list found %d packages; the module has more", seen)
	}
	if rigs < 5 {
		t.Errorf("go list found %d rig packages under %s; the rig has more", rigs, rigRoot)
	}
	for pkg, forbidden := range pureCore {
		out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if slices.ContainsFunc(forbidden, func(f string) bool { return strings.HasPrefix(dep, f) }) {
				t.Errorf("%s depends on %s (and maybe more)", pkg, dep)
				break
			}
		}
	}
}

// TestIsRig: only the rig, a helper named after the package that holds it
// and the demo's seeder count as test infrastructure; a product package
// whose name merely ends in "test" does not.
func TestIsRig(t *testing.T) {
	for rel, want := range map[string]bool{
		"internal/testrig/ec2fake":     true,
		"internal/testrig":             true,
		"internal/account/accounttest": true,
		"internal/report/reporttest":   true,
		"cmd/seedfleet":                true,
		"internal/latest":              false,
		"internal/report/contest":      false,
		"internal/account":             false,
		"internal/testrigs":            false,
	} {
		if got := isRig(rel); got != want {
			t.Errorf("isRig(%q) = %v, want %v", rel, got, want)
		}
	}
}
