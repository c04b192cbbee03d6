package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// Integration tests: the built binary against moto, as an operator runs it.

// motoTable resets moto and creates the named configuration table in
// us-east-1, returning the server and an SDK client for direct writes.
func motoTable(t *testing.T, table string) (*motoserver.Server, *dynamodb.Client) {
	t.Helper()
	srv := motoserver.Require(t)
	client := dynamodb.NewFromConfig(srv.Config(t))
	if err := configstore.NewDynamo(client, table).CreateTable(motoserver.Context(t)); err != nil {
		t.Fatal(err)
	}
	return srv, client
}

// cliStep is one run of the binary and what it must print.
type cliStep struct {
	stdin  string
	args   []string
	stdout string
	code   int
	// stderr, when set, must appear in the standard error.
	stderr string
}

func runSteps(t *testing.T, srv *motoserver.Server, steps []cliStep) {
	t.Helper()
	for _, s := range steps {
		stdout, stderr, code := runBinary(t, srv, s.stdin, s.args...)
		if stdout != s.stdout || code != s.code {
			t.Errorf("ebs-snapper %s\nexit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s",
				strings.Join(s.args, " "), code, stdout, s.code, s.stdout, stderr)
		}
		if !strings.Contains(stderr, s.stderr) {
			t.Errorf("ebs-snapper %s: stderr\n%s\nlacks %q", strings.Join(s.args, " "), stderr, s.stderr)
		}
	}
}

// The seed README's configure session, verbatim, with both of its stanzas.
func TestConfigureBinaryReadmeSession(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-l"}, stdout: "No configurations found\n"},
		{args: []string{"configure", "-s", "-a", "112233445566", "tagged_instances", taggedInstancesJSON},
			stdout: "Saved to key tagged_instances under account 112233445566\n"},
		{args: []string{"configure", "-g", "-a", "112233445566", "tagged_instances"}, stdout: taggedInstancesPrinted + "\n"},
		{args: []string{"configure", "-s", "-a", "112233445566", "daily_tagged", dailyTaggedJSON},
			stdout: "Saved to key daily_tagged under account 112233445566\n"},
		{args: []string{"configure", "-g", "-a", "112233445566", "daily_tagged"}, stdout: dailyTaggedPrinted + "\n"},
		{args: []string{"configure", "-l", "-a", "112233445566"},
			stdout: "aws_account_id,id\n112233445566,daily_tagged\n112233445566,tagged_instances\n"},
		{args: []string{"configure", "-d", "-a", "112233445566", "daily_tagged"}, stdout: "{}\n"},
		{args: []string{"configure", "-l", "-a", "112233445566"}, stdout: "aws_account_id,id\n112233445566,tagged_instances\n"},
		// Not found: nothing on stdout (a backup recipe "-g ID > ID.json"
		// must not save the sentence as the stanza), stderr, exit 1.
		{args: []string{"configure", "-g", "-a", "112233445566", "daily_tagged"}, code: ExitError,
			stderr: `no configuration found: account 112233445566 has no stanza "daily_tagged"`},
		{args: []string{"configure", "--del", "-a", "112233445566", "tagged_instances"}, stdout: "{}\n"},
		{args: []string{"configure", "-l", "-a", "112233445566"}, stdout: "No configurations found\n"},
	})
}

// Without -a the account comes from STS: moto's is 123456789012.
func TestConfigureBinaryDiscoversTheAccount(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-s", "daily_tagged", dailyTaggedJSON}, stdout: "Saved to key daily_tagged under account 123456789012\n"},
		{args: []string{"configure", "-l"}, stdout: "aws_account_id,id\n123456789012,daily_tagged\n"},
		{args: []string{"configure", "-l", "-a", "112233445566"}, stdout: "No configurations found\n"},
	})
}

