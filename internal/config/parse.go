package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong (or, from ParseStored, merely odd) in a
// stanza, named by its JSON path.
type Problem struct {
	ID   string
	Path string
	Msg  string
	// Got is the offending value, rendered as compact JSON; nil when there
	// is none (a missing key). A JSON null is json.RawMessage("null").
	Got any
}

// String renders "<id>: <path>: <msg>, got <value>".
func (p Problem) String() string {
	s := p.ID + ": " + p.Path + ": " + p.Msg
	if p.Got == nil {
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Got); err != nil {
		return s + fmt.Sprintf(", got %v", p.Got)
	}
	return s + ", got " + strings.TrimSuffix(buf.String(), "\n")
}

// ValidationError lists every problem that makes a stanza unusable.
type ValidationError struct {
	ID       string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Parse parses and validates a stanza strictly, as "configure -s" must
// before storing it: every problem is reported at once in a
// *ValidationError, each naming its JSON path. Refused: unknown keys,
// duplicate keys, match keys that are not EC2 DescribeInstances filter
// names (or tag:<key>), instance-state filters, empty or blank match
// values, ignore entries that are not instance, volume or snapshot ids, a
// retention under one day (RetentionFloor) or a frequency under one hour
// (FrequencyFloor), and a six-field cron without exactly one "?" day
// field. Parse does not read the clock; ParseAt also refuses a cron that
// never fires again.
func Parse(id string, data []byte) (Stanza, error) {
	return ParseAt(id, data, time.Time{})
}

// ParseAt is Parse, and also refuses a cron frequency that never fires
// after now (a year field wholly in the past, say "0 0 1 1 ? 2020"). The
// caller passes the clock; the zero time skips that check.
func ParseAt(id string, data []byte, now time.Time) (Stanza, error) {
	p := &parser{id: id, strict: true, now: now}
	s, _, err := p.parse(data)
	return s, err
}

// ParseStored parses a stanza already stored in DynamoDB, possibly written
// by ebs_snapper, which checked little. It accepts what has one clear
// meaning and returns a warning for each such leniency: unknown keys
// (ignored), duplicate keys whose values are all equal, ignore_retention
// as "true"/"false"/"yes"/"no"/"1"/"0" or 0/1, minimum as an integral
// float or an integer string, replication other than "yes"/"no" (off, as
// in ebs_snapper), both cron day fields restricted or a six-field cron
// without exactly one "?", empty or blank match values and ignore entries
// that are not ids (kept as written), and a retention or frequency below
// its floor (honoured as written). It also warns about a six-field cron
// with numeric weekdays, which ebs_snapper read differently (0 = Sunday).
// What is ambiguous or would change behaviour dangerously stays a
// *ValidationError: duplicate keys with different values (never guess a
// minimum), unknown EC2 filter names (EC2 rejects the listing anyway) and
// instance-state filters.
func ParseStored(id string, data []byte) (Stanza, []Problem, error) {
	p := &parser{id: id}
	return p.parse(data)
}

// parser collects problems. In strict mode a leniency is an error; in
// stored mode it is a warning and the value is read as the warning says.
type parser struct {
	id     string
	strict bool
	// now, when not zero, is the time after which a cron must still fire.
	now   time.Time
	errs  []Problem
	warns []Problem
}

func (p *parser) fail(path, msg string, got json.RawMessage) {
	p.errs = append(p.errs, Problem{ID: p.id, Path: path, Msg: msg, Got: gotValue(got)})
}

func (p *parser) warn(path, msg string, got json.RawMessage) {
	p.warns = append(p.warns, Problem{ID: p.id, Path: path, Msg: msg, Got: gotValue(got)})
}

// lenient reports a value that strict mode rejects with msg and stored
// mode accepts, reading it as reading says. It returns whether to accept.
func (p *parser) lenient(path, msg, reading string, got json.RawMessage) bool {
	if p.strict {
		p.fail(path, msg, got)
		return false
	}
	p.warn(path, msg+"; "+reading, got)
	return true
}

// gotValue keeps a missing value (nil) distinct from JSON null.
func gotValue(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return raw
}

var (
	stanzaKeys = []string{"match", "snapshot", "ignore", "ignore_retention", "replication", keyCopyTags, keyKMSKey, keyRetention,
		"retention_tiers", "orphans", "exclude", "exclude_volumes", "adopt", "archive_after", "lock", "launch_templates"}
	snapshotKeys = []string{"retention", "minimum", "frequency", "multi_volume", "exclude_boot_volume"}
)

func (p *parser) parse(data []byte) (Stanza, []Problem, error) {
	id := p.id
	s := Stanza{ID: id}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			line, col := position(data, syntax.Offset)
			p.fail("$", fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err), nil)
		} else {
			p.fail("$", "must be a JSON object", compact(data))
		}
		return Stanza{}, p.warns, &ValidationError{ID: id, Problems: p.errs}
	}
	if top == nil {
		p.fail("$", "must be a JSON object", compact(data))
		return Stanza{}, p.warns, &ValidationError{ID: id, Problems: p.errs}
	}
	p.duplicates(data)
	if msg := TextProblem(id); msg != "" {
		p.lenient("id", "the stanza id "+msg, "read as written", nil)
	} else if msg := IDProblem(id); msg != "" {
		p.fail("id", "the stanza id "+msg, nil)
	}
	p.text("", data)
	s.Match = p.match(top)
	p.snapshot(top, &s)
	s.Ignore = p.ignore(top)
	s.IgnoreRetention = p.ignoreRetention(top)
	s.Replication = p.replication(top)
	p.replicationExtras(top, &s)
	p.lifecycle(top, &s)
	p.protections(top, &s)
	p.unknown(top, "", stanzaKeys)
	if len(p.errs) > 0 {
		return Stanza{}, p.warns, &ValidationError{ID: id, Problems: p.errs}
	}
	return s, p.warns, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	before := data[:min(int(offset), len(data))]
	line = 1 + bytes.Count(before, []byte("\n"))
	return line, max(1, len(before)-bytes.LastIndexByte(before, '\n')-1)
}

func compact(raw []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return json.RawMessage(strconv.Quote(string(raw)))
	}
	return buf.Bytes()
}

// kind returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n', or a digit or '-' for a number.
func kind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// path joins a key to its parent as "parent.key", or "parent[\"key\"]"
// when the key would be ambiguous in that form.
func path(parent, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]\" \t\r\n") {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (p *parser) unknown(obj map[string]json.RawMessage, parent string, known []string) {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(known, k) {
			p.lenient(path(parent, k), "unknown key (known: "+strings.Join(known, ", ")+")", "ignored", obj[k])
		}
	}
}

// duplicates reports every key given twice or more: invalid when the
// values differ (JSON readers keep one, so the stanza could mean either;
// a minimum is never guessed), a leniency when they are all equal.
func (p *parser) duplicates(data []byte) {
	for _, d := range duplicateKeys(data) {
		msg := fmt.Sprintf("the key is given %d times", len(d.values))
		if d.same() {
			p.lenient(d.path, msg, "read once, as every copy is equal", nil)
			continue
		}
		vals := make([]string, len(d.values))
		for i, v := range d.values {
			vals[i] = string(v)
		}
		p.fail(d.path, msg+" with different values ("+strings.Join(vals, ", then ")+
			"); JSON readers keep only one of them, so the stanza could mean either: keep the one you mean", nil)
	}
}
