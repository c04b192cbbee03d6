package cli

import (
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/fleet"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

func TestConfigureCheckReportsEachFinding(t *testing.T) {
	e := newEngineEnv(t)
	db := e.launch(fleet.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "db"}}})
	untracked := e.launch(fleet.Group{Count: 1, Tags: []inventory.Tag{{Key: "Backup", Value: "True"}}})
	e.launch(fleet.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "no"}}})
	e.stanza("web", webStanza)
	e.stanza("dup", `{"match": {"tag:Name": "db"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}}`)
	e.stanza("ghost", `{"match": {"tag:Name": "ghost"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}}`)
	e.stanza("broken", `{"match": {"tag:x": "y"}, "snapshot": {"retention": "soon", "minimum": 1, "frequency": "1 day"}}`)

	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-c", "-e", "prod")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := []string{
		"prod,123456789012: Found a snapshot configuration that isn't valid: broken: snapshot.retention:",
		"prod,123456789012: tag:Name, value:ghost was configured, but didn't match any instances (stanza ghost)",
		"prod,123456789012: instance " + db[0].ID + " in us-east-1 is matched by stanzas dup, web; the safer rule of each governs it: minimum 2 (web), retention 96h0m0s (web)",
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
	e.launch(fleet.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-c")
	if code != 0 || stdout != "" {
		t.Errorf("exit %d, stdout %q, want 0 and nothing (stderr %s)", code, stdout, stderr)
	}
}
