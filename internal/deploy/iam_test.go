package deploy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
)

// runtimeActions are what AWS itself does with a function's role, not the
// code: the Lambda runtime writes the function's logs into its log group
// (which the template creates, so no logs:CreateLogGroup), and Lambda
// sends an event it gives up on to the function's on-failure destination,
// the failed-events queue, as the function's role. With a customer-managed
// topic key, SQS uses that key as the sender (kms:GenerateDataKey,
// kms:Decrypt). A worker's event source mapping receives and deletes its
// queue's messages with the worker's role (sqs:ReceiveMessage,
// sqs:DeleteMessage, sqs:GetQueueAttributes: "Lambda execution role
// permissions" for Amazon SQS, Lambda Developer Guide).
// sts:GetCallerIdentity needs no permission (STS API reference) and is
// not listed.
var runtimeActions = []string{"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents",
	"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"}

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

// fnIf is a statement the template grants under a condition: Fn::If
// [condition, statement, AWS::NoValue].
type fnIf struct {
	If []json.RawMessage `json:"Fn::If"`
}

// statements decodes a policy's statements; a conditional one counts as
// granted (its condition may hold).
func statements(t *testing.T, raw []json.RawMessage) []statement {
	t.Helper()
	var out []statement
	for _, r := range raw {
		var c fnIf
		if json.Unmarshal(r, &c) == nil && len(c.If) == 3 {
			r = c.If[1]
		}
		var st statement
		if err := json.Unmarshal(r, &st); err != nil {
			t.Fatalf("statement %s: %v", r, err)
		}
		out = append(out, st)
	}
	return out
}

// function is what the IAM tests read of a function: its handler and the
// logical id of its role.
type function struct {
	ID, Handler, Role string
}

