package cli

// The demo (scripts/demo.sh, make demo) run end to end with the built
// binary against its own moto, as a reader of its output sees it.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

func TestDemoReadsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes a minute")
	}
	motoserver.Require(t) // moto's Python is there
	root, err := motoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(motoserver.Context(t), "bash", filepath.Join(root, "scripts", "demo.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "EBS_SNAPPER_BIN="+buildBinary(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		// Commands as typed, quotes included.
		`$ ebs-snapper configure -s tagged_instances '{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "ignore": []}'` + "\n",
		"$ ebs-snapper plan --region us-east-1\n",
		// What each wait is for.
		"# preparing moto (the AWS emulator) and the ebs-snapper binary",
		"# waiting for moto to answer on 127.0.0.1:",
		"# seeding the emulator",
		"# 13 hours later, the next scheduled run would do this:\n",
		"(exit code 4)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		// Narration is never shown as a command, and no escape code
		// reaches a pipe.
		if strings.HasPrefix(line, "$ ") && !strings.HasPrefix(line, "$ ebs-snapper ") || strings.Contains(line, "\x1b") {
			t.Errorf("demo line %q: narration as a command, or a control code in piped output", line)
		}
	}
}
