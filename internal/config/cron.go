package config

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// The five-field cron dialect is that of parse-crontab 0.21.3, which
// ebs_snapper used, checked against the library's own answers in
// testdata/oracle, with one bug fixed: there a bare L also matched the day numbered like the previous
// month's last day (July 30, March 28); here it is the last day. It is our
// own small parser rather than github.com/adhocore/gronx because gronx
// differs where it matters: it joins day-of-month and day-of-week with OR
// (parse-crontab requires both to match), treats a leading "*/n" specially,
// spells "last Friday" 5L instead of L5, and searches by bumping a time
// field by field with iteration caps, which is slow and can give up.
// Fields are bit sets, so Next skips whole months, days and hours at once.
// Six-field expressions (with a year) read their day fields as Amazon
// EventBridge does instead: see cron_aws.go.

const (
	cronMinYear = 1970
	cronMaxYear = 2099
)

type cronSchedule struct {
	minute uint64    // bit m: minute m
	hour   uint32    // bit h: hour h
	dom    uint32    // bit d: day-of-month d
	month  uint16    // bit m: month m (1-12)
	years  [3]uint64 // bit y-1970: year y
	// lastDom is "L" in day-of-month: the month's last day.
	lastDom bool
	// dow, lastDow and nthDow hold weekdays (bit 0 = Sunday): any week, the
	// month's last seven days ("L5" = last Friday), and the n-th week of the
	// month (bit n of nthDow[w], from "5#3").
	dow     uint8
	lastDow uint8
	nthDow  [7]uint8
	// domAny and dowAny record "*" or "?" in the day fields: both restricted
	// means days must match both, unlike classic cron (see bothDays).
	domAny, dowAny bool
	// sixField marks the EventBridge dialect (see cron_aws.go); domQuestion
	// and dowQuestion record a "?" there, and numericDow a day-of-week
	// written with numbers, whose meaning differs from ebs_snapper's.
	sixField, domQuestion, dowQuestion, numericDow bool
	// dowDays[w] and lastDowDays[w] are the days of a month that starts on
	// weekday w selected by dow+nthDow and by lastDow; computed once so
	// that Next does no per-day work.
	dowDays, lastDowDays [7]uint32
}

var cronAliases = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@hourly":   "0 * * * *",
}

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = [...]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{name: "day-of-week", min: 0, max: 6, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
	{name: "year", min: cronMinYear, max: cronMaxYear},
}

const (
	fieldDom = 2
	fieldDow = 4
)

// fieldSet is what one field parses to; bit v-min of set is value v.
type fieldSet struct {
	set [3]uint64
	any bool
	// question is a lone "?"; numeric is a weekday written as a number.
	question, numeric bool
	lastDom           bool
	lastDow           uint8
	nthDow            [7]uint8
}

func (f *fieldSet) add(v, min int) { f.set[(v-min)/64] |= 1 << ((v - min) % 64) }

func parseCron(text string) (*cronSchedule, error) {
	expr := strings.TrimSpace(text)
	if alias, ok := cronAliases[strings.ToLower(expr)]; ok {
		expr = alias
	}
	fields := strings.Fields(strings.ToLower(expr))
	switch {
	case len(fields) == 7:
		return nil, errors.New("7 fields (with seconds) are not supported: use minute hour day-of-month month day-of-week [year]")
	case len(fields) != 5 && len(fields) != 6:
		return nil, fmt.Errorf("a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (and year), got %d", len(fields))
	}
	sixField := len(fields) == 6
	if !sixField {
		fields = append(fields, "*")
	}
	var sets [len(cronFields)]fieldSet
	for i, text := range fields {
		var set fieldSet
		var err error
		if sixField && (i == fieldDom || i == fieldDow) {
			set, err = parseAWSDayField(i, text)
		} else {
			set, err = parseCronField(i, text)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", cronFields[i].name, text, err)
		}
		sets[i] = set
	}
	c := &cronSchedule{
		minute:  sets[0].set[0],
		hour:    uint32(sets[1].set[0]),
		dom:     uint32(sets[fieldDom].set[0]) << 1,
		month:   uint16(sets[3].set[0]) << 1,
		years:   sets[5].set,
		lastDom: sets[fieldDom].lastDom,
		dow:     uint8(sets[fieldDow].set[0]),
		lastDow: sets[fieldDow].lastDow,
		nthDow:  sets[fieldDow].nthDow,
		domAny:  sets[fieldDom].any,
		dowAny:  sets[fieldDow].any,

		sixField:    sixField,
		domQuestion: sets[fieldDom].question,
		dowQuestion: sets[fieldDow].question,
		numericDow:  sets[fieldDow].numeric,
	}
	for first := range 7 {
		for d := 1; d <= 31; d++ {
			w := (first + d - 1) % 7
			if c.dow&(1<<w) != 0 || c.nthDow[w]&(1<<((d-1)/7+1)) != 0 {
				c.dowDays[first] |= 1 << d
			}
			if c.lastDow&(1<<w) != 0 {
				c.lastDowDays[first] |= 1 << d
			}
		}
	}
	if _, ok := c.next(time.Date(cronMinYear, 1, 1, 0, 0, 0, 0, time.UTC)); !ok {
		return nil, fmt.Errorf("never fires between %d and %d", cronMinYear, cronMaxYear)
	}
	return c, nil
}

