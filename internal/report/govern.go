package report

import (
	"time"

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
