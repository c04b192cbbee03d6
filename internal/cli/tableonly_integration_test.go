package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// templateTableProperties reads the configuration table's properties from
// the template deploy prints, as a plain map: what the CLI-only table must
// look like.
func templateTableProperties(t *testing.T) map[string]any {
	t.Helper()
	var tpl struct {
		Resources map[string]struct{ Properties map[string]any }
	}
	if err := json.Unmarshal(deploy.Template(), &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl.Resources["EbsSnapshotConfigurationTable"].Properties
}

// A CLI-only start: deploy --table-only creates the table as the template
// defines it, configure -s stores a stanza without the stack, and a later
// deploy stops before changing anything with the commands that import the
// table into the stack.
func TestDeployTableOnlyThenConfigureThenDeploy(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)

	_, stderr, code := runBinary(t, srv, "", "configure", "-t", deployRegion, "-s", "-a", testAccount, "daily", dailyTaggedJSON)
	if code != ExitError || !strings.Contains(stderr, "not found") {
		t.Fatalf("configure -s before the table exists: exit %d, stderr %q; want exit 1, table not found", code, stderr)
	}

	deployStep(t, srv, []string{
		"table " + DefaultTable + " (" + deployRegion + "): created as the stack creates it (HASH key aws_account_id, RANGE key id, billing PAY_PER_REQUEST, point-in-time recovery",
		"next: ebs-snapper configure -t " + deployRegion + " -s ID @stanza.json",
	}, "--table-only", "--parameter", "CostCenter=ops")

	// The table is what the template says, property by property.
	props := templateTableProperties(t)
	desc, err := d.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(DefaultTable)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := desc.Table
	var keys, attrs []string
	for _, k := range tbl.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	for _, a := range tbl.AttributeDefinitions {
		attrs = append(attrs, aws.ToString(a.AttributeName)+" "+string(a.AttributeType))
	}
	var wantKeys, wantAttrs []string
	for _, k := range props["KeySchema"].([]any) {
		m := k.(map[string]any)
		wantKeys = append(wantKeys, m["AttributeName"].(string)+" "+m["KeyType"].(string))
	}
	for _, a := range props["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		wantAttrs = append(wantAttrs, m["AttributeName"].(string)+" "+m["AttributeType"].(string))
	}
	slices.Sort(attrs)
	slices.Sort(wantAttrs)
	if !slices.Equal(keys, wantKeys) || !slices.Equal(attrs, wantAttrs) {
		t.Errorf("keys %v attributes %v, want %v %v", keys, attrs, wantKeys, wantAttrs)
	}
	if tbl.BillingModeSummary == nil || string(tbl.BillingModeSummary.BillingMode) != props["BillingMode"] {
		t.Errorf("billing %+v, want %v", tbl.BillingModeSummary, props["BillingMode"])
	}
	wantProtection, _ := props["DeletionProtectionEnabled"].(bool)
	if aws.ToBool(tbl.DeletionProtectionEnabled) != wantProtection {
		t.Errorf("deletion protection %v, want %v", aws.ToBool(tbl.DeletionProtectionEnabled), wantProtection)
	}
	// The template encrypts either way (an AWS managed key without
	// TableKmsKeyArn).
	if tbl.SSEDescription == nil || tbl.SSEDescription.Status != ddbtypes.SSEStatusEnabled {
		t.Errorf("encryption %+v, want enabled", tbl.SSEDescription)
	}
	backups, err := d.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(DefaultTable)})
	if err != nil {
		t.Fatal(err)
	}
	pitr := props["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"] == true
	if got := backups.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus; (got == ddbtypes.PointInTimeRecoveryStatusEnabled) != pitr {
		t.Errorf("point-in-time recovery %s, want enabled %v", got, pitr)
	}
	tags, err := d.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tbl.TableArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "CostCenter" || aws.ToString(tags.Tags[0].Value) != "ops" {
		t.Errorf("tags %+v, want CostCenter=ops", tags.Tags)
	}

	// As docs/deploy.md writes it, from a script: no --yes, stdin not a
	// terminal; it changes no stack, so there is nothing to confirm.
	stdout, stderr, code := runBinary(t, srv, "", "deploy", "--table-only", "--region", deployRegion)
	if want := "table " + DefaultTable + " (" + deployRegion + "): exists, left as it is"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("deploy --table-only without --yes: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 0 and %q", code, stdout, stderr, want)
	}
	runSteps(t, srv, []cliStep{
		{args: []string{"configure", "-t", deployRegion, "-s", "-a", testAccount, "daily", dailyTaggedJSON}, stdout: "Saved to key daily under account " + testAccount + "\n"},
		{args: []string{"configure", "-t", deployRegion, "-l", "-a", testAccount}, stdout: "aws_account_id,id\n" + testAccount + ",daily\n"},
	})

	// A later deploy imports the table into the new stack
	// (TestRunAfterDeleteImportsTheTableAndKeepsTheParameters plays that
	// in-process: moto cannot execute an IMPORT change set).
}

func TestDeployTableOnlyUsageErrors(t *testing.T) {
	motoserver.Offline(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--table-only", "--zip", "x.zip"}, "--table-only takes only -a, --region and --parameter CostCenter=… or TableKmsKeyArn=…"},
		{[]string{"--table-only", "--parameter", "LambdaMemorySnapshot=512"}, "--table-only: --parameter LambdaMemorySnapshot does not apply to the table; only CostCenter and TableKmsKeyArn do"},
		{[]string{"--delete", "--allow-version-mismatch"}, "--delete takes only -a and --region"},
	} {
		var stdout, stderr bytes.Buffer
		root := NewRootCommand(&stdout, &stderr)
		root.SetArgs(append([]string{"deploy", "--region", deployRegion, "-a", testAccount}, tc.args...))
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := root.ExecuteContext(ctx)
		cancel()
		if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploy %v: exit %d, %v; want a usage error with %q", tc.args, ExitCode(err), err, tc.want)
		}
	}
}

// A zip whose bootstrap's version cannot be read is refused before
// anything is uploaded, unless --allow-version-mismatch says otherwise.
func TestDeployBinaryRefusesCodeOfUnknownVersion(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	zipPath := codeZip(t, "#!/bin/sh\n")
	stdout, stderr, code := runBinary(t, srv, "", "deploy", "--region", deployRegion, "--yes", "--zip", zipPath)
	if code != ExitError || !strings.Contains(stderr, "cannot tell the version of the bootstrap in "+zipPath) ||
		!strings.Contains(stderr, "nothing was uploaded or changed") || !strings.Contains(stderr, "--allow-version-mismatch") {
		t.Errorf("deploy of a zip of unknown version: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := d.s3.HeadBucket(motoserver.Context(t), &s3.HeadBucketInput{Bucket: aws.String(deployBucket)}); err == nil {
		t.Error("the refused deploy created the code bucket")
	}
	deployStep(t, srv, []string{"code: deploying it anyway, as asked: cannot tell the version", "deployed ebs-snapper "}, "--allow-version-mismatch", "--zip", zipPath)
}
