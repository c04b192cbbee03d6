package deploy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
)

// spokePipelines are the handlers whose work in another account goes
// through the spoke role: the workers and the report. (The fan-outs read
// the hub's table and publish in the hub; a worker lists its cell's
// regions itself.)
var spokePipelines = []string{handler.Snapshot, handler.Clean, handler.Replication, handler.Report, handler.Drill}

// inAccount reports whether an IAM action acts on the protected account's
// resources (EC2, the Recycle Bin) rather than on the hub's (the tables,
// the queues, the logs).
func inAccount(action string) bool {
	return strings.HasPrefix(action, "ec2:") || strings.HasPrefix(action, "rbin:")
}

func parseSpoke(t *testing.T) template {
	t.Helper()
	var tpl template
	if err := json.Unmarshal(deploy.SpokeTemplate(), &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// inlinePolicies returns a role's inline policies' statements by policy
// name, conditional ones counted as granted.
func inlinePolicies(t *testing.T, tpl template, role string) map[string][]statement {
	t.Helper()
	var r struct {
		Policies []struct {
			PolicyName     string
			PolicyDocument struct{ Statement []json.RawMessage }
		}
	}
	if err := json.Unmarshal(tpl.Resources[role].Properties, &r); err != nil {
		t.Fatalf("%s: %v", role, err)
	}
	out := map[string][]statement{}
	for _, p := range r.Policies {
		out[p.PolicyName] = statements(t, p.PolicyDocument.Statement)
	}
	return out
}

// canonical is a statement as JSON, for comparing statements of two
// templates.
func canonical(s statement) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The spoke role has one inline policy per pipeline that works in other
// accounts, and it grants exactly the EC2 and Recycle Bin actions that
// pipeline's code calls (handler.Calls): a new call fails this until the
// spoke grants it, a grant no code calls fails it until it is removed.
// The spoke has no other role and grants nothing in the hub's services.
func TestSpokeGrantsExactlyWhatTheWorkersCallInAnAccount(t *testing.T) {
	spoke := parseSpoke(t)
	var roles []string
	for id, r := range spoke.Resources {
		if r.Type == "AWS::IAM::Role" {
			roles = append(roles, id)
		}
	}
	if !slices.Equal(roles, []string{"SpokeRole"}) {
		t.Fatalf("spoke roles %v, want SpokeRole alone", roles)
	}
	policies := inlinePolicies(t, spoke, "SpokeRole")
	if len(policies) != len(spokePipelines) {
		t.Errorf("spoke policies %d, want one per pipeline %v", len(policies), spokePipelines)
	}
	all := map[string]bool{}
	for _, name := range handler.Names() {
		calls, err := handler.Calls(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range calls {
			if inAccount(a) {
				all[a] = true
			}
		}
	}
	granted := map[string]bool{}
	for _, p := range spokePipelines {
		calls, _ := handler.Calls(p)
		var want, got []string
		for _, a := range calls {
			if inAccount(a) {
				want = append(want, a)
			}
		}
		sts, ok := policies["ebs-snapper-"+p]
		if !ok {
			t.Errorf("spoke: no policy ebs-snapper-%s", p)
			continue
		}
		for _, s := range sts {
			if s.Effect != "Allow" {
				t.Errorf("spoke %s statement %s: effect %q", p, s.Sid, s.Effect)
			}
			got = append(got, s.actions()...)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		for _, a := range got {
			granted[a] = true
			if !inAccount(a) {
				t.Errorf("spoke policy %s grants %s, outside the account's EC2 and Recycle Bin", p, a)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("spoke policy %s grants %v, want what handler %s calls in an account: %v", p, got, p, want)
		}
	}
	for a := range all {
		if !granted[a] {
			t.Errorf("a handler calls %s in the account, but the spoke grants it to no pipeline", a)
		}
	}
}

// The spoke's statements are the hub stack's: each pipeline's spoke policy
// holds the same EC2 and Recycle Bin statements (Sid, actions, resources,
// conditions) as that pipeline's role in the stack, no more and no fewer,
// and the opt-in adopted deletes are the same policy under the same
// condition. A statement changed in one template fails this until the
// other follows.
func TestSpokeStatementsAreTheStackRoles(t *testing.T) {
	stack, spoke := parseTemplate(t), parseSpoke(t)
	policies := inlinePolicies(t, spoke, "SpokeRole")
	for _, f := range functions(t, stack) {
		if !slices.Contains(spokePipelines, f.Handler) {
			continue
		}
		var want []string
		for _, sts := range inlinePolicies(t, stack, f.Role) {
			for _, s := range sts {
				if slices.ContainsFunc(s.actions(), inAccount) {
					want = append(want, canonical(s))
				}
			}
		}
		var got []string
		for _, s := range policies["ebs-snapper-"+f.Handler] {
			got = append(got, canonical(s))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("spoke policy ebs-snapper-%s:\n got %s\nwant the statements of %s: %s", f.Handler, got, f.Role, want)
		}
	}
	adopted := func(tpl template, id string) (string, string) {
		var p struct{ PolicyDocument json.RawMessage }
		if err := json.Unmarshal(tpl.Resources[id].Properties, &p); err != nil {
			t.Fatal(err)
		}
		cond, _ := json.Marshal(tpl.Conditions[tpl.Resources[id].Condition])
		return compact(p.PolicyDocument), string(cond)
	}
	hubDoc, hubCond := adopted(stack, "AdoptedSnapshotsPolicy")
	spokeDoc, spokeCond := adopted(spoke, "SpokeAdoptedSnapshotsPolicy")
	if spokeDoc != hubDoc || spokeCond != hubCond {
		t.Errorf("spoke adopted deletes %s under %s, want the stack's %s under %s", spokeDoc, spokeCond, hubDoc, hubCond)
	}
	for _, p := range []string{"AllowAdoptedDeletes", "PermissionsBoundary", "RolePath"} {
		if compact(spoke.Parameters[p]) != compact(stack.Parameters[p]) {
			t.Errorf("spoke parameter %s = %s, want the stack's %s", p, spoke.Parameters[p], stack.Parameters[p])
		}
	}
}

// The spoke role's trust policy admits the hub's roles only: one Allow of
// sts:AssumeRole to the listed role ARNs (no account root, no wildcard, no
// service), each call checked again to come from the hub account and,
// inside an organization, from its organization, else with the external
// id; a template rule refuses a stack set with neither.
func TestSpokeTrustsOnlyTheHubRoles(t *testing.T) {
	spoke := parseSpoke(t)
	var role struct {
		AssumeRolePolicyDocument struct {
			Statement []struct {
				Sid       string
				Effect    string
				Principal json.RawMessage
				Action    any
				NotAction any
				Condition json.RawMessage
			}
		}
		PermissionsBoundary, Path json.RawMessage
		MaxSessionDuration        int
	}
	if err := json.Unmarshal(spoke.Resources["SpokeRole"].Properties, &role); err != nil {
		t.Fatal(err)
	}
	sts := role.AssumeRolePolicyDocument.Statement
	if len(sts) != 1 {
		t.Fatalf("trust policy has %d statements, want 1", len(sts))
	}
	s := sts[0]
	if s.Effect != "Allow" || compact(s.Principal) != `{"AWS":{"Ref":"HubRoleArns"}}` || !slices.Equal(strList(s.Action), []string{"sts:AssumeRole"}) || s.NotAction != nil {
		t.Errorf("trust statement: %s %s %v, want Allow of sts:AssumeRole to {\"AWS\": HubRoleArns} alone", s.Effect, s.Principal, s.Action)
	}
	hub := `"aws:PrincipalAccount":{"Ref":"HubAccountId"}`
	want := `{"StringEquals":{"Fn::If":["InOrganization",{` + hub + `,"aws:PrincipalOrgID":{"Ref":"OrganizationId"}},{` + hub + `,"sts:ExternalId":{"Ref":"ExternalId"}}]}}`
	if got := compact(s.Condition); got != want {
		t.Errorf("trust condition\n %s\nwant\n %s", got, want)
	}
	if got := compact(spoke.Conditions["InOrganization"]); got != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"OrganizationId"},""]}]}` {
		t.Errorf("InOrganization = %s", got)
	}
	var params map[string]struct {
		Type, AllowedPattern string
		NoEcho               bool
	}
	raw, _ := json.Marshal(spoke.Parameters)
	_ = json.Unmarshal(raw, &params)
	if p := params["HubAccountId"]; p.AllowedPattern != "^[0-9]{12}$" {
		t.Errorf("HubAccountId pattern %q, want exactly 12 digits", p.AllowedPattern)
	}
	if !params["ExternalId"].NoEcho {
		t.Error("ExternalId is echoed: want NoEcho, it is a shared secret of sorts")
	}
	var rules map[string]struct {
		Assertions []struct{ Assert json.RawMessage }
	}
	var all struct{ Rules json.RawMessage }
	_ = json.Unmarshal(deploy.SpokeTemplate(), &all)
	_ = json.Unmarshal(all.Rules, &rules)
	r := rules["OrganizationOrExternalId"]
	if len(r.Assertions) != 1 || compact(r.Assertions[0].Assert) != `{"Fn::Not":[{"Fn::And":[{"Fn::Equals":[{"Ref":"OrganizationId"},""]},{"Fn::Equals":[{"Ref":"ExternalId"},""]}]}]}` {
		t.Errorf("rule OrganizationOrExternalId: %s, want OrganizationId or ExternalId required", all.Rules)
	}
	if role.MaxSessionDuration != 3600 {
		t.Errorf("MaxSessionDuration %d, want 3600: a chained session lasts an hour at most anyway", role.MaxSessionDuration)
	}
	if compact(role.Path) != `{"Ref":"RolePath"}` || !strings.Contains(compact(role.PermissionsBoundary), `"HasBoundary"`) {
		t.Errorf("spoke role path %s boundary %s, want RolePath and the PermissionsBoundary when set", role.Path, role.PermissionsBoundary)
	}
}