// functions returns the template's functions, each with its handler and
// role.
func functions(t *testing.T, tpl template) []function {
	t.Helper()
	var out []function
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		var p struct {
			Role        map[string][]string `json:"Role"`
			Environment struct{ Variables map[string]any }
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		role := p.Role["Fn::GetAtt"]
		name, _ := p.Environment.Variables["EBS_SNAPPER_HANDLER"].(string)
		if len(role) != 2 || role[1] != "Arn" || name == "" {
			t.Fatalf("%s: role %v handler %q, want Fn::GetAtt of a role's Arn and a handler", id, p.Role, name)
		}
		out = append(out, function{ID: id, Handler: name, Role: role[0]})
	}
	slices.SortFunc(out, func(a, b function) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// roleStatements returns every statement granted to the role: its inline
// policies and the AWS::IAM::Policy resources attached to it.
func roleStatements(t *testing.T, tpl template, role string) []statement {
	t.Helper()
	type policy struct {
		PolicyName     string
		PolicyDocument struct{ Statement []json.RawMessage }
		Roles          []map[string]string
	}
	res, ok := tpl.Resources[role]
	if !ok || res.Type != "AWS::IAM::Role" {
		t.Fatalf("%s: not a role of the template", role)
	}
	var r struct{ Policies []policy }
	if err := json.Unmarshal(res.Properties, &r); err != nil {
		t.Fatal(err)
	}
	var out []statement
	for _, p := range r.Policies {
		out = append(out, statements(t, p.PolicyDocument.Statement)...)
	}
	for id, res := range tpl.Resources {
		if res.Type != "AWS::IAM::Policy" {
			continue
		}
		var p policy
		if err := json.Unmarshal(res.Properties, &p); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(p.Roles) != 1 {
			t.Fatalf("%s is attached to %d roles, want one: every function has its own", id, len(p.Roles))
		}
		if p.Roles[0]["Ref"] == role {
			out = append(out, statements(t, p.PolicyDocument.Statement)...)
		}
	}
	return out
}

// TestEachRoleGrantsExactlyWhatItsHandlerCalls compares, both ways and
// function by function, the actions its role grants with what its
// handler's code calls (handler.Calls, which the handler package checks
// against the adapters and against every call the handlers make in moto),
// beyond what AWS does with the role itself (runtimeActions). A new call
// fails it until the right role grants it; a grant the handler does not
// need fails it until it is removed.
func TestEachRoleGrantsExactlyWhatItsHandlerCalls(t *testing.T) {
	tpl := parseTemplate(t)
	fns := functions(t, tpl)
	if got := len(fns); got != len(handler.Names()) {
		t.Errorf("%d functions, want one per handler (%v)", got, handler.Names())
	}
	roles := map[string]string{}
	for _, f := range fns {
		if other, dup := roles[f.Role]; dup {
			t.Errorf("functions %s and %s share role %s, want one role per function", other, f.ID, f.Role)
		}
		roles[f.Role] = f.ID
		called, err := handler.Calls(f.Handler)
		if err != nil {
			t.Fatal(err)
		}
		var granted []string
		for _, s := range roleStatements(t, tpl, f.Role) {
			if s.Effect != "Allow" {
				t.Errorf("%s statement %s: effect %q, want Allow", f.Role, s.Sid, s.Effect)
			}
			for _, a := range s.actions() {
				if strings.ContainsAny(a, "*?") {
					t.Errorf("%s statement %s grants the wildcard action %q", f.Role, s.Sid, a)
				}
				granted = append(granted, a)
			}
		}
		slices.Sort(granted)
		granted = slices.Compact(granted)
		for _, a := range called {
			if !slices.Contains(granted, a) {
				t.Errorf("handler %s calls %s but its role %s does not grant it", f.Handler, a, f.Role)
			}
		}
		for _, a := range granted {
			if !slices.Contains(called, a) && !slices.Contains(runtimeActions, a) {
				t.Errorf("role %s grants %s but handler %s does not call it", f.Role, a, f.Handler)
			}
		}
	}
}

// A role that can create snapshots cannot delete them, and the one that
// deletes cannot create: the snapshot worker and the fan-outs delete
// nothing; the clean worker creates and copies nothing. (The replication
// worker copies, and retires only replicas: TestRoleScopesResourcesAndConditions.)
func TestNoRoleBothCreatesAndDeletesOriginals(t *testing.T) {
	tpl := parseTemplate(t)
	creates := []string{"ec2:CreateSnapshot", "ec2:CreateSnapshots", "ec2:CopySnapshot"}
	for _, f := range functions(t, tpl) {
		var actions []string
		for _, s := range roleStatements(t, tpl, f.Role) {
			actions = append(actions, s.actions()...)
		}
		create := slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(creates, a) })
		remove := slices.Contains(actions, "ec2:DeleteSnapshot") || slices.Contains(actions, "ec2:ModifySnapshotTier")
		switch {
		case f.Handler == handler.Replication:
			if !create || !remove {
				t.Errorf("role %s: create %v delete %v, want copies and retired replicas", f.Role, create, remove)
			}
		case create && remove:
			t.Errorf("role %s of %s can both create and delete snapshots", f.Role, f.Handler)
		case strings.HasPrefix(f.Handler, "fanout-") && (create || remove):
			t.Errorf("fan-out role %s can create or delete snapshots", f.Role)
		}
	}
}

