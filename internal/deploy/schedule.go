package deploy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// scheduleParams are the template's parameters that hold an EventBridge
// schedule expression; CheckParameters checks their values with
// CheckSchedule, since CloudFormation would refuse a bad one only when it
// creates the rule, after the upload and halfway through the stack.
var scheduleParams = []string{"CreateScheduleExpression", "CleanScheduleExpression", "ReplicationScheduleExpression", "ReportScheduleExpression", ParamDrillSchedule}

// ParamDrillSchedule is the restore drills' schedule: empty (its default)
// means no drill pipeline, so CheckParameters accepts it empty.
const ParamDrillSchedule = "DrillScheduleExpression"

var (
	rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronExpr = regexp.MustCompile(`^cron\((.*)\)$`)
	// cronField is one field's characters: numbers, names (JAN, MON),
	// ranges, lists, steps and the wildcards EventBridge knows.
	cronField = regexp.MustCompile(`^[0-9A-Za-z*?,/\-LW#]+$`)
)

// CheckSchedule checks an EventBridge schedule expression as EventBridge
// does (EventBridge User Guide, "Schedule expressions for rules"):
// rate(N unit) with N a positive whole number and the unit singular
// exactly when N is 1 (rate(1 hour), rate(5 minutes)); or cron(minutes
// hours day-of-month month day-of-week year), six fields, one of
// day-of-month and day-of-week being "?" and not both. All times are UTC.
func CheckSchedule(expr string) error {
	if m := rateExpr.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		switch {
		case err != nil || n < 1:
			return fmt.Errorf("%q: the rate must be a whole number of 1 or more", expr)
		case n == 1 && strings.HasSuffix(m[2], "s"):
			return fmt.Errorf("%q: write rate(1 %s), singular", expr, strings.TrimSuffix(m[2], "s"))
		case n > 1 && !strings.HasSuffix(m[2], "s"):
			return fmt.Errorf("%q: write rate(%d %ss), plural", expr, n, m[2])
		}
		return nil
	}
	if m := cronExpr.FindStringSubmatch(expr); m != nil {
		f := strings.Fields(m[1])
		if len(f) != 6 {
			return fmt.Errorf("%q: cron() takes six fields (minutes hours day-of-month month day-of-week year), got %d", expr, len(f))
		}
		for i, v := range f {
			if !cronField.MatchString(v) {
				return fmt.Errorf("%q: cron field %d %q has characters EventBridge does not accept", expr, i+1, v)
			}
		}
		if (f[2] == "?") == (f[4] == "?") {
			return fmt.Errorf("%q: exactly one of day-of-month (field 3) and day-of-week (field 5) must be ?", expr)
		}
		return nil
	}
	return fmt.Errorf("%q: want rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year), UTC", expr)
}