func TestConfigureBinarySetFromFileAndStdin(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	path := filepath.Join(t.TempDir(), "tagged_instances.json")
	if err := os.WriteFile(path, []byte(taggedInstancesJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-s", "-a", testAccount, "from_file", "@" + path}, stdout: "Saved to key from_file under account 112233445566\n"},
		{stdin: taggedInstancesJSON, args: []string{"configure", "-s", "-a", testAccount, "from_stdin", "-"},
			stdout: "Saved to key from_stdin under account 112233445566\n"},
		{args: []string{"configure", "-g", "-a", testAccount, "from_file"}, stdout: taggedInstancesPrinted + "\n"},
		{args: []string{"configure", "-g", "-a", testAccount, "from_stdin"}, stdout: taggedInstancesPrinted + "\n"},
		{args: []string{"configure", "-s", "-a", testAccount, "nope", "@" + missing}, code: ExitError, stderr: missing},
		{args: []string{"configure", "-l", "-a", testAccount},
			stdout: "aws_account_id,id\n112233445566,from_file\n112233445566,from_stdin\n"},
	})
}

func TestConfigureBinaryRejectsInvalidStanzas(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	stdout, stderr, code := runBinary(t, srv, "", "configure", "-s", "-a", testAccount, "bad", `{"snapshot": }`)
	if code != ExitError || stdout != "" || !strings.Contains(stderr, "bad: $: invalid JSON at line 1, column 14") {
		t.Errorf("bad JSON: exit %d, stdout %q, stderr:\n%s\nwant exit 1, the id and $ named on stderr", code, stdout, stderr)
	}

	stdout, stderr, code = runBinary(t, srv, "", "configure", "-s", "-a", testAccount, "bad", manyProblemsJSON)
	if code != ExitError || stdout != "" {
		t.Errorf("several problems: exit %d, stdout %q; want exit 1 and nothing printed", code, stdout)
	}
	want := "ebs-snapper: stanza \"bad\" not stored:\n" + strings.Join([]string{
		"bad: match: ", "bad: snapshot.retention: ", "bad: snapshot.minimum: ", "bad: snapshot.frequency: ", "bad: colour: ",
	}, "[…]\n")
	for _, line := range strings.Split(want, "[…]\n") {
		if !strings.Contains(stderr, line) {
			t.Errorf("several problems: stderr lacks %q:\n%s", line, stderr)
		}
	}
	runSteps(t, srv, []cliStep{{args: []string{"configure", "-l", "-a", testAccount}, stdout: "No configurations found\n"}})
}

