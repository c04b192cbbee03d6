package ec2fake

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// fields describes what the filters of one Describe call can look at:
// attrs maps a filter name to the values of a resource it compares with,
// tags gives the resource's tags for tag:<key>, tag-key and tag-value.
type fields[T any] struct {
	attrs map[string]func(T) []string
	tags  func(T) []inventory.Tag
}

// compile turns EC2 filters into a predicate with EC2's semantics: every
// filter must hold (AND), a filter holds when any of its values matches
// (OR), values may hold * and ? wildcards. An unknown filter name is an
// InvalidParameterValue error, as in EC2: a typo must never match
// everything; a filter of more than ebs.MaxFilterValues values is
// FilterLimitExceeded, as in EC2.
func compile[T any](filters []ec2types.Filter, f fields[T]) (func(T) bool, error) {
	preds := make([]func(T) bool, 0, len(filters))
	for _, flt := range filters {
		name := aws.ToString(flt.Name)
		if len(flt.Values) == 0 {
			return nil, apiError(ebs.CodeInvalidParameterValue, "The filter '%s' has no values", name)
		}
		if len(flt.Values) > ebs.MaxFilterValues {
			return nil, apiError(ebs.CodeFilterLimitExceeded, "The maximum number of filter values specified on a single call is %d", ebs.MaxFilterValues)
		}
		patterns := flt.Values
		var candidates func(T) []string
		switch {
		case f.tags != nil && strings.HasPrefix(name, "tag:"):
			key := strings.TrimPrefix(name, "tag:")
			candidates = func(v T) []string {
				var vals []string
				for _, t := range f.tags(v) {
					if t.Key == key {
						vals = append(vals, t.Value)
					}
				}
				return vals
			}
		case f.tags != nil && name == "tag-key":
			candidates = func(v T) []string { return tagField(f.tags(v), func(t inventory.Tag) string { return t.Key }) }
		case f.tags != nil && name == "tag-value":
			candidates = func(v T) []string { return tagField(f.tags(v), func(t inventory.Tag) string { return t.Value }) }
		default:
			attr, ok := f.attrs[name]
			if !ok {
				return nil, apiError(ebs.CodeInvalidParameterValue, "The filter '%s' is invalid (or not modelled by ec2fake.Fake)", name)
			}
			candidates = attr
		}
		// Values without wildcards match by set lookup: a fleet-sized
		// volume-id filter is 200 exact ids, tried against every volume.
		exact := map[string]bool{}
		var globs []string
		for _, p := range patterns {
			if strings.ContainsAny(p, `*?\`) {
				globs = append(globs, p)
			} else {
				exact[p] = true
			}
		}
		preds = append(preds, func(v T) bool {
			for _, c := range candidates(v) {
				if exact[c] {
					return true
				}
				for _, p := range globs {
					if glob(p, c) {
						return true
					}
				}
			}
			return false
		})
	}
	return func(v T) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

func tagField(tags []inventory.Tag, get func(inventory.Tag) string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = get(t)
	}
	return out
}

// glob matches s against an EC2 filter value: * is any run of characters,
// ? exactly one, and a backslash makes the next character literal.
func glob(pattern, s string) bool {
	type token struct {
		r    rune
		kind byte // 'l' literal, '?' one, '*' any run
	}
	var toks []token
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch {
		case pr[i] == '\\' && i+1 < len(pr):
			i++
			toks = append(toks, token{pr[i], 'l'})
		case pr[i] == '*' || pr[i] == '?':
			toks = append(toks, token{kind: byte(pr[i])})
		default:
			toks = append(toks, token{pr[i], 'l'})
		}
	}
	// Greedy matching with backtracking to the last star: linear for the
	// patterns filters use, no regexp compilation per value.
	sr := []rune(s)
	ti, si := 0, 0
	star, mark := -1, 0
	for si < len(sr) {
		switch {
		case ti < len(toks) && (toks[ti].kind == '?' || toks[ti].kind == 'l' && toks[ti].r == sr[si]):
			ti++
			si++
		case ti < len(toks) && toks[ti].kind == '*':
			star, mark = ti, si
			ti++
		case star >= 0:
			ti = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].kind == '*' {
		ti++
	}
	return ti == len(toks)
}
