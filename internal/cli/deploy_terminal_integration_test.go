package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/creack/pty"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// deployOnTerminal runs deploy with stdin and stderr on a pseudo-terminal,
// typing answer, and returns stdout, the terminal's text and the exit code.
func deployOnTerminal(t *testing.T, srv *motoserver.Server, answer string, args ...string) (string, string, int) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	bin := buildBinary(t) // before the run context starts: a build can outlast it
	cmd := exec.CommandContext(motoserver.Context(t), bin, append([]string{"deploy", "--region", deployRegion}, args...)...)
	cmd.Env = append(os.Environ(), srv.Env()...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, tty, tty
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	if _, err := ptmx.Write([]byte(answer)); err != nil {
		t.Fatal(err)
	}
	runErr := cmd.Run()
	tty.Close()
	<-read
	code := 0
	if ee, ok := runErr.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if runErr != nil {
		t.Fatal(runErr)
	}
	return stdout.String(), screen.String(), code
}

// On a terminal deploy shows the change set and asks: "n" leaves the stack
// as it was, "y" executes it. deploy --delete asks likewise.
func TestDeployAsksOnATerminal(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	zip := codeZip(t, "#!/bin/sh\n")
	deployStep(t, srv, nil, "--allow-version-mismatch", "--zip", zip)

	stdout, screen, code := deployOnTerminal(t, srv, "n\n", "--allow-version-mismatch", "--zip", zip, "--parameter", "LambdaMemorySnapshot=512")
	if code != ExitError || !strings.Contains(stdout, "parameter LambdaMemorySnapshot: 256 -> 512") ||
		!strings.Contains(screen, "Execute change set ebs-snapper-") || !strings.Contains(screen, "[y/N]") ||
		!strings.Contains(screen, "not confirmed: the stack was left as it was") {
		t.Errorf("answered n: exit %d\nstdout:\n%s\nterminal:\n%s", code, stdout, screen)
	}
	if m := aws.ToInt32(d.function(t, "snapshot").Configuration.MemorySize); m != 256 {
		t.Errorf("memory %d after answering n, want 256 unchanged", m)
	}

	stdout, screen, code = deployOnTerminal(t, srv, "y\n", "--allow-version-mismatch", "--zip", zip, "--parameter", "LambdaMemorySnapshot=512")
	if code != 0 || !strings.Contains(stdout, "stack "+deployStack+" ("+deployRegion+"): updated") {
		t.Errorf("answered y: exit %d\nstdout:\n%s\nterminal:\n%s", code, stdout, screen)
	}
	if m := aws.ToInt32(d.function(t, "snapshot").Configuration.MemorySize); m != 512 {
		t.Errorf("memory %d after answering y, want 512", m)
	}

	stdout, screen, code = deployOnTerminal(t, srv, "\n", "--delete")
	if code != ExitError || !strings.Contains(stdout, "kept: the configuration table") || !strings.Contains(screen, "Delete stack "+deployStack) {
		t.Errorf("--delete answered with Enter: exit %d\nstdout:\n%s\nterminal:\n%s", code, stdout, screen)
	}
	d.function(t, "snapshot") // still there
}