// Items written straight into the table bypass validation; each id must
// still be listed and readable, and the good ones unaffected.
func TestConfigureBinaryBadItemNextToGoodOnes(t *testing.T) {
	srv, client := motoTable(t, DefaultTable)
	for id, conf := range map[string]string{
		"broken":       `{, 123 bare words :: }`,
		"daily_tagged": dailyTaggedJSON,
		// Identical JSON under a second id: the original showed one id.
		"daily_tagged_copy": dailyTaggedJSON,
	} {
		_, err := client.PutItem(motoserver.Context(t), &dynamodb.PutItemInput{
			TableName: aws.String(DefaultTable),
			Item: map[string]types.AttributeValue{
				"aws_account_id": &types.AttributeValueMemberS{Value: testAccount},
				"id":             &types.AttributeValueMemberS{Value: id},
				"configuration":  &types.AttributeValueMemberS{Value: conf},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-l", "-a", testAccount},
			stdout: "aws_account_id,id\n112233445566,broken\n112233445566,daily_tagged\n112233445566,daily_tagged_copy\n"},
		{args: []string{"configure", "-g", "-a", testAccount, "broken"}, stdout: "{, 123 bare words :: }\n", code: ExitPartial,
			stderr: "ebs-snapper: stanza \"broken\" is invalid, so snapshot and clean skip it:\nbroken: $: invalid JSON"},
		{args: []string{"configure", "-g", "-a", testAccount, "daily_tagged_copy"}, stdout: dailyTaggedPrinted + "\n"},
	})
}

// Issue 10, item 10: items written straight into the table with no
// stanza text say what is wrong with them in -l, -g, -c and the runs.
func TestConfigureBinaryBrokenItemsSayWhatIsWrong(t *testing.T) {
	srv, client := motoTable(t, DefaultTable)
	const want = `want a string (S) holding the stanza's JSON`
	for id, conf := range map[string]types.AttributeValue{
		"broken-1":     &types.AttributeValueMemberN{Value: "5"},
		"broken-2":     &types.AttributeValueMemberB{Value: []byte(dailyTaggedJSON)},
		"broken-3":     nil,
		"daily_tagged": &types.AttributeValueMemberS{Value: dailyTaggedJSON},
	} {
		item := map[string]types.AttributeValue{
			"aws_account_id": &types.AttributeValueMemberS{Value: testAccount},
			"id":             &types.AttributeValueMemberS{Value: id},
		}
		if conf != nil {
			item["configuration"] = conf
		}
		if _, err := client.PutItem(motoserver.Context(t), &dynamodb.PutItemInput{TableName: aws.String(DefaultTable), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	messages := []string{
		`broken-1: attribute \"configuration\" is a number (N); ` + want,
		`broken-2: attribute \"configuration\" is binary (B); ` + want,
		`broken-3: attribute \"configuration\" is missing; ` + want,
	}
	stdout, stderr, code := runBinary(t, srv, "", "configure", "-l", "-a", testAccount)
	if code != ExitOK || stdout != "aws_account_id,id\n112233445566,broken-1\n112233445566,broken-2\n112233445566,broken-3\n112233445566,daily_tagged\n" {
		t.Errorf("configure -l: exit %d, stdout:\n%s", code, stdout)
	}
	for _, msg := range messages {
		if !strings.Contains(stderr, msg) {
			t.Errorf("configure -l: stderr lacks %s:\n%s", msg, stderr)
		}
	}
	runSteps(t, srv, []cliStep{{args: []string{"configure", "-g", "-a", testAccount, "broken-1"}, code: ExitPartial,
		stderr: `broken-1: attribute "configuration" is a number (N); ` + want}})
	unquoted := strings.NewReplacer(`\"`, `"`)
	// -c and a run both exit 3 on invalid stanzas.
	for _, args := range [][]string{{"configure", "-c", "-a", testAccount}, {"plan", "-a", testAccount}} {
		stdout, stderr, code := runBinary(t, srv, "", args...)
		if want := ExitPartial; code != want {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", args, code, want, stderr)
		}
		for _, msg := range messages {
			if !strings.Contains(stdout, unquoted.Replace(msg)) {
				t.Errorf("%v: output lacks %s:\nstdout:\n%s\nstderr:\n%s", args, unquoted.Replace(msg), stdout, stderr)
			}
		}
	}
}

// Issue 10, items 3 and 9, through the binary: each was stored with exit 0.
func TestConfigureBinaryRefusesWhatCannotMeanWhatItsAuthorIntends(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	const snap = `"snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}`
	notStored := "ebs-snapper: stanza \"a-prod\" not stored:\n"
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tags:env": "prod"}, ` + snap + `}`}, code: ExitError,
			stderr: notStored + `a-prod: match["tags:env"]: is not an EC2 DescribeInstances filter name (EC2 rejects the whole listing: "The filter 'tags:env' is invalid"); did you mean "tag:env"?`},
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tag:env": "prod"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "1 day", "minimum": 0}}`},
			code: ExitError, stderr: notStored + `a-prod: snapshot.minimum: the key is given 2 times with different values (5, then 0)`},
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tag:env": "prod"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "0 0 1 1 ? 2020"}}`},
			code: ExitError, stderr: `: its year field lies wholly in the past, got "0 0 1 1 ? 2020"`},
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tag:env": "prod", "instance-state-name": "running"}, "snapshot": {"minimum": 5, "retention": "1 second", "frequency": "1 second"}, "ignore": ["web-1"]}`},
			code: ExitError, stderr: notStored + `a-prod: match["instance-state-name"]: ebs-snapper selects instances by state itself`},
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tag:env": " "}, "snapshot": {"minimum": 5, "retention": "12:00", "frequency": "0 5 ? * 0 *"}}`},
			code: ExitError, stderr: `a-prod: match["tag:env"]: must not be empty or only white space, got " "`},
		{args: []string{"configure", "-l", "-a", testAccount}, stdout: "No configurations found\n"},
		// The README's example and the EventBridge weekday numbers are fine.
		{args: []string{"configure", "-s", "-a", testAccount, "a-prod", `{"match": {"tag:env": "prod"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "0 5 ? * 2-6 *"}}`},
			stdout: "Saved to key a-prod under account 112233445566\n", stderr: "1 = SUN … 7 = SAT (so 2-6 is MON-FRI)"},
		{args: []string{"configure", "-s", "-a", testAccount, "b-prod", `{"match": {"tag:env": "prod"}, "snapshot": {"minimum": 5, "retention": "4 days", "frequency": "0 5 ? * MON-FRI *"}}`},
			stdout: "Saved to key b-prod under account 112233445566\n"},
	})
	// The other problems of the stanza refused on its state filter.
	_, stderr, _ := runBinary(t, srv, "", "configure", "-s", "-a", testAccount, "x",
		`{"match": {"tag:env": "prod", "instance-state-name": "running"}, "snapshot": {"minimum": 5, "retention": "1 second", "frequency": "1 second"}, "ignore": ["web-1"]}`)
	for _, want := range []string{
		`x: snapshot.retention: is shorter than one day, the floor`,
		`x: snapshot.frequency: is shorter than one hour, the floor`,
		`x: ignore[0]: must be an instance, volume or snapshot id (i-, vol- or snap- and 8 or 17 hex digits), got "web-1"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestConfigureBinaryTableAndRegion(t *testing.T) {
	srv, _ := motoTable(t, "custom_table")
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-l", "-a", testAccount}, code: ExitError,
			stderr: `configuration table "ebs_snapshot_configuration" not found in us-east-1: deploy the stack, or pass --table/EBS_SNAPPER_TABLE`},
		{args: []string{"--table", "custom_table", "configure", "-l", "-a", testAccount}, stdout: "No configurations found\n"},
		{args: []string{"-t", "eu-west-1", "--table", "custom_table", "configure", "-l", "-a", testAccount}, code: ExitError,
			stderr: `configuration table "custom_table" not found in eu-west-1`},
	})
	t.Setenv(TableEnv, "custom_table")
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-s", "-a", testAccount, "daily_tagged", dailyTaggedJSON}, stdout: "Saved to key daily_tagged under account 112233445566\n"},
		{args: []string{"configure", "-l", "-a", testAccount}, stdout: "aws_account_id,id\n112233445566,daily_tagged\n"},
	})
}

func TestConfigureBinaryUsage(t *testing.T) {
	srv := motoserver.Require(t)
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-g", "-a", testAccount}, code: ExitUsage, stderr: "must provide an object key id"},
		{args: []string{"configure", "-s", "-a", testAccount, "x"}, code: ExitUsage, stderr: "--set needs the stanza after the id"},
		{args: []string{"configure", "-a", testAccount}, code: ExitUsage, stderr: "configure needs one action"},
		{args: []string{"configure", "-l", "-g", "x"}, code: ExitUsage, stderr: "configure takes one action at a time, got --list and --get"},
		{args: []string{"configure", "--bogus"}, code: ExitUsage, stderr: "unknown flag: --bogus"},
		{args: []string{"-v"}, stdout: builtVersion(t).String() + "\n"},
	})
}

// -c hands over to the sanity check with the account and -e prefix given.
func TestConfigureBinaryCheckPrefix(t *testing.T) {
	srv, _ := motoTable(t, DefaultTable)
	stdout, stderr, code := runBinary(t, srv, "", "configure", "-c", "-e", "customer", "-a", testAccount)
	if code != ExitPartial || !strings.HasPrefix(stdout, "customer,112233445566: ") {
		t.Errorf("configure -c: exit %d, stdout %q, stderr:\n%s\nwant exit 3 and findings prefixed with customer,112233445566", code, stdout, stderr)
	}
}
