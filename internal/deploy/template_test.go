package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// TestTemplatePassesCfnLint runs cfn-lint ($CFN_LINT, else the one on
// PATH; make test sets CFN_LINT from scripts/ensure-cfn-lint.sh, which pins
// the release) on the embedded template: any error, warning or
// informational finding fails; the same for the import template and the
// spoke template. Without
// cfn-lint the test skips, except under CI=true outside -short (make
// test-short runs no external tool).
func TestTemplatePassesCfnLint(t *testing.T) {
	lint := os.Getenv("CFN_LINT")
	if lint == "" {
		lint, _ = exec.LookPath("cfn-lint")
	}
	if lint == "" {
		if os.Getenv("CI") == "true" && !testing.Short() {
			t.Fatal("cfn-lint is required under CI (scripts/ensure-cfn-lint.sh installs it)")
		}
		t.Skip("cfn-lint not found (scripts/ensure-cfn-lint.sh installs it; or set CFN_LINT)")
	}
	out, err := exec.Command(lint, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", lint, err, out)
	}
	t.Logf("%s", out)
	for name, body := range map[string][]byte{"template.json": deploy.Template(), "import.json": deploy.ImportTemplate(), "spoke.json": deploy.SpokeTemplate()} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(lint, "--", path).CombinedOutput(); err != nil {
			t.Errorf("cfn-lint found problems in %s (%v):\n%s", name, err, out)
		}
	}
}

// TestFunctionsFollowTheHandlerContract checks what the handler reads from
// its environment and what the runtime needs, function by function.
func TestFunctionsFollowTheHandlerContract(t *testing.T) {
	tpl := parseTemplate(t)
	type function struct {
		FunctionName  map[string]string
		Runtime       string
		Handler       string
		Architectures []map[string]string
		MemorySize    map[string]string
		Timeout       map[string]string
		Environment   struct{ Variables map[string]any }
	}
	ref := func(s string) string { b, _ := json.Marshal(map[string]string{"Ref": s}); return string(b) }
	for _, tc := range []struct {
		id, handler, memory, timeout, queue, rule string
	}{
		{"FanoutCreateSnapshotFunction", "fanout-snapshot", "LambdaMemoryFanout", "FanoutTimeout", "CreateSnapshotQueue", "ScheduledRuleReplicationFunction"},
		{"FanoutCleanSnapshotFunction", "fanout-clean", "LambdaMemoryFanout", "FanoutTimeout", "CleanSnapshotQueue", ""},
		{"FanoutReplicationSnapshotFunction", "fanout-replication", "LambdaMemoryFanout", "FanoutTimeout", "ReplicationSnapshotQueue", ""},
		{"CreateSnapshotFunction", "snapshot", "LambdaMemorySnapshot", "WorkerTimeout", "CreateSnapshotQueue", ""},
		{"CleanSnapshotFunction", "clean", "LambdaMemoryClean", "WorkerTimeout", "CleanSnapshotQueue", ""},
		{"ReplicationSnapshotFunction", "replication", "LambdaMemoryReplication", "WorkerTimeout", "ReplicationSnapshotQueue", ""},
		{"ReportFunction", "report", "LambdaMemoryReport", "WorkerTimeout", "", ""},
	} {
		r, ok := tpl.Resources[tc.id]
		if !ok || r.Type != "AWS::Lambda::Function" {
			t.Errorf("%s: missing or not a function", tc.id)
			continue
		}
		var f function
		if err := json.Unmarshal(r.Properties, &f); err != nil {
			t.Fatal(err)
		}
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || len(f.Architectures) != 1 || f.Architectures[0]["Ref"] != deploy.ParamArchitecture {
			t.Errorf("%s: runtime %q handler %q architectures %v", tc.id, f.Runtime, f.Handler, f.Architectures)
		}
		if f.MemorySize["Ref"] != tc.memory || f.Timeout["Ref"] != tc.timeout {
			t.Errorf("%s: memory %v timeout %v, want refs to %s and %s", tc.id, f.MemorySize, f.Timeout, tc.memory, tc.timeout)
		}
		if f.FunctionName["Fn::Sub"] != "${AWS::StackName}-"+tc.handler {
			t.Errorf("%s: name %v", tc.id, f.FunctionName)
		}
		env := map[string]string{}
		for k, v := range f.Environment.Variables {
			b, _ := json.Marshal(v)
			env[k] = string(b)
		}
		want := map[string]string{
			"EBS_SNAPPER_HANDLER": `"` + tc.handler + `"`,
			"EBS_SNAPPER_TABLE":   ref("EbsSnapshotConfigurationTable"),
		}
		if tc.queue != "" {
			want["EBS_SNAPPER_QUEUE_URL"] = ref(tc.queue)
		}
		if tc.rule != "" {
			want["EBS_SNAPPER_REPLICATION_RULE"] = ref(tc.rule)
		}
		if tc.timeout == "FanoutTimeout" {
			want["EBS_SNAPPER_REGIONS"] = ref("Regions")
			want["EBS_SNAPPER_ACCOUNTS"] = ref("ProtectedAccounts")
		}
		switch {
		case tc.handler == "report":
			// No lease: it changes no snapshot. The fan-outs' regions.
			want["EBS_SNAPPER_RATES"] = ref("Ec2Rates")
			want["EBS_SNAPPER_REGIONS"] = ref("Regions")
			want["EBS_SNAPPER_REPORT_BUCKET"] = ref("ReportBucket")
			want["EBS_SNAPPER_REPORT_PREFIX"] = ref("ReportPrefix")
		case tc.timeout == "WorkerTimeout":
			want["EBS_SNAPPER_LEASE_TABLE"] = ref("LeaseTable")
			want["EBS_SNAPPER_RATES"] = ref("Ec2Rates")
			// The role's path too (RolePath, which the spoke role has,
			// "/" by default): the ARN assumed is the one IAM grants.
			want["EBS_SNAPPER_SPOKE_ROLE"] = `{"Fn::Sub":"${RolePath}${SpokeRoleName}"}`
			want["EBS_SNAPPER_EXTERNAL_ID"] = ref("SpokeExternalId")
		}
		if tc.handler == "replication" {
			want["EBS_SNAPPER_COPY_LIMIT"] = ref("CopyLimit")
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s = %s, want %s", tc.id, k, env[k], v)
			}
		}
		if len(env) != len(want) {
			t.Errorf("%s: environment %v, want exactly %v", tc.id, env, want)
		}
	}
}