// parseCronField parses one field: a comma-separated list of "*", "?"
// (day fields), values, "a-b" ranges and "/step"s, month and weekday
// names, "L" (day-of-month), "L<w>" / "L<a>-<b>" (day-of-week: last such
// weekday of the month) and, beyond parse-crontab, "<w>#<n>" (n-th such
// weekday of the month).
func parseCronField(i int, text string) (fieldSet, error) {
	f := cronFields[i]
	var set fieldSet
	for item := range strings.SplitSeq(text, ",") {
		switch {
		case item == "*" || item == "?":
			if item == "?" && i != fieldDom && i != fieldDow {
				return set, errors.New(`"?" is only allowed in day-of-month and day-of-week`)
			}
			set.any = true
			for v := f.min; v <= f.max; v++ {
				set.add(v, f.min)
			}
		case item == "l" && i == fieldDom:
			set.lastDom = true
		case strings.HasPrefix(item, "l") && i == fieldDow:
			days, err := lastWeekdays(item[1:])
			if err != nil {
				return set, err
			}
			set.lastDow |= days
		case strings.HasPrefix(item, "l"):
			return set, fmt.Errorf("%q: L alone (last day of the month) belongs in day-of-month, L<weekday> (e.g. L5, the last Friday) in day-of-week", item)
		case strings.HasSuffix(item, "l") && i == fieldDow:
			return set, fmt.Errorf("%q: write the last such weekday of the month as L<weekday>, e.g. L5 for the last Friday", item)
		case strings.Contains(item, "#") && i == fieldDow:
			w, n, _ := strings.Cut(item, "#")
			day, err := cronValue(f, w, 7)
			if err != nil {
				return set, err
			}
			nth, err := strconv.Atoi(n)
			if err != nil || !isDigits(n) || nth < 1 || nth > 5 {
				return set, fmt.Errorf("%q: the week after # must be 1 to 5", item)
			}
			set.nthDow[day%7] |= 1 << nth
		case strings.Contains(item, "#"):
			return set, fmt.Errorf("%q: # belongs in day-of-week, as <weekday>#<week>, e.g. sun#1", item)
		case strings.HasSuffix(item, "w"):
			return set, fmt.Errorf("%q: W (nearest weekday) is not supported", item)
		default:
			if err := parseCronRange(f, i, item, &set); err != nil {
				return set, err
			}
		}
	}
	return set, nil
}

// lastWeekdays parses what follows L in day-of-week: "w" or "a-b",
// digits 0-7 (7 is Sunday too).
func lastWeekdays(s string) (uint8, error) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || !isDigits(a) || !isDigits(b) || start > 7 || end > 7 || start > end {
		return 0, fmt.Errorf("%q: L must be followed by a weekday number 0-7 or a range of them, e.g. L5 (last Friday)", "l"+s)
	}
	var days uint8
	for d := start; d <= end; d++ {
		days |= 1 << (d % 7)
	}
	return days, nil
}

