package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// Issue 16 item 10: configure -s refuses ids and values that would be
// stored as something else (U+FFFD for invalid UTF-8), split configure
// -l's lines, or never match EC2's exact comparison, naming the flag or
// the JSON path; nothing is stored.
func TestConfigureBinaryRefusesBadText(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	const snap = `"snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}`
	for _, tt := range []struct {
		name, id, stanza, want string
		code                   int
	}{
		{"newline in the id", "daily\nweekly", `{"match": {"tag:b": "y"}, ` + snap + `}`, "--set: the stanza id holds the control character U+000A", ExitUsage},
		{"invalid UTF-8 in the id", "daily\xff", `{"match": {"tag:b": "y"}, ` + snap + `}`, "--set: the stanza id is not valid UTF-8", ExitUsage},
		{"padded id", " daily", `{"match": {"tag:b": "y"}, ` + snap + `}`, "--set: the stanza id has white space before or after it", ExitUsage},
		{"only spaces as id", "   ", `{"match": {"tag:b": "y"}, ` + snap + `}`, "--set: the stanza id must not be empty or only white space", ExitUsage},
		{"invalid UTF-8 in a value", "v1", `{"match": {"tag:b": "y` + "\xff" + `"}, ` + snap + `}`, `match["tag:b"]: is not valid UTF-8 (byte 0xff`, ExitError},
		{"newline in a value", "v2", `{"match": {"tag:b": "y\nz"}, ` + snap + `}`, `match["tag:b"]: holds the control character U+000A`, ExitError},
		{"padded ignore id", "v3", `{"match": {"tag:b": "y"}, "ignore": ["i-01234567 "], ` + snap + `}`, `ignore[0]: has white space before or after it`, ExitError},
		{"only spaces as a value", "v4", `{"match": {"tag:b": "  "}, ` + snap + `}`, `match["tag:b"]: must not be empty or only white space`, ExitError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, srv, "", "configure", "-s", tt.id, tt.stanza)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
			if strings.ContainsRune(stderr, '\ufffd') {
				t.Errorf("the error shows U+FFFD instead of the bytes given:\n%s", stderr)
			}
		})
	}
	if stdout, _, _ := runBinary(t, srv, "", "configure", "-l"); stdout != "No configurations found\n" {
		t.Errorf("something was stored:\n%s", stdout)
	}
}

// Item 10 for stanzas found stored (by ebs_snapper or by hand): an id with
// a newline stays one quoted line of configure -l, and a cron that fires
// more often than the one-hour floor is run with a warning, its fires
// within the hour of a volume's last snapshot ignored.
func TestStoredBadTextAndSubHourlyCron(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("every\nten", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "*/10 * * * *"}}`)
	stdout, stderr, code := runBinary(t, e.srv, "", "configure", "-l")
	if code != ExitOK || stdout != "aws_account_id,id\n123456789012,\"every\\nten\"\n" {
		t.Errorf("configure -l: exit %d\n%s%s", code, stdout, stderr)
	}
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	if got := e.run(ExitOK, "snapshot").Regions[0].Summary.Created; got != 1 {
		t.Fatalf("first run created %d, want 1", got)
	}
	for _, d := range []time.Duration{20 * time.Minute, 40 * time.Minute} {
		if got := e.run(ExitOK, "snapshot", "--now", at(d)).Regions[0].Summary.Created; got != 0 {
			t.Errorf("%s after the first snapshot: created %d, want 0 (the floor is an hour)", d, got)
		}
	}
	if got := e.run(ExitOK, "snapshot", "--now", at(70*time.Minute)).Regions[0].Summary.Created; got != 1 {
		t.Errorf("70 minutes after: created %d, want 1", got)
	}
	_, stderr, _ = runBinary(t, e.srv, "", "plan", "--region", "us-east-1")
	if !strings.Contains(stderr, "its fires within an hour of a volume's last snapshot are ignored") {
		t.Errorf("no warning about the sub-hourly cron:\n%s", stderr)
	}
}
