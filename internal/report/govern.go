package report

import (
	"strings"
	"time"
	"unicode"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// strictest returns, of the stanzas ids that govern one volume, the one
// whose period at now is the shortest: its limit is the strictest, so the
// report never calls a volume ok that one of its stanzas calls late. A
// stanza whose cron never fires again counts only when no other can; ties
// go to the first id.
func strictest(p snapper.Policy, ids []string, now time.Time) string {
	best, bestPeriod, found := ids[0], time.Duration(0), false
	for _, id := range ids {
		period, ok := Period(p.Stanzas[id].Frequency, now)
		if ok && (!found || period < bestPeriod) {
			best, bestPeriod, found = id, period, true
		}
	}
	return best
}

// governing is the stanzas that govern a planned volume: every one when
// several do, else the deciding one.
func governing(d snapper.SnapshotDecision) []string {
	if len(d.ConfigIDs) > 1 {
		return d.ConfigIDs
	}
	return []string{d.ConfigID}
}

// instanceName is the instance's Name tag, "" when it has none.
func instanceName(inst inventory.Instance) string {
	name, _ := inventory.TagValue(inst.Tags, "Name")
	return name
}

// ensureLists makes every list of the region non-nil, so JSON shows []
// rather than null (a skipped or failed region has none of them).
func (r *Region) ensureLists() {
	if r.Volumes == nil {
		r.Volumes = []Volume{}
	}
	if r.ByConfig == nil {
		r.ByConfig = []Coverage{}
	}
	if r.Orphans == nil {
		r.Orphans = []Orphan{}
	}
	if r.NoDeleteOn == nil {
		r.NoDeleteOn = []SnapshotRef{}
	}
}

// InstanceLabel is how tables show an instance: "i-… (Name)", the id
// alone when it has no Name tag, "-" for none. A control character in the
// name (which anyone allowed to tag the instance writes, in any account
// of an organisation run) shows as "?": an escape sequence must not reach
// the operator's terminal, nor a tab shift the table's columns.
func InstanceLabel(id, name string) string {
	switch {
	case id == "":
		return "-"
	case name == "":
		return id
	}
	return id + " (" + strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, name) + ")"
}
