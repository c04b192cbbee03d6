// Package schedule decides whether a volume is due for a new snapshot,
// given its stanza's frequency, the start time of its latest snapshot and
// the current time. It is pure: the caller passes now in.
package schedule

import (
	"fmt"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// Decision is the answer for one volume, with the reason in words.
type Decision struct {
	Due    bool
	Reason string
	// Next is when the volume becomes (or became) due; zero when it has
	// no snapshot yet or its cron never fires again.
	Next time.Time
}

// Due applies ebs_snapper's rule. A volume without a snapshot is due. With
// a duration F it is due once last+F is before now; with a cron expression
// once the expression's first fire strictly after last (whole minutes,
// UTC) is before now. Both comparisons are strict as in the original;
// cron fire times are whole minutes, so a run at exactly that instant is
// rare and the next run catches it. A cron that never fires after last
// is not due (ebs_snapper crashed there).
func Due(f config.Frequency, last time.Time, hasLast bool, now time.Time) Decision {
	if !hasLast {
		return Decision{Due: true, Reason: "no snapshot yet"}
	}
	next, ok := f.Next(last)
	if !ok {
		return Decision{Reason: fmt.Sprintf("frequency %q never fires after %s", f.String(), stamp(last))}
	}
	d := Decision{Due: next.Before(now), Next: next}
	switch {
	case !f.IsCron() && d.Due:
		d.Reason = fmt.Sprintf("due: last snapshot %s + %s passed at %s", stamp(last), f.Every(), stamp(next))
	case !f.IsCron():
		d.Reason = fmt.Sprintf("not due until %s (last snapshot %s, every %s)", stamp(next), stamp(last), f.Every())
	case d.Due:
		d.Reason = fmt.Sprintf("due: cron %q fired at %s after last snapshot %s", f.String(), stamp(next), stamp(last))
	default:
		d.Reason = fmt.Sprintf("not due until %s (last snapshot %s, cron %q)", stamp(next), stamp(last), f.String())
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
