package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"4 days", "1d12h", "1 day, 12 hours", "1.5h", "-1 day", "1:30", "1:30:00",
		"1d 2:00:00", "1:02:03:04", ":30.5", "+ 1 minute", "1w/2d, 3h 4m 5s", "5", "1 month", "-1.5m 100s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		// Case never matters, nor surrounding spaces unless a line break
		// would then stop being the last character (pytimeparse raised).
		variants := []string{strings.ToUpper(s), strings.ToLower(s)}
		if !strings.Contains(s, "\n") {
			variants = append(variants, " "+s+" ")
		}
		for _, v := range variants {
			if got, err := ParseDuration(v); err != nil || got != d {
				t.Errorf("ParseDuration(%q) = %v, %v; ParseDuration(%q) = %v", v, got, err, s, d)
			}
		}
		// Whole seconds print back as components that parse to the same.
		if d%time.Second == 0 {
			if got, err := ParseDuration(formatDuration(d)); err != nil || got != d {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v (from %q)", formatDuration(d), got, err, d, s)
			}
		}
		// A sign in front negates a value of whole components.
		if trimmed := strings.TrimSpace(s); !strings.ContainsAny(trimmed, "+-.") {
			if got, err := ParseDuration("-" + trimmed); err != nil || got != -d {
				t.Errorf("ParseDuration(-%q) = %v, %v; want %v", trimmed, got, err, -d)
			}
		}
	})
}

// formatDuration writes whole seconds in pytimeparse's component order.
func formatDuration(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteString("-")
		d = -d
	}
	secs := int64(d / time.Second)
	for _, u := range []struct {
		unit string
		n    int64
	}{{"w", 7 * 86400}, {"d", 86400}, {"h", 3600}, {"m", 60}} {
		if secs >= u.n {
			fmt.Fprintf(&b, "%d%s ", secs/u.n, u.unit)
			secs %= u.n
		}
	}
	fmt.Fprintf(&b, "%ds", secs)
	return b.String()
}

func FuzzParseFrequency(f *testing.F) {
	for _, s := range []string{"12 hours", "0 1 ? * SUN", "@hourly", "30 * * * *", "0 0 L * *", "0 0 * * L5",
		"0 1 ? * sun#1", "0 5 * * ? *", "0 0 13 * 5", "0 0 29 2 *", "0 0 1 1 * 2030", "*/7 1-5 */3 jan-mar sat-sun",
		"0 5 ? * 2-6 *", "15 10 ? * 6L 2019-2022", "0 9 ? * 2#1 *", "0 0 ? * L *", "0 0 L * ? *", "0 5 ? * 0 *", "0 0 ? * 3#1,6#3 *"} {
		f.Add(s, int64(24*60*365*46))
	}
	f.Fuzz(func(t *testing.T, s string, minutes int64) {
		freq, err := ParseFrequency(s)
		if err != nil {
			return
		}
		if freq.String() != s {
			t.Errorf("String() = %q, want %q", freq, s)
		}
		if again, err := ParseFrequency(freq.String()); err != nil || !again.Equal(freq) || again.IsCron() != freq.IsCron() || again.Every() != freq.Every() {
			t.Errorf("ParseFrequency(String()) = %v, %v", again, err)
		}
		if !freq.IsCron() {
			return
		}
		// A time from 1969 to 2100, so both ends are exercised.
		from := time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(minutes%(132*366*24*60)) * time.Minute)
		got, ok := freq.Next(from)
		want, wantOK := freq.cron.bruteNext(from.Truncate(time.Minute).Add(time.Minute))
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("Next(%q, %v) = %v, %v; brute force says %v, %v", s, from, got, ok, want, wantOK)
		}
		if ok && (!got.After(from) || got.Location() != time.UTC || got.Second() != 0) {
			t.Errorf("Next(%q, %v) = %v: not a whole UTC minute after from", s, from, got)
		}
	})
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "readme", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"match": {"tag:Name": ["a", ["b"]]}, "snapshot": {"retention": "1w", "minimum": "3", "frequency": "0 1 ? * SUN"}, "ignore": ["i-1"], "ignore_retention": true, "replication": "yes"}`,
		`{"match": {}, "snapshot": {"retention": "5 months", "minimum": -1, "frequency": "0 0 30 2 *"}, "x": 1}`,
		`{"match": {"a": "b"}, "snapshot": {"retention": "1d", "minimum": 5.0, "frequency": "1d"}, "ignore_retention": "0", "replication": "YES"}`,
		`{, 123 bare words :: }`, `[]`, `null`,
		`{"match": {"tags:env": "prod", "instance-state-name": "running", "tag:a": " "}, "snapshot": {"retention": "12:00", "minimum": 5, "frequency": "1 second", "minimum": 0}, "ignore": ["web-1", "i-0123456789abcdef0"]}`,
		`{"match": {"tag:a": ["x", "x"], "tag:a": ["x", "x"]}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "0 5 ? * MON-FRI *"}, "x": {"y": 1, "y": 2}}`,
		`{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 * * * 2030"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz", data)
		stored, warnings, storedErr := ParseStored("fuzz", data)
		for _, w := range warnings {
			if !strings.HasPrefix(w.String(), "fuzz: ") {
				t.Errorf("warning %q lacks the id", w)
			}
		}
		if storedErr == nil {
			checkStanza(t, stored)
		} else if err == nil {
			t.Fatalf("Parse succeeded but ParseStored failed: %v", storedErr)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 || ve.ID != "fuzz" {
				t.Fatalf("Parse error %#v is not a *ValidationError with problems", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz: ") {
					t.Errorf("problem %q lacks the id", line)
				}
			}
			return
		}
		checkStanza(t, s)
		checkStrict(t, s)
		if !cmp.Equal(s, stored) {
			t.Errorf("Parse and ParseStored disagree: %s", cmp.Diff(s, stored))
		}
	})
}

// checkStanza asserts what every accepted stanza guarantees its users.
func checkStanza(t *testing.T, s Stanza) {
	t.Helper()
	if s.ID != "fuzz" || s.Retention <= 0 || s.Minimum < 0 || len(s.Match) == 0 {
		t.Fatalf("accepted an unusable stanza: %+v", s)
	}
	if !s.Frequency.IsCron() && s.Frequency.Every() <= 0 {
		t.Fatalf("accepted frequency %q", s.Frequency)
	}
	if !slices.IsSortedFunc(s.Match, func(a, b inventory.Filter) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("match not sorted: %+v", s.Match)
	}
	for _, m := range s.Match {
		if strings.TrimSpace(m.Name) == "" || len(m.Values) == 0 {
			t.Errorf("accepted filter %+v", m)
		}
	}
}

// checkStrict asserts what Parse guarantees beyond ParseStored: the floors,
// EC2 filter names and resource ids.
func checkStrict(t *testing.T, s Stanza) {
	t.Helper()
	if s.Retention < RetentionFloor || !s.Frequency.IsCron() && s.Frequency.Every() < FrequencyFloor {
		t.Errorf("Parse accepted retention %v, frequency %q below the floors", s.Retention, s.Frequency)
	}
	for _, m := range s.Match {
		if msg := filterNameProblem(m.Name); msg != "" {
			t.Errorf("Parse accepted filter %q: %s", m.Name, msg)
		}
	}
	for _, id := range s.Ignore {
		if !resourceID.MatchString(id) {
			t.Errorf("Parse accepted ignore entry %q", id)
		}
	}
}
