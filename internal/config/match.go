package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

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
	for _, name := range slices.Sorted(maps.Keys(m)) {
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