// Every role the stack creates carries the PermissionsBoundary parameter
// (when set) and the RolePath parameter, and the template has no role it
// does not give to a function.
func TestEveryRoleHasTheBoundaryAndPath(t *testing.T) {
	tpl := parseTemplate(t)
	used := map[string]bool{}
	for _, f := range functions(t, tpl) {
		used[f.Role] = true
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Role" {
			continue
		}
		if !used[id] {
			t.Errorf("role %s serves no function", id)
		}
		var p struct{ PermissionsBoundary, Path any }
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatal(err)
		}
		boundary, _ := json.Marshal(p.PermissionsBoundary)
		path, _ := json.Marshal(p.Path)
		if string(boundary) != `{"Fn::If":["HasBoundary",{"Ref":"PermissionsBoundary"},{"Ref":"AWS::NoValue"}]}` {
			t.Errorf("role %s: PermissionsBoundary %s, want the PermissionsBoundary parameter when set", id, boundary)
		}
		if string(path) != `{"Ref":"RolePath"}` {
			t.Errorf("role %s: Path %s, want the RolePath parameter", id, path)
		}
	}
	cond, _ := json.Marshal(tpl.Conditions["HasBoundary"])
	if string(cond) != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"PermissionsBoundary"},""]}]}` {
		t.Errorf("HasBoundary = %s", cond)
	}
}

// The statements that make each role least-privilege beyond its action
// list: where each action is allowed, and on which condition.
func TestRoleScopesResourcesAndConditions(t *testing.T) {
	tpl := parseTemplate(t)
	snap := `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*::snapshot/*"}`
	lease := `{"Fn::GetAtt":["LeaseTable","Arn"]}`
	vol := `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*"}`
	for _, tc := range []struct {
		role, sid, action, resource string
		condition                   map[string]map[string]string
	}{
		{"FanoutCreateSnapshotRole", "ReadConfiguration", "dynamodb:Query", `{"Fn::GetAtt":["EbsSnapshotConfigurationTable","Arn"]}`, nil},
		{"FanoutCreateSnapshotRole", "FanOut", "sqs:SendMessage", `{"Fn::GetAtt":["CreateSnapshotQueue","Arn"]}`, nil},
		{"FanoutCreateSnapshotRole", "ToggleReplicationRule", "events:EnableRule", `{"Fn::GetAtt":["ScheduledRuleReplicationFunction","Arn"]}`, nil},
		{"FanoutCleanSnapshotRole", "FanOut", "sqs:SendMessage", `{"Fn::GetAtt":["CleanSnapshotQueue","Arn"]}`, nil},
		{"FanoutReplicationSnapshotRole", "FanOut", "sqs:SendMessage", `{"Fn::GetAtt":["ReplicationSnapshotQueue","Arn"]}`, nil},
		{"CreateSnapshotRole", "OneWorkerPerRegion", "dynamodb:PutItem", lease, nil},
		{"CreateSnapshotRole", "OneWorkerPerRegion", "dynamodb:DeleteItem", lease, nil},
		{"CreateSnapshotRole", "SnapshotVolumes", "ec2:CreateSnapshot", `{"Fn::Sub":"arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*"}`, nil},
		{"CreateSnapshotRole", "CreateOnlyExpiringSnapshots", "ec2:CreateSnapshot", snap,
			map[string]map[string]string{"Null": {"aws:RequestTag/DeleteOn": "false"}}},
		{"CreateSnapshotRole", "TagOnlyAtCreation", "ec2:CreateTags", snap,
			map[string]map[string]string{"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}}},
		{"CreateSnapshotRole", "ConsumeOwnQueue", "sqs:ReceiveMessage", `{"Fn::GetAtt":["CreateSnapshotQueue","Arn"]}`, nil},
		{"CleanSnapshotRole", "ConsumeOwnQueue", "sqs:DeleteMessage", `{"Fn::GetAtt":["CleanSnapshotQueue","Arn"]}`, nil},
		{"CreateSnapshotRole", "Continue", "sqs:SendMessage", `{"Fn::GetAtt":["CreateSnapshotQueue","Arn"]}`, nil},
		{"CleanSnapshotRole", "DeleteOnlyExpiringSnapshots", "ec2:DeleteSnapshot", snap,
			map[string]map[string]string{"Null": {"aws:ResourceTag/DeleteOn": "false"}}},
		{"CleanSnapshotRole", "ArchiveOnlyExpiringSnapshots", "ec2:ModifySnapshotTier", snap,
			map[string]map[string]string{"Null": {"aws:ResourceTag/DeleteOn": "false"}}},
		{"CleanSnapshotRole", "Continue", "sqs:SendMessage", `{"Fn::GetAtt":["CleanSnapshotQueue","Arn"]}`, nil},
		{"CleanSnapshotRole", "ReadRecycleBinRules", "rbin:GetRule", `{"Fn::Sub":"arn:${AWS::Partition}:rbin:*:${AWS::AccountId}:rule/*"}`, nil},
		{"CreateSnapshotRole", "LockOnlyOwnSnapshots", "ec2:LockSnapshot", snap,
			map[string]map[string]string{"Null": {"aws:ResourceTag/DeleteOn": "false", "aws:ResourceTag/ebs-snapper:config-id": "false"}}},
		{"ReplicationSnapshotRole", "CopyOnlyTaggedReplicas", "ec2:CopySnapshot", snap,
			map[string]map[string]string{"Null": {"aws:RequestTag/replication_snapshot_id": "false", "aws:RequestTag/replication_src_region": "false"}}},
		{"ReplicationSnapshotRole", "TagCopiesAtCreation", "ec2:CreateTags", snap,
			map[string]map[string]string{"StringEquals": {"ec2:CreateAction": "CopySnapshot"}}},
		{"ReplicationSnapshotRole", "DeleteReplicas", "ec2:DeleteSnapshot", snap,
			map[string]map[string]string{"Null": {"aws:ResourceTag/replication_src_region": "false"}}},
		{"ReplicationSnapshotRole", "Continue", "sqs:SendMessage", `{"Fn::GetAtt":["ReplicationSnapshotQueue","Arn"]}`, nil},
		// The spoke role alone, in any account, and only when the stack
		// protects other accounts (the statement is under ProtectsOthers).
		{"CreateSnapshotRole", "AssumeSpokeRole", "sts:AssumeRole", `{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role${RolePath}${SpokeRoleName}"}`, nil},
		{"CleanSnapshotRole", "AssumeSpokeRole", "sts:AssumeRole", `{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role${RolePath}${SpokeRoleName}"}`, nil},
		{"FanoutCleanSnapshotRole", "ListOrganizationAccounts", "organizations:ListAccountsForParent", `"*"`, nil},
		// Restore drills: volumes only with the drill tag in the creating
		// request, tagged only in that call, deleted only when they carry
		// the tag; the snapshot's outcome under one key.
		{"DrillRole", "CreateOnlyDrillVolumes", "ec2:CreateVolume", vol,
			map[string]map[string]string{"Null": {"aws:RequestTag/ebs-snapper:drill-run": "false"}}},
		{"DrillRole", "RestoreFromSnapshots", "ec2:CreateVolume", snap, nil},
		{"DrillRole", "TagDrillVolumesAtCreation", "ec2:CreateTags", vol,
			map[string]map[string]string{"StringEquals": {"ec2:CreateAction": "CreateVolume"}}},
		{"DrillRole", "RecordDrillOutcome", "ec2:CreateTags", snap,
			map[string]map[string]string{"ForAllValues:StringEquals": {"aws:TagKeys": "ebs-snapper:last-drill"}, "Null": {"aws:TagKeys": "false"}}},
		{"DrillRole", "DeleteOnlyDrillVolumes", "ec2:DeleteVolume", vol,
			map[string]map[string]string{"Null": {"aws:ResourceTag/ebs-snapper:drill-run": "false"}}},
		{"DrillRole", "OneWorkerPerRegion", "dynamodb:PutItem", lease, nil},
		{"DrillRole", "Continue", "sqs:SendMessage", `{"Fn::GetAtt":["DrillQueue","Arn"]}`, nil},
		{"FanoutDrillRole", "FanOut", "sqs:SendMessage", `{"Fn::GetAtt":["DrillQueue","Arn"]}`, nil},
		// Objects under the prefix and the account only, in that bucket.
		{"ReportRole", "WriteReport", "s3:PutObject", `{"Fn::Sub":"arn:${AWS::Partition}:s3:::${ReportBucket}/${ReportPrefix}${AWS::AccountId}/*"}`, nil},
		{"ReportRole", "ReadConfiguration", "dynamodb:Query", `{"Fn::GetAtt":["EbsSnapshotConfigurationTable","Arn"]}`, nil},
	} {
		var s *statement
		for _, st := range roleStatements(t, tpl, tc.role) {
			if st.Sid == tc.sid {
				s = &st
			}
		}
		if s == nil {
			t.Errorf("%s: no statement %s", tc.role, tc.sid)
			continue
		}
		res, _ := json.Marshal(s.Resource)
		if !slices.Contains(s.actions(), tc.action) || string(res) != tc.resource {
			t.Errorf("%s %s: actions %v on %s, want %s on %s", tc.role, tc.sid, s.actions(), res, tc.action, tc.resource)
		}
		got, _ := json.Marshal(s.Condition)
		want, _ := json.Marshal(tc.condition)
		if string(got) != string(want) {
			t.Errorf("%s %s: condition %s, want %s", tc.role, tc.sid, got, want)
		}
	}
	for _, f := range functions(t, tpl) {
		for _, st := range roleStatements(t, tpl, f.Role) {
			res, _ := json.Marshal(st.Resource)
			// The configuration table is only read: the lease's writes go
			// to the lease table alone.
			if strings.Contains(string(res), "EbsSnapshotConfigurationTable") && !slices.Equal(st.actions(), []string{"dynamodb:Query"}) {
				t.Errorf("%s statement %s grants %v on the configuration table, want dynamodb:Query only", f.Role, st.Sid, st.actions())
			}
			// Any mutating grant on every resource would widen the role:
			// only Describe calls, Recycle Bin's ListRules (which has no
			// resource) and Organizations' List calls (on the root and
			// units the fan-out finds as it walks the tree) may use "*".
			if r, ok := st.Resource.(string); ok && r == "*" {
				for _, a := range st.actions() {
					if !strings.HasPrefix(a, "ec2:Describe") && a != "rbin:ListRules" && !strings.HasPrefix(a, "organizations:List") {
						t.Errorf("%s statement %s grants %s on every resource", f.Role, st.Sid, a)
					}
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

// No role writes a tag except in the call that creates the snapshot
// (ec2:CreateAction): none can retag an existing snapshot, so the tool's
// own tags (DeleteOn, replication_*, ebs-snapper:*) are set at creation or
// not at all, and no role can be used to rewrite what another snapshot's
// tags say (docs/security.md).
func TestRoleTagsOnlyInTheCallThatCreates(t *testing.T) {
	tpl := parseTemplate(t)
	n := 0
	for _, f := range functions(t, tpl) {
		for _, s := range roleStatements(t, tpl, f.Role) {
			if !slices.Contains(s.actions(), "ec2:CreateTags") {
				continue
			}
			n++
			if f.Handler == handler.Drill && s.Sid == "RecordDrillOutcome" {
				// The one exception: the drill worker records a drill's
				// outcome on the snapshot it restored, and may write that
				// one key only (a tag clean never reads).
				if s.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] != "ebs-snapper:last-drill" || s.Condition["Null"]["aws:TagKeys"] != "false" || len(s.actions()) != 1 {
					t.Errorf("%s statement %s: condition %v, want only the key ebs-snapper:last-drill", f.Role, s.Sid, s.Condition)
				}
				continue
			}
			if got := s.Condition["StringEquals"]["ec2:CreateAction"]; got == "" || len(s.actions()) != 1 {
				t.Errorf("%s statement %s grants %v with condition %v: ec2:CreateTags must be alone and bound to ec2:CreateAction", f.Role, s.Sid, s.actions(), s.Condition)
			}
		}
	}
	if n == 0 {
		t.Error("no statement grants ec2:CreateTags: new snapshots could not be tagged")
	}
}