func TestTableIsRetainedWithTheOriginalsKeys(t *testing.T) {
	var tpl struct {
		Resources map[string]struct {
			Type, DeletionPolicy, UpdateReplacePolicy string
			Properties                                struct {
				TableName   string
				BillingMode string
				KeySchema   []struct{ AttributeName, KeyType string }
			}
		}
	}
	if err := json.Unmarshal(deploy.Template(), &tpl); err != nil {
		t.Fatal(err)
	}
	tab := tpl.Resources["EbsSnapshotConfigurationTable"]
	keys, _ := json.Marshal(tab.Properties.KeySchema)
	if tab.Type != "AWS::DynamoDB::Table" || tab.DeletionPolicy != "Retain" || tab.UpdateReplacePolicy != "Retain" ||
		tab.Properties.TableName != deploy.Table || tab.Properties.BillingMode != "PAY_PER_REQUEST" ||
		string(keys) != `[{"AttributeName":"aws_account_id","KeyType":"HASH"},{"AttributeName":"id","KeyType":"RANGE"}]` {
		t.Errorf("table: %+v", tab)
	}
}

// TestImportTemplateHoldsOnlyTheTable: a resource import may hold only the
// resources it imports, each with a DeletionPolicy, and the table must be
// the full template's so that the deploy after the import changes nothing
// in it.
func TestImportTemplateHoldsOnlyTheTable(t *testing.T) {
	type template struct {
		Parameters, Conditions, Resources map[string]any
	}
	var full, imp template
	if err := json.Unmarshal(deploy.Template(), &full); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(deploy.ImportTemplate(), &imp); err != nil {
		t.Fatal(err)
	}
	const table = "EbsSnapshotConfigurationTable"
	if len(imp.Resources) != 1 || !reflect.DeepEqual(imp.Resources[table], full.Resources[table]) {
		t.Errorf("import template resources %v, want only the full template's %s", imp.Resources, table)
	}
	for name, v := range imp.Parameters {
		if !reflect.DeepEqual(v, full.Parameters[name]) {
			t.Errorf("parameter %s: %v, want the full template's %v", name, v, full.Parameters[name])
		}
	}
	for name, v := range imp.Conditions {
		if !reflect.DeepEqual(v, full.Conditions[name]) {
			t.Errorf("condition %s: %v, want the full template's %v", name, v, full.Conditions[name])
		}
	}
}

