package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
	}{
		// The results as pytimeparse 1.1.5 (the parser of the original, Python
		// ebs_snapper) gives them; docs/configuration.md, "Durations".
		{"4 days", 4 * day},
		{"12 hours", 12 * time.Hour},
		{"1 day", day},
		{"1w", 7 * day},
		{"1.5 days", 36 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1 day, 12 hours", 36 * time.Hour},
		{"1.5h", 90 * time.Minute},
		{"4days", 4 * day},
		{"4 Days", 4 * day},
		{"0 days", 0},
		{"-1 day", -day},
		{"1:30", 90 * time.Second},
		{"1:30:00", 90 * time.Minute},
		// Every unit spelling.
		{"2 w", 14 * day}, {"1 wk", 7 * day}, {"2 wks", 14 * day}, {"1 week", 7 * day}, {"2 weeks", 14 * day},
		{"1d", day}, {"1 dy", day}, {"2 dys", 2 * day}, {"1 day", day}, {"2 days", 2 * day},
		{"1h", time.Hour}, {"1 hr", time.Hour}, {"2 hrs", 2 * time.Hour}, {"1 hour", time.Hour}, {"2 hours", 2 * time.Hour},
		{"1m", time.Minute}, {"1 min", time.Minute}, {"2 mins", 2 * time.Minute}, {"1 minute", time.Minute}, {"2 minutes", 2 * time.Minute},
		{"1s", time.Second}, {"1 sec", time.Second}, {"2 secs", 2 * time.Second}, {"1 second", time.Second}, {"2 seconds", 2 * time.Second},
		// Separators, case, spaces, signs.
		{"1w/2d, 3h 4m 5s", 7*day + 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"  3 HOURS  ", 3 * time.Hour},
		{"1 day,", day},
		{"+ 1 minute", time.Minute},
		{"- 1 minute", -time.Minute},
		// Clock forms.
		{"1d 2:00:00", 26 * time.Hour},
		{"1:02:03:04", day + 2*time.Hour + 3*time.Minute + 4*time.Second},
		{":30", 30 * time.Second},
		{"1:99", 159 * time.Second},
		// Fractions: whole seconds unless the seconds have a fraction.
		{"1.2 minutes", 72 * time.Second},
		{"1.5s", 1500 * time.Millisecond},
		{"0.1s", 100 * time.Millisecond},
		{"1:30.25", 90*time.Second + 250*time.Millisecond},
		{".5d", 12 * time.Hour},
		// pytimeparse signs only the non-second part when it has a fraction.
		{"-1.5m 100s", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	const units = `use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h"`
	tests := []struct{ in, want string }{
		{"5", "not a duration: a number needs a unit; " + units},
		{"1.5", "not a duration: a number needs a unit; " + units},
		{"1 month", "not a duration: months and years are not supported; " + units},
		{"1 year", "not a duration: months and years are not supported; " + units},
		{"2 Months", "not a duration: months and years are not supported; " + units},
		{"@daily", "not a duration: " + units},
		{"0 5 * * ? *", "not a duration: " + units},
		{"", "not a duration: " + units},
		{"-", "not a duration: " + units},
		{"1h1d", "not a duration: " + units},
		{"1d1d", "not a duration: " + units},
		{"1 day,, 2 hours", "not a duration: " + units},
		{",1 day", "not a duration: " + units},
		{"1.2.3 days", "not a duration: " + units},
		{". days", "not a duration: " + units},
		{"1 ms", "not a duration: " + units},
		{"|1 day", "not a duration: " + units},
		{"1 day\n2 hours", "not a duration: " + units},
		{"123:30", "not a duration: " + units},
		{"300000 weeks", "not a duration: too large; at most 2562047 hours (about 292 years)"},
		{"99999999999999999999 s", "not a duration: too large; at most 2562047 hours (about 292 years)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseDuration(%q) error\ngot  %q\nwant %q", tt.in, err, tt.want)
			}
		})
	}
}
