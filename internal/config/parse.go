package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
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
		"retention_tiers", "orphans", "exclude", "exclude_volumes", "adopt", "archive_after", "lock", "launch_templates", "drill"}
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
	p.drill(top, &s)
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

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *parser) unknown(obj map[string]json.RawMessage, parent string, known []string) {
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(known, k) {
			p.lenient(path(parent, k), "unknown key (known: "+strings.Join(known, ", ")+")", "ignored", obj[k])
		}
	}
}

// matchPath names a match key; EC2 filter names ("tag:env") are always
// bracketed.
func matchPath(name string) string { return filterPath("match", name) }

// filterPath names a key of an object of EC2 filters (match, exclude,
// exclude_volumes, adopt), always bracketed.
func filterPath(parent, name string) string { return parent + "[" + strconv.Quote(name) + "]" }

func (p *parser) match(top map[string]json.RawMessage) []inventory.Filter {
	raw, ok := top["match"]
	if !ok {
		p.fail("match", "is required", nil)
		return nil
	}
	filters, keys := p.filters("match", raw, `must be an object of EC2 filter names to values, e.g. {"tag:backup": "yes"}`, filterNameProblem)
	if keys == 0 {
		p.fail("match", "must name at least one EC2 filter (an empty match selects nothing)", raw)
	}
	return filters
}

// filters reads an object of EC2 filter names to a value or a list of
// values, at path at; problem says what is wrong with a name ("" when EC2
// accepts it). It returns the valid filters and the number of keys, -1
// when raw is not an object.
func (p *parser) filters(at string, raw json.RawMessage, notObject string, problem func(string) string) ([]inventory.Filter, int) {
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail(at, notObject, raw)
		return nil, -1
	}
	var filters []inventory.Filter
	for _, name := range sortedKeys(m) {
		at := filterPath(at, name)
		if strings.TrimSpace(name) == "" {
			p.fail(at, "the filter name must not be empty", m[name])
			continue
		}
		// An unknown name makes EC2 reject the listing, and a state
		// filter fights the engine's own: both invalid, also when stored.
		nameOK := true
		if msg := problem(name); msg != "" {
			p.fail(at, msg, nil)
			nameOK = false
		}
		var values []string
		switch kind(m[name]) {
		case '"':
			var v string
			_ = json.Unmarshal(m[name], &v)
			p.blank(at, v, m[name])
			values = []string{v}
		case '[':
			if !p.flatten(at, m[name], &values) {
				continue
			}
			if len(values) == 0 {
				p.fail(at, "must list at least one value", m[name])
				continue
			}
		default:
			p.fail(at, "must be a string or a list of strings", m[name])
			continue
		}
		if nameOK {
			filters = append(filters, inventory.Filter{Name: name, Values: values})
		}
	}
	return filters, len(m)
}

// blank reports an empty or blank match value: EC2 matches it only
// against an exactly equal value, which is rarely what was meant.
func (p *parser) blank(at, v string, raw json.RawMessage) {
	if strings.TrimSpace(v) == "" {
		p.lenient(at, "must not be empty or only white space", "passed to EC2 as written, as ebs_snapper did", raw)
	}
}

// flatten appends the strings of a list to out, flattening nested lists
// as ebs_snapper did, and reports whether every item was a string.
func (p *parser) flatten(at string, raw json.RawMessage, out *[]string) bool {
	var items []json.RawMessage
	_ = json.Unmarshal(raw, &items)
	ok := true
	for i, item := range items {
		itemAt := fmt.Sprintf("%s[%d]", at, i)
		switch kind(item) {
		case '"':
			var v string
			_ = json.Unmarshal(item, &v)
			p.blank(itemAt, v, item)
			*out = append(*out, v)
		case '[':
			ok = p.flatten(itemAt, item, out) && ok
		default:
			p.fail(itemAt, "must be a string", item)
			ok = false
		}
	}
	return ok
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

func (p *parser) snapshot(top map[string]json.RawMessage, s *Stanza) {
	raw, ok := top["snapshot"]
	if !ok {
		p.fail("snapshot", "is required", nil)
		return
	}
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail("snapshot", "must be an object with retention, minimum and frequency", raw)
		return
	}
	s.Retention = p.retention(m)
	s.Minimum = p.minimum(m)
	s.Frequency = p.frequency(m)
	s.MultiVolume = p.flag(m, "multi_volume")
	s.ExcludeBootVolume = p.flag(m, "exclude_boot_volume")
	if s.ExcludeBootVolume && !s.MultiVolume {
		p.fail("snapshot.exclude_boot_volume", "needs \"multi_volume\": true (it says which volumes a multi-volume set leaves out)", m["exclude_boot_volume"])
	}
	p.unknown(m, "snapshot", snapshotKeys)
}

