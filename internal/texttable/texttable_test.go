package texttable

import (
	"fmt"
	"strings"
	"testing"
)

func TestTableTrimsLineEndsAndKeepsColumns(t *testing.T) {
	var b strings.Builder
	tab := New(&b)
	fmt.Fprintln(tab, "REGION\tFAILED\tNOTE")
	fmt.Fprintln(tab, "us-east-1\t0\t")
	fmt.Fprintln(tab, "eu-west-1\t12\terror: throttled")
	fmt.Fprint(tab, "last\t1\tno newline")
	if err := tab.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "REGION     FAILED  NOTE\n" +
		"us-east-1  0\n" +
		"eu-west-1  12      error: throttled\n" +
		"last       1       no newline"
	if got := b.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// A last line without '\n' whose last cell is empty loses its padding too.
func TestTableTrimsAnUnterminatedLastLine(t *testing.T) {
	var b strings.Builder
	tab := New(&b)
	fmt.Fprint(tab, "REGION\tNOTE\nus-east-1\t\t")
	if err := tab.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "REGION     NOTE\nus-east-1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWidthCutsLongLines(t *testing.T) {
	var b strings.Builder
	tw := NewWidth(&b, 20)
	fmt.Fprintln(tw, "A\tREASON")
	fmt.Fprintln(tw, "x\tnot due until 2026-12-03, and more")
	fmt.Fprint(tw, "é\tunterminated last line that is long")
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "A  REASON\nx  not due until 20…\né  unterminated las…"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	tw = NewWidth(&b, 0)
	fmt.Fprintln(tw, "x\tnot due until 2026-12-03, and more")
	tw.Flush()
	if b.String() != "x  not due until 2026-12-03, and more\n" {
		t.Errorf("width 0 cut the line: %q", b.String())
	}
}
