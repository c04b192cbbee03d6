package retention

import (
	"fmt"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Tiers are restic's keep-policy ("forget --keep-*") for one volume: each
// count keeps the newest completed snapshot of that many UTC periods,
// newest periods first; a period with no snapshot does not count. Zero
// counts and a zero Within keep nothing. The zero value is "no tiers".
type Tiers struct {
	Last    int `json:"keep_last,omitempty"`
	Hourly  int `json:"keep_hourly,omitempty"`
	Daily   int `json:"keep_daily,omitempty"`
	Weekly  int `json:"keep_weekly,omitempty"` // ISO 8601 weeks, Monday to Sunday
	Monthly int `json:"keep_monthly,omitempty"`
	Yearly  int `json:"keep_yearly,omitempty"`
	// Within keeps every completed snapshot taken at most this long before
	// the volume's newest completed snapshot (restic measures from the
	// newest snapshot, not the clock, so a volume whose snapshots stopped
	// does not lose its history day by day).
	Within time.Duration `json:"keep_within,omitempty"`
}

// Empty reports whether the tiers keep nothing.
func (t Tiers) Empty() bool { return t == Tiers{} }

// Union is the tiers that keep everything either keeps: the larger count
// of each tier and the longer Within. Used when several stanzas govern a
// volume (the safer rule).
func (t Tiers) Union(o Tiers) Tiers {
	return Tiers{
		Last: max(t.Last, o.Last), Hourly: max(t.Hourly, o.Hourly), Daily: max(t.Daily, o.Daily),
		Weekly: max(t.Weekly, o.Weekly), Monthly: max(t.Monthly, o.Monthly), Yearly: max(t.Yearly, o.Yearly),
		Within: max(t.Within, o.Within),
	}
}

// period is one calendar tier: the UTC bucket a time falls in, its label,
// and the start of the bucket n periods after a bucket's start.
type period struct {
	name  string
	count func(Tiers) int
	start func(t time.Time) time.Time
	label func(t time.Time) string
	add   func(start time.Time, n int) time.Time
}

// periods are the calendar tiers, one row each, as restic's ymdh, ymd,
// yw, ym and y bucket functions. A new tier is a new row.
var periods = []period{
	{"hourly", func(t Tiers) int { return t.Hourly },
		func(t time.Time) time.Time { return t.Truncate(time.Hour) },
		func(t time.Time) string { return t.Format("2006-01-02T15") },
		func(s time.Time, n int) time.Time { return s.Add(time.Duration(n) * time.Hour) }},
	{"daily", func(t Tiers) int { return t.Daily },
		utcDate,
		func(t time.Time) string { return t.Format(time.DateOnly) },
		func(s time.Time, n int) time.Time { return s.AddDate(0, 0, n) }},
	{"weekly", func(t Tiers) int { return t.Weekly },
		func(t time.Time) time.Time { return utcDate(t).AddDate(0, 0, -(int(t.Weekday())+6)%7) },
		func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%04d-W%02d", y, w) },
		func(s time.Time, n int) time.Time { return s.AddDate(0, 0, 7*n) }},
	{"monthly", func(t Tiers) int { return t.Monthly },
		func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) },
		func(t time.Time) string { return t.Format("2006-01") },
		func(s time.Time, n int) time.Time { return s.AddDate(0, n, 0) }},
	{"yearly", func(t Tiers) int { return t.Yearly },
		func(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC) },
		func(t time.Time) string { return t.Format("2006") },
		func(s time.Time, n int) time.Time { return s.AddDate(n, 0, 0) }},
}

// tierKeep is why the tiers keep one snapshot and until when at least.
type tierKeep struct {
	// why lists "monthly 2026-10", "last 2 of 3", … in tier order.
	why []string
	// release is the earliest time at which every tier keeping the
	// snapshot could let it go: new snapshots must first fill the newer
	// buckets. A keep_last keep can end with the next snapshot, so it
	// releases at once (now).
	release time.Time
}

// keepByTiers applies t to a volume's snapshots, sorted oldest first, and
// returns the completed ones it keeps. Other states take no bucket: a
// pending snapshot may still fail.
func keepByTiers(t Tiers, snaps []inventory.Snapshot, now time.Time) map[string]*tierKeep {
	if t.Empty() {
		return nil
	}
	var done []inventory.Snapshot // newest first
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].State == inventory.StateCompleted {
			done = append(done, snaps[i])
		}
	}
	if len(done) == 0 {
		return nil
	}
	keep := map[string]*tierKeep{}
	mark := func(id, why string, release time.Time) {
		k := keep[id]
		if k == nil {
			k = &tierKeep{release: release}
			keep[id] = k
		}
		k.why = append(k.why, why)
		if release.After(k.release) {
			k.release = release
		}
	}
	for i := range min(t.Last, len(done)) {
		mark(done[i].ID, fmt.Sprintf("last %d of %d", i+1, t.Last), now)
	}
	newest := done[0].StartTime.UTC()
	for _, p := range periods {
		n := p.count(t)
		if n <= 0 {
			continue
		}
		first, rank, last := p.start(newest), 0, time.Time{}
		for _, s := range done {
			b := p.start(s.StartTime.UTC())
			if rank > 0 && b.Equal(last) {
				continue
			}
			rank++
			last = b
			// The bucket of rank k leaves the n newest when n-k+1 newer
			// buckets hold a snapshot: at the earliest, at the start of
			// that many periods after the newest bucket.
			mark(s.ID, p.name+" "+p.label(b), p.add(first, n-rank+1))
			if rank == n {
				break
			}
		}
	}
	if t.Within > 0 {
		for _, s := range done {
			if newest.Sub(s.StartTime) > t.Within {
				break
			}
			mark(s.ID, "within "+formatDuration(t.Within)+" of the newest", s.StartTime.Add(t.Within))
		}
	}
	return keep
}

// formatDuration writes whole days and hours as "7d", "36h", else Go's form.
func formatDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func keptByTiers(k *tierKeep) string { return "kept: " + strings.Join(k.why, ", ") }
