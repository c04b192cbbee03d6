package deploy_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Each worker is fed by its own queue through an event source mapping
// that bounds how many cells run at once (WorkerMaxConcurrency), reads the
// partial batch response, and takes one cell per invocation (each may need
// the whole invocation); a queue's message stays invisible for six times
// the longest function timeout, as Lambda advises, so that no cell is
// delivered twice while its worker runs; a cell that failed three times
// goes to the dead-letter queue, whose alarm fires on one message.
func TestWorkersAreFedFromTheirQueuesWithBoundedConcurrency(t *testing.T) {
	tpl := parseTemplate(t)
	mappings := 0
	for _, r := range tpl.Resources {
		if r.Type == "AWS::Lambda::EventSourceMapping" {
			mappings++
		}
	}
	for _, w := range []string{"CreateSnapshot", "CleanSnapshot", "ReplicationSnapshot", "Drill"} {
		m := props(t, tpl, w+"EventSourceMapping")
		got := compact(m["EventSourceArn"]) + " " + compact(m["FunctionName"]) + " " + compact(m["BatchSize"]) + " " +
			compact(m["FunctionResponseTypes"]) + " " + compact(m["ScalingConfig"]) + " " + compact(m["Enabled"])
		want := `{"Fn::GetAtt":["` + w + `Queue","Arn"]} {"Ref":"` + w + `Function"} 1 ["ReportBatchItemFailures"] {"MaximumConcurrency":{"Ref":"WorkerMaxConcurrency"}} true`
		if got != want {
			t.Errorf("%sEventSourceMapping:\n %s\nwant\n %s", w, got, want)
		}
		if v := compact(props(t, tpl, w+"Queue")["VisibilityTimeout"]); v != "5400" {
			t.Errorf("%sQueue: visibility timeout %s, want 5400 (6 × 900 s)", w, v)
		}
	}
	if mappings != 4 {
		t.Errorf("%d event source mappings, want one per worker", mappings)
	}
	var p struct {
		Default, MinValue, MaxValue float64
	}
	raw := tpl.Parameters["WorkerMaxConcurrency"]
	if err := json.Unmarshal(raw, &p); err != nil || p.MinValue != 2 || p.MaxValue != 1000 {
		t.Errorf("WorkerMaxConcurrency %s: want 2 to 1000 (the event source mapping's range)", raw)
	}
	a := props(t, tpl, "CellsDeadLetterAlarm")
	if compact(a["MetricName"]) != `"ApproximateNumberOfMessagesVisible"` || compact(a["Threshold"]) != "0" ||
		compact(a["ComparisonOperator"]) != `"GreaterThanThreshold"` || !strings.Contains(compact(a["Dimensions"]), "CellsDeadLetterQueue") {
		t.Errorf("dead-letter alarm: %v", a)
	}
}
