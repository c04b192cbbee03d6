package cli

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// Deploy integration tests: the built binary deploys into moto with a
// small prepared zip (--zip; a shell script, not a Go binary, so its
// version cannot be read and each deploy passes --allow-version-mismatch),
// so no test cross-compiles. moto creates the
// stack's resources synchronously, skips AWS::SNS::Subscription and
// AWS::CloudWatch::Alarm, and cannot invoke functions.

const deployRegion = "eu-west-1"

var (
	deployStack  = "ebs-snapper-" + motoserver.AccountID
	deployBucket = "ebs-snapper-" + motoserver.AccountID + "-" + deployRegion
)

// codeZip writes a zip holding an executable bootstrap and returns its path.
func codeZip(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "code.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	e, err := w.CreateHeader(h)
	if err == nil {
		_, err = e.Write([]byte(content))
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// deployStep runs deploy and fails the test unless it exits 0 and prints
// every wanted line.
func deployStep(t *testing.T, srv *motoserver.Server, want []string, args ...string) string {
	t.Helper()
	stdout, stderr, code := runBinary(t, srv, "", append([]string{"deploy", "--region", deployRegion, "--yes"}, args...)...)
	if code != 0 {
		t.Fatalf("deploy %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("deploy %v: stdout lacks %q:\n%s", args, w, stdout)
		}
	}
	return stdout
}

type deployed struct {
	cfn    *cfn.Client
	lambda *lambda.Client
	s3     *s3.Client
	ddb    *dynamodb.Client
	events *eventbridge.Client
}

func deployClients(t *testing.T, srv *motoserver.Server) deployed {
	cfg := srv.Config(t)
	cfg.Region = deployRegion
	return deployed{
		cfn: cfn.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ddb: dynamodb.NewFromConfig(cfg), events: eventbridge.NewFromConfig(cfg),
	}
}

func (d deployed) function(t *testing.T, role string) *lambda.GetFunctionOutput {
	t.Helper()
	out, err := d.lambda.GetFunction(motoserver.Context(t), &lambda.GetFunctionInput{FunctionName: aws.String(deployStack + "-" + role)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeployBinaryInstallsUpdatesAndDeletes(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)
	zipPath := codeZip(t, "#!/bin/sh\n")

	deployStep(t, srv, []string{
		"bucket " + deployBucket + ": created (private, encrypted, versioned, no TLS-only policy: the endpoint is plain HTTP)",
		"upload s3://" + deployBucket + "/ebs-snapper-arm64.zip: done",
		"stack " + deployStack + " (" + deployRegion + "): created",
		"function " + deployStack + "-snapshot: published version 1",
		"deployed ebs-snapper",
	}, "--allow-version-mismatch", "--zip", zipPath)

	if _, err := d.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(deployBucket)}); err != nil {
		t.Errorf("code bucket has no public access block: %v", err)
	}
	roles := map[string]string{
		"fanout-snapshot": "FanoutCreateSnapshotRole", "fanout-clean": "FanoutCleanSnapshotRole", "fanout-replication": "FanoutReplicationSnapshotRole",
		"snapshot": "CreateSnapshotRole", "clean": "CleanSnapshotRole", "replication": "ReplicationSnapshotRole",
	}
	for role, memory := range map[string]int32{
		"fanout-snapshot": 128, "fanout-clean": 128, "fanout-replication": 128,
		"snapshot": 256, "clean": 256, "replication": 256,
	} {
		c := d.function(t, role).Configuration
		env := c.Environment.Variables
		if c.Runtime != "provided.al2023" || aws.ToString(c.Handler) != "bootstrap" || aws.ToInt32(c.MemorySize) != memory ||
			env["EBS_SNAPPER_HANDLER"] != role || env["EBS_SNAPPER_TABLE"] != DefaultTable || !strings.Contains(env["EBS_SNAPPER_QUEUE_URL"], "/"+motoserver.AccountID+"/") ||
			!strings.Contains(aws.ToString(c.Role), ":role/"+deployStack+"-"+roles[role]+"-") {
			t.Errorf("function %s: runtime %s handler %s memory %d role %s env %v", role, c.Runtime, aws.ToString(c.Handler), aws.ToInt32(c.MemorySize), aws.ToString(c.Role), env)
		}
	}
	// Each worker is fed from its queue, the cells' concurrency bounded.
	for _, role := range []string{"snapshot", "clean", "replication"} {
		m, err := d.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(deployStack + "-" + role)})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.EventSourceMappings) != 1 || !strings.Contains(aws.ToString(m.EventSourceMappings[0].EventSourceArn), ":sqs:"+deployRegion+":") {
			t.Errorf("function %s: event source mappings %+v, want one on its queue", role, m.EventSourceMappings)
		}
	}
	rules, err := d.events.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules.Rules {
		name := aws.ToString(r.Name)
		got = append(got, name[strings.Index(name, "ScheduledRule"):strings.LastIndex(name, "-")]+" "+aws.ToString(r.ScheduleExpression)+" "+string(r.State))
	}
	slices.Sort(got)
	want := []string{
		"ScheduledRuleCleanFunction rate(6 hours) ENABLED",
		"ScheduledRuleCreateFunction rate(30 minutes) ENABLED",
		"ScheduledRuleReplicationFunction rate(30 minutes) DISABLED",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
	if rule := d.function(t, "fanout-snapshot").Configuration.Environment.Variables["EBS_SNAPPER_REPLICATION_RULE"]; !strings.Contains(rule, "ScheduledRuleReplicationFunction") {
		t.Errorf("fanout-snapshot's EBS_SNAPPER_REPLICATION_RULE = %q", rule)
	}
	table, err := d.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(DefaultTable)})
	if err != nil {
		t.Fatal(err)
	}
	if ks := table.Table.KeySchema; len(ks) != 2 || aws.ToString(ks[0].AttributeName) != "aws_account_id" || aws.ToString(ks[1].AttributeName) != "id" {
		t.Errorf("table keys %+v", ks)
	}

	// Nothing changed: nothing is done, and deploy says so.
	out := deployStep(t, srv, []string{
		"upload s3://" + deployBucket + "/ebs-snapper-arm64.zip: skipped, already up to date",
		"stack " + deployStack + " (" + deployRegion + "): no changes",
		"function " + deployStack + "-clean: up to date",
		"nothing changed: " + deployStack + " in " + deployRegion + " is up to date",
	}, "--allow-version-mismatch", "--zip", zipPath)
	if strings.Contains(out, "deployed") {
		t.Errorf("second deploy changed something:\n%s", out)
	}

	// A parameter changes; a later deploy with another keeps it.
	deployStep(t, srv, []string{"stack " + deployStack + " (" + deployRegion + "): updated"}, "--allow-version-mismatch", "--zip", zipPath, "--parameter", "LambdaMemorySnapshot=512")
	deployStep(t, srv, []string{"stack " + deployStack + " (" + deployRegion + "): updated"}, "--allow-version-mismatch", "--zip", zipPath, "--parameter", "LambdaMemoryClean=1024")
	if m := aws.ToInt32(d.function(t, "snapshot").Configuration.MemorySize); m != 512 {
		t.Errorf("snapshot memory %d after another parameter changed, want 512 kept", m)
	}
	if m := aws.ToInt32(d.function(t, "clean").Configuration.MemorySize); m != 1024 {
		t.Errorf("clean memory %d, want 1024", m)
	}

	// New code: uploaded, every function updated and published, two
	// versions kept. Going back to code a version holds publishes nothing.
	deployStep(t, srv, []string{"upload s3://" + deployBucket + "/ebs-snapper-arm64.zip: done", "function " + deployStack + "-clean: code updated, published version 2\n"},
		"--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\necho v2\n"))
	deployStep(t, srv, []string{"function " + deployStack + "-clean: code updated, published version 3, deleted old versions 1\n"},
		"--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\necho v3\n"))
	deployStep(t, srv, []string{"function " + deployStack + "-clean: code updated\n"}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\necho v2\n"))

	deployStep(t, srv, []string{
		"stack " + deployStack + " (" + deployRegion + "): deleted",
		"bucket " + deployBucket + ": emptied (4 object versions) and deleted",
		"table " + DefaultTable + " (" + deployRegion + ") is retained with its stanzas; to install again with it and with this stack's parameters: ebs-snapper deploy --region " + deployRegion,
	}, "--delete")
	if _, err := d.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(DefaultTable)}); err != nil {
		t.Errorf("the table is gone after --delete: %v", err)
	}
	if _, err := d.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(deployBucket)}); err == nil {
		t.Errorf("the code bucket is still there after --delete")
	}
	if _, err := d.cfn.DescribeStacks(ctx, &cfn.DescribeStacksInput{StackName: aws.String(deployStack)}); err == nil {
		t.Errorf("the stack is still there after --delete")
	}

	// Deploying again after --delete takes the deleted stack's parameters.
	// moto cannot execute the IMPORT change set that brings the retained
	// table back (it creates the table again and fails:
	// TestRunAfterDeleteImportsTheTableAndKeepsTheParameters plays it), so
	// here the table goes first, as when starting afresh.
	if _, err := d.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(DefaultTable)}); err != nil {
		t.Fatal(err)
	}
	deployStep(t, srv, []string{
		"parameters kept from stack " + deployStack + " deleted: LambdaMemoryClean=1024, LambdaMemorySnapshot=512\n",
		"stack " + deployStack + " (" + deployRegion + "): created",
	}, "--allow-version-mismatch", "--zip", zipPath)
	if m := aws.ToInt32(d.function(t, "snapshot").Configuration.MemorySize); m != 512 {
		t.Errorf("snapshot memory %d after deploying again, want the deleted stack's 512", m)
	}
}

