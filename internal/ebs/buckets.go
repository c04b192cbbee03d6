package ebs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Bucket is one of EC2's request token buckets: requests with the same Key
// draw on it; it holds at most Burst tokens and gains Refill tokens a
// second. EC2 keeps one per account and region.
type Bucket struct {
	Key    string
	Burst  int
	Refill float64
}

// unfilteredSuffix marks the key of the smaller bucket that non-mutating
// calls without a filter and without pagination draw on.
const unfilteredSuffix = " (unfiltered)"

// BucketFor returns EC2's request token bucket for one request of action
// ("CreateSnapshot", "DescribeSnapshots", ...), and ok=false for actions
// with no bucket in the table (left unlimited). filtered says whether a
// non-mutating request has a filter or pagination (MaxResults, NextToken):
// without either it draws on a smaller bucket.
//
// Source: "Request throttling for the Amazon EC2 API", EC2 Developer Guide
// (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
// Each action has its own bucket. This one table
// serves the client's limiters (Options) and the test proxy's buckets
// (internal/testrig/faults), so the two cannot drift.
func BucketFor(action string, filtered bool) (Bucket, bool) {
	switch action {
	case "CreateSnapshot", "CreateSnapshots", "DeleteSnapshot":
		return Bucket{action, 100, 5}, true
	case "CreateTags", "DeleteTags":
		return Bucket{action, 100, 10}, true
	case "CopySnapshot", "LockSnapshot":
		// Not listed: EC2's default for mutating actions.
		return Bucket{action, 50, 5}, true
	}
	if !strings.HasPrefix(action, "Describe") && !strings.HasPrefix(action, "Get") {
		return Bucket{}, false
	}
	if filtered {
		return Bucket{action, 100, 20}, true
	}
	return Bucket{action + unfilteredSuffix, 50, 10}, true
}

// RateActions are the actions whose client-side rate a --rate flag or the
// EBS_SNAPPER_RATES variable may set: the mutating actions of the bucket
// table and the Describe calls the adapter makes.
var RateActions = []string{
	"CopySnapshot", "CreateSnapshot", "CreateSnapshots", "CreateTags", "DeleteSnapshot",
	"DescribeImages", "DescribeInstances", "DescribeRegions", "DescribeSnapshots", "DescribeVolumes",
}

// ParseRates parses "Action=rate,Action=rate" (rate in requests a second,
// a number > 0) into a map for Options.Rates. Actions
// are RateActions, case-sensitive as EC2 spells them; an empty string is
// an empty map. Errors name the item at fault and what is accepted.
func ParseRates(s string) (map[string]float64, error) {
	rates := map[string]float64{}
	if strings.TrimSpace(s) == "" {
		return rates, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		action, value, ok := strings.Cut(item, "=")
		if !ok || action == "" {
			return nil, fmt.Errorf("rate %q: want Action=requests-per-second, e.g. CreateSnapshot=3", item)
		}
		if !slices.Contains(RateActions, action) {
			return nil, fmt.Errorf("rate %q: unknown action %q; one of %s", item, action, strings.Join(RateActions, ", "))
		}
		if _, dup := rates[action]; dup {
			return nil, fmt.Errorf("rate %q: %s is given twice", item, action)
		}
		r, err := strconv.ParseFloat(value, 64)
		if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("rate %q: %q is not a number of requests a second > 0", item, value)
		}
		rates[action] = r
	}
	return rates, nil
}
