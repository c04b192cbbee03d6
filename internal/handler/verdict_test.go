package handler

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// TestWorkerVerdict: the worker's invocation fails on every row that makes
// the CLI exit non-zero (snapper.Judge), so that the function's Errors
// metric and its alarm see it; the error names the region and what failed.
func TestWorkerVerdict(t *testing.T) {
	rejected := `{"match": {"key-name": "x"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}}`
	tests := []struct {
		name  string
		extra map[string]string // more stored stanzas by id
		base  string            // the "daily" stanza; "" stores none
		fail  func(f *ec2fake.Fake)
		want  string // in the error; "" for no error
	}{
		{name: "all done", base: dailyStanza},
		{name: "stanza rejected by EC2", base: dailyStanza, extra: map[string]string{"keyname": rejected}, want: "1 stanza rejected by EC2"},
		{name: "stored stanza invalid beside a valid one", base: dailyStanza, extra: map[string]string{"broken": `{"match": {}}`},
			want: "1 stored stanza is invalid"},
		{name: "every stored stanza invalid", extra: map[string]string{"broken": `{"match": {}}`}, want: "every stored stanza is invalid"},
		{name: "failed action", base: dailyStanza, fail: func(f *ec2fake.Fake) {
			f.Fail(ec2fake.OpCreateSnapshot, 1, &smithy.GenericAPIError{Code: "IncorrectState", Fault: smithy.FaultClient})
		}, want: "1 action failed"},
		{name: "unknown outcome", base: dailyStanza, fail: func(f *ec2fake.Fake) {
			// A create EC2 answers with a server error is sent, so its
			// outcome is unknown; the listing that would settle it fails.
			f.Fail(ec2fake.OpCreateSnapshot, 1, &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer})
			f.OnCall = func(op string, _ any) error {
				if op == ec2fake.OpDescribeSnapshots && f.Calls(op) > 1 {
					return &smithy.GenericAPIError{Code: "AuthFailure", Fault: smithy.FaultClient}
				}
				return nil
			}
		}, want: "1 action failed or its outcome is unknown"},
		{name: "region failed", base: dailyStanza, fail: func(f *ec2fake.Fake) {
			f.Fail(ec2fake.OpDescribeSnapshots, 100, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Fault: smithy.FaultClient})
		}, want: "every region failed, e.g. us-west-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 2, tc.base)
			for id, raw := range tc.extra {
				if err := store.Put(t.Context(), configstore.Item{AccountID: ec2fake.AccountID, ID: id, Configuration: raw}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.fail != nil {
				tc.fail(fakes["us-west-2"])
			}
			captureLogs(t)
			h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store)})
			err := h.Invoke(invokeCtx(t, "req-v", 5*time.Minute), snsEvent(t, Message("us-west-2")))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("invocation failed: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "us-west-2")):
				t.Fatalf("invocation error %v, want one naming us-west-2 and %q", err, tc.want)
			}
		})
	}
}

// TestFanoutFailsWithoutAValidStanza: stanzas are stored but none is valid,
// so no backup would be taken anywhere: the fan-out's invocation fails. With
// nothing stored at all it succeeds (nothing is asked for).
func TestFanoutFailsWithoutAValidStanza(t *testing.T) {
	for _, name := range []string{FanoutSnapshot, FanoutClean, FanoutReplication} {
		t.Run(name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "no", "minimum": 5, "frequency": "1 day"}}`)
			captureLogs(t)
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: name, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub,
				ReplicationRule: "replication-rule", Events: &fakeRule{}})
			err := h.Invoke(invokeCtx(t, "req-f", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil))
			if err == nil || !strings.Contains(err.Error(), "every stored stanza is invalid") || len(pub.messages) != 0 {
				t.Errorf("got %v and %d messages, want no message and an error saying every stored stanza is invalid", err, len(pub.messages))
			}
			// Nothing stored at all: nothing is asked for, no failure.
			empty, none := fakeWorld(t, 1, "")
			h = newHandler(t, Config{Name: name, Sources: accounttest.Sources(empty, none), QueueURL: queueURL, SQS: &recordingSQS{},
				ReplicationRule: "replication-rule", Events: &fakeRule{}})
			if err := h.Invoke(invokeCtx(t, "req-g", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
				t.Errorf("nothing stored: %v, want no error", err)
			}
		})
	}
}
