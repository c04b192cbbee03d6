package cli

// Terminal behaviour through the built binary on a pseudo-terminal: the
// Ctrl-C notice above the progress bars, the ETA before the first rate
// sample, --quiet. The screen is what a terminal would show once the
// output is drawn (render).

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// render replays what a program wrote to a terminal and returns the lines
// left on screen: text overwrites at the cursor, \r and \n move it, and of
// the escape sequences the progress bars use, ESC[nA moves up n lines,
// ESC[J erases from the cursor to the end of the screen and ESC[K to the
// end of the line (others are ignored).
func render(raw string) []string {
	lines := [][]rune{{}}
	row, col := 0, 0
	cut := func(r int, c int) {
		if c < len(lines[r]) {
			lines[r] = lines[r][:c]
		}
	}
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == 0x1b && i+1 < len(raw) && raw[i+1] == '[':
			j := i + 2
			for j < len(raw) && (raw[j] < 0x40 || raw[j] > 0x7e) {
				j++
			}
			if j == len(raw) {
				return toStrings(lines)
			}
			n, err := strconv.Atoi(raw[i+2 : j])
			if err != nil || n == 0 {
				n = 1
			}
			switch raw[j] {
			case 'A':
				row = max(row-n, 0)
			case 'J':
				lines = lines[:row+1]
				cut(row, col)
			case 'K':
				cut(row, col)
			}
			i = j + 1
		case c == '\r':
			col, i = 0, i+1
		case c == '\n':
			row, col, i = row+1, 0, i+1
			if row == len(lines) {
				lines = append(lines, []rune{})
			}
		default:
			r, size := utf8.DecodeRuneInString(raw[i:])
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col, i = col+1, i+size
		}
	}
	return toStrings(lines)
}

func toStrings(lines [][]rune) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return out
}

func TestRender(t *testing.T) {
	got := strings.Join(render("a\nbar 1\r\n\x1b[1A\x1b[Jnotice\nbar 2\nx\x1b[1Ay\x1b[K"), "|")
	if want := "a|notice|by|x"; got != want {
		t.Errorf("render: %q, want %q", got, want)
	}
}

// onTerminal runs the built binary with stderr (and, with both, stdout)
// on a 120-column pseudo-terminal; signal, when set, is called with the
// process once started. It returns the terminal's raw output and stdout.
func onTerminal(t *testing.T, env []string, both bool, signal func(*os.Process), args ...string) (raw, stdout string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t) // before the run context starts: a build can outlast it
	cmd := exec.CommandContext(motoserver.Context(t), bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if both {
		cmd.Stdout = tty
	}
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if signal != nil {
		signal(cmd.Process)
	}
	_ = cmd.Wait()
	tty.Close()
	<-read
	return strings.ReplaceAll(screen.String(), "\r\n", "\n"), out.String()
}

// The first Ctrl-C's notice is printed above the bars, so it is still on
// screen when the run ends; before the first create is answered the bar
// shows no rate and no ETA rather than "ETA 0s".
func TestInterruptNoticeStaysAboveTheBars(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 12, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	p := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
		{Action: "CreateSnapshot", Fault: faults.Delay, Rate: 1, Delay: 1500 * time.Millisecond}}})
	env := append(e.srv.Env(), "AWS_ENDPOINT_URL="+p.URL)

	raw, _ := onTerminal(t, env, false, func(proc *os.Process) {
		deadline := time.Now().Add(time.Minute)
		for p.Counts()["CreateSnapshot"].Attempts < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // the bars are drawn by now
		_ = proc.Signal(os.Interrupt)
	}, "snapshot", "--region", "us-east-1")
	screen := strings.Join(render(raw), "\n")
	if !strings.Contains(screen, "interrupted: finishing ") || !strings.Contains(screen, "us-east-1") {
		t.Errorf("the notice is not on the final screen:\n%s\n(raw %q)", screen, raw)
	}
	first := raw[strings.Index(raw, "us-east-1"):]
	if i := strings.IndexByte(first, 0x1b); i > 0 {
		first = first[:i]
	}
	if !strings.Contains(first, "ETA -") || !strings.Contains(first, "-/s") || strings.Contains(raw, "ETA 0s") {
		t.Errorf("first bar %q: want \"-/s\" and \"ETA -\" before any create is answered, never \"ETA 0s\"", first)
	}
}

// --quiet: no bars, no row per decision, no log below errors; report
// prints its headline only; -q with -V is a usage error.
func TestQuiet(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 3, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	raw, stdout := onTerminal(t, e.srv.Env(), false, nil, "snapshot", "--quiet", "--region", "us-east-1")
	if strings.Contains(raw, "3 / 3") || raw != "" {
		t.Errorf("snapshot --quiet drew on the terminal: %q", raw)
	}
	if strings.Contains(stdout, "no snapshot yet") || !strings.Contains(stdout, "REGION     CREATE  SKIP") || !strings.Contains(stdout, "us-east-1  3 ") {
		t.Errorf("snapshot --quiet printed:\n%s", stdout)
	}
	stdout, _, code := runBinary(t, e.srv, "", "report", "-q", "--region", "us-east-1")
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.HasPrefix(stdout, "Coverage as of ") {
		t.Errorf("report -q: exit %d\n%s", code, stdout)
	}
	if _, stderr, code := runBinary(t, e.srv, "", "plan", "-q", "-V"); code != ExitUsage || !strings.Contains(stderr, "--quiet") {
		t.Errorf("-q -V: exit %d, %q", code, stderr)
	}
}
