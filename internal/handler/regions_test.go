package handler

import (
	"slices"
	"strings"
	"testing"
	"time"

	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Issue 16 item 7: the stack's Regions parameter (EBS_SNAPPER_REGIONS)
// limits every fan-out, so no worker starts in a region it leaves out; a
// listed region the account has not enabled is logged and left out.
func TestFanoutHonoursTheStacksRegions(t *testing.T) {
	for _, name := range []string{FanoutSnapshot, FanoutClean, FanoutReplication} {
		t.Run(name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, dailyStanza)
			for region, f := range fakes {
				f.AddSnapshot(inventory.Snapshot{ID: "snap-" + region, VolumeID: "vol-0000"}, "")
			}
			logs := captureLogs(t)
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: name, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub,
				ReplicationRule: "replication-rule", Events: &fakeRule{state: ebtypes.RuleStateDisabled},
				Regions: []string{"ap-south-1", "us-west-2"}})
			if err := h.Invoke(invokeCtx(t, "req-r", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
				t.Fatal(err)
			}
			slices.Sort(pub.messages)
			if diff := cmp.Diff([]string{`{"region": "us-west-2"}`}, pub.messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if got := logLines(t, logs, "region skipped: in the stack's Regions but not enabled for the account"); len(got) != 1 || got[0]["region"] != "ap-south-1" {
				t.Errorf("not-enabled region logged as %v", got)
			}
		})
	}
}

func TestParseRegions(t *testing.T) {
	got, err := ParseRegions("us-west-2,eu-west-1,us-west-2,us-gov-west-1")
	if err != nil || !slices.Equal(got, []string{"eu-west-1", "us-gov-west-1", "us-west-2"}) {
		t.Errorf("ParseRegions = %v, %v", got, err)
	}
	for _, bad := range []string{"us-east-1, eu-west-1", "us-east-1,", "US-EAST-1", "useast1", ""} {
		if _, err := ParseRegions(bad); err == nil || !strings.Contains(err.Error(), "is not a region name") {
			t.Errorf("ParseRegions(%q) = %v, want an error naming the item", bad, err)
		}
	}
}
