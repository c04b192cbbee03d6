package config

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Frequency is a snapshot frequency: a duration ("12 hours") or a cron
// expression evaluated in UTC ("0 1 * * sun"). The zero value is a zero
// duration: always due.
type Frequency struct {
	text  string
	every time.Duration
	cron  *cronSchedule
}

// ParseFrequency parses a frequency as ebs_snapper did: as a duration
// first (see ParseDuration), and only when that fails as a cron expression
// in UTC with 5 fields (minute hour day-of-month month day-of-week), 6 (and
// year, 1970-2099), or an alias (@yearly, @annually, @monthly, @weekly,
// @daily, @hourly). Fields take *, lists, ranges, /steps, month and weekday
// names, ? in the day fields, L in day-of-month (last day), L<w> and
// L<a>-<b> in day-of-week (last such weekday of the month) and <w>#<n> (the
// n-th such weekday). When both day fields are restricted a day must
// match both, as in ebs_snapper's parse-crontab (classic cron takes
// either). An expression that never fires between 1970 and 2099 is an
// error. Zero and negative durations parse; the stanza validator rejects
// them.
func ParseFrequency(s string) (Frequency, error) {
	d, durErr := ParseDuration(s)
	if durErr == nil {
		return Frequency{text: s, every: d}, nil
	}
	c, cronErr := parseCron(s)
	if cronErr == nil {
		return Frequency{text: s, cron: c}, nil
	}
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "@") || len(strings.Fields(t)) >= 5 {
		return Frequency{}, fmt.Errorf("bad cron expression: %w", cronErr)
	}
	hint := durationUnits
	if de, ok := durErr.(*durationError); ok {
		hint = de.hint
	}
	return Frequency{}, fmt.Errorf("not a duration or cron expression: %s, or a cron expression in UTC, e.g. \"0 1 * * sun\"", hint)
}

// String returns the text the frequency was parsed from.
func (f Frequency) String() string { return f.text }

// IsCron reports whether the frequency is a cron expression.
func (f Frequency) IsCron() bool { return f.cron != nil }

// Every returns the duration of a duration frequency, 0 for cron.
func (f Frequency) Every() time.Duration { return f.every }

// Next returns the first time strictly after after when the frequency
// fires: after+Every for a duration; for cron the first matching whole
// minute in UTC, or false when there is none before the end of 2099.
func (f Frequency) Next(after time.Time) (time.Time, bool) {
	if f.cron == nil {
		return after.Add(f.every), true
	}
	return f.cron.next(after.UTC().Truncate(time.Minute).Add(time.Minute))
}

// Equal reports whether two frequencies were parsed from the same text,
// which fixes their whole behaviour; it lets go-cmp compare stanzas.
// BelowFloor reports whether f is a cron expression that fires more than
// once an hour (more than one minute in its minute field), below
// FrequencyFloor; such a cron is refused by Parse and, found stored, has
// its fires closer than the floor to the last snapshot ignored.
func (f Frequency) BelowFloor() bool { return f.cron != nil && bits.OnesCount64(f.cron.minute) > 1 }

func (f Frequency) Equal(g Frequency) bool { return f.text == g.text }

// MarshalText returns the original text, so stanzas and plans print their
// frequency as it was written.
func (f Frequency) MarshalText() ([]byte, error) { return []byte(f.text), nil }

// UnmarshalText parses text with ParseFrequency.
func (f *Frequency) UnmarshalText(text []byte) error {
	g, err := ParseFrequency(string(text))
	if err != nil {
		return err
	}
	*f = g
	return nil
}
