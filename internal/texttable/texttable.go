// Package texttable writes the aligned text tables of the CLI and the
// report: text/tabwriter columns two spaces apart, without the spaces
// tabwriter leaves at the end of a line whose last cell is empty (a NOTE
// column with nothing to say), so that the output diffs and greps cleanly.
package texttable

import (
	"bytes"
	"io"
	"text/tabwriter"
	"unicode/utf8"
)

// Table is a tabwriter whose lines reach the underlying writer with their
// trailing spaces removed. Cells are separated by '\t' and lines end with
// '\n', as with text/tabwriter; nothing reaches the writer before Flush.
type Table struct {
	*tabwriter.Writer
	out *trimmer
}

// New returns a Table writing to w.
func New(w io.Writer) *Table {
	return NewWidth(w, 0)
}

// NewWidth returns a Table whose lines are cut to width runes, the last
// one replaced by "…", so that a table fits a terminal instead of
// wrapping into unreadable rows; the last column (a reason, a note) is
// the one cut. width <= 0 keeps every line whole (a pipe, a file).
func NewWidth(w io.Writer, width int) *Table {
	out := &trimmer{w: w, width: width}
	return &Table{Writer: tabwriter.NewWriter(out, 0, 4, 2, ' ', 0), out: out}
}

// Flush aligns and writes every line given so far, including a last line
// that does not end with '\n'. It returns the underlying writer's error.
func (t *Table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	return t.out.flush()
}

// trimmer passes complete lines on with their trailing spaces removed and
// holds a partial line until its '\n' or flush.
type trimmer struct {
	w     io.Writer
	width int
	line  []byte
}

func (t *trimmer) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			return n, nil
		}
		t.line = append(t.line, p[:i]...)
		t.line = append(t.cut(bytes.TrimRight(t.line, " ")), '\n')
		if _, err := t.w.Write(t.line); err != nil {
			return n - len(p) + i, err
		}
		t.line = t.line[:0]
		p = p[i+1:]
	}
}

func (t *trimmer) flush() error {
	if len(t.line) == 0 {
		return nil
	}
	_, err := t.w.Write(t.cut(bytes.TrimRight(t.line, " ")))
	t.line = t.line[:0]
	return err
}

// cut shortens line to t.width runes, ending in "…", when it is longer.
func (t *trimmer) cut(line []byte) []byte {
	if t.width <= 0 || utf8.RuneCount(line) <= t.width {
		return line
	}
	n, i := 0, 0
	for i < len(line) && n < t.width-1 {
		_, size := utf8.DecodeRune(line[i:])
		i += size
		n++
	}
	return append(line[:i:i], "…"...)
}