// flag returns the boolean at snapshot.<key>, false when absent. These
// keys are new (the original had none), so both modes want a JSON boolean.
func (p *parser) flag(m map[string]json.RawMessage, key string) bool {
	raw, ok := m[key]
	if !ok {
		return false
	}
	var b bool
	if kind(raw) == 'n' || json.Unmarshal(raw, &b) != nil {
		p.fail("snapshot."+key, "must be true or false", raw)
		return false
	}
	return b
}

// required returns the string value at snapshot.<key>, reporting a missing
// key or one of another type.
func (p *parser) required(m map[string]json.RawMessage, key, what string) (string, bool) {
	at := "snapshot." + key
	raw, ok := m[key]
	if !ok {
		p.fail(at, "is required", nil)
		return "", false
	}
	var v string
	if kind(raw) != '"' || json.Unmarshal(raw, &v) != nil {
		p.fail(at, "must be "+what, raw)
		return "", false
	}
	return v, true
}

func (p *parser) minimum(m map[string]json.RawMessage) int {
	const at, bad = "snapshot.minimum", "must be a non-negative integer, e.g. 5"
	raw, ok := m["minimum"]
	if !ok {
		p.fail(at, "is required", nil)
		return 0
	}
	switch c := kind(raw); {
	case c == '-' || ('0' <= c && c <= '9'):
		text := string(bytes.TrimSpace(raw))
		if n, err := strconv.Atoi(text); err == nil && n >= 0 {
			return n
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 0 || f != math.Trunc(f) || f >= 1<<53 {
			p.fail(at, bad, raw)
			return 0
		}
		p.warn(at, fmt.Sprintf("should be written as an integer; read as %d", int(f)), raw)
		return int(f)
	case c == '"':
		// ebs_snapper converted minimum with Python's int(), so integer
		// strings worked and were stored.
		var v string
		_ = json.Unmarshal(raw, &v)
		text := strings.TrimPrefix(strings.TrimSpace(v), "+")
		n, err := strconv.Atoi(text)
		if err != nil || !isDigits(strings.TrimPrefix(text, "-")) || n < 0 {
			p.fail(at, bad, raw)
			return 0
		}
		p.warn(at, fmt.Sprintf("should be a number, not a string; read as %d", n), raw)
		return n
	}
	p.fail(at, bad, raw)
	return 0
}

func (p *parser) ignore(top map[string]json.RawMessage) []string {
	raw, ok := top["ignore"]
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if kind(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		p.fail("ignore", "must be a list of instance, volume or snapshot ids", raw)
		return nil
	}
	var ids []string
	for i, item := range items {
		var id string
		if kind(item) != '"' || json.Unmarshal(item, &id) != nil {
			p.fail(fmt.Sprintf("ignore[%d]", i), "must be an instance, volume or snapshot id string", item)
			continue
		}
		if !resourceID.MatchString(id) {
			p.lenient(fmt.Sprintf("ignore[%d]", i), "must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits)",
				"kept, but it matches no resource", item)
		}
		ids = append(ids, id)
	}
	return ids
}

// resourceID is the form of EC2 instance, volume and snapshot ids: a
// prefix and 8 (older) or 17 lower-case hex digits.
var resourceID = regexp.MustCompile(`^(i|vol|snap)-([0-9a-f]{8}|[0-9a-f]{17})$`)

func (p *parser) ignoreRetention(top map[string]json.RawMessage) bool {
	const msg = "must be true or false"
	raw, ok := top["ignore_retention"]
	if !ok {
		return false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil && kind(raw) != 'n' {
		return b
	}
	var s string
	if kind(raw) == '"' && json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "1":
			return p.lenient("ignore_retention", msg, "read as true", raw)
		case "false", "no", "0":
			p.lenient("ignore_retention", msg, "read as false (ebs_snapper took any non-empty string as true)", raw)
			return false
		}
	}
	switch string(bytes.TrimSpace(raw)) {
	case "1":
		return p.lenient("ignore_retention", msg, "read as true", raw)
	case "0":
		p.lenient("ignore_retention", msg, "read as false", raw)
		return false
	}
	p.fail("ignore_retention", msg, raw)
	return false
}

func (p *parser) replication(top map[string]json.RawMessage) bool {
	raw, ok := top["replication"]
	if !ok {
		return false
	}
	var s string
	if kind(raw) == '"' && json.Unmarshal(raw, &s) == nil && (s == "yes" || s == "no") {
		return s == "yes"
	}
	p.lenient("replication", `must be "yes" or "no"`, `read as "no": only exactly "yes" turns replication on, as in ebs_snapper`, raw)
	return false
}
