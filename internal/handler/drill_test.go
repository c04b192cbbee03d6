package handler

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
)

// The drill fan-out publishes a job per region only when some valid stanza
// has a "drill" key: with none, the drill pipeline is off.
func TestFanoutDrillOnlyWhenAStanzaAsksForDrills(t *testing.T) {
	for _, tc := range []struct {
		stanza string
		want   []string
	}{
		{dailyStanza, nil},
		{`{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}, "drill": {"every": "7 days"}}`,
			[]string{`{"region": "us-east-1"}`, `{"region": "us-west-2"}`}},
	} {
		fakes, store := fakeWorld(t, 1, tc.stanza)
		captureLogs(t)
		pub := &recordingSQS{}
		h := newHandler(t, Config{Name: FanoutDrill, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub})
		if err := h.Invoke(invokeCtx(t, "req-drill", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
			t.Fatal(err)
		}
		slices.Sort(pub.messages)
		if diff := cmp.Diff(tc.want, pub.messages); diff != "" {
			t.Errorf("%s: messages (-want +got):\n%s", tc.stanza, diff)
		}
	}
}
