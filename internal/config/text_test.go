package config

import (
	"errors"
	"strings"
	"testing"
)

// Issue 16 item 10: text that would be stored as something else (U+FFFD
// for invalid UTF-8), split or hide a line, or never match EC2's exact
// comparison is refused by configure -s with its JSON path, in every kind
// of field that reaches EC2, and read as written (invalid UTF-8 excepted)
// when found stored.
func TestTextProblemsNameTheirPath(t *testing.T) {
	const snap = `"snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}`
	tests := []struct {
		name, in, path, msg string
		storedInvalid       bool
	}{
		{"invalid UTF-8 in a match value", `{"match": {"tag:env": "pr` + "\xff" + `od"}, ` + snap + `}`, `match["tag:env"]`, "is not valid UTF-8 (byte 0xff at offset 2", true},
		{"invalid UTF-8 in a list item", `{"match": {"tag:env": ["a", "b` + "\xc3" + `"]}, ` + snap + `}`, `match["tag:env"][1]`, "is not valid UTF-8", true},
		{"invalid UTF-8 in a tag key", `{"match": {"tag:e` + "\xff" + `nv": "x"}, ` + snap + `}`, "match", "a key is not valid UTF-8", true},
		{"newline in a match value", `{"match": {"tag:env": "prod\nstaging"}, ` + snap + `}`, `match["tag:env"]`, "control character U+000A", false},
		{"DEL in an ignore id", `{"match": {"tag:env": "x"}, "ignore": ["i-0123456\u007f"], ` + snap + `}`, `ignore[0]`, "control character U+007F", false},
		{"bidi override in an exclude value", `{"match": {"tag:env": "x"}, "exclude": {"tag:o": "a\u202eb"}, ` + snap + `}`, `exclude["tag:o"]`, "control character U+202E", false},
		{"line separator in a key", `{"match": {"tag:a\u2028b": "x"}, ` + snap + `}`, `match["tag:a`, "control character U+2028", false},
		{"padding in a match value", `{"match": {"tag:env": " prod"}, ` + snap + `}`, `match["tag:env"]`, `white space before or after it: " prod"`, false},
		{"padding in a filter name", `{"match": {"tag:env ": "prod"}, ` + snap + `}`, `match["tag:env "]`, "white space before or after it", false},
		{"padding in an ignore id", `{"match": {"tag:env": "x"}, "ignore": ["i-01234567 "], ` + snap + `}`, `ignore[0]`, "white space before or after it", false},
		{"control character in a duration", `{"match": {"tag:env": "x"}, "snapshot": {"retention": "4 days\t", "minimum": 2, "frequency": "1 day"}}`, "snapshot.retention", "control character U+0009", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s", []byte(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse accepted it: %v", err)
			}
			if !hasProblem(ve.Problems, tt.path, tt.msg) {
				t.Errorf("Parse: no problem at %s saying %q:\n%v", tt.path, tt.msg, err)
			}
			if strings.ContainsRune(err.Error(), '\ufffd') {
				t.Errorf("the error shows U+FFFD instead of the bytes given:\n%v", err)
			}
			_, warns, err := ParseStored("s", []byte(tt.in))
			if tt.storedInvalid {
				if !errors.As(err, &ve) || !hasProblem(ve.Problems, tt.path, tt.msg) {
					t.Errorf("ParseStored: want invalid at %s, got %v", tt.path, err)
				}
				return
			}
			if err != nil && !hasProblem(warns, tt.path, tt.msg) {
				// Parse's other checks (an unknown filter name) may still
				// make it invalid; the text problem must be said anyway.
				if !errors.As(err, &ve) || !hasProblem(ve.Problems, tt.path, "") {
					t.Errorf("ParseStored: %v, warnings %v", err, warns)
				}
				return
			}
			if err == nil && !hasProblem(warns, tt.path, tt.msg) {
				t.Errorf("ParseStored: no warning at %s saying %q: %v", tt.path, tt.msg, warns)
			}
		})
	}
}

func TestTextProblemAcceptsOrdinaryText(t *testing.T) {
	for _, s := range []string{"prod", "web server", "Ünïcödé", "👩‍💻 team", "i-0123456789abcdef0", "a*b?"} {
		if msg := TextProblem(s); msg != "" {
			t.Errorf("TextProblem(%q) = %q, want none", s, msg)
		}
	}
	for _, s := range []string{"", "   ", "a\nb", "\x00", "a\x85", " a", "a\t", "\xfe"} {
		if TextProblem(s) == "" {
			t.Errorf("TextProblem(%q) found nothing", s)
		}
	}
}

func TestStanzaIDIsChecked(t *testing.T) {
	const good = `{"match": {"tag:env": "x"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`
	_, err := Parse("daily\nweekly", []byte(good))
	if err == nil || !strings.Contains(err.Error(), "id: the stanza id holds the control character U+000A") {
		t.Errorf("Parse with a newline in the id: %v", err)
	}
	_, warns, err := ParseStored("daily\nweekly", []byte(good))
	if err != nil || !hasProblem(warns, "id", "control character") {
		t.Errorf("ParseStored: %v, %v", err, warns)
	}
	long := strings.Repeat("é", MaxIDLength+1)
	if _, _, err := ParseStored(long, []byte(good)); err == nil || !strings.Contains(err.Error(), "257 characters long") {
		t.Errorf("ParseStored with a %d-character id: %v", MaxIDLength+1, err)
	}
	if _, err := Parse(strings.Repeat("é", MaxIDLength), []byte(good)); err != nil {
		t.Errorf("Parse with a %d-character id: %v", MaxIDLength, err)
	}
}

func hasProblem(ps []Problem, path, msg string) bool {
	for _, p := range ps {
		if strings.HasPrefix(p.Path, path) && strings.Contains(p.Msg, msg) {
			return true
		}
	}
	return false
}
