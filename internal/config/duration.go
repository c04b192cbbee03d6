package config

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The duration grammar is pytimeparse 1.1.5's, transcribed pattern by
// pattern, because retention and frequency values already stored by
// ebs_snapper must keep meaning exactly what they meant there (including
// "1:30" being 90 seconds). testdata/oracle holds the library's own answers
// for thousands of inputs and the tests hold us to them.
const (
	durWeeks = `(?P<weeks>[\d.]+)\s*(?:w|wks?|weeks?)`
	durDays  = `(?P<days>[\d.]+)\s*(?:d|dys?|days?)`
	durHours = `(?P<hours>[\d.]+)\s*(?:h|hrs?|hours?)`
	durMins  = `(?P<mins>[\d.]+)\s*(?:m|mins?|minutes?)`
	durSecs  = `(?P<secs>[\d.]+)\s*(?:s|secs?|seconds?)`

	durSecClock  = `:(?P<secs>\d{2}(?:\.\d+)?)`
	durMinClock  = `(?P<mins>\d{1,2}):(?P<secs>\d{2}(?:\.\d+)?)`
	durHourClock = `(?P<hours>\d+):(?P<mins>\d{2}):(?P<secs>\d{2}(?:\.\d+)?)`
	durDayClock  = `(?P<days>\d+):(?P<hours>\d{2}):(?P<mins>\d{2}):(?P<secs>\d{2}(?:\.\d+)?)`
)

// optSep makes a component optional and lets one ',' or '/' follow it.
func optSep(x string) string { return `(?:` + x + `\s*(?:[,/]\s*)?)?` }

// durationFormats are tried in pytimeparse's order; the first full match
// wins.
var durationFormats = func() []*regexp.Regexp {
	formats := []string{
		optSep(durWeeks) + `\s*` + optSep(durDays) + `\s*` + optSep(durHours) + `\s*` + optSep(durMins) + `\s*(?:` + durSecs + `)?`,
		durMinClock,
		optSep(durWeeks) + `\s*` + optSep(durDays) + `\s*` + durHourClock,
		durDayClock,
		durSecClock,
	}
	res := make([]*regexp.Regexp, len(formats))
	for i, f := range formats {
		res[i] = regexp.MustCompile(`(?i)^\s*` + f + `\s*$`)
	}
	return res
}()

// durationUnit gives each named group's length in seconds.
var durationUnit = map[string]int64{"weeks": 7 * 86400, "days": 86400, "hours": 3600, "mins": 60, "secs": 1}

const durationUnits = `use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h"`

// durationError says why a text is not a duration. ParseFrequency reuses
// the hint in its own wording.
type durationError struct{ hint string }

func (e *durationError) Error() string { return "not a duration: " + e.hint }

func notDuration(s string) *durationError {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.Contains(t, "month") || strings.Contains(t, "year"):
		return &durationError{"months and years are not supported; " + durationUnits}
	case isNumber(t):
		return &durationError{"a number needs a unit; " + durationUnits}
	}
	return &durationError{durationUnits}
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimLeft(s, "+-"), 64)
	return err == nil && strings.Trim(s, "+-.0123456789") == ""
}

// ParseDuration parses a duration the way ebs_snapper's pytimeparse 1.1.5
// did: "4 days", "12 hours", "1d12h", "1 day, 12 hours", "1.5h", "1w",
// clock forms such as "1:30" (90 seconds), "1:30:00", "1d 2:00:00",
// "1:00:00:00" and ":30", case-insensitive, with an optional sign. Months,
// years and bare numbers are rejected. Zero and negative values parse; the
// stanza validator decides where they are allowed.
func ParseDuration(s string) (time.Duration, error) {
	rest := strings.TrimLeft(s, " \t\n\r\f\v")
	sign := int64(1)
	// pytimeparse's sign class is [+|-], which takes '|' as a sign by
	// accident; only + and - are signs here.
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		if rest[0] == '-' {
			sign = -1
		}
		rest = strings.TrimLeft(rest[1:], " \t\n\r\f\v")
	}
	// pytimeparse's "(.*)$" cannot cross a line break before the last
	// character; such input made it raise, so it is no duration.
	if strings.Contains(strings.TrimSuffix(rest, "\n"), "\n") {
		return 0, notDuration(s)
	}
	for _, re := range durationFormats {
		m := re.FindStringSubmatch(rest)
		if m == nil || strings.TrimSpace(m[0]) == "" {
			continue
		}
		return durationValue(s, re.SubexpNames(), m, sign)
	}
	return 0, notDuration(s)
}

// durationValue adds the matched components up with pytimeparse's
// arithmetic: integers when every component is an integer; otherwise the
// non-second components are summed as floats and truncated to whole
// seconds (the sign applies to that part only, a pytimeparse quirk kept so
// that stored values keep their meaning) unless the seconds have a
// fraction, in which case everything is summed as floats.
func durationValue(s string, names, m []string, sign int64) (time.Duration, error) {
	type part struct {
		text string
		unit int64
	}
	var parts []part
	allInt, secs := true, ""
	for i, name := range names {
		if name == "" || m[i] == "" {
			continue
		}
		parts = append(parts, part{m[i], durationUnit[name]})
		allInt = allInt && isDigits(m[i])
		if name == "secs" {
			secs = m[i]
		}
	}
	outOfRange := &durationError{"too large; at most 2562047 hours (about 292 years)"}
	if allInt {
		var total int64
		for _, p := range parts {
			n, err := strconv.ParseInt(p.text, 10, 64)
			if err != nil || n > math.MaxInt64/p.unit || total > math.MaxInt64-n*p.unit {
				return 0, outOfRange
			}
			total += n * p.unit
		}
		return secondsToDuration(sign*total, outOfRange)
	}
	var sum float64
	for _, p := range parts {
		if p.unit == 1 && isDigits(p.text) {
			continue
		}
		f, err := strconv.ParseFloat(p.text, 64)
		if err != nil {
			return 0, notDuration(s)
		}
		sum += float64(p.unit) * f
	}
	if secs != "" && !isDigits(secs) {
		// timedelta keeps microseconds.
		us := math.RoundToEven(float64(sign) * sum * 1e6)
		if math.Abs(us) >= float64(math.MaxInt64/int64(time.Microsecond)) {
			return 0, outOfRange
		}
		return time.Duration(us) * time.Microsecond, nil
	}
	if sum >= float64(math.MaxInt64/int64(time.Second)) {
		return 0, outOfRange
	}
	total := sign * int64(sum)
	if secs != "" {
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, outOfRange
		}
		total += n
	}
	return secondsToDuration(total, outOfRange)
}

func secondsToDuration(secs int64, outOfRange error) (time.Duration, error) {
	if secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
		return 0, outOfRange
	}
	return time.Duration(secs) * time.Second, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
