package cli

// Integration tests of help, completion and terminal widths: the built
// binary, against moto where completion reads the table.

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// Every command's help has examples and a link to its documentation.
func TestHelpHasExamplesAndDocs(t *testing.T) {
	for _, cmd := range []string{"snapshot", "clean", "replication", "plan", "report", "snapshots", "configure", "deploy", "completion"} {
		stdout, stderr, code := runBinaryEnv(t, nil, "", cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "Examples:\n  ebs-snapper "+cmd) || !strings.Contains(stdout, "Documentation: "+DocsURL) {
			t.Errorf("%s --help: exit %d, lacks examples or the docs link:\n%s\n%s", cmd, code, stdout, stderr)
		}
	}
}

// Completion offers regions, stanza ids (read from the table) and
// architectures, and the shells' scripts are generated.
func TestCompletion(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	e.stanza("weekly", webStanza)
	e.stanza("db", webStanza)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "plan", "--region", "eu-west-"}, "eu-west-1\neu-west-2\neu-west-3\n:4\n"},
		{[]string{"__complete", "report", "-t", "us-east-"}, "us-east-1\nus-east-2\n:4\n"},
		{[]string{"__complete", "deploy", "--arch", ""}, "arm64\nx86_64\n:4\n"},
		{[]string{"__complete", "plan", "--stanza", "we"}, "web\nweekly\n:4\n"},
		{[]string{"__complete", "configure", "-g", ""}, "db\nweb\nweekly\n:4\n"},
		{[]string{"__complete", "report", "--output", ""}, "text\njson\ncsv\n:4\n"},
	} {
		stdout, stderr, code := runBinary(t, e.srv, "", c.args...)
		if code != 0 || stdout != c.want {
			t.Errorf("%v: exit %d, got\n%q\nwant\n%q\n%s", c.args, code, stdout, c.want, stderr)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		stdout, _, code := runBinaryEnv(t, nil, "", "completion", shell)
		if code != 0 || !strings.Contains(stdout, "ebs-snapper") || len(stdout) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(stdout))
		}
	}
}

// On a terminal the plan's table fits its width (the reason cut with
// "…"); piped, every line is whole. The summary counts skipped volumes.
func TestTablesFitTheTerminal(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	inst := e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.snapshot(inst[0].VolumeIDs[0], date(3))

	piped, _, code := runBinary(t, e.srv, "", "plan", "--region", "us-east-1")
	if code != 0 || !strings.Contains(piped, "every 12h - 10m slack)") {
		t.Fatalf("plan piped: exit %d\n%s", code, piped)
	}
	if !strings.Contains(piped, "REGION     CREATE  SKIP  COPY  DELETE  KEEP  FAILED  NOTE\nus-east-1  1       1     0     0       1     0\n") {
		t.Errorf("plan summary lacks SKIP 1:\n%s", piped)
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t) // before the run context starts: a build can outlast it
	cmd := exec.CommandContext(motoserver.Context(t), bin, "plan", "--region", "us-east-1")
	cmd.Env = append(os.Environ(), e.srv.Env()...)
	cmd.Stdout, cmd.Stderr = tty, tty
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	runErr := cmd.Run()
	tty.Close()
	<-read
	if runErr != nil {
		t.Fatalf("plan on a terminal: %v\n%s", runErr, screen.String())
	}
	out := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	if !strings.Contains(out, "…\n") {
		t.Errorf("no line was cut to the terminal:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("line of %d runes on a 100-column terminal: %q", n, line)
		}
	}
}
