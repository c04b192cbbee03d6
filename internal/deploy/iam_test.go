package deploy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// runtimeActions are what the Lambda runtime itself does with the
// functions' role, not the code: it writes the function's logs into the
// template's log groups (which the template creates, so no
// logs:CreateLogGroup). sts:GetCallerIdentity needs no permission (STS API
// reference) and is not listed.
var runtimeActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// lambdaActions is every IAM action the Lambda path can call: one list per
// adapter package the functions use, each computed from that package's API
// interface.
func lambdaActions() []string {
	var all []string
	for _, actions := range [][]string{
		ebs.IAMActions(),
		configstore.IAMActions(), // the read path only: configure's writes stay out of the role
		handler.IAMActions(),     // fan-outs publish to SNS and toggle the replication rule; workers publish continuations
		lease.IAMActions(),       // workers take and release their region's lease
		runtimeActions,
	} {
		all = append(all, actions...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// statement is one IAM policy statement; Action and Resource may be a
// string or a list.
type statement struct {
	Sid       string
	Effect    string
	Action    any
	Resource  any
	Condition map[string]map[string]string
}

func (s statement) actions() []string { return strList(s.Action) }

func strList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

type resource struct {
	Type       string
	Condition  string
	Properties json.RawMessage
	DependsOn  any
}

type template struct {
	Parameters map[string]json.RawMessage
	Conditions map[string]json.RawMessage
	Resources  map[string]resource
}

func parseTemplate(t *testing.T) template {
	t.Helper()
	var tpl template
	if err := json.Unmarshal(deploy.Template(), &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// roleStatements returns every statement granted to LambdaExecutionRole:
// its inline policies and the AWS::IAM::Policy resources attached to it.
func roleStatements(t *testing.T, tpl template) []statement {
	t.Helper()
	type policy struct {
		PolicyName     string
		PolicyDocument struct{ Statement []statement }
		Roles          []map[string]string
	}
	var role struct{ Policies []policy }
	if err := json.Unmarshal(tpl.Resources["LambdaExecutionRole"].Properties, &role); err != nil {
		t.Fatal(err)
	}
	var out []statement
	for _, p := range role.Policies {
		out = append(out, p.PolicyDocument.Statement...)
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Policy" {
			continue
		}
		var p policy
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(p.Roles) != 1 || p.Roles[0]["Ref"] != "LambdaExecutionRole" {
			t.Fatalf("%s is not attached to LambdaExecutionRole only: %v", id, p.Roles)
		}
		out = append(out, p.PolicyDocument.Statement...)
	}
	return out
}

// TestRoleGrantsExactlyTheActionsTheCodeCalls compares, both ways, the
// actions the Lambda role grants with the actions the adapters' interfaces
// can call. A new SDK call in an adapter fails it until the template grants
// it; a grant the code no longer needs fails it until it is removed.
func TestRoleGrantsExactlyTheActionsTheCodeCalls(t *testing.T) {
	tpl := parseTemplate(t)
	var granted []string
	for _, s := range roleStatements(t, tpl) {
		if s.Effect != "Allow" {
			t.Errorf("statement %s: effect %q, want Allow", s.Sid, s.Effect)
		}
		for _, a := range s.actions() {
			if strings.ContainsAny(a, "*?") {
				t.Errorf("statement %s grants the wildcard action %q", s.Sid, a)
			}
			granted = append(granted, a)
		}
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	called := lambdaActions()
	for _, a := range called {
		if !slices.Contains(granted, a) {
			t.Errorf("the code calls %s but the template's role does not grant it", a)
		}
	}
	for _, a := range granted {
		if !slices.Contains(called, a) {
			t.Errorf("the template's role grants %s but no adapter interface calls it", a)
		}
	}
}

// The statements that make the role least-privilege beyond its action
// list: where each action is allowed, and on which condition.
func TestRoleScopesResourcesAndConditions(t *testing.T) {
	stmts := roleStatements(t, parseTemplate(t))
	bySid := map[string]statement{}
	for _, s := range stmts {
		bySid[s.Sid] = s
	}
	for _, tc := range []struct {
		sid, action, resource string
		condition             map[string]map[string]string
	}{
		{"ReadConfiguration", "dynamodb:Query", `{"Fn::GetAtt":["EbsSnapshotConfigurationTable","Arn"]}`, nil},
		{"OneWorkerPerRegion", "dynamodb:PutItem", `{"Fn::GetAtt":["LeaseTable","Arn"]}`, nil},
		{"OneWorkerPerRegion", "dynamodb:DeleteItem", `{"Fn::GetAtt":["LeaseTable","Arn"]}`, nil},
		{"SnapshotVolumes", "ec2:CreateSnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*"}`, nil},
		{"CreateOnlyExpiringSnapshots", "ec2:CreateSnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"Null": {"aws:RequestTag/DeleteOn": "false"}}},
		{"TagOnlyAtCreation", "ec2:CreateTags", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}}},
		{"DeleteOnlyExpiringSnapshots", "ec2:DeleteSnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"Null": {"aws:ResourceTag/DeleteOn": "false"}}},
		{"ArchiveOnlyExpiringSnapshots", "ec2:ModifySnapshotTier", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"Null": {"aws:ResourceTag/DeleteOn": "false"}}},
		{"CopyOnlyTaggedReplicas", "ec2:CopySnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"Null": {"aws:RequestTag/replication_snapshot_id": "false", "aws:RequestTag/replication_src_region": "false"}}},
		{"TagCopiesAtCreation", "ec2:CreateTags", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"StringEquals": {"ec2:CreateAction": "CopySnapshot"}}},
		{"DeleteReplicas", "ec2:DeleteSnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`,
			map[string]map[string]string{"Null": {"aws:ResourceTag/replication_src_region": "false"}}},
		{"ToggleReplicationRule", "events:EnableRule", `{"Fn::GetAtt":["ScheduledRuleReplicationFunction","Arn"]}`, nil},
	} {
		s, ok := bySid[tc.sid]
		if !ok {
			t.Errorf("no statement %s", tc.sid)
			continue
		}
		res, _ := json.Marshal(s.Resource)
		if !slices.Contains(s.actions(), tc.action) || string(res) != tc.resource {
			t.Errorf("%s: actions %v on %s, want %s on %s", tc.sid, s.actions(), res, tc.action, tc.resource)
		}
		got, _ := json.Marshal(s.Condition)
		want, _ := json.Marshal(tc.condition)
		if string(got) != string(want) {
			t.Errorf("%s: condition %s, want %s", tc.sid, got, want)
		}
	}
	// The configuration table is only read: the lease's writes go to the
	// lease table alone.
	for _, st := range stmts {
		res, _ := json.Marshal(st.Resource)
		if strings.Contains(string(res), "EbsSnapshotConfigurationTable") && !slices.Equal(st.actions(), []string{"dynamodb:Query"}) {
			t.Errorf("statement %s grants %v on the configuration table, want dynamodb:Query only", st.Sid, st.actions())
		}
	}
	// Any other mutating EC2 grant, or one on every resource, would widen
	// the role: only Describe calls may use "*".
	for _, s := range stmts {
		if res, ok := s.Resource.(string); ok && res == "*" {
			for _, a := range s.actions() {
				if !strings.HasPrefix(a, "ec2:Describe") {
					t.Errorf("statement %s grants %s on every resource", s.Sid, a)
				}
			}
		}
	}
}

// Deleting snapshots without DeleteOn (those "adopt" manages) widens the
// role, so it is a policy of its own that exists only when the operator
// sets AllowAdoptedDeletes=true.
func TestAdoptedDeletesAreOptIn(t *testing.T) {
	tpl := parseTemplate(t)
	res := tpl.Resources["AdoptedSnapshotsPolicy"]
	if res.Type != "AWS::IAM::Policy" || res.Condition != "DeletesAdopted" {
		t.Fatalf("AdoptedSnapshotsPolicy: type %q, condition %q; want an AWS::IAM::Policy under DeletesAdopted", res.Type, res.Condition)
	}
	var props struct {
		PolicyDocument struct{ Statement []statement }
	}
	if err := json.Unmarshal(res.Properties, &props); err != nil {
		t.Fatal(err)
	}
	if st := props.PolicyDocument.Statement; len(st) != 1 || !slices.Equal(st[0].actions(), []string{"ec2:DeleteSnapshot"}) {
		t.Errorf("AdoptedSnapshotsPolicy grants %+v, want ec2:DeleteSnapshot only", st)
	}
	cond, _ := json.Marshal(tpl.Conditions["DeletesAdopted"])
	if string(cond) != `{"Fn::Equals":[{"Ref":"AllowAdoptedDeletes"},"true"]}` {
		t.Errorf("DeletesAdopted = %s, want AllowAdoptedDeletes equal to true", cond)
	}
	var p struct{ Default string }
	_ = json.Unmarshal(tpl.Parameters["AllowAdoptedDeletes"], &p)
	if p.Default != "false" {
		t.Errorf("AllowAdoptedDeletes defaults to %q, want false", p.Default)
	}
}

// The role writes a tag only in the call that creates the snapshot
// (ec2:CreateAction): it can never retag an existing snapshot, so the
// tool's own tags (DeleteOn, replication_*, ebs-snapper:*) are set at
// creation or not at all, and the role cannot be used to rewrite what
// another snapshot's tags say (docs/security.md).
func TestRoleTagsOnlyInTheCallThatCreates(t *testing.T) {
	stmts := roleStatements(t, parseTemplate(t))
	n := 0
	for _, s := range stmts {
		if !slices.Contains(s.actions(), "ec2:CreateTags") {
			continue
		}
		n++
		if got := s.Condition["StringEquals"]["ec2:CreateAction"]; got == "" || len(s.actions()) != 1 {
			t.Errorf("statement %s grants %v with condition %v: ec2:CreateTags must be alone and bound to ec2:CreateAction", s.Sid, s.actions(), s.Condition)
		}
	}
	if n == 0 {
		t.Error("no statement grants ec2:CreateTags: new snapshots could not be tagged")
	}
}
