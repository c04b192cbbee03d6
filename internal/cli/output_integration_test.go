package cli

// Integration tests of the output flags (--output, --json, --jq, --html -):
// the built binary against moto.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// nulls returns the JSON paths of every null in doc.
func nulls(path string, doc any) []string {
	var out []string
	switch v := doc.(type) {
	case nil:
		return []string{path}
	case map[string]any:
		for k, x := range v {
			out = append(out, nulls(path+"."+k, x)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), x)...)
		}
	}
	return out
}

func TestOutputFlags(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "web, \"front\""}}})

	// With no stanza, every list of the JSON is [] and nothing is null,
	// in a region read and in one skipped.
	for _, args := range [][]string{{"plan", "--json"}, {"report", "--json"}, {"report", "--output", "json", "--region", "us-west-2"}} {
		stdout, stderr, code := runBinary(t, e.srv, "", append(args, "--region", "us-east-1")...)
		var doc any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%v: exit %d, %v\n%s\n%s", args, code, err, stdout, stderr)
		}
		if n := nulls("", doc); len(n) > 0 {
			t.Errorf("%v: null at %v\n%s", args, n, stdout)
		}
	}

	e.stanza("web", webStanza)
	// A region with nothing to do still has its lists, so README's query
	// yields nothing there instead of failing on a missing list.
	for _, q := range []string{".regions[].snapshots[]", ".regions[].clean[]", ".regions[].replication[]"} {
		stdout, stderr, code := runBinary(t, e.srv, "", "plan", "--region", "us-west-2", "--jq", q)
		if code != 0 || stdout != "" {
			t.Errorf("plan --jq %s with nothing to do: exit %d, %q, %s", q, code, stdout, stderr)
		}
	}
	// --jq: strings raw, one a line, as gh prints them.
	stdout, stderr, code := runBinary(t, e.srv, "", "plan", "--region", "us-east-1", "--jq", `.regions[].snapshots[] | select(.action == "create") | .volume_id`)
	if code != 0 || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, inst[0].VolumeIDs[0]+"\n") || strings.Contains(stdout, `"`) {
		t.Errorf("plan --jq: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--jq", `.coverage | {matched, percent}`)
	if code != ExitLate || stdout != `{"matched":2,"percent":0}`+"\n" {
		t.Errorf("report --jq: exit %d, %q", code, stdout)
	}
	for _, bad := range [][]string{
		{"plan", "--jq", ".regions[", "--region", "us-east-1"},
		{"plan", "--output", "xml"},
		{"report", "--output", "csv", "--json"},
		{"report", "--html", "-", "--json"},
	} {
		_, stderr, code := runBinary(t, e.srv, "", bad...)
		if code != ExitUsage || !strings.Contains(stderr, bad[1]) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming %s", bad, code, stderr, bad[1])
		}
	}

	// CSV: a header and one row per decision (plan) or volume (report),
	// quoted where a cell needs it.
	stdout, _, code = runBinary(t, e.srv, "", "plan", "--region", "us-east-1", "--output", "csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(runCSVHeader, ",") || rows[1][6] != "create" {
		t.Errorf("plan --output csv: exit %d, %v, rows %q", code, err, rows)
	}
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--output", "csv")
	rows, err = csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != ExitLate || err != nil || len(rows) != 3 || rows[1][1] != "missing" || rows[1][4] != `web, "front"` {
		t.Errorf("report --output csv: exit %d, %v, rows %q", code, err, rows)
	}

	// Durations: seconds in JSON, prose as people write it.
	stdout, _, _ = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--grace", "6 hours", "--jq", `[.grace, .grace_seconds]`)
	if stdout != `["6h",21600]`+"\n" {
		t.Errorf("grace in JSON: %q, want [\"6h\",21600]", stdout)
	}
	stdout, _, _ = runBinary(t, e.srv, "", "plan", "--region", "us-east-1", "--now", at(0))
	if strings.Contains(stdout, "0m0s") {
		t.Errorf("plan prints Go durations:\n%s", stdout)
	}

	// --html -: the page on stdout, instead of the text.
	stdout, _, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--html", "-")
	if code != ExitLate || !strings.HasPrefix(stdout, "<!DOCTYPE html>") || strings.Contains(stdout, "Coverage as of") {
		t.Errorf("report --html -: exit %d, stdout starts %.80q", code, stdout)
	}
}

// configure -l and -c print JSON too; the other actions refuse it.
func TestConfigureJSON(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	e.stanza("broken", `{, 123 bare words :: }`)
	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-l", "--json")
	var rows []listedStanza
	if err := json.Unmarshal([]byte(stdout), &rows); code != 0 || err != nil || len(rows) != 2 || rows[0].ID != "broken" || rows[0].Valid || !rows[1].Valid {
		t.Errorf("configure -l --json: exit %d, %v, %+v\n%s", code, err, rows, stderr)
	}
	stdout, _, code = runBinary(t, e.srv, "", "configure", "-l", "--jq", ".[] | select(.valid) | .id")
	if code != 0 || stdout != "web\n" {
		t.Errorf("configure -l --jq: exit %d, %q", code, stdout)
	}
	stdout, _, code = runBinary(t, e.srv, "", "configure", "-c", "--jq", ".findings | length > 0")
	if code != ExitPartial || stdout != "true\n" {
		t.Errorf("configure -c --jq: exit %d, %q", code, stdout)
	}
	if _, stderr, code = runBinary(t, e.srv, "", "configure", "-g", "web", "--json"); code != ExitUsage || !strings.Contains(stderr, "-l or -c only") {
		t.Errorf("configure -g --json: exit %d, %q", code, stderr)
	}
}
