package handler

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// Every fan-out run writes its pipeline's heartbeat: the valid and invalid
// stanzas it found. Deleting the only stanza, or breaking it, drops
// ValidStanzas to 0, on which the stack's pipeline alarm fires (as it does
// when no heartbeat comes at all).
func TestFanoutWritesThePipelineHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		name, stanza   string
		valid, invalid float64
	}{
		{"one valid stanza", dailyStanza, 1, 0},
		{"the only stanza deleted", "", 0, 0},
		{"the only stanza broken", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 parsecs"}}`, 0, 1},
	} {
		for _, name := range []string{FanoutSnapshot, FanoutClean, FanoutReplication} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				fakes, store := fakeWorld(t, 1, "")
				if tc.stanza != "" {
					if err := store.Put(t.Context(), configstore.Item{AccountID: ec2fake.AccountID, ID: "daily", Configuration: tc.stanza}); err != nil {
						t.Fatal(err)
					}
				}
				captureLogs(t)
				var metrics bytes.Buffer
				h := newHandler(t, Config{Name: name, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{},
					ReplicationRule: "r", Events: &fakeRule{}, Metrics: &metrics})
				_ = h.Invoke(invokeCtx(t, "req-hb", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil))
				var line map[string]any
				if err := json.Unmarshal(metrics.Bytes(), &line); err != nil {
					t.Fatalf("metrics %q: %v", metrics.String(), err)
				}
				pipeline := name[len("fanout-"):]
				if line["Pipeline"] != pipeline || line["ValidStanzas"] != tc.valid || line["InvalidStanzas"] != tc.invalid {
					t.Errorf("heartbeat %v, want pipeline %s, %v valid, %v invalid", line, pipeline, tc.valid, tc.invalid)
				}
				dims, _ := json.Marshal(line["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"])
				if string(dims) != `[["Pipeline"]]` {
					t.Errorf("dimensions %s, want [[Pipeline]]", dims)
				}
			})
		}
	}
}