// parseCronRange parses "v", "a-b", "*/n", "v/n" and "a-b/n". As in
// parse-crontab, "v/n" runs from v to the field's maximum, and in
// day-of-week a range ending at Sunday as 0 ends the week ("sat-sun").
func parseCronRange(f cronField, i int, item string, set *fieldSet) error {
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || !isDigits(stepText) || n < 1 {
			return fmt.Errorf("%q: the step after / must be a positive number", item)
		}
		step = n
	}
	limit := f.max
	if i == fieldDow {
		limit = 7
	}
	var start, end int
	switch a, b, isRange := strings.Cut(base, "-"); {
	case base == "*" && hasStep:
		start, end = f.min, f.max
	case isRange:
		var err error
		if start, err = cronValue(f, a, limit); err != nil {
			return err
		}
		if end, err = cronValue(f, b, limit); err != nil {
			return err
		}
		if i == fieldDow && end == 0 {
			end = 7
		}
		if start > end {
			return fmt.Errorf("%q: range start %d is after its end %d", item, start, end)
		}
	default:
		var err error
		if start, err = cronValue(f, base, limit); err != nil {
			return err
		}
		end = start
		if hasStep {
			end = f.max
		}
		if start > end {
			return fmt.Errorf("%q: %d/step starts after the last value %d", item, start, end)
		}
	}
	for v := start; v <= end; v += step {
		if i == fieldDow {
			set.add(v%7, f.min) // 7 is Sunday too
		} else {
			set.add(v, f.min)
		}
	}
	return nil
}

func cronValue(f cronField, s string, limit int) (int, error) {
	if v, ok := f.names[s]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || !isDigits(s) {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number or a name", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < f.min || v > limit {
		return 0, fmt.Errorf("%d is out of range %d-%d", v, f.min, limit)
	}
	return v, nil
}

// bothDays reports whether day-of-month and day-of-week are both
// restricted, where parse-crontab (and so ebs-snapper) fires only on days
// matching both while classic cron fires on days matching either.
func (c *cronSchedule) bothDays() bool { return !c.domAny && !c.dowAny }

// next returns the first fire time at or after t, which must be a whole
// minute in UTC.
func (c *cronSchedule) next(t time.Time) (time.Time, bool) {
	y, mo, d := t.Date()
	h, mi := t.Hour(), t.Minute()
	if y < cronMinYear {
		y, mo, d, h, mi = cronMinYear, 1, 1, 0, 0
	}
	for ; y <= cronMaxYear; y, mo, d, h, mi = y+1, 1, 1, 0, 0 {
		if c.years[(y-cronMinYear)/64]&(1<<((y-cronMinYear)%64)) == 0 {
			continue
		}
		for ; mo <= 12; mo, d, h, mi = mo+1, 1, 0, 0 {
			if c.month&(1<<mo) == 0 {
				continue
			}
			days := c.days(y, mo) >> d << d
			for days != 0 {
				day := bits.TrailingZeros32(days)
				if day != d {
					h, mi = 0, 0
				}
				if hh, mm, ok := c.timeOfDay(h, mi); ok {
					return time.Date(y, mo, day, hh, mm, 0, 0, time.UTC), true
				}
				days &^= 1 << day
			}
		}
	}
	return time.Time{}, false
}

// days returns the set of matching days (bit d = day d) of a month.
func (c *cronSchedule) days(y int, mo time.Month) uint32 {
	first := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	last := daysIn(y, mo)
	inMonth := uint32(1)<<(last+1) - 2
	dom := c.dom
	if c.lastDom {
		dom |= 1 << last
	}
	w := first.Weekday()
	lastWeek := inMonth &^ (uint32(1)<<(last-6) - 1)
	return dom & (c.dowDays[w] | c.lastDowDays[w]&lastWeek) & inMonth
}

// timeOfDay returns the first hour and minute at or after h:mi.
func (c *cronSchedule) timeOfDay(h, mi int) (int, int, bool) {
	hours := c.hour >> h << h
	if hours == 0 {
		return 0, 0, false
	}
	hh := bits.TrailingZeros32(hours)
	if hh == h {
		if mins := c.minute >> mi << mi; mins != 0 {
			return hh, bits.TrailingZeros64(mins), true
		}
		hours &^= 1 << hh
		if hours == 0 {
			return 0, 0, false
		}
		hh = bits.TrailingZeros32(hours)
	}
	return hh, bits.TrailingZeros64(c.minute), true
}

func daysIn(y int, mo time.Month) int {
	switch mo {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
