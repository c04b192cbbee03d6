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

// The restore-drill pipeline has the replication pipeline's shape: its
// queue, queue policy, event source mapping, log groups and on-failure
// destinations are replication's under the drill's names, and its functions take the same environment (the drill worker
// without the copy limit). A change to the workers' plumbing then fails
// here until the drill's follows (docs/drills.md).
func TestDrillPipelineHasTheReplicationPipelinesShape(t *testing.T) {
	var raw struct{ Resources map[string]json.RawMessage }
	if err := json.Unmarshal(deploy.Template(), &raw); err != nil {
		t.Fatal(err)
	}
	rename := strings.NewReplacer("FanoutReplicationSnapshot", "FanoutDrill", "ReplicationSnapshot", "Drill",
		"fanout-replication", "fanout-drill", "-replication", "-drill")
	for _, id := range []string{"ReplicationSnapshotQueue", "ReplicationSnapshotQueuePolicy", "ReplicationSnapshotEventSourceMapping",
		"ReplicationSnapshotLogGroup", "FanoutReplicationSnapshotLogGroup", "ReplicationSnapshotEventInvokeConfig", "FanoutReplicationSnapshotEventInvokeConfig"} {
		want := rename.Replace(compact(json.RawMessage(raw.Resources[id])))
		drill := rename.Replace(id)
		if got := compact(json.RawMessage(raw.Resources[drill])); got != want {
			t.Errorf("%s:\n %s\nwant %s's:\n %s", drill, got, id, want)
		}
	}
	env := func(id string) []string {
		var f struct {
			Properties struct {
				Environment struct{ Variables map[string]any }
			}
		}
		if err := json.Unmarshal(raw.Resources[id], &f); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range f.Properties.Environment.Variables {
			if k != "EBS_SNAPPER_COPY_LIMIT" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return keys
	}
	for _, id := range []string{"ReplicationSnapshotFunction", "FanoutReplicationSnapshotFunction"} {
		if got, want := env(rename.Replace(id)), env(id); !slices.Equal(got, want) {
			t.Errorf("%s's environment %v, want %s's %v", rename.Replace(id), got, id, want)
		}
	}
}
