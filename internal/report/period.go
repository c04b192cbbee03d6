package report

import (
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// maxLookBack bounds the search for a cron's previous fire: past two years
// a schedule is not one an RPO can be read from.
const maxLookBack = 2 * 366 * 24 * time.Hour

// Period is the time a volume under frequency f may go between snapshots,
// at now: the duration itself, or for a cron expression the gap between
// its last fire at or before now and its next fire after now (so "0 1 * *
// mon-fri" allows three days over a weekend and one during the week). When
// the cron fired never in the last two years, the gap between its next two
// fires is used. ok is false when the cron never fires after now.
func Period(f config.Frequency, now time.Time) (period time.Duration, ok bool) {
	if !f.IsCron() {
		return f.Every(), true
	}
	next, ok := f.Next(now)
	if !ok {
		return 0, false
	}
	// config.Frequency offers only Next, so find the previous fire by
	// looking back twice as far each time until some fire lies in
	// (now-back, now], then walking forward to the last one.
	for back := time.Hour; back <= maxLookBack; back *= 2 {
		prev, ok := f.Next(now.Add(-back))
		if !ok || prev.After(now) {
			continue
		}
		for {
			n, ok := f.Next(prev)
			if !ok || n.After(now) {
				return next.Sub(prev), true
			}
			prev = n
		}
	}
	after, ok := f.Next(next)
	if !ok {
		return 0, false
	}
	return after.Sub(next), true
}
