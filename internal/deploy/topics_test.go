package deploy_test

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Issue 16 item 9: only the stack publishes to its topics. A forged
// message naming a worker that holds a lease would take that lease over
// (the hand-over of a continuation), so every topic's policy denies
// sns:Publish to every principal but the roles of the functions that
// publish to it (those whose EBS_SNAPPER_TOPIC_ARN names it: its fan-out
// and its worker, for continuations). (The alarm topic takes CloudWatch's
// alarms, not jobs.)
func TestOnlyTheStackPublishesToItsTopics(t *testing.T) {
	tpl := parseTemplate(t)
	type topicPolicy struct {
		Topics         []map[string]string
		PolicyDocument struct {
			Statement []struct {
				Effect    string
				Principal map[string]any
				Action    any
				Resource  map[string]string
				Condition map[string]map[string]any
			}
		}
	}
	publishers := map[string][]any{} // topic → roles of the functions publishing to it
	for _, r := range tpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		var f struct {
			Role        any
			Environment struct{ Variables map[string]any }
		}
		if err := json.Unmarshal(r.Properties, &f); err != nil {
			t.Fatal(err)
		}
		if ref, ok := f.Environment.Variables["EBS_SNAPPER_TOPIC_ARN"].(map[string]any); ok {
			topic := ref["Ref"].(string)
			publishers[topic] = append(publishers[topic], f.Role)
		}
	}
	guarded := map[string]bool{}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::SNS::TopicPolicy" {
			continue
		}
		var p topicPolicy
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Topics) != 1 {
			t.Errorf("%s: want one topic, got %+v", id, p)
			continue
		}
		// The statement that names who may publish (the policy also
		// denies requests without TLS).
		topic, st := p.Topics[0]["Ref"], p.PolicyDocument.Statement[0]
		for _, s := range p.PolicyDocument.Statement {
			if s.Condition["ArnNotEquals"] != nil {
				st = s
			}
		}
		allowed := st.Condition["ArnNotEquals"]["aws:PrincipalArn"]
		if one, ok := allowed.(map[string]any); ok {
			allowed = []any{one}
		}
		if st.Effect != "Deny" || st.Principal["AWS"] != "*" || st.Action != "sns:Publish" || st.Resource["Ref"] != topic {
			t.Errorf("%s: statement %+v, want Deny sns:Publish on %s to every principal", id, st, topic)
		}
		for _, role := range publishers[topic] {
			if !containsJSON(allowed, role) {
				t.Errorf("%s: role %v publishes to %s but the policy denies it (allowed %v)", id, role, topic, allowed)
			}
		}
		guarded[topic] = true
	}
	for topic := range publishers {
		if !guarded[topic] {
			t.Errorf("topic %s has no policy: anyone with sns:Publish could forge a continuation", topic)
		}
	}
}

func containsJSON(list any, v any) bool {
	items, _ := list.([]any)
	for _, it := range items {
		if reflect.DeepEqual(it, v) {
			return true
		}
	}
	return false
}
