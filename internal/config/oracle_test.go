package config

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// The golden files come from the Python libraries ebs_snapper used
// (testdata/oracle/gen.py says how to regenerate them).

func readJSONLines[T any](t *testing.T, name string) []T {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseDurationMatchesPytimeparse(t *testing.T) {
	type record struct {
		In    string   `json:"in"`
		Int   *int64   `json:"int"`
		Float *float64 `json:"float"`
	}
	records := readJSONLines[record](t, "testdata/oracle/pytimeparse.jsonl")
	if len(records) < 1000 {
		t.Fatalf("only %d golden records", len(records))
	}
	for _, r := range records {
		got, err := ParseDuration(r.In)
		switch {
		case r.Int != nil:
			want := time.Duration(*r.Int) * time.Second
			if *r.Int > math.MaxInt64/int64(time.Second) {
				if err == nil {
					t.Errorf("ParseDuration(%q) = %v, want an out-of-range error", r.In, got)
				}
				continue
			}
			if err != nil || got != want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", r.In, got, err, want)
			}
		case r.Float != nil:
			want := time.Duration(math.RoundToEven(*r.Float*1e6)) * time.Microsecond
			if err != nil || got != want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", r.In, got, err, want)
			}
		default:
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", r.In, got)
			}
		}
	}
}

func TestCronMatchesParseCrontab(t *testing.T) {
	type record struct {
		Expr  string  `json:"expr"`
		From  string  `json:"from"`
		Next  *string `json:"next"`
		Error bool    `json:"error"`
	}
	records := readJSONLines[record](t, "testdata/oracle/crontab.jsonl")
	if len(records) < 1000 {
		t.Fatalf("only %d golden records", len(records))
	}
	for _, r := range records {
		if !sameInBothDialects(r.Expr) {
			continue
		}
		from, err := time.Parse(time.RFC3339, r.From)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCron(r.Expr)
		if r.Error {
			if err == nil {
				t.Errorf("parseCron(%q) succeeded, want an error", r.Expr)
			}
			continue
		}
		if err != nil {
			// An expression that never fires is rejected at parse time.
			if r.Next == nil {
				continue
			}
			t.Errorf("parseCron(%q): %v", r.Expr, err)
			continue
		}
		got, ok := Frequency{text: r.Expr, cron: c}.Next(from)
		switch {
		case r.Next == nil && ok:
			t.Errorf("Next(%q, %s) = %s, want none", r.Expr, r.From, got.Format(time.RFC3339))
		case r.Next != nil && (!ok || got.Format(time.RFC3339) != *r.Next):
			t.Errorf("Next(%q, %s) = %s, %v; want %s", r.Expr, r.From, got.Format(time.RFC3339), ok, *r.Next)
		}
	}
}

// sameInBothDialects reports whether parse-crontab's reading of expr is
// still ours: always for five fields; for six, whose day fields are now
// read as EventBridge reads them (cron_aws.go), only when day-of-week is
// "*" or "?" and day-of-month has no "?" in a list.
func sameInBothDialects(expr string) bool {
	f := strings.Fields(strings.ToLower(expr))
	if len(f) != 6 {
		return true
	}
	return (f[4] == "*" || f[4] == "?") && (f[2] == "?" || !strings.Contains(f[2], "?"))
}
