package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"
)

// Output formats of --output.
const (
	formatText = "text"
	formatJSON = "json"
	formatCSV  = "csv"
)

// printFlags are the output flags of every command that prints data:
// --output text|json|csv, --json (short for --output json, kept for
// scripts) and --jq, a jq expression applied to the JSON (as gh's --jq).
//
// --jq rather than aws-cli's --query (JMESPath): the JSON is the
// interface scripts read, and jq is what people already pipe it through;
// github.com/itchyny/gojq is a pure-Go jq, maintained, the library gh
// itself uses, while the Go JMESPath libraries have seen few releases.
type printFlags struct {
	output string
	json   bool
	jq     string
	// csv is whether the command has a table to print as CSV.
	csv bool
}

// add registers the flags on cmd; csv says whether --output csv is offered.
func (p *printFlags) add(cmd *cobra.Command, csv bool) {
	p.csv = csv
	formats := []string{formatText, formatJSON}
	if csv {
		formats = append(formats, formatCSV)
	}
	f := cmd.Flags()
	f.StringVar(&p.output, "output", formatText, fmt.Sprintf("output format: %s", joinOr(formats)))
	f.BoolVar(&p.json, "json", false, "print JSON (same as --output json)")
	f.StringVar(&p.jq, "jq", "", `filter the JSON output with a jq expression, e.g. '.regions[].volumes[] | select(.status != "ok") | .volume_id' (implies --output json)`)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// format resolves the flags to one format; a conflict or an unknown
// format is a usage error naming the flag.
func (p *printFlags) format() (string, error) {
	out := p.output
	if out == "" {
		out = formatText
	}
	switch {
	case out != formatText && out != formatJSON && !(p.csv && out == formatCSV):
		formats := []string{formatText, formatJSON}
		if p.csv {
			formats = append(formats, formatCSV)
		}
		return "", usagef("--output %q: want %s", out, joinOr(formats))
	case (p.json || p.jq != "") && out != formatText && out != formatJSON:
		return "", usagef("--output %s cannot be combined with --json or --jq", out)
	case p.json || p.jq != "":
		out = formatJSON
	}
	if p.jq != "" {
		if _, err := compileJQ(p.jq); err != nil {
			return "", err
		}
	}
	return out, nil
}

// machine reports whether the output is for a program (JSON or CSV): no
// progress bars, no prose.
func (p *printFlags) machine() bool {
	f, err := p.format()
	return err == nil && f != formatText
}

func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	return code, nil
}

// writeJSON writes v as indented JSON with <, > and & as they are; with
// --jq, the expression's results instead, one a line (strings raw, other
// values as compact JSON), as gh does.
func (p *printFlags) writeJSON(ctx context.Context, w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	if p.jq == "" {
		_, err := w.Write(buf.Bytes())
		return err
	}
	code, err := compileJQ(p.jq)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return err
	}
	var out bytes.Buffer
	iter := code.RunWithContext(ctx, doc)
	for {
		x, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := x.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				break
			}
			return fmt.Errorf("--jq %q: %w", p.jq, err)
		}
		if s, ok := x.(string); ok {
			out.WriteString(s)
		} else {
			b, err := gojq.Marshal(x)
			if err != nil {
				return fmt.Errorf("--jq %q: %w", p.jq, err)
			}
			out.Write(b)
		}
		out.WriteByte('\n')
	}
	_, err = w.Write(out.Bytes())
	return err
}

func joinOr(words []string) string {
	words = slices.Clone(words)
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	last := words[len(words)-1]
	s := ""
	for _, w := range words[:len(words)-1] {
		s += w + ", "
	}
	return s[:len(s)-2] + " or " + last
}

// emit prints v in format: JSON (through --jq when set), CSV with csv, or
// text with text.
func (p *printFlags) emit(ctx context.Context, w io.Writer, format string, v any, text, csv func(io.Writer) error) error {
	switch format {
	case formatJSON:
		return p.writeJSON(ctx, w, v)
	case formatCSV:
		return csv(w)
	}
	return text(w)
}
