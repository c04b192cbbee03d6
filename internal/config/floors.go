package config

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// RetentionFloor is the shortest retention Parse accepts. A snapshot's
// DeleteOn tag is a UTC date (YYYY-MM-DD, so that ebs_snapper and
// ebs-snapper read each other's snapshots), and clean deletes from the
// first UTC date on which the whole retention has passed: a retention
// under a day cannot be honoured exactly, it is kept up to a day longer.
const RetentionFloor = 24 * time.Hour

// FrequencyFloor is the shortest frequency Parse accepts, the floor of AWS
// Data Lifecycle Manager's snapshot policies (DLM API Reference,
// CreateRule: Interval is at least 1 hour). A cron expression is below it
// when it fires more than once in an hour.
const FrequencyFloor = time.Hour

func (p *parser) retention(m map[string]json.RawMessage) (d time.Duration) {
	v, ok := p.required(m, "retention", `a duration such as "4 days"`)
	if !ok {
		return 0
	}
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		p.fail("snapshot.retention", err.Error(), m["retention"])
	case d <= 0:
		p.fail("snapshot.retention", "must be positive", m["retention"])
	case d < RetentionFloor:
		p.lenient("snapshot.retention",
			"is shorter than one day, the floor: DeleteOn is a UTC date, so a retention under a day cannot be honoured exactly"+clockNote(v, d),
			"read as written: each snapshot is kept until the first UTC date on which its whole retention has passed", m["retention"])
	}
	return d
}

func (p *parser) frequency(m map[string]json.RawMessage) Frequency {
	const at = "snapshot.frequency"
	v, ok := p.required(m, "frequency", `a duration such as "12 hours" or a cron expression such as "0 1 * * sun"`)
	if !ok {
		return Frequency{}
	}
	f, err := ParseFrequency(v)
	raw := m["frequency"]
	switch {
	case err != nil:
		p.fail(at, err.Error(), raw)
		return f
	case !f.IsCron() && f.Every() <= 0:
		p.fail(at, "must be positive", raw)
		return f
	case !f.IsCron() && f.Every() < FrequencyFloor:
		p.lenient(at, "is shorter than one hour, the floor (AWS Data Lifecycle Manager's too)"+clockNote(v, f.Every()), "read as written", raw)
	}
	if f.IsCron() {
		p.cron(f, raw)
	}
	return f
}

// cron checks a cron frequency against the floor, EventBridge's day-field
// rule (six fields), parse-crontab's (five) and, with ParseAt, the clock.
func (p *parser) cron(f Frequency, raw json.RawMessage) {
	const at = "snapshot.frequency"
	c := f.cron
	if f.BelowFloor() {
		p.lenient(at, fmt.Sprintf("fires %d times an hour; the floor is once an hour (AWS Data Lifecycle Manager's too): name one minute, e.g. \"0 * * * *\"", bits.OnesCount64(c.minute)),
			"its fires within an hour of a volume's last snapshot are ignored", raw)
	}
	switch msg := c.awsDaysProblem(); {
	case msg != "" && c.bothDays():
		p.lenient(at, msg, "read as days that match both", raw)
	case msg != "":
		p.lenient(at, msg, "read as written", raw)
	case !c.sixField && c.bothDays():
		p.lenient(at,
			"restricts both day-of-month and day-of-week, so it fires only on days that match both (as ebs_snapper did; classic cron fires on either); set the one you do not mean to ?",
			"read as days that match both", raw)
	}
	if c.sixField && c.numericDow {
		// Not an error: it is the dialect EventBridge users write. But a
		// stanza ebs_snapper stored (0 = Sunday there) now fires a day
		// earlier each week, so every read says so.
		p.warn(at, "day-of-week numbers in a six-field expression are read as EventBridge reads them, 1 = SUN … 7 = SAT (so 2-6 is MON-FRI); ebs_snapper read 0 = SUN, a day later: write SUN-SAT names to make the days plain", raw)
	}
	if p.now.IsZero() {
		return
	}
	if _, ok := f.Next(p.now); !ok {
		msg := "never fires after " + p.now.UTC().Format(time.RFC3339)
		if !c.firesIn(p.now.UTC().Year(), cronMaxYear) {
			msg += ": its year field lies wholly in the past"
		}
		p.fail(at, msg, raw)
	}
}

// firesIn reports whether the year field allows any year from..to.
func (c *cronSchedule) firesIn(from, to int) bool {
	for y := max(from, cronMinYear); y <= to; y++ {
		if c.years[(y-cronMinYear)/64]&(1<<((y-cronMinYear)%64)) != 0 {
			return true
		}
	}
	return false
}

// clockNote explains how a clock form was read, since "12:00" looks like
// twelve hours and is twelve minutes in pytimeparse's grammar (m:ss), or
// "" when text has no clock form.
func clockNote(text string, d time.Duration) string {
	if !strings.Contains(text, ":") {
		return ""
	}
	return fmt.Sprintf(`; %q is a clock form read as %s: m:ss, as ebs_snapper's pytimeparse read it (h:mm:ss and d:hh:mm:ss are the longer forms), so write "12 hours" rather than "12:00"`, strings.TrimSpace(text), d)
}
