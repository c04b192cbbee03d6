// Package texttable writes the aligned text tables of the CLI and the
// report: text/tabwriter columns two spaces apart, without the spaces
// tabwriter leaves at the end of a line whose last cell is empty (a NOTE
// column with nothing to say), so that the output diffs and greps cleanly.
package texttable

import (
	"bytes"
	"io"
	"text/tabwriter"
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
	out := &trimmer{w: w}
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
	w    io.Writer
	line []byte
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
		t.line = append(bytes.TrimRight(t.line, " "), '\n')
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
	_, err := t.w.Write(bytes.TrimRight(t.line, " "))
	t.line = t.line[:0]
	return err
}