func TestDeployBinaryRefusesAnUnknownRegion(t *testing.T) {
	srv := motoserver.Require(t)
	for region, want := range map[string]string{
		"xx-nowhere-1": `--region "xx-nowhere-1": not a region enabled for this account (enabled: `,
		"eu_west_1":    `--region "eu_west_1": not a region name such as eu-west-1`,
	} {
		_, stderr, code := runBinary(t, srv, "", "deploy", "--yes", "--region", region, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"))
		if code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("deploy --region %s: exit %d, stderr %q; want exit %d and %q", region, code, stderr, ExitUsage, want)
		}
	}
}

// pythonTemplate has the shape of the Python ebs_snapper's stack that
// matters to an upgrade: the same table (logical id, name, keys,
// provisioned throughput), a parameter the new template no longer has, and
// a resource it does not have any more.
const pythonTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {
    "WatchdogRegion": {"Type": "String", "Default": "us-east-1"},
    "LambdaS3Bucket": {"Type": "String"},
    "CostCenter": {"Type": "String", "Default": ""}
  },
  "Resources": {
    "EbsSnapshotConfigurationTable": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "TableName": "ebs_snapshot_configuration",
        "AttributeDefinitions": [{"AttributeName": "aws_account_id", "AttributeType": "S"}, {"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "aws_account_id", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}
      }
    },
    "CreateSnapshotTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "CreateSnapshotTopic"}}
  }
}`

func TestDeployBinaryUpgradesAPythonStackKeepingTheStanzas(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)
	if _, err := d.cfn.CreateStack(ctx, &cfn.CreateStackInput{
		StackName: aws.String(deployStack), TemplateBody: aws.String(pythonTemplate),
		Parameters: []cfntypes.Parameter{
			{ParameterKey: aws.String("WatchdogRegion"), ParameterValue: aws.String("us-east-1")},
			{ParameterKey: aws.String("LambdaS3Bucket"), ParameterValue: aws.String("ebs-snapper-" + motoserver.AccountID)},
			{ParameterKey: aws.String("CostCenter"), ParameterValue: aws.String("backups")},
		},
	}); err != nil {
		t.Fatal(err)
	}
	env := append(srv.Env(), "AWS_REGION="+deployRegion)
	if _, stderr, code := runBinaryEnv(t, env, "", "configure", "-s", "daily_tagged", dailyTaggedJSON); code != 0 {
		t.Fatalf("configure -s: exit %d\n%s", code, stderr)
	}

	deployStep(t, srv, []string{"stack " + deployStack + " (" + deployRegion + "): updated"}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"))

	stdout, stderr, code := runBinaryEnv(t, env, "", "configure", "-l")
	if code != 0 || stdout != "aws_account_id,id\n"+motoserver.AccountID+",daily_tagged\n" {
		t.Errorf("configure -l after the upgrade: exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := d.cfn.DescribeStacks(ctx, &cfn.DescribeStacksInput{StackName: aws.String(deployStack)})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range s.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	if params["CostCenter"] != "backups" || params["LambdaS3Bucket"] != deployBucket {
		t.Errorf("parameters after the upgrade: %v; want CostCenter kept and the new code bucket", params)
	}
	if c := d.function(t, "snapshot").Configuration; c.Runtime != "provided.al2023" {
		t.Errorf("snapshot function runtime %s", c.Runtime)
	}
}
