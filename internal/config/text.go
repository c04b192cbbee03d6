package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextProblem says what is wrong with a piece of text a stanza names, or
// "" when nothing is: not valid UTF-8 (a JSON reader would keep U+FFFD in
// its place, so the text stored would not be the text given), a control
// character, a line or paragraph separator or a bidirectional control (it
// splits or reorders the lines of every listing), nothing but white space,
// or white space before or after it (EC2 compares tag values and ids
// exactly, so " yes" never matches "yes"). The message quotes the text
// with Go escapes, so what cannot be seen can be read.
func TextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return invalidUTF8(s)
	case strings.IndexFunc(s, unprintable) >= 0:
		r, _ := utf8.DecodeRuneInString(s[strings.IndexFunc(s, unprintable):])
		return fmt.Sprintf("holds the control character %U in %s", r, strconv.QuoteToASCII(s))
	case strings.TrimSpace(s) == "":
		return "must not be empty or only white space"
	case strings.TrimSpace(s) != s:
		return fmt.Sprintf("has white space before or after it: %s (EC2 compares values exactly)", strconv.Quote(s))
	}
	return ""
}

// MaxIDLength is the longest stanza id, in characters: every snapshot a
// stanza makes is tagged with its id (ebs-snapper:config-id), and EC2 tag
// values hold at most 256 Unicode characters (CreateTags, Tag in the EC2
// API Reference), so a longer id would fail every CreateSnapshot.
const MaxIDLength = 256

// IDProblem says what is wrong with a stanza id, or "": TextProblem's
// findings, and a length over MaxIDLength.
func IDProblem(id string) string {
	if msg := TextProblem(id); msg != "" {
		return msg
	}
	if n := utf8.RuneCountInString(id); n > MaxIDLength {
		return fmt.Sprintf("is %d characters long; snapshots are tagged with it and EC2 tag values hold at most %d", n, MaxIDLength)
	}
	return ""
}

// invalidUTF8 names the first byte of s that is not valid UTF-8, with s
// quoted around it.
func invalidUTF8(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	from, to := max(0, i-24), min(len(s), i+24)
	return fmt.Sprintf("is not valid UTF-8 (byte %#02x at offset %d of %s)", s[i], i, strconv.Quote(s[from:to]))
}

// unprintable reports the characters TextProblem refuses: Unicode's
// control characters (C0, DEL, C1), the line and paragraph separators,
// and the bidirectional embedding, override and isolate controls.
func unprintable(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// filterObjects are the top-level keys whose objects map EC2 filter names
// to values, whose keys are named with filterPath as the rest of the
// parser names them.
var filterObjects = []string{"match", "exclude", "exclude_volumes", "adopt"}

// verbatim are the top-level keys whose strings reach EC2 or KMS as
// written (filter names and values, resource ids, tag keys, key ids):
// only there is white space around a value a problem of its own. The
// other strings (durations, numbers written as strings) are read by
// parsers that say what they make of them.
var verbatim = append([]string{"ignore", keyCopyTags, keyKMSKey}, filterObjects...)

// text checks every key and string of the stanza with TextProblem. Text
// that is not valid UTF-8 is invalid in both modes: JSON readers replace
// it, so it cannot be read as written. Anything else TextProblem finds is
// a leniency: refused by configure -s, read as written when stored (an
// empty or blank value is the match validator's to report, with its own
// words, and is skipped here, as is white space around strings outside
// verbatim).
func (p *parser) text(at string, raw json.RawMessage) {
	switch kind(raw) {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			kAt := path(at, k)
			if slices.Contains(filterObjects, at) {
				kAt = filterPath(at, k)
			}
			if strings.ContainsRune(k, utf8.RuneError) && !utf8.Valid(raw) {
				// The key as read holds U+FFFD; the bytes are in raw.
				p.fail(at, "a key "+invalidUTF8(string(raw)), nil)
				continue
			}
			if msg := TextProblem(k); msg != "" && strings.TrimSpace(k) != "" {
				p.lenient(kAt, "the key "+msg, "read as written", nil)
			}
			p.text(kAt, m[k])
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return
		}
		for i, item := range items {
			p.text(fmt.Sprintf("%s[%d]", at, i), item)
		}
	case '"':
		// raw keeps the bytes as given, and JSON's escapes are ASCII:
		// invalid UTF-8 in raw is invalid UTF-8 in the text, which
		// decoding would replace with U+FFFD.
		if !utf8.Valid(raw) {
			lit := strings.TrimSpace(string(raw))
			p.fail(at, invalidUTF8(lit[1:len(lit)-1]), nil)
			return
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return
		}
		top, _, _ := strings.Cut(at, "[")
		top, _, _ = strings.Cut(top, ".")
		switch msg := TextProblem(s); {
		case msg == "", strings.TrimSpace(s) == "" && utf8.ValidString(s):
		case strings.TrimSpace(s) != s && !slices.Contains(verbatim, top) && strings.IndexFunc(s, unprintable) < 0:
		default:
			p.lenient(at, msg, "read as written", raw)
		}
	}
}
