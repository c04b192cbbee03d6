package ebs

import (
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// MaxFilterValues is the most values EC2 takes in one filter of a Describe
// call; more fail the whole call with FilterLimitExceeded ("The request
// uses too many filters or too many filter values"). See "Filter your
// resources" in the Amazon EC2 User Guide:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
const MaxFilterValues = 200

// filterSets splits filters into sets that EC2 accepts: each filter with
// more than MaxFilterValues values is cut into chunks of at most that
// many, and every combination of one chunk per filter is one set. Names
// are ANDed and values ORed, so the union of the sets' results is the
// result of filters; listings call once per set and drop duplicates
// (byID). Filters within the limit give the one set filters itself. A
// stanza matching 250 instance ids costs two calls; only a stanza with
// two such lists multiplies them.
func filterSets(filters []inventory.Filter) [][]inventory.Filter {
	sets := [][]inventory.Filter{nil}
	for _, f := range filters {
		chunks := slices.Collect(slices.Chunk(f.Values, MaxFilterValues))
		if len(chunks) == 0 {
			chunks = [][]string{f.Values}
		}
		next := make([][]inventory.Filter, 0, len(sets)*len(chunks))
		for _, set := range sets {
			for _, c := range chunks {
				next = append(next, append(slices.Clip(set), inventory.Filter{Name: f.Name, Values: c}))
			}
		}
		sets = next
	}
	return sets
}

// byID appends to out the items of more whose id (by id) seen has not
// seen yet, recording them: the union of several listings without
// duplicates, in first-seen order.
func byID[T any](out []T, more []T, seen map[string]bool, id func(T) string) []T {
	for _, x := range more {
		if k := id(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}
