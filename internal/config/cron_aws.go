package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A six-field expression (minute hour day-of-month month day-of-week year)
// is read in the dialect of Amazon EventBridge's cron expressions, the one
// the README and AWS users write ("0 5 ? * MON-FRI *"), as documented in
// the EventBridge User Guide, "Cron expressions reference"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html):
//
//   - day-of-week runs from 1 (SUN) to 7 (SAT), names SUN-SAT; 0 is not a
//     weekday and is rejected, as EventBridge rejects it;
//   - "<w>L" in day-of-week is the last such weekday of the month ("6L",
//     the last Friday), L alone the last day of the week (Saturday);
//   - "<w>#<n>" is the n-th such weekday, and must then be the field's only
//     item ("3#1,6#3" is rejected, as EventBridge rejects it);
//   - "?" stands alone; "/" is not allowed in day-of-week;
//   - L in day-of-month is the month's last day; W (nearest weekday) and
//     LW are rejected here, as this parser does not implement them.
//
// EventBridge also requires "?" in exactly one of the two day fields. That
// rule is the stanza validator's (Parse refuses, ParseStored warns),
// because ebs_snapper stored six-field expressions such as "0 0 * * * 2030"
// whose meaning is clear. Years run from 1970 to 2099 (EventBridge: 2199).
// Minutes, hours, months and years read as in the five-field dialect.

// awsWeekdays are EventBridge's weekday names, mapped to time.Weekday.
var awsWeekdays = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// parseAWSDayField parses day-of-month (i == fieldDom) or day-of-week of
// a six-field expression. Weekday bits are time.Weekday values.
func parseAWSDayField(i int, text string) (fieldSet, error) {
	items := strings.Split(text, ",")
	if text == "?" {
		set := fieldSet{any: true, question: true}
		for v := cronFields[i].min; v <= cronFields[i].max; v++ {
			set.add(v, cronFields[i].min)
		}
		return set, nil
	}
	for _, item := range items {
		if item == "?" {
			return fieldSet{}, errors.New(`"?" must stand alone in its field`)
		}
	}
	if i == fieldDom {
		for _, item := range items {
			switch {
			case strings.Contains(item, "w"):
				return fieldSet{}, fmt.Errorf("%q: W (nearest weekday) is not supported", item)
			case strings.HasPrefix(item, "l") && item != "l":
				return fieldSet{}, fmt.Errorf("%q: only L alone (the month's last day) is supported in day-of-month", item)
			}
		}
		return parseCronField(i, text)
	}
	var set fieldSet
	for _, item := range items {
		if err := parseAWSWeekdayItem(item, len(items), &set); err != nil {
			return fieldSet{}, err
		}
	}
	return set, nil
}

func parseAWSWeekdayItem(item string, items int, set *fieldSet) error {
	const all = 0x7f
	switch {
	case item == "*":
		set.any = true
		set.set[0] |= all
	case item == "l":
		set.set[0] |= 1 << 6 // the week's last day: Saturday
	case strings.HasSuffix(item, "l"):
		w, err := awsWeekday(item[:len(item)-1], set)
		if err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		set.lastDow |= 1 << w
	case strings.HasPrefix(item, "l"):
		return fmt.Errorf("%q: in the six-field (EventBridge) dialect the last such weekday of the month is <weekday>L, e.g. 6L for the last Friday", item)
	case strings.Contains(item, "#"):
		if items > 1 {
			return fmt.Errorf("%q: a <weekday>#<week> must be the only item of day-of-week (EventBridge rejects \"3#1,6#3\")", item)
		}
		a, n, _ := strings.Cut(item, "#")
		w, err := awsWeekday(a, set)
		if err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		nth, err := strconv.Atoi(n)
		if err != nil || !isDigits(n) || nth < 1 || nth > 5 {
			return fmt.Errorf("%q: the week after # must be 1 to 5", item)
		}
		set.nthDow[w] |= 1 << nth
	case strings.Contains(item, "/"):
		return fmt.Errorf("%q: EventBridge does not allow / in day-of-week; list the days, e.g. MON,WED,FRI", item)
	default:
		a, b, isRange := strings.Cut(item, "-")
		start, err := awsWeekday(a, set)
		if err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		end := start
		if isRange {
			if end, err = awsWeekday(b, set); err != nil {
				return fmt.Errorf("%q: %w", item, err)
			}
			if start > end {
				return fmt.Errorf("%q: range start %s is after its end %s (the week runs SUN to SAT)", item, strings.ToUpper(a), strings.ToUpper(b))
			}
		}
		for w := start; w <= end; w++ {
			set.set[0] |= 1 << w
		}
	}
	return nil
}

// awsWeekday reads a weekday name or number (1 = SUN … 7 = SAT) as a
// time.Weekday value, and notes in set when it was a number.
func awsWeekday(s string, set *fieldSet) (int, error) {
	if w, ok := awsWeekdays[s]; ok {
		return w, nil
	}
	v, err := strconv.Atoi(s)
	switch {
	case err != nil || !isDigits(s):
		return 0, fmt.Errorf("%q is not a weekday: use 1-7 (1 = SUN) or SUN-SAT", s)
	case v == 0:
		return 0, errors.New("0 is not a weekday in the six-field (EventBridge) dialect, where 1 is SUN and 7 is SAT; write SUN, or use five fields where 0 is Sunday")
	case v > 7:
		return 0, fmt.Errorf("%d is out of range 1-7 (1 = SUN … 7 = SAT)", v)
	}
	set.numeric = true
	return v - 1, nil
}

// awsDaysProblem says how a six-field expression breaks EventBridge's rule
// that exactly one day field is "?", and "" when it keeps it.
func (c *cronSchedule) awsDaysProblem() string {
	switch {
	case !c.sixField || c.domQuestion != c.dowQuestion:
		return ""
	case c.domQuestion:
		return `has "?" in both day-of-month and day-of-week; EventBridge requires "?" in exactly one of them, e.g. "0 5 * * ? *"`
	case c.bothDays():
		return `restricts both day-of-month and day-of-week, so it fires only on days that match both; EventBridge requires "?" in exactly one of them`
	}
	return `has no "?" in day-of-month or day-of-week; EventBridge requires "?" in exactly one of them, e.g. "0 5 * * ? *" or "0 5 ? * MON-FRI *"`
}
