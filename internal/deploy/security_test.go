package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
)

// compact is the JSON of v without spaces, for comparing template pieces.
func compact(v any) string { b, _ := json.Marshal(v); return string(b) }

// props decodes a resource's properties into a map.
func props(t *testing.T, tpl template, id string) map[string]any {
	t.Helper()
	r, ok := tpl.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	var p map[string]any
	if err := json.Unmarshal(r.Properties, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Log groups are evidence: retained with the stack, kept LogRetentionDays
// (default 400: a year of audits and a month to read them), optionally
// encrypted with LogKmsKeyArn, and each function logs to its own.
func TestLogGroupsAreKeptAndEncryptable(t *testing.T) {
	var raw struct {
		Resources map[string]struct{ Type, DeletionPolicy, UpdateReplacePolicy string }
	}
	if err := json.Unmarshal(deploy.Template(), &raw); err != nil {
		t.Fatal(err)
	}
	tpl := parseTemplate(t)
	groups := 0
	for id, r := range raw.Resources {
		if r.Type != "AWS::Logs::LogGroup" {
			continue
		}
		groups++
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("log group %s: DeletionPolicy %q UpdateReplacePolicy %q, want Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
		p := props(t, tpl, id)
		if compact(p["RetentionInDays"]) != `{"Ref":"LogRetentionDays"}` || compact(p["KmsKeyId"]) != `{"Fn::If":["HasLogKey",{"Ref":"LogKmsKeyArn"},{"Ref":"AWS::NoValue"}]}` {
			t.Errorf("log group %s: retention %v key %v", id, p["RetentionInDays"], p["KmsKeyId"])
		}
	}
	for _, f := range functions(t, tpl) {
		p := props(t, tpl, f.ID)
		lc, _ := p["LoggingConfig"].(map[string]any)
		group := strings.TrimSuffix(f.ID, "Function") + "LogGroup"
		if compact(lc["LogGroup"]) != `{"Ref":"`+group+`"}` {
			t.Errorf("%s logs to %v, want its own log group %s", f.ID, lc["LogGroup"], group)
		}
	}
	if groups != len(functions(t, tpl)) {
		t.Errorf("%d log groups, want one per function", groups)
	}
	for _, p := range deploy.Parameters() {
		if p.Name == "LogRetentionDays" && (p.Default != "400" || p.Check("365") != nil || p.Check("366") == nil) {
			t.Errorf("LogRetentionDays: default %s; want 400 and CloudWatch's allowed values only", p.Default)
		}
	}
}

// The cell queues are encrypted and take messages only from the stack's
// functions (a forged cell naming a worker that holds a lease would take
// that lease over, the hand-over of a continuation) and only over TLS;
// each redrives to the dead-letter queue; both tables may use a
// customer-managed key; the lease table has point-in-time recovery.
func TestQueuesAndTablesAreEncrypted(t *testing.T) {
	tpl := parseTemplate(t)
	senders := map[string][]string{
		"CreateSnapshotQueue":      {"FanoutCreateSnapshotRole", "CreateSnapshotRole"},
		"CleanSnapshotQueue":       {"FanoutCleanSnapshotRole", "CleanSnapshotRole"},
		"ReplicationSnapshotQueue": {"FanoutReplicationSnapshotRole", "ReplicationSnapshotRole"},
	}
	for queue, roles := range senders {
		q := props(t, tpl, queue)
		if compact(q["SqsManagedSseEnabled"]) != `{"Fn::If":["HasTopicKey",{"Ref":"AWS::NoValue"},true]}` || compact(q["KmsMasterKeyId"]) != `{"Fn::If":["HasTopicKey",{"Ref":"TopicKmsKeyArn"},{"Ref":"AWS::NoValue"}]}` {
			t.Errorf("queue %s: encryption %v %v", queue, q["SqsManagedSseEnabled"], q["KmsMasterKeyId"])
		}
		if r := compact(q["RedrivePolicy"]); r != `{"deadLetterTargetArn":{"Fn::GetAtt":["CellsDeadLetterQueue","Arn"]},"maxReceiveCount":3}` {
			t.Errorf("queue %s: redrive %s", queue, r)
		}
		var arns []any
		for _, r := range roles {
			arns = append(arns, map[string]any{"Fn::GetAtt": []any{r, "Arn"}})
		}
		p := props(t, tpl, queue+"Policy")
		doc := compact(p["PolicyDocument"])
		arn := map[string]any{"Fn::GetAtt": []any{queue, "Arn"}}
		deny := compact(map[string]any{"Sid": "OnlyTheStacksFunctionsSend", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "sqs:SendMessage", "Resource": arn,
			"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": arns}}})
		tls := compact(map[string]any{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "sqs:*", "Resource": arn, "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}})
		if compact(p["Queues"]) != `[{"Ref":"`+queue+`"}]` || !strings.Contains(doc, deny) || !strings.Contains(doc, tls) {
			t.Errorf("queue %s: policy %s, want every sender but %v denied, and plain HTTP", queue, doc, roles)
		}
	}
	for _, table := range []string{"EbsSnapshotConfigurationTable", "LeaseTable"} {
		p := props(t, tpl, table)
		if s := compact(p["SSESpecification"]); s != `{"Fn::If":["HasTableKey",{"KMSMasterKeyId":{"Ref":"TableKmsKeyArn"},"SSEEnabled":true,"SSEType":"KMS"},{"SSEEnabled":true}]}` {
			t.Errorf("table %s: SSESpecification %s", table, s)
		}
		if s := compact(p["PointInTimeRecoverySpecification"]); s != `{"PointInTimeRecoveryEnabled":true}` {
			t.Errorf("table %s: point-in-time recovery %s", table, s)
		}
	}
	q := props(t, tpl, "FailedEventsQueue")
	if compact(q["SqsManagedSseEnabled"]) != `{"Fn::If":["HasTopicKey",{"Ref":"AWS::NoValue"},true]}` || compact(q["KmsMasterKeyId"]) != `{"Fn::If":["HasTopicKey",{"Ref":"TopicKmsKeyArn"},{"Ref":"AWS::NoValue"}]}` {
		t.Errorf("failed-events queue encryption: %v %v", q["SqsManagedSseEnabled"], q["KmsMasterKeyId"])
	}
}

// No event is dropped silently: every function's asynchronous invocations
// end in the failed-events queue when Lambda gives up, every schedule's and
// every subscription's undeliverable events too, and an alarm fires on a
// message there. A runaway is bounded by reserved concurrency.
func TestEveryAsynchronousInvocationHasAFailureDestination(t *testing.T) {
	tpl := parseTemplate(t)
	queue := `{"Fn::GetAtt":["FailedEventsQueue","Arn"]}`
	configs := map[string]bool{}
	for id, r := range tpl.Resources {
		p := props(t, tpl, id)
		switch r.Type {
		case "AWS::Lambda::EventInvokeConfig":
			fn, _ := p["FunctionName"].(map[string]any)
			configs[compact(fn["Ref"])] = true
			dc := compact(p["DestinationConfig"])
			if dc != `{"OnFailure":{"Destination":`+queue+`}}` {
				t.Errorf("%s: destination %s, want the failed-events queue", id, dc)
			}
		case "AWS::Events::Rule":
			targets, _ := p["Targets"].([]any)
			for _, tg := range targets {
				if dl := compact(tg.(map[string]any)["DeadLetterConfig"]); dl != `{"Arn":`+queue+`}` {
					t.Errorf("rule %s: target dead-letter %s", id, dl)
				}
			}
		case "AWS::SNS::Subscription":
			if p["Protocol"] != "lambda" {
				continue
			}
			if rp := compact(p["RedrivePolicy"]); rp != `{"deadLetterTargetArn":`+queue+`}` {
				t.Errorf("subscription %s: redrive %s", id, rp)
			}
		}
	}
	for _, f := range functions(t, tpl) {
		if !configs[`"`+f.ID+`"`] {
			t.Errorf("function %s has no AWS::Lambda::EventInvokeConfig", f.ID)
		}
		rc := compact(props(t, tpl, f.ID)["ReservedConcurrentExecutions"])
		want := `{"Fn::If":["ReservesConcurrency",{"Ref":"ReservedConcurrency"},{"Ref":"AWS::NoValue"}]}`
		if strings.HasPrefix(f.Handler, "fanout-") || f.Handler == handler.Report {
			want = `{"Fn::If":["ReservesConcurrency",1,{"Ref":"AWS::NoValue"}]}`
		}
		if rc != want {
			t.Errorf("%s: ReservedConcurrentExecutions %s, want %s", f.ID, rc, want)
		}
	}
	a := props(t, tpl, "FailedEventsAlarm")
	if compact(a["MetricName"]) != `"ApproximateNumberOfMessagesVisible"` || compact(a["Threshold"]) != "0" ||
		compact(a["ComparisonOperator"]) != `"GreaterThanThreshold"` || !strings.Contains(compact(a["Dimensions"]), "FailedEventsQueue") {
		t.Errorf("failed-events alarm: %v", a)
	}
}

// TestTemplatePassesCheckov runs checkov ($CHECKOV, else the one on PATH;
// make test sets CHECKOV from scripts/ensure-checkov.sh, which pins the
// release) on the embedded template and the spoke template, offline (--skip-download): any failed
// check fails. Every check the template skips is in a resource's
// Metadata.checkov.skip with a written reason. Without checkov the test
// skips, except under CI=true outside -short.
func TestTemplatePassesCheckov(t *testing.T) {
	var raw struct {
		Resources map[string]struct {
			Metadata struct {
				Checkov struct {
					Skip []struct{ ID, Comment string }
				} `json:"checkov"`
			}
		}
	}
	if err := json.Unmarshal(deploy.Template(), &raw); err != nil {
		t.Fatal(err)
	}
	for id, r := range raw.Resources {
		for _, s := range r.Metadata.Checkov.Skip {
			if !strings.HasPrefix(s.ID, "CKV_") || len(strings.Fields(s.Comment)) < 8 {
				t.Errorf("%s skips %q with %q: want a check id and a written reason", id, s.ID, s.Comment)
			}
		}
	}
	checkov := os.Getenv("CHECKOV")
	if checkov == "" {
		checkov, _ = exec.LookPath("checkov")
	}
	if checkov == "" {
		if os.Getenv("CI") == "true" && !testing.Short() {
			t.Fatal("checkov is required under CI (scripts/ensure-checkov.sh installs it)")
		}
		t.Skip("checkov not found (scripts/ensure-checkov.sh installs it; or set CHECKOV)")
	}
	for name, body := range map[string][]byte{"template.json": deploy.Template(), "spoke.json": deploy.SpokeTemplate()} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(checkov, "--file", path, "--framework", "cloudformation", "--compact", "--quiet", "--skip-download", "--output", "cli")
		cmd.Env = append(os.Environ(), "BC_SKIP_MAPPING=TRUE")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("checkov found problems in %s (%v):\n%s", name, err, out)
		}
	}
}
