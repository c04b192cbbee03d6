package config

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// The keys of issue 8, all optional: a stanza without them means what it
// meant before. Their values are this tool's own, so they are checked the
// same way by Parse and ParseStored (only unknown sub-keys are lenient).

// filterKeys are the stanza keys whose values are objects of EC2 filters.
var filterKeys = []string{"match", "exclude", "exclude_volumes", "adopt"}

var tierKeys = []string{"keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "keep_within"}

func (p *parser) lifecycle(top map[string]json.RawMessage, s *Stanza) {
	if raw, ok := top["retention_tiers"]; ok {
		s.Tiers = p.tiers(raw)
	}
	if raw, ok := top["orphans"]; ok {
		s.Orphans = p.orphans(raw)
	}
	if raw, ok := top["exclude"]; ok {
		s.Exclude, _ = p.filters("exclude", raw, `must be an object of EC2 DescribeInstances filter names to values, e.g. {"tag:NoBackup": "true"}`, filterNameProblem)
	}
	if raw, ok := top["exclude_volumes"]; ok {
		s.ExcludeVolumes, _ = p.filters("exclude_volumes", raw, `must be an object of EC2 DescribeVolumes filter names to values, e.g. {"tag:Scratch": "*"}`, volumeFilterProblem)
	}
	if raw, ok := top["adopt"]; ok {
		s.Adopt = p.adopt(raw)
	}
	if raw, ok := top["archive_after"]; ok {
		s.ArchiveAfter = p.positiveDuration("archive_after", raw)
	}
}

func (p *parser) tiers(raw json.RawMessage) retention.Tiers {
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail("retention_tiers", `must be an object such as {"keep_daily": 7, "keep_weekly": 4}`, raw)
		return retention.Tiers{}
	}
	var t retention.Tiers
	counts := map[string]*int{"keep_last": &t.Last, "keep_hourly": &t.Hourly, "keep_daily": &t.Daily,
		"keep_weekly": &t.Weekly, "keep_monthly": &t.Monthly, "keep_yearly": &t.Yearly}
	for key, dst := range counts {
		if v, ok := m[key]; ok {
			*dst = p.count(path("retention_tiers", key), v, 0)
		}
	}
	if v, ok := m["keep_within"]; ok {
		t.Within = p.positiveDuration("retention_tiers.keep_within", v)
	}
	p.unknown(m, "retention_tiers", tierKeys)
	return t
}

// count reads a JSON integer of at least least.
func (p *parser) count(at string, raw json.RawMessage, least int) int {
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil || n < least {
		p.fail(at, "must be an integer of at least "+strconv.Itoa(least), raw)
		return 0
	}
	return n
}

// positiveDuration reads a duration string ("90 days") greater than zero.
func (p *parser) positiveDuration(at string, raw json.RawMessage) time.Duration {
	var v string
	if kind(raw) != '"' || json.Unmarshal(raw, &v) != nil {
		p.fail(at, `must be a duration string, e.g. "90 days"`, raw)
		return 0
	}
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		p.fail(at, err.Error(), raw)
	case d <= 0:
		p.fail(at, "must be longer than zero", raw)
	}
	return max(d, 0)
}

func (p *parser) orphans(raw json.RawMessage) Orphans {
	const msg = `must be "keep", "retain" or {"keep_last": N}`
	var mode string
	if kind(raw) == '"' && json.Unmarshal(raw, &mode) == nil && (mode == OrphansKeep || mode == OrphansRetain) {
		return Orphans{Mode: mode}
	}
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil || len(m) != 1 || m["keep_last"] == nil {
		p.fail("orphans", msg, raw)
		return Orphans{}
	}
	return Orphans{Mode: OrphansKeepLast, KeepLast: p.count("orphans.keep_last", m["keep_last"], 1)}
}

func (p *parser) adopt(raw json.RawMessage) Adopt {
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return Adopt{All: true}
	case "false":
		return Adopt{}
	}
	filters, keys := p.filters("adopt", raw, `must be true, false or an object of EC2 DescribeSnapshots filter names to values, e.g. {"tag:dlm:managed": "true"}`, snapshotFilterProblem)
	if keys == 0 {
		p.fail("adopt", "must name at least one EC2 filter (or be true to adopt every snapshot without DeleteOn)", raw)
	}
	return Adopt{Filters: filters}
}

// ec2VolumeFilters are the DescribeVolumes filter names besides tag:<key>
// (Amazon EC2 API Reference, DescribeVolumes, Filter.N).
var ec2VolumeFilters = []string{
	"attachment.attach-time", "attachment.delete-on-termination", "attachment.device",
	"attachment.instance-id", "attachment.status", "availability-zone", "availability-zone-id",
	"create-time", "encrypted", "fast-restored", "multi-attach-enabled", "operator.managed",
	"operator.principal", "size", "snapshot-id", "status", "tag-key", "tag-value", "volume-id",
	"volume-type",
}

// ec2SnapshotFilters are the DescribeSnapshots filter names besides
// tag:<key> (Amazon EC2 API Reference, DescribeSnapshots, Filter.N).
var ec2SnapshotFilters = []string{
	"description", "encrypted", "owner-alias", "owner-id", "progress", "snapshot-id",
	"start-time", "status", "storage-tier", "tag-key", "tag-value", "transfer-type",
	"volume-id", "volume-size",
}

func volumeFilterProblem(name string) string {
	return listedFilterProblem(name, "DescribeVolumes", ec2VolumeFilters)
}

func snapshotFilterProblem(name string) string {
	return listedFilterProblem(name, "DescribeSnapshots", ec2SnapshotFilters)
}

func listedFilterProblem(name, call string, known []string) string {
	if key, ok := strings.CutPrefix(name, "tag:"); ok {
		if key == "" {
			return `names no tag key: write tag:<key>, e.g. "tag:backup"`
		}
		return ""
	}
	if slices.Contains(known, name) {
		return ""
	}
	return "is not an EC2 " + call + " filter name; use tag:<key> or one of " + strings.Join(known, ", ")
}
