package deploy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
)

// Every role allowed to assume the spoke role is one the spokes trust: the
// WorkerRoleArns output, which deploy puts in the spokes' trust policy,
// names each of them, the drill worker's too, so that no worker is refused
// in the accounts it works in.
func TestSpokesTrustEveryRoleThatAssumesThem(t *testing.T) {
	tpl := parseTemplate(t)
	var raw struct {
		Outputs map[string]struct{ Value json.RawMessage }
	}
	if err := json.Unmarshal(deploy.Template(), &raw); err != nil {
		t.Fatal(err)
	}
	trusted := compact(raw.Outputs["WorkerRoleArns"].Value)
	for _, f := range functions(t, tpl) {
		assumes := slices.ContainsFunc(roleStatements(t, tpl, f.Role), func(s statement) bool {
			return slices.Contains(s.actions(), "sts:AssumeRole")
		})
		named := strings.Contains(trusted, `{"Fn::GetAtt":["`+f.Role+`","Arn"]}`)
		if assumes && !named && f.Handler != "report" {
			t.Errorf("role %s (%s) may assume the spoke role, but WorkerRoleArns does not name it: %s", f.Role, f.Handler, trusted)
		}
	}
	if !strings.Contains(trusted, `{"Fn::GetAtt":["DrillRole","Arn"]}`) {
		t.Errorf("WorkerRoleArns %s: want the drill worker's role", trusted)
	}
}
