package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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
			      "ignore": ["vol-0123456789abcdef0", "snap-01234567", "i-89abcdef"], "ignore_retention": true, "replication": "yes"}`,
			want: Stanza{
				Match: []inventory.Filter{
					{Name: "instance-id", Values: []string{"i-1"}},
					{Name: "tag:Name", Values: []string{"web-*", "db-1", "db-2"}},
				},
				Retention: 7 * 24 * time.Hour, Frequency: mustFrequency("0 1 ? * SUN"),
				Ignore: []string{"vol-0123456789abcdef0", "snap-01234567", "i-89abcdef"}, IgnoreRetention: true, Replication: true,
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
				`daily: frobnicate: unknown key (known: match, snapshot, ignore, ignore_retention, replication, replication_copy_tags, replication_kms_key, replication_retention, retention_tiers, orphans, exclude, exclude_volumes, adopt, archive_after, lock, launch_templates, drill), got 1`,
			}},
		{"snapshot keys missing", `{"match": {"tag:backup": "yes"}, "snapshot": {}}`,
			[]string{`daily: snapshot.retention: is required`, `daily: snapshot.minimum: is required`, `daily: snapshot.frequency: is required`}},
		{"snapshot not an object", `{"match": {"tag:a": "b"}, "snapshot": "daily"}`,
			[]string{`daily: snapshot: must be an object with retention, minimum and frequency, got "daily"`}},
		{"bad types in snapshot", `{"match": {"tag:a": "b"}, "snapshot": {"retention": 5, "minimum": 2.5, "frequency": 12, "freq": "1d"}}`,
			[]string{
				`daily: snapshot.retention: must be a duration such as "4 days", got 5`,
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got 2.5`,
				`daily: snapshot.frequency: must be a duration such as "12 hours" or a cron expression such as "0 1 * * sun", got 12`,
				`daily: snapshot.freq: unknown key (known: retention, minimum, frequency, multi_volume, exclude_boot_volume), got "1d"`,
			}},
		{"zero and negative durations", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "0 days", "minimum": "x", "frequency": "-1 day"}}`,
			[]string{
				`daily: snapshot.retention: must be positive, got "0 days"`,
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got "x"`,
				`daily: snapshot.frequency: must be positive, got "-1 day"`,
			}},
		{"bad frequencies", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": null, "frequency": "0 0 30 2 *"}}`,
			[]string{
				`daily: snapshot.minimum: must be a non-negative integer, e.g. 5, got null`,
				`daily: snapshot.frequency: bad cron expression: never fires between 1970 and 2099, got "0 0 30 2 *"`,
			}},
		{"both cron day fields", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 13 * fri"}}`,
			[]string{`daily: snapshot.frequency: restricts both day-of-month and day-of-week, so it fires only on days that match both (as ebs_snapper did; classic cron fires on either); set the one you do not mean to ?, got "0 0 13 * fri"`}},
		{"match problems", `{"match": {"tag:Name": ["a", ["b", 3]], "": "x", "tag:a.b": [], "tag:n": 5, "tag:o": [[]]}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "1d"}}`,
			[]string{
				`daily: match[""]: the filter name must not be empty, got "x"`,
				`daily: match["tag:Name"][1][1]: must be a string, got 3`,
				`daily: match["tag:a.b"]: must list at least one value, got []`,
				`daily: match["tag:n"]: must be a string or a list of strings, got 5`,
				`daily: match["tag:o"]: must list at least one value, got [[]]`,
			}},
		// Issue 10, item 3: a typo of tag: is stored today, and EC2 then
		// rejects the whole region's listing.
		{"not an EC2 filter name", `{"match": {"tags:env": "prod", "Tag:team": "a", "Instance-Type": "t3.micro", "colour": "blue", "tag:": "x"}, ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{
				`daily: match["Instance-Type"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'Instance-Type' is invalid"); did you mean "instance-type"?`,
				`daily: match["Tag:team"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'Tag:team' is invalid"); did you mean "tag:team"?`,
				`daily: match["colour"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'colour' is invalid"); use tag:<key> or a name from the DescribeInstances filter list, e.g. instance-id, instance-type, vpc-id`,
				`daily: match["tag:"]: names no tag key: write tag:<key>, e.g. "tag:backup"`,
				`daily: match["tags:env"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'tags:env' is invalid"); did you mean "tag:env"?`,
			}},
		{"instance state filters", `{"match": {"tag:backup": "yes", "instance-state-name": "running", "instance-state-code": "16"}, ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{
				`daily: match["instance-state-code"]: ebs-snapper selects instances by state itself (every instance that is not terminated keeps its stanza's protection); a state filter here would fight that: remove it`,
				`daily: match["instance-state-name"]: ebs-snapper selects instances by state itself (every instance that is not terminated keeps its stanza's protection); a state filter here would fight that: remove it`,
			}},
		{"empty and blank match values", `{"match": {"tag:a": "", "tag:b": " \t", "tag:c": ["x", ["", "y"]]}, ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{
				`daily: match["tag:a"]: must not be empty or only white space, got ""`,
				`daily: match["tag:b"]: must not be empty or only white space, got " \t"`,
				`daily: match["tag:c"][1][0]: must not be empty or only white space, got ""`,
			}},
		// "minimum": 5 then 0 read as 0 today, and clean deleted down to one.
		{"duplicate keys at any depth", `{"match": {"tag:a": "x", "tag:a": "y"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours", "minimum": 0}, "ignore": [], "ignore": []}`,
			[]string{
				`daily: match["tag:a"]: the key is given 2 times with different values ("x", then "y"); JSON readers keep only one of them, so the stanza could mean either: keep the one you mean`,
				`daily: snapshot.minimum: the key is given 2 times with different values (5, then 0); JSON readers keep only one of them, so the stanza could mean either: keep the one you mean`,
				`daily: ignore: the key is given 2 times`,
			}},
		{"floors", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "12 hours", "minimum": 1, "frequency": "1 second"}}`,
			[]string{
				`daily: snapshot.retention: is shorter than one day, the floor: DeleteOn is a UTC date, so a retention under a day cannot be honoured exactly, got "12 hours"`,
				`daily: snapshot.frequency: is shorter than one hour, the floor (AWS Data Lifecycle Manager's too), got "1 second"`,
			}},
		{"clock forms", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "12:00", "minimum": 1, "frequency": "*/30 * * * *"}}`,
			[]string{
				`daily: snapshot.retention: is shorter than one day, the floor: DeleteOn is a UTC date, so a retention under a day cannot be honoured exactly; "12:00" is a clock form read as 12m0s: m:ss, as ebs_snapper's pytimeparse read it (h:mm:ss and d:hh:mm:ss are the longer forms), so write "12 hours" rather than "12:00", got "12:00"`,
				`daily: snapshot.frequency: fires 2 times an hour; the floor is once an hour (AWS Data Lifecycle Manager's too): name one minute, e.g. "0 * * * *", got "*/30 * * * *"`,
			}},
		{"six fields need exactly one ?", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 * * * 2030"}}`,
			[]string{`daily: snapshot.frequency: has no "?" in day-of-month or day-of-week; EventBridge requires "?" in exactly one of them, e.g. "0 5 * * ? *" or "0 5 ? * MON-FRI *", got "0 0 * * * 2030"`}},
		{"six fields with two ?", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 ? * ? *"}}`,
			[]string{`daily: snapshot.frequency: has "?" in both day-of-month and day-of-week; EventBridge requires "?" in exactly one of them, e.g. "0 5 * * ? *", got "0 0 ? * ? *"`}},
		{"six fields with both days", `{"match": {"tag:a": "b"}, "snapshot": {"retention": "1d", "minimum": 1, "frequency": "0 0 13 * FRI *"}}`,
			[]string{`daily: snapshot.frequency: restricts both day-of-month and day-of-week, so it fires only on days that match both; EventBridge requires "?" in exactly one of them, got "0 0 13 * FRI *"`}},
		{"empty match", `{"match": {}, ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{`daily: match: must name at least one EC2 filter (an empty match selects nothing), got {}`}},
		{"match not an object", `{"match": ["i-1"], ` + good[strings.Index(good, `"snapshot"`):] + `}`,
			[]string{`daily: match: must be an object of EC2 filter names to values, e.g. {"tag:backup": "yes"}, got ["i-1"]`}},
		{"ignore a string", `{` + good + `, "ignore": "i-1"}`,
			[]string{`daily: ignore: must be a list of instance, volume or snapshot ids, got "i-1"`}},
		{"ignore items", `{` + good + `, "ignore": ["i-1", "vol-0123456789abcdef0", 3, ["snap-4"], "web-1", "I-0123456789ABCDEF0", "ami-01234567"]}`,
			[]string{
				`daily: ignore[0]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits), got "i-1"`,
				`daily: ignore[2]: must be an instance, volume or snapshot id string, got 3`,
				`daily: ignore[3]: must be an instance, volume or snapshot id string, got ["snap-4"]`,
				`daily: ignore[4]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits), got "web-1"`,
				`daily: ignore[5]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits), got "I-0123456789ABCDEF0"`,
				`daily: ignore[6]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits), got "ami-01234567"`,
			}},
		{"lenient forms are errors here", `{` + good + `, "ignore_retention": "false", "replication": "YES", "x y": {"a": "<b>"}}`,
			[]string{
				`daily: ignore_retention: must be true or false, got "false"`,
				`daily: replication: must be "yes" or "no", got "YES"`,
				`daily: ["x y"]: unknown key (known: match, snapshot, ignore, ignore_retention, replication, replication_copy_tags, replication_kms_key, replication_retention, retention_tiers, orphans, exclude, exclude_volumes, adopt, archive_after, lock, launch_templates, drill), got {"a":"<b>"}`,
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
				`s: snapshot.x: unknown key (known: retention, minimum, frequency, multi_volume, exclude_boot_volume); ignored, got 1`,
				`s: ignore_retention: must be true or false; read as false (ebs_snapper took any non-empty string as true), got "FALSE"`,
				`s: replication: must be "yes" or "no"; read as "no": only exactly "yes" turns replication on, as in ebs_snapper, got "YES"`,
				`s: frobnicate: unknown key (known: match, snapshot, ignore, ignore_retention, replication, replication_copy_tags, replication_kms_key, replication_retention, retention_tiers, orphans, exclude, exclude_volumes, adopt, archive_after, lock, launch_templates, drill); ignored, got {"a":1}`,
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
			// Meaning clear, so read as written, each with a warning.
			name: "new rules that stored stanzas only warn about",
			in: `{"match": {"tag:backup": ["yes", " "]}, "snapshot": {"retention": "12:00", "minimum": 5, "frequency": "0 5 ? * 2-6 *", "minimum": 5},
			      "ignore": ["web-1"]}`,
			want: Stanza{Match: []inventory.Filter{{Name: "tag:backup", Values: []string{"yes", " "}}}, Retention: 12 * time.Minute, Minimum: 5,
				Frequency: mustFrequency("0 5 ? * 2-6 *"), Ignore: []string{"web-1"}},
			wantWarnings: []string{
				`s: snapshot.minimum: the key is given 2 times; read once, as every copy is equal`,
				`s: match["tag:backup"][1]: must not be empty or only white space; passed to EC2 as written, as ebs_snapper did, got " "`,
				`s: snapshot.retention: is shorter than one day, the floor: DeleteOn is a UTC date, so a retention under a day cannot be honoured exactly; "12:00" is a clock form read as 12m0s: m:ss, as ebs_snapper's pytimeparse read it (h:mm:ss and d:hh:mm:ss are the longer forms), so write "12 hours" rather than "12:00"; read as written: each snapshot is kept until the first UTC date on which its whole retention has passed, got "12:00"`,
				`s: snapshot.frequency: day-of-week numbers in a six-field expression are read as EventBridge reads them, 1 = SUN … 7 = SAT (so 2-6 is MON-FRI); ebs_snapper read 0 = SUN, a day later: write SUN-SAT names to make the days plain, got "0 5 ? * 2-6 *"`,
				`s: ignore[0]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits); kept, but it matches no resource, got "web-1"`,
			},
		},
		{
			name: "ebs_snapper's six fields without ?, a frequency below the floor",
			in:   `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "*/10 * 13 * 6 *"}}`,
			want: Stanza{Match: match, Retention: 96 * time.Hour, Minimum: 5, Frequency: mustFrequency("*/10 * 13 * 6 *")},
			wantWarnings: []string{
				`s: snapshot.frequency: fires 6 times an hour; the floor is once an hour (AWS Data Lifecycle Manager's too): name one minute, e.g. "0 * * * *"; its fires within an hour of a volume's last snapshot are ignored, got "*/10 * 13 * 6 *"`,
				`s: snapshot.frequency: restricts both day-of-month and day-of-week, so it fires only on days that match both; EventBridge requires "?" in exactly one of them; read as days that match both, got "*/10 * 13 * 6 *"`,
				`s: snapshot.frequency: day-of-week numbers in a six-field expression are read as EventBridge reads them, 1 = SUN … 7 = SAT (so 2-6 is MON-FRI); ebs_snapper read 0 = SUN, a day later: write SUN-SAT names to make the days plain, got "*/10 * 13 * 6 *"`,
			},
		},
		{
			name:         "five-minute frequency",
			in:           `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "5 minutes"}}`,
			want:         Stanza{Match: match, Retention: 96 * time.Hour, Minimum: 5, Frequency: mustFrequency("5 minutes")},
			wantWarnings: []string{`s: snapshot.frequency: is shorter than one hour, the floor (AWS Data Lifecycle Manager's too); read as written, got "5 minutes"`},
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

// Ambiguous or dangerous even when stored: the stanza is invalid.
func TestParseStoredInvalidRules(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"duplicate minimum", `{"match": {"tag:a": "b"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "1 day", "minimum": 0}}`,
			`s: snapshot.minimum: the key is given 2 times with different values (5, then 0); JSON readers keep only one of them, so the stanza could mean either: keep the one you mean`},
		{"unknown filter name", `{"match": {"tags:env": "prod"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "1 day"}}`,
			`s: match["tags:env"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'tags:env' is invalid"); did you mean "tag:env"?`},
		{"state filter", `{"match": {"tag:a": "b", "instance-state-name": ["running"]}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "1 day"}}`,
			`s: match["instance-state-name"]: ebs-snapper selects instances by state itself (every instance that is not terminated keeps its stanza's protection); a state filter here would fight that: remove it`},
		{"weekday 0 in six fields", `{"match": {"tag:a": "b"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "0 1 ? * 0 *"}}`,
			`s: snapshot.frequency: bad cron expression: day-of-week "0": "0": 0 is not a weekday in the six-field (EventBridge) dialect, where 1 is SUN and 7 is SAT; write SUN, or use five fields where 0 is Sunday, got "0 1 ? * 0 *"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := ParseStored("s", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseStored = %+v, %v\nwant error %s", got, err, tt.want)
			}
		})
	}
}

// Issue 10, item 9: "0 0 1 1 ? 2020" was stored; only a later run said it
// never fires. The clock is the caller's.
func TestParseAtRefusesCronsThatNeverFireAgain(t *testing.T) {
	now := utc("2026-03-01 12:00:00")
	stanza := func(freq string) []byte {
		return []byte(`{"match": {"tag:a": "b"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "` + freq + `"}}`)
	}
	tests := []struct{ freq, want string }{
		{"0 0 1 1 ? 2020", `s: snapshot.frequency: never fires after 2026-03-01T12:00:00Z: its year field lies wholly in the past, got "0 0 1 1 ? 2020"`},
		{"0 0 1 1 ? 2019-2025", `s: snapshot.frequency: never fires after 2026-03-01T12:00:00Z: its year field lies wholly in the past, got "0 0 1 1 ? 2019-2025"`},
		{"0 0 1 1 ? 2026", `s: snapshot.frequency: never fires after 2026-03-01T12:00:00Z, got "0 0 1 1 ? 2026"`},
		{"0 0 2 3 ? 2026", ""}, // the next day
		{"0 0 1 1 ? 2020,2027", ""},
		{"0 5 ? * MON-FRI *", ""},
	}
	for _, tt := range tests {
		_, err := ParseAt("s", stanza(tt.freq), now)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("ParseAt(%q) = %v, want %q", tt.freq, err, tt.want)
		}
		if _, err := Parse("s", stanza(tt.freq)); err != nil {
			t.Errorf("Parse(%q) without a clock = %v, want no error", tt.freq, err)
		}
	}
}

func TestEC2FilterNamesSorted(t *testing.T) {
	if !slices.IsSorted(ec2InstanceFilters) {
		t.Error("ec2InstanceFilters must be sorted: filterNameProblem binary-searches it")
	}
	for _, name := range []string{"tag:backup", "tag-key", "instance-id", "instance-type", "vpc-id", "block-device-mapping.volume-id",
		"capacity-reservation-specification.capacity-reservation-target.capacity-reservation-resource-group-arn", "tag-value", "group-name"} {
		if msg := filterNameProblem(name); msg != "" {
			t.Errorf("filterNameProblem(%q) = %q, want accepted", name, msg)
		}
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
