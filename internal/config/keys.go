package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

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
