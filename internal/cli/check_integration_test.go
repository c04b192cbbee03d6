package cli

import (
	"math"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestConfigureCheckReportsEachFinding(t *testing.T) {
	e := newEngineEnv(t)
	db := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "db"}}})
	untracked := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "Backup", Value: "True"}}})
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "no"}}})
	e.stanza("web", webStanza)
	e.stanza("dup", `{"match": {"tag:Name": "db"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}}`)
	e.stanza("ghost", `{"match": {"tag:Name": "ghost"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}}`)
	e.stanza("broken", `{"match": {"tag:x": "y"}, "snapshot": {"retention": "soon", "minimum": 1, "frequency": "1 day"}}`)

	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-c", "-e", "prod")
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d\n%s", code, ExitPartial, stderr)
	}
	want := []string{
		"prod,123456789012: Found a snapshot configuration that isn't valid: broken: snapshot.retention:",
		"prod,123456789012: tag:Name, value:ghost was configured, but didn't match any instances (stanza ghost)",
		"prod,123456789012: instance " + db[0].ID + " in us-east-1 is matched by stanzas dup, web; the safer rule of each governs it: minimum 2 (web), retention 4d (web)",
		"prod,123456789012: tag:Backup, value:True was tagged on an instance, but no configuration exists (instance " + untracked[0].ID + " in us-east-1)",
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d findings, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("finding %d = %q\nwant prefix %q", i, lines[i], w)
		}
	}
}

func TestConfigureCheckPrintsNothingWhenAllIsWell(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-c")
	if code != 0 || stdout != "" {
		t.Errorf("exit %d, stdout %q, want 0 and nothing (stderr %s)", code, stdout, stderr)
	}
}

// configure -c exits 3 on each kind of finding alone, so that a pipeline
// can gate on it, and 1 when it could not check.
func TestConfigureCheckExitStatusPerFinding(t *testing.T) {
	const daily = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`
	for _, tc := range []struct {
		name string
		// bare starts from an empty account; otherwise from one instance
		// tagged backup=yes and Name=db, covered by stanza web.
		bare bool
		// setup adds the finding and returns the endpoint to use ("" for
		// moto's).
		setup   func(e *engineEnv, inst []seeder.Instance) string
		code    int
		finding string
	}{
		{name: "invalid stanza", code: ExitPartial, finding: "Found a snapshot configuration that isn't valid: broken: snapshot.retention:",
			setup: func(e *engineEnv, _ []seeder.Instance) string {
				e.stanza("broken", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "soon", "minimum": 1, "frequency": "1 day"}}`)
				return ""
			}},
		{name: "no stanza", bare: true, code: ExitPartial, finding: "No configurations existed for this account"},
		{name: "stanza matching nothing", bare: true, code: ExitPartial, finding: "didn't match any instances (stanza web)",
			setup: func(e *engineEnv, _ []seeder.Instance) string { e.stanza("web", daily); return "" }},
		{name: "untracked backup tag", code: ExitPartial, finding: "tag:backup, value:true was tagged on an instance, but no configuration exists",
			setup: func(e *engineEnv, _ []seeder.Instance) string {
				e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "true"}}})
				return ""
			}},
		{name: "overlap", code: ExitPartial, finding: "is matched by stanzas db, web",
			setup: func(e *engineEnv, _ []seeder.Instance) string {
				e.stanza("db", `{"match": {"tag:Name": "db"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`)
				return ""
			}},
		{name: "filter rejected by EC2", code: ExitPartial, finding: "stanza a-prod: EC2 rejected its match in ",
			setup: func(e *engineEnv, _ []seeder.Instance) string {
				e.stanza("a-prod", `{"match": {"group-name": "prod"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`)
				return rejectFilterProxy(t, e.srv.URL, "group-name")
			}},
		{name: "DeleteOn not a date", code: ExitPartial, finding: "1 snapshots in us-east-1 have a DeleteOn that is not a YYYY-MM-DD date",
			setup: func(e *engineEnv, inst []seeder.Instance) string {
				e.snapshot(inst[0].VolumeIDs[0], inventory.Tag{Key: "DeleteOn", Value: "someday"})
				return ""
			}},
		{name: "nothing found", code: ExitOK},
		{name: "could not check", code: ExitError,
			setup: func(e *engineEnv, _ []seeder.Instance) string {
				// Every DescribeInstances fails: the check cannot be made.
				return faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{{
					Action: "DescribeInstances", Fault: faults.Reject, First: math.MaxInt, Code: "UnauthorizedOperation", Message: "denied"}}}).URL
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineEnv(t)
			var inst []seeder.Instance
			if !tc.bare {
				inst = e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "db"}}})
				e.stanza("web", daily)
			}
			endpoint := e.srv.URL
			if tc.setup != nil {
				if ep := tc.setup(e, inst); ep != "" {
					endpoint = ep
				}
			}
			stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, endpoint, "configure", "-c")
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			switch {
			case tc.finding == "" && stdout != "":
				t.Errorf("printed %q, want nothing", stdout)
			case tc.finding != "" && (!strings.Contains(stdout, tc.finding) || strings.Count(stdout, "\n") != 1):
				t.Errorf("stdout %q, want the one finding %q", stdout, tc.finding)
			}
		})
	}
}
