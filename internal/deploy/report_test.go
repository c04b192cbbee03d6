package deploy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
)

// The report function and everything serving it exist only when
// ReportBucket is set (empty by default: no function, no schedule, no
// grant); its schedule is ReportScheduleExpression, an undelivered
// schedule lands in the failed-events queue, and the stack names where the
// newest report is.
func TestReportDeliveryIsOffWithoutABucket(t *testing.T) {
	tpl := parseTemplate(t)
	if got := compact(tpl.Conditions["WritesReport"]); got != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"ReportBucket"},""]}]}` {
		t.Errorf("WritesReport = %s, want ReportBucket not empty", got)
	}
	defaults := map[string]string{}
	for _, p := range deploy.Parameters() {
		defaults[p.Name] = p.Default
	}
	if d, ok := defaults[deploy.ParamReportBucket]; !ok || d != "" {
		t.Errorf("ReportBucket: default %q (declared %v), want empty: delivery is opt-in", d, ok)
	}
	if err := deploy.CheckSchedule(defaults["ReportScheduleExpression"]); err != nil {
		t.Errorf("ReportScheduleExpression's default: %v", err)
	}
	n := 0
	for id, r := range tpl.Resources {
		if !strings.Contains(id, "Report") || id == "RpoBreachAlarm" {
			continue
		}
		n++
		if r.Condition != "WritesReport" {
			t.Errorf("%s: condition %q, want WritesReport", id, r.Condition)
		}
	}
	if n != 7 {
		t.Errorf("%d report resources, want 7: log group, function, role, invoke config, schedule, its permission, alarm", n)
	}
	rule := props(t, tpl, "ScheduledRuleReportFunction")
	target := rule["Targets"].([]any)[0].(map[string]any)
	if compact(rule["ScheduleExpression"]) != `{"Ref":"ReportScheduleExpression"}` || compact(target["Arn"]) != `{"Fn::GetAtt":["ReportFunction","Arn"]}` {
		t.Errorf("report schedule: %s -> %s", compact(rule["ScheduleExpression"]), compact(target["Arn"]))
	}
	q := compact(props(t, tpl, "FailedEventsQueuePolicy"))
	if !strings.Contains(q, `{"Fn::If":["WritesReport",{"Fn::GetAtt":["ScheduledRuleReportFunction","Arn"]},{"Ref":"AWS::NoValue"}]}`) {
		t.Error("the failed-events queue does not take the report schedule's undelivered events")
	}
	if !strings.Contains(string(deploy.Template()), `"s3://${ReportBucket}/${ReportPrefix}${AWS::AccountId}/latest.html"`) {
		t.Error("no output names the latest report")
	}
	for _, tc := range []struct{ k, v string }{
		{"ReportScheduleExpression", "rate(1 days)"},
		{deploy.ParamReportBucket, "My_Bucket"},
		{"ReportPrefix", "audit"},
		{"ReportPrefix", "/audit/"},
	} {
		if err := deploy.CheckParameters(map[string]string{tc.k: tc.v}); err == nil || !strings.Contains(err.Error(), tc.k) {
			t.Errorf("%s=%s: %v, want an error naming it", tc.k, tc.v, err)
		}
	}
	for _, ok := range []map[string]string{{"ReportPrefix": ""}, {"ReportPrefix": "audit/ebs-snapper/"}, {deploy.ParamReportBucket: "audit-123.example"}} {
		if err := deploy.CheckParameters(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// Every key the report handler writes falls under the one resource its
// role may write: ReportPrefix, then the account, in ReportBucket.
func TestReportKeysFallUnderTheRolesGrant(t *testing.T) {
	now := time.Date(2026, 12, 6, 6, 0, 3, 0, time.UTC)
	for _, prefix := range []string{"", "ebs-snapper/", "audit/x/"} {
		// The grant's ${ReportPrefix}${AWS::AccountId}/*, where IAM's *
		// matches any characters, "/" included.
		grant := prefix + "123456789012/"
		for _, ext := range []string{"html", "json", "csv"} {
			dated, latest := handler.ReportKeys(prefix, "123456789012", now, ext)
			for _, key := range []string{dated, latest} {
				if !strings.HasPrefix(key, grant) {
					t.Errorf("key %s is outside the grant %s*", key, grant)
				}
			}
			if want := prefix + "123456789012/2026/12/06/report-20261206T060003Z." + ext; dated != want {
				t.Errorf("dated key %s, want %s", dated, want)
			}
		}
	}
}
