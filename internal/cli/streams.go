package cli

import (
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// ioStreams are a command's standard streams and what they are, as gh's
// iostreams.IOStreams: which one is a terminal (progress bars and
// confirmation questions need one), the terminal's width (tables fit it),
// and where diagnostics go. Log records and the Ctrl-C notice are written
// to diag, which is stderr, or the space above the progress bars while
// they are drawn (divert): the logger is set once and never swapped.
type ioStreams struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer

	mu       sync.Mutex
	diverted io.Writer
}

// newIOStreams returns the streams of a command; a nil in is os.Stdin.
func newIOStreams(in io.Reader, out, errOut io.Writer) *ioStreams {
	if in == nil {
		in = os.Stdin
	}
	return &ioStreams{in: in, out: out, errOut: errOut}
}

// isTerminal reports whether s is a terminal (a tty, not a pipe or file).
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stdinIsTerminal reports whether standard input is a terminal, on which
// a question can be answered.
func (s *ioStreams) stdinIsTerminal() bool { return isTerminal(s.in) }

// progressAllowed reports whether live progress may be drawn: on a
// terminal stderr only, so that logs and redirected output stay free of
// control codes.
func (s *ioStreams) progressAllowed() bool { return isTerminal(s.errOut) }

// width is the terminal's width when stdout is a terminal, so that tables
// fit it (their last column cut with "…"), and 0 otherwise: piped or
// redirected output keeps every line whole.
func (s *ioStreams) width() int {
	f, ok := s.out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

// diag is where diagnostics go: stderr, or where divert sends them.
func (s *ioStreams) diag() io.Writer { return diagWriter{s} }

// divert sends diagnostics to w (above the progress bars) until the
// returned function sends them to stderr again.
func (s *ioStreams) divert(w io.Writer) (restore func()) {
	s.mu.Lock()
	s.diverted = w
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.diverted = nil
		s.mu.Unlock()
	}
}

// diagWriter writes to the streams' current diagnostics destination.
type diagWriter struct{ s *ioStreams }

func (d diagWriter) Write(p []byte) (int, error) {
	d.s.mu.Lock()
	w := d.s.diverted
	d.s.mu.Unlock()
	if w == nil {
		w = d.s.errOut
	}
	return w.Write(p)
}
