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
	// Next is when the volume becomes (or became) due: for a duration the
	// last snapshot + the frequency - the slack, for cron the first fire
	// the last snapshot does not count for (due strictly after it). Zero
	// when there is no snapshot yet or the cron never fires again.
	Next time.Time
}

// MaxSlack bounds Slack.
const MaxSlack = 10 * time.Minute

// Slack is how early a volume may be snapshotted for a period of the given
// length (UTC wall time): min(MaxSlack, period/10).
//
// Why: a run stamps its snapshots some seconds to minutes after it starts
// (listing the region, then CreateSnapshot at EC2's ~5 per second), and
// the scheduler that starts it fires up to a minute late or early. Without
// a slack, a "1 day" stanza run once a day at the same clock time finds its
// last snapshot a few seconds short of a day old and skips: one snapshot
// every other day. Ten minutes covers the latency of a run over a thousand
// volumes; the 10 % cap keeps two snapshots of a volume at least 90 % of a
// period apart for short periods, so there is never a second snapshot in
// one period.
func Slack(period time.Duration) time.Duration {
	return max(0, min(MaxSlack, period/10))
}

// Due decides whether a volume needs a snapshot at now. A volume without a
// snapshot is due. With a duration F it is due from last + F - Slack(F),
// so two snapshots are never closer than F - Slack(F). With a cron
// expression (whole minutes, UTC) each fire has a window that opens
// Slack(gap) before it, gap being the time from the first fire after last
// to the fire after that: the last snapshot counts for every fire up to
// last + slack (a snapshot taken just before a fire is that fire's), and
// the volume is due from slack before the first fire after that. So a run
// started a little early still serves the fire, and a second run in the
// same window finds the volume done. A cron that fires more than once an
// hour (config.Frequency.BelowFloor: refused by configure -s, found
// stored) counts only its fires from config.FrequencyFloor minus its slack
// after the last snapshot, so its snapshots are about an hour apart. A
// cron that never fires again is not due (ebs_snapper crashed there).
func Due(f config.Frequency, last time.Time, hasLast bool, now time.Time) Decision {
	if !hasLast {
		return Decision{Due: true, Reason: reasonFirst()}
	}
	if !f.IsCron() {
		slack := Slack(f.Every())
		next := last.Add(f.Every() - slack)
		if now.Before(next) {
			return Decision{Next: next, Reason: reasonEveryNotDue(last, f.Every(), slack, next)}
		}
		return Decision{Due: true, Next: next, Reason: reasonEveryDue(last, f.Every(), slack, next)}
	}
	first, ok := f.Next(last)
	if !ok {
		return Decision{Reason: reasonNever(f, last)}
	}
	slack := MaxSlack
	if second, ok := f.Next(first); ok {
		slack = Slack(second.Sub(first))
	}
	from := last.Add(slack)
	if floor := last.Add(config.FrequencyFloor - Slack(config.FrequencyFloor)); f.BelowFloor() && floor.After(from) {
		// A stored cron that fires more than once an hour: its fires
		// within the floor of the last snapshot are ignored.
		from = floor
	}
	fire, ok := f.Next(from)
	if !ok {
		return Decision{Reason: reasonNever(f, from)}
	}
	next := fire.Add(-slack)
	if now.Before(next) {
		return Decision{Next: next, Reason: reasonCronNotDue(f, fire, slack, next, last)}
	}
	return Decision{Due: true, Next: next, Reason: reasonCronDue(f, fire, slack, last)}
}

// The reasons, one constructor per form (plans show them verbatim).

func reasonFirst() string { return "no snapshot yet" }

func reasonNever(f config.Frequency, after time.Time) string {
	return fmt.Sprintf("frequency %q never fires after %s", f.String(), stamp(after))
}

func reasonEveryDue(last time.Time, every, slack time.Duration, next time.Time) string {
	return fmt.Sprintf("due: last snapshot %s + %s - %s slack passed at %s", stamp(last), config.FormatDuration(every), config.FormatDuration(slack), stamp(next))
}

func reasonEveryNotDue(last time.Time, every, slack time.Duration, next time.Time) string {
	return fmt.Sprintf("not due until %s (last snapshot %s, every %s - %s slack)", stamp(next), stamp(last), config.FormatDuration(every), config.FormatDuration(slack))
}

func reasonCronDue(f config.Frequency, fire time.Time, slack time.Duration, last time.Time) string {
	return fmt.Sprintf("due: cron %q fires at %s (%s slack), the first fire after last snapshot %s", f.String(), stamp(fire), config.FormatDuration(slack), stamp(last))
}

func reasonCronNotDue(f config.Frequency, fire time.Time, slack time.Duration, next, last time.Time) string {
	return fmt.Sprintf("not due until %s (cron %q fires at %s, %s slack; last snapshot %s)", stamp(next), f.String(), stamp(fire), config.FormatDuration(slack), stamp(last))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
