package deploy_test

import (
	"strings"
	"testing"
)

// Every scheduled function is watched, a stopped pipeline pages someone,
// and every alarm notifies AlarmTopicArn and the AlarmEmail topic when set.
func TestAlarmsWatchEveryFunctionAndAStoppedPipeline(t *testing.T) {
	tpl := parseTemplate(t)
	actions := `[{"Fn::If":["HasAlarmTopic",{"Ref":"AlarmTopicArn"},{"Ref":"AWS::NoValue"}]},{"Fn::If":["HasAlarmEmail",{"Ref":"AlarmTopic"},{"Ref":"AWS::NoValue"}]}]`
	watched := map[string]bool{}
	alarms := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		p := props(t, tpl, id)
		if compact(p["AlarmActions"]) != actions || compact(p["OKActions"]) != actions {
			t.Errorf("%s: actions %s, want %s", id, compact(p["AlarmActions"]), actions)
		}
		if d := compact(p["AlarmDescription"]); !strings.Contains(d, "ebs-snapper: ") || len(d) < 80 {
			t.Errorf("%s: description %s, want what failed and what to look at", id, d)
		}
		if dims, ok := p["Dimensions"].([]any); ok && compact(p["MetricName"]) == `"Errors"` {
			v := dims[0].(map[string]any)["Value"].(map[string]any)["Ref"].(string)
			watched[v] = true
		}
	}
	for _, f := range functions(t, tpl) {
		if !watched[f.ID] {
			t.Errorf("function %s has no Errors alarm", f.ID)
		}
	}
	for id, want := range map[string]string{
		"SnapshotPipelineStoppedAlarm": `"ValidStanzas" {"Name":"Pipeline","Value":"snapshot"} 3600 LessThanThreshold 1 breaching`,
		"CleanPipelineStoppedAlarm":    `"ValidStanzas" {"Name":"Pipeline","Value":"clean"} 21600 LessThanThreshold 1 breaching`,
	} {
		p := props(t, tpl, id)
		dims := p["Dimensions"].([]any)
		got := compact(p["MetricName"]) + " " + compact(dims[0]) + " " + compact(p["Period"]) + " " + p["ComparisonOperator"].(string) + " " + compact(p["Threshold"]) + " " + p["TreatMissingData"].(string)
		if got != want || compact(p["Namespace"]) != `"EbsSnapper"` {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	// No data is a breach: a pipeline that stops reporting pages someone.
	if m := props(t, tpl, "RpoBreachAlarm")["TreatMissingData"]; m != "breaching" {
		t.Errorf("RPO alarm treats missing data as %v, want breaching", m)
	}
	// A worker that fails every other run alarms: 2 of 4 half-hour periods
	// (one of one six-hour period for clean).
	for id, want := range map[string]string{"CreateSnapshotErrorsAlarm": "1800 4 2", "ReplicationSnapshotErrorsAlarm": "1800 4 2", "CleanSnapshotErrorsAlarm": "21600 1 1"} {
		p := props(t, tpl, id)
		if got := compact(p["Period"]) + " " + compact(p["EvaluationPeriods"]) + " " + compact(p["DatapointsToAlarm"]); got != want {
			t.Errorf("%s: period, evaluations, datapoints %s, want %s", id, got, want)
		}
	}
	sub := props(t, tpl, "AlarmEmailSubscription")
	if compact(sub["Protocol"]) != `"email"` || compact(sub["Endpoint"]) != `{"Ref":"AlarmEmail"}` || tpl.Resources["AlarmEmailSubscription"].Condition != "HasAlarmEmail" || tpl.Resources["AlarmTopic"].Condition != "HasAlarmEmail" {
		t.Errorf("alarm e-mail subscription %v", sub)
	}
	// A failed restore drill alarms once a day, on its own metric.
	d := props(t, tpl, "DrillFailedAlarm")
	if got := compact(d["Namespace"]) + " " + compact(d["MetricName"]) + " " + compact(d["Period"]) + " " + d["ComparisonOperator"].(string) + " " + compact(d["Threshold"]) + " " + d["TreatMissingData"].(string); got != `"EbsSnapper" "DrillsFailed" 86400 GreaterThanOrEqualToThreshold 1 notBreaching` || d["Dimensions"] != nil {
		t.Errorf("DrillFailedAlarm: %s", got)
	}
	// The organisation's alarm: the percent of matched volumes late or
	// missing over every account and region, summed over an hour; no data
	// (no worker reported) is a breach too.
	org := props(t, tpl, "OrganizationRpoAlarm")
	if got := compact(org["Metrics"]); !strings.Contains(got, `"Expression":"IF(matched \u003e 0, 100 * (late + missing) / matched, 0)"`) ||
		strings.Count(got, `"Stat":"Sum"`) != 3 || strings.Contains(got, "Dimensions") ||
		compact(org["Threshold"]) != `{"Ref":"OrganizationRpoPercent"}` || org["TreatMissingData"] != "breaching" {
		t.Errorf("organisation RPO alarm: %s threshold %v missing data %v", got, org["Threshold"], org["TreatMissingData"])
	}
	if alarms != 16 {
		t.Errorf("%d alarms, want 16: an Errors alarm per function, two pipeline heartbeats, the RPO and organisation RPO, the failed-events, the dead-letter and the failed-drill alarms", alarms)
	}
}
