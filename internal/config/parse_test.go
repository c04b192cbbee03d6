package config

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

func mustFrequency(s string) Frequency {
	f, err := ParseFrequency(s)
	if err != nil {
		panic(err)
	}
	return f
}

// The README's stanzas, as operators copied them.
func TestParseReadmeExamples(t *testing.T) {
	tests := map[string]Stanza{
		"tagged_backup.json": {
			Match:     []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}},
			Retention: 4 * 24 * time.Hour, Minimum: 5, Frequency: mustFrequency("12 hours"),
		},
		"tagged_instances.json": {
			Match:     []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}},
			Retention: 5 * 24 * time.Hour, Minimum: 5, Frequency: mustFrequency("6 hours"),
		},
		"daily_tagged.json": {
			Match:     []inventory.Filter{{Name: "tag:backup", Values: []string{"daily"}}},
			Retention: 5 * 24 * time.Hour, Minimum: 5, Frequency: mustFrequency("1 day"),
		},
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "readme", file))
			if err != nil {
				t.Fatal(err)
			}
			want.ID = strings.TrimSuffix(file, ".json")
			got, err := Parse(want.ID, data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			stored, warnings, err := ParseStored(want.ID, data)
			if err != nil || len(warnings) > 0 || !cmp.Equal(got, stored) {
				t.Errorf("ParseStored = %+v, %v, %v; want the same stanza, no warnings", stored, warnings, err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     Stanza
	}{
		{
			name: "every key",
			in: `{"match": {"tag:Name": ["web-*", ["db-1", "db-2"]], "instance-id": "i-1"},
			      "snapshot": {"retention": "1w", "minimum": 0, "frequency": "0 1 ? * SUN"},
			      "ignore": ["vol-1", "snap-2"], "ignore_retention": true, "replication": "yes"}`,
			want: Stanza{
				Match: []inventory.Filter{
					{Name: "instance-id", Values: []string{"i-1"}},
					{Name: "tag:Name", Values: []string{"web-*", "db-1", "db-2"}},
				},
				Retention: 7 * 24 * time.Hour, Frequency: mustFrequency("0 1 ? * SUN"),
				Ignore: []string{"vol-1", "snap-2"}, IgnoreRetention: true, Replication: true,
			},
		},
		{
			name: "minimum as a whole float and as a string, replication no",
			in:   `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5.0, "frequency": "12 hours"}, "replication": "no"}`,
			want: Stanza{Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}},
				Retention: 96 * time.Hour, Minimum: 5, Frequency: mustFrequency("12 hours")},
		},
		{
			name: "minimum as an integer string",
			in:   `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": "7", "frequency": "12 hours"}}`,
			want: Stanza{Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}},
				Retention: 96 * time.Hour, Minimum: 7, Frequency: mustFrequency("12 hours")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("s", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ID = "s"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

const good = `"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}`

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"invalid JSON", `{, 123 bare words :: }`,
			[]string{`daily: $: invalid JSON at line 1, column 2: invalid character ',' looking for beginning of object key string`}},
		{"invalid JSON on line 3", "{\n\"match\": {}\n\"x\": 1}",
			[]string{`daily: $: invalid JSON at line 3, column 1: invalid character '"' after object key:value pair`}},
		{"empty input", ``, []string{`daily: $: invalid JSON at line 1, column 1: unexpected end of JSON input`}},
		{"not an object", `[1, 2]`, []string{`daily: $: must be a JSON object, got [1,2]`}},
		{"null", `null`, []string{`daily: $: must be a JSON object, got null`}},
		{"empty object", `{}`, []string{`daily: match: is required`, `daily: snapshot: is required`}},
		{"three at once", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "5 months", "minimum": -1, "frequency": "12 hours"}, "frobnicate": 1}`,
			[]string{
				`daily: snapshot.retention: not a duration: months and years are not supported; use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h", got "5 months"`,
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got -1`,
				`daily: frobnicate: unknown key (known: match, snapshot, ignore, ignore_retention, replication), got 1`,
			}},
		{"snapshot keys missing", `{"match": {"tag:backup": "yes"}, "snapshot": {}}`,
			[]string{`daily: snapshot.retention: is required`, `daily: snapshot.minimum: is required`, `daily: snapshot.frequency: is required`}},
		{"snapshot not an object", `{"match": {"a": "b"}, "snapshot": "daily"}`,
			[]string{`daily: snapshot: must be an object with retention, minimum and frequency, got "daily"`}},
		{"bad types in snapshot", `{"match": {"a": "b"}, "snapshot": {"retention": 5, "minimum": 2.5, "frequency": 12, "freq": "1d"}}`,
			[]string{
				`daily: snapshot.retention: must be a duration such as "4 days", got 5`,
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got 2.5`,
				`daily: snapshot.frequency: must be a duration such as "12 hours" or a cron expression such as "0 1 * * sun", got 12`,
				`daily: snapshot.freq: unknown key (known: retention, minimum, frequency), got "1d"`,
			}},
		{"zero and negative durations", `{"match": {"a": "b"}, "snapshot": {"retention": "0 days", "minimum": "x", "frequency": "-1 day"}}`,
			[]string{
				`daily: snapshot.retention: must be positive, got "0 days"`,
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got "x"`,
				`daily: snapshot.frequency: must be positive, got "-1 day"`,
			}},
		{"bad frequencies", `{"match": {"a": "b"}, "snapshot": {"retention": "1d", "minimum": null, "frequency": "0 0 30 2 *"}}`,
			[]string{
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got null`,
				`daily: snapshot.frequency: bad cron expression: never fires between 1970 and 2099, got "0 0 30 2 *"`,
			}},
		{"both cron day fields", `{"match": {"a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 13 * fri"}}`,
			[]string{`daily: snapshot.frequency: restricts both day-of-month and day-of-week, so it fires only on days that match both (as ebs_snapper did; classic cron fires on either); set the one you do not mean to ?, got "0 0 13 * fri"`}},
		{"match problems", `{"match": {"tag:Name": ["a", ["b", 3]], "": "x", "a.b": [], "n": 5, "o": [[]]}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "1d"}}`,
			[]string{
				`daily: match[""]: the filter name must not be empty, got "x"`,
				`daily: match["a.b"]: must list at least one value, got []`,
				`daily: match.n: must be a string or a list of strings, got 5`,
				`daily: match.o: must list at least one value, got [[]]`,
				`daily: match.tag:Name[1][1]: must be a string, got 3`,
			}},
		{"empty match", `{"match": {}, ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{`daily: match: must name at least one EC2 filter (an empty match selects nothing), got {}`}},
		{"match not an object", `{"match": ["i-1"], ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{`daily: match: must be an object of EC2 filter names to values, e.g. {"tag:backup": "yes"}, got ["i-1"]`}},
		{"ignore a string", `{` + good + `, "ignore": "i-1"}`,
			[]string{`daily: ignore: must be a list of instance, volume or snapshot ids, got "i-1"`}},
		{"ignore items", `{` + good + `, "ignore": ["i-1", "vol-2", 3, ["snap-4"]]}`,
			[]string{
				`daily: ignore[2]: must be an instance, volume or snapshot id string, got 3`,
				`daily: ignore[3]: must be an instance, volume or snapshot id string, got ["snap-4"]`,
			}},
		{"lenient forms are errors here", `{` + good + `, "ignore_retention": "false", "replication": "YES", "x y": {"a": "<b>"}}`,
			[]string{
				`daily: ignore_retention: must be true or false, got "false"`,
				`daily: replication: must be "yes" or "no", got "YES"`,
				`daily: ["x y"]: unknown key (known: match, snapshot, ignore, ignore_retention, replication), got {"a":"<b>"}`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("daily", []byte(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %+v, %v; want a *ValidationError", got, err)
			}
			if ve.ID != "daily" || len(ve.Problems) != len(tt.want) {
				t.Errorf("got %d problems for %q, want %d", len(ve.Problems), ve.ID, len(tt.want))
			}
			if diff := cmp.Diff(strings.Join(tt.want, "\n"), err.Error()); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStored(t *testing.T) {
	match := []inventory.Filter{{Name: "tag:backup", Values: []string{"yes"}}}
	tests := []struct {
		name, in     string
		want         Stanza
		wantWarnings []string
	}{
		{
			name: "every leniency",
			in: `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5.0, "frequency": "0 0 13 * 5", "x": 1},
			      "ignore_retention": "FALSE", "replication": "YES", "frobnicate": {"a": 1}}`,
			want: Stanza{Match: match, Retention: 96 * time.Hour, Minimum: 5, Frequency: mustFrequency("0 0 13 * 5")},
			wantWarnings: []string{
				`s: snapshot.minimum: should be written as an integer; read as 5, got 5.0`,
				`s: snapshot.frequency: restricts both day-of-month and day-of-week, so it fires only on days that match both (as ebs_snapper did; classic cron fires on either); set the one you do not mean to ?; read as days that match both, got "0 0 13 * 5"`,
				`s: snapshot.x: unknown key (known: retention, minimum, frequency); ignored, got 1`,
				`s: ignore_retention: must be true or false; read as false (ebs_snapper took any non-empty string as true), got "FALSE"`,
				`s: replication: must be "yes" or "no"; read as "no": only exactly "yes" turns replication on, as in ebs_snapper, got "YES"`,
				`s: frobnicate: unknown key (known: match, snapshot, ignore, ignore_retention, replication); ignored, got {"a":1}`,
			},
		},
		{
			name: "ignore_retention yes, minimum string",
			in:   `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": " 3 ", "frequency": "12 hours"}, "ignore_retention": "yes", "replication": true}`,
			want: Stanza{Match: match, Retention: 96 * time.Hour, Minimum: 3, Frequency: mustFrequency("12 hours"), IgnoreRetention: true},
			wantWarnings: []string{
				`s: snapshot.minimum: should be a number, not a string; read as 3, got " 3 "`,
				`s: ignore_retention: must be true or false; read as true, got "yes"`,
				`s: replication: must be "yes" or "no"; read as "no": only exactly "yes" turns replication on, as in ebs_snapper, got true`,
			},
		},
		{
			name:         "ignore_retention as numbers",
			in:           `{` + good + `, "ignore_retention": 1}`,
			want:         Stanza{Match: match, Retention: 96 * time.Hour, Minimum: 5, Frequency: mustFrequency("12 hours"), IgnoreRetention: true},
			wantWarnings: []string{`s: ignore_retention: must be true or false; read as true, got 1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := ParseStored("s", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ID = "s"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseStored (-want +got):\n%s", diff)
			}
			var gotWarnings []string
			for _, w := range warnings {
				gotWarnings = append(gotWarnings, w.String())
			}
			if diff := cmp.Diff(tt.wantWarnings, gotWarnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStoredKeepsDangerousErrors(t *testing.T) {
	in := `{"match": {}, "snapshot": {"retention": "soon", "minimum": -2, "frequency": "sometimes"}, "ignore": "i-1", "ignore_retention": "maybe", "extra": 1}`
	_, warnings, err := ParseStored("s", []byte(in))
	want := strings.Join([]string{
		`s: match: must name at least one EC2 filter (an empty match selects nothing), got {}`,
		`s: snapshot.retention: not a duration: use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h", got "soon"`,
		`s: snapshot.minimum: must be a non-negative integer, e.g. 5, got -2`,
		`s: snapshot.frequency: not a duration or cron expression: use weeks, days, hours, minutes or seconds, e.g. "12 hours" or "1d12h", or a cron expression in UTC, e.g. "0 1 * * sun", got "sometimes"`,
		`s: ignore: must be a list of instance, volume or snapshot ids, got "i-1"`,
		`s: ignore_retention: must be true or false, got "maybe"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("ParseStored error\ngot  %v\nwant %s", err, want)
	}
	if len(warnings) != 1 || warnings[0].Path != "extra" {
		t.Errorf("warnings = %v, want one for extra", warnings)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{ID: "daily", Path: "snapshot.retention", Msg: "is required"}, "daily: snapshot.retention: is required"},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: "5 months"}, `d: p: m, got "5 months"`},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: -1}, `d: p: m, got -1`},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: map[string]int{"a": 1}}, `d: p: m, got {"a":1}`},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: json.RawMessage("{ \"a\" : [1, 2] }")}, `d: p: m, got {"a":[1,2]}`},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: json.RawMessage("null")}, `d: p: m, got null`},
		{Problem{ID: "d", Path: "p", Msg: "m", Got: math.Inf(1)}, `d: p: m, got +Inf`}, // not JSON
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestMatchDescription(t *testing.T) {
	s, err := Parse("x", []byte(`{"match": {"tag:backup": "yes", "instance-id": ["i-1", "i-2"]}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "1d"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.MatchDescription(), "instance-id, value:i-1|i-2, tag:backup, value:yes"; got != want {
		t.Errorf("MatchDescription() = %q, want %q", got, want)
	}
}

func TestFrequencyText(t *testing.T) {
	var s struct{ F Frequency }
	if err := json.Unmarshal([]byte(`{"F": "0 1 ? * SUN"}`), &s); err != nil || !s.F.IsCron() {
		t.Fatalf("Unmarshal = %v, %v", s.F, err)
	}
	out, err := json.Marshal(s)
	if err != nil || string(out) != `{"F":"0 1 ? * SUN"}` {
		t.Errorf("Marshal = %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"F": "1 month"}`), &s); err == nil {
		t.Error("Unmarshal of 1 month succeeded")
	}
}