func TestParameters(t *testing.T) {
	names := deploy.ParameterNames()
	for _, n := range []string{deploy.ParamBucket, deploy.ParamKey, deploy.ParamArchitecture, "CostCenter", "AlarmTopicArn", "WorkerTimeout", "CopyLimit", "Ec2Rates"} {
		if !slices.Contains(names, n) {
			t.Errorf("parameters %v lack %s", names, n)
		}
	}
	for _, p := range deploy.Parameters() {
		switch {
		case p.Name == deploy.ParamArchitecture && p.Default != deploy.Architectures[0]:
			t.Errorf("Architecture defaults to %q, want %q", p.Default, deploy.Architectures[0])
		case p.Name == "WorkerTimeout" && p.Default != "900":
			t.Errorf("WorkerTimeout defaults to %q, want 900", p.Default)
		case p.Name == "CopyLimit" && p.Default != strconv.Itoa(snapper.DefaultCopyLimit):
			t.Errorf("CopyLimit defaults to %q, want EC2's quota, %d", p.Default, snapper.DefaultCopyLimit)
		case p.Name == "Ec2Rates" && (!p.HasDefault || p.Default != ""):
			t.Errorf("Ec2Rates defaults to %q, want empty (EC2's published rates)", p.Default)
		case (p.Name == deploy.ParamBucket || p.Name == deploy.ParamKey) && p.HasDefault:
			t.Errorf("%s has a default: deploy must always pass it", p.Name)
		}
	}
}

// The lease table is keyed and expires as package lease reads and writes
// it, apart from the configuration table, and goes with the stack.
func TestLeaseTable(t *testing.T) {
	var tab struct {
		Type, DeletionPolicy string
		Properties           struct {
			TableName               string
			BillingMode             string
			KeySchema               []struct{ AttributeName, KeyType string }
			TimeToLiveSpecification struct {
				AttributeName string
				Enabled       bool
			}
		}
	}
	if err := json.Unmarshal(mustResource(t, "LeaseTable"), &tab); err != nil {
		t.Fatal(err)
	}
	p := tab.Properties
	if tab.Type != "AWS::DynamoDB::Table" || tab.DeletionPolicy != "Delete" || p.TableName == deploy.Table || p.BillingMode != "PAY_PER_REQUEST" ||
		len(p.KeySchema) != 1 || p.KeySchema[0].AttributeName != lease.KeyAttribute || p.KeySchema[0].KeyType != "HASH" ||
		p.TimeToLiveSpecification.AttributeName != lease.ExpiresAttribute || !p.TimeToLiveSpecification.Enabled {
		t.Errorf("lease table: %+v", tab)
	}
}

// The RPO alarm fires on VolumesLate + VolumesMissing > 0 over the
// no-dimension metrics the workers' EMF lines publish (report.EMF), and
// notifies the optional alarm topic.
func TestRPOAlarm(t *testing.T) {
	var alarm struct {
		Type       string
		Properties struct {
			Metrics []struct {
				Id, Expression string
				ReturnData     bool
				MetricStat     *struct {
					Metric struct {
						Namespace, MetricName string
						Dimensions            []any
					}
					Stat string
				}
			}
			Threshold          float64
			ComparisonOperator string
			AlarmActions       json.RawMessage
		}
	}
	if err := json.Unmarshal(mustResource(t, "RpoBreachAlarm"), &alarm); err != nil {
		t.Fatal(err)
	}
	metrics := map[string]string{}
	var expr string
	for _, m := range alarm.Properties.Metrics {
		switch {
		case m.MetricStat != nil:
			if m.MetricStat.Metric.Namespace != report.Namespace || len(m.MetricStat.Metric.Dimensions) != 0 || m.ReturnData {
				t.Errorf("metric %s: %+v, want namespace %s with no dimension, not returned", m.Id, m.MetricStat, report.Namespace)
			}
			metrics[m.Id] = m.MetricStat.Metric.MetricName
		case m.ReturnData:
			expr = m.Expression
		}
	}
	ids := map[string]string{}
	for id, name := range metrics {
		ids[name] = id
	}
	if expr != ids["VolumesLate"]+" + "+ids["VolumesMissing"] || len(metrics) != 2 {
		t.Errorf("alarm expression %q over %v, want VolumesLate + VolumesMissing", expr, metrics)
	}
	if alarm.Properties.Threshold != 0 || alarm.Properties.ComparisonOperator != "GreaterThanThreshold" {
		t.Errorf("alarm %s %v, want > 0", alarm.Properties.ComparisonOperator, alarm.Properties.Threshold)
	}
	if !strings.Contains(string(alarm.Properties.AlarmActions), `"AlarmTopicArn"`) {
		t.Errorf("alarm actions %s, want the alarm topic", alarm.Properties.AlarmActions)
	}
}

// mustResource returns the raw JSON of a template resource.
func mustResource(t *testing.T, id string) []byte {
	t.Helper()
	var tpl struct{ Resources map[string]json.RawMessage }
	if err := json.Unmarshal(deploy.Template(), &tpl); err != nil {
		t.Fatal(err)
	}
	r, ok := tpl.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	return r
}
