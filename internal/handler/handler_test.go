package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

const (
	dailyStanza       = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}}`
	replicatingStanza = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}, "replication": "yes"}`
	queueURL          = "https://sqs.us-east-1.amazonaws.com/123456789012/CreateSnapshotQueue"
)

// captureLogs sends the default logger's JSON lines to the returned buffer
// for the test's duration.
func captureLogs(t *testing.T) *lockedBuffer {
	t.Helper()
	var buf lockedBuffer
	prev := slog.Default()
	slog.SetDefault(NewLogger(&buf, slog.LevelDebug))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// snsEvent is testdata/sns-event.json, an SNS event as SNS delivers it to
// Lambda, with one record per message.
func snsEvent(t *testing.T, messages ...string) json.RawMessage {
	t.Helper()
	var ev map[string][]map[string]any
	readJSON(t, "testdata/sns-event.json", &ev)
	template := ev["Records"][0]
	ev["Records"] = nil
	for _, m := range messages {
		rec := map[string]any{}
		for k, v := range template {
			rec[k] = v
		}
		sns := map[string]any{}
		for k, v := range template["Sns"].(map[string]any) {
			sns[k] = v
		}
		sns["Message"] = m
		rec["Sns"] = sns
		ev["Records"] = append(ev["Records"], rec)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func readJSON(t *testing.T, path string, v any) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return raw
}

// fakeWorld is an account on fakes: in us-west-2 one instance tagged
// backup=yes with the given number of volumes; us-east-1 is empty.
func fakeWorld(t *testing.T, volumes int, stanza string) (map[string]*ec2fake.Fake, *configstore.Memory) {
	t.Helper()
	fakes := map[string]*ec2fake.Fake{"us-east-1": {}, "us-west-2": {}}
	var ids []string
	for i := range volumes {
		ids = append(ids, fmt.Sprintf("vol-%04d", i))
	}
	fakes["us-west-2"].AddInstance(inventory.Instance{ID: "i-web", ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}, VolumeIDs: ids})
	store := &configstore.Memory{}
	if stanza != "" {
		if err := store.Put(t.Context(), configstore.Item{AccountID: ec2fake.AccountID, ID: "daily", Configuration: stanza}); err != nil {
			t.Fatal(err)
		}
	}
	return fakes, store
}

// newHandler returns the Handler of cfg; a worker whose cfg has no SQS
// client gets a recording one on queueURL and leases in memory.
func newHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	if (cfg.Name == Snapshot || cfg.Name == Clean) && cfg.SQS == nil {
		cfg.QueueURL, cfg.SQS, cfg.Leases = queueURL, &recordingSQS{}, &lease.Memory{}
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// invokeCtx is a Lambda invocation's context: request id and deadline.
func invokeCtx(t *testing.T, requestID string, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
}

func TestWorkerSnapshotsItsRegion(t *testing.T) {
	fakes, store := fakeWorld(t, 2, dailyStanza)
	logs := captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), Version: "test"})
	if err := h.Invoke(invokeCtx(t, "req-1", 5*time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-west-2"].Snapshots()); n != 2 {
		t.Errorf("%d snapshots in us-west-2, want 2", n)
	}
	if calls := fakes["us-east-1"].AllCalls(); len(calls) != 0 {
		t.Errorf("the worker touched another region: %v", calls)
	}
	// Every line is JSON, and those logged during the invocation carry its
	// request id; the report is one line with the DESIGN keys.
	var finished map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["request_id"] != "req-1" {
			t.Errorf("log line without the request id: %q", line)
		}
		if rec["msg"] == "run finished" {
			finished = rec
		}
	}
	if finished["region"] != "us-west-2" || finished["created"] != 2.0 || finished["not_started"] != 0.0 {
		t.Errorf("report line %v, want region us-west-2 and created 2", finished)
	}
}

// Records are decoded as the original did (docs/lambda.md): anything without
// a region to work on is logged and skipped, never fatal.
func TestWorkerSkipsWhatItCannotUse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event json.RawMessage
		logs  []string
	}{
		{"console test event", json.RawMessage(`{"key1": "value1", "key2": "value2", "key3": "value3"}`), []string{"must be invoked from its SQS queue"}},
		{"record without Sns", json.RawMessage(`{"Records": [{"EventSource": "aws:sns"}]}`), []string{"no Sns section"}},
		{"empty message", snsEvent(t, ""), []string{"no message"}},
		{"message not JSON", snsEvent(t, "us-west-2"), []string{"not a JSON object"}},
		{"message without region", snsEvent(t, `{"instance_id": "i-1"}`), []string{`names no \"region\"`}},
		{"one bad record, one good", snsEvent(t, "oops", Message("us-west-2")), []string{"not a JSON object", `"created":1`}},
		{"region not a string", snsEvent(t, `{"region": 5}`), []string{`message is not a JSON object with a string \"region\"`}},
		{"record of the wrong shape, one good", json.RawMessage(`{"Records": [{"Sns": "oops"}, {"Sns": {"Message": "{\"region\": \"us-west-2\"}"}}]}`),
			[]string{"not an SNS record", `"created":1`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, dailyStanza)
			logs := captureLogs(t)
			h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store)})
			if err := h.Invoke(invokeCtx(t, "req-2", 5*time.Minute), tc.event); err != nil {
				t.Fatalf("got %v, want a normal return", err)
			}
			for _, want := range tc.logs {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
			wantSnaps := strings.Count(strings.Join(tc.logs, " "), `"created":1`)
			if n := len(fakes["us-west-2"].Snapshots()); n != wantSnaps {
				t.Errorf("%d snapshots, want %d", n, wantSnaps)
			}
		})
	}
}

// A failed action fails the invocation, so the Errors metric and the
// alarm see it; the error names the region.
func TestWorkerFailsWhenActionsFail(t *testing.T) {
	fakes, store := fakeWorld(t, 2, dailyStanza)
	// A refusal (a client fault): a 5xx would be an unknown outcome, which
	// the run settles by listing and re-issuing.
	fakes["us-west-2"].Fail(ec2fake.OpCreateSnapshot, 1, &smithy.GenericAPIError{Code: "IncorrectState", Fault: smithy.FaultClient})
	captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store)})
	err := h.Invoke(invokeCtx(t, "req-3", 5*time.Minute), snsEvent(t, Message("us-west-2")))
	if err == nil || !strings.Contains(err.Error(), "us-west-2") || !strings.Contains(err.Error(), "1 action failed") {
		t.Errorf("got %v, want an error naming the region and the failed action", err)
	}
	if n := len(fakes["us-west-2"].Snapshots()); n != 1 {
		t.Errorf("%d snapshots, want the other volume snapshotted", n)
	}

	// A region the account has not enabled is an error too.
	err = h.Invoke(invokeCtx(t, "req-4", 5*time.Minute), snsEvent(t, Message("mars-north-1")))
	if err == nil || !strings.Contains(err.Error(), "mars-north-1") {
		t.Errorf("got %v, want an error naming the region", err)
	}
}

// A function timeout not above the margin still leaves the worker time to
// work: a fifth of it becomes the margin.
func TestWorkerMarginAboveTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes, store := fakeWorld(t, 2, dailyStanza)
		logs := captureLogs(t)
		h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store)})
		if err := h.Invoke(invokeCtx(t, "req-10", 30*time.Second), snsEvent(t, Message("us-west-2"))); err != nil {
			t.Fatal(err)
		}
		if n := len(fakes["us-west-2"].Snapshots()); n != 2 || !strings.Contains(logs.String(), "using a fifth of it") {
			t.Errorf("%d snapshots, want 2 and a warning; logs:\n%s", n, logs)
		}
	})
}

// A worker whose deadline is too short for its region stops starting
// snapshots at deadline - margin, reports the rest as not started (no
// failure) and returns before the deadline.
func TestWorkerStopsStartingBeforeTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const volumes = 40
		const slow = 50 * time.Millisecond
		fakes, store := fakeWorld(t, volumes, dailyStanza)
		fakes["us-west-2"].OnCall = func(op string, _ any) error {
			if op == ec2fake.OpCreateSnapshot {
				time.Sleep(slow)
			}
			return nil
		}
		logs := captureLogs(t)
		// On the bubble's virtual clock: 40 volumes at 8 in flight take 250
		// ms; the deadline is 400 ms away and work stops starting at 90 ms,
		// after the batches started at 0 and 50 ms (16 volumes). The last
		// call ends at 100 ms, 300 ms before the deadline. The margin keeps
		// the stop off the 50 ms batch boundaries so that the order of
		// timers firing at one instant cannot change the count.
		h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), Margin: 310 * time.Millisecond})
		const timeout = 400 * time.Millisecond
		ctx := invokeCtx(t, "req-5", timeout)
		deadline, _ := ctx.Deadline()
		if err := h.Invoke(ctx, snsEvent(t, Message("us-west-2"))); err != nil {
			t.Fatalf("got %v, want no error: actions not started are no failure", err)
		}
		if left := time.Until(deadline); left != 300*time.Millisecond {
			t.Errorf("returned %s before the deadline, want 300ms (the margin less the calls in flight)", left)
		}
		created := len(fakes["us-west-2"].Snapshots())
		if created != 16 {
			t.Errorf("%d of %d volumes snapshotted, want the 16 started before the margin", created, volumes)
		}
		want := fmt.Sprintf(`"created":%d,"deleted":0,"kept":0,"failed":0,"not_started":%d`, created, volumes-created)
		if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "deadline margin reached") {
			t.Errorf("logs lack %s and the margin warning:\n%s", want, logs)
		}
	})
}

// fakeRule is one EventBridge rule, recording the calls made to it.
type fakeRule struct {
	state ebtypes.RuleState
	calls []string
}

func (f *fakeRule) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	f.calls = append(f.calls, "DescribeRule "+aws.ToString(in.Name))
	return &eventbridge.DescribeRuleOutput{Name: in.Name, State: f.state}, nil
}

func (f *fakeRule) EnableRule(_ context.Context, in *eventbridge.EnableRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error) {
	f.calls = append(f.calls, "EnableRule "+aws.ToString(in.Name))
	f.state = ebtypes.RuleStateEnabled
	return &eventbridge.EnableRuleOutput{}, nil
}

func (f *fakeRule) DisableRule(_ context.Context, in *eventbridge.DisableRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DisableRuleOutput, error) {
	f.calls = append(f.calls, "DisableRule "+aws.ToString(in.Name))
	f.state = ebtypes.RuleStateDisabled
	return &eventbridge.DisableRuleOutput{}, nil
}

func TestFanoutPublishesOneMessagePerRegion(t *testing.T) {
	for _, name := range []string{FanoutSnapshot, FanoutClean, FanoutReplication} {
		t.Run(name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, dailyStanza)
			for region, f := range fakes {
				// Replication fans out to the regions holding snapshots.
				f.AddSnapshot(inventory.Snapshot{ID: "snap-" + region, VolumeID: "vol-0000"}, "")
			}
			captureLogs(t)
			pub := &recordingSQS{}
			h := newHandler(t, Config{Name: name, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub,
				ReplicationRule: "replication-rule", Events: &fakeRule{state: ebtypes.RuleStateDisabled}})
			if err := h.Invoke(invokeCtx(t, "req-6", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
				t.Fatal(err)
			}
			want := []string{`{"region": "us-east-1"}`, `{"region": "us-west-2"}`}
			slices.Sort(pub.messages)
			if diff := cmp.Diff(want, pub.messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}

	// Without a valid stanza every worker would find nothing to do.
	fakes, _ := fakeWorld(t, 1, "")
	pub := &recordingSQS{}
	h := newHandler(t, Config{Name: FanoutClean, Sources: accounttest.Sources(fakes, &configstore.Memory{}), QueueURL: queueURL, SQS: pub})
	if err := h.Invoke(invokeCtx(t, "req-7", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil || len(pub.messages) != 0 {
		t.Errorf("no stanza: got %v and %d messages, want none", err, len(pub.messages))
	}
}

// The snapshot fan-out switches the replication rule from the stanzas, and
// writes only when the state changes.
func TestFanoutSnapshotSwitchesTheReplicationRule(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stanza string
		state  ebtypes.RuleState
		want   []string
	}{
		{"replication asked, rule disabled", replicatingStanza, ebtypes.RuleStateDisabled, []string{"DescribeRule r", "EnableRule r"}},
		{"replication asked, rule enabled", replicatingStanza, ebtypes.RuleStateEnabled, []string{"DescribeRule r"}},
		{"no replication, rule enabled", dailyStanza, ebtypes.RuleStateEnabled, []string{"DescribeRule r", "DisableRule r"}},
		{"no replication, rule disabled", dailyStanza, ebtypes.RuleStateDisabled, []string{"DescribeRule r"}},
		{"no valid stanza, rule enabled", "", ebtypes.RuleStateEnabled, []string{"DescribeRule r", "DisableRule r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, tc.stanza)
			captureLogs(t)
			rule := &fakeRule{state: tc.state}
			h := newHandler(t, Config{Name: FanoutSnapshot, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{},
				ReplicationRule: "r", Events: rule})
			if err := h.Invoke(invokeCtx(t, "req-8", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rule.calls); diff != "" {
				t.Errorf("EventBridge calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "EBS_SNAPPER_HANDLER"},
		{Config{Name: "snapshots"}, `unknown handler "snapshots"`},
		{Config{Name: FanoutClean}, "EBS_SNAPPER_QUEUE_URL"},
		{Config{Name: FanoutSnapshot, QueueURL: queueURL, SQS: &recordingSQS{}}, "EBS_SNAPPER_REPLICATION_RULE"},
		{Config{Name: Clean, Margin: -time.Second}, "must not be negative"},
		{Config{Name: Clean, MaxHops: -1}, "must not be negative"},
		{Config{Name: Snapshot}, "for continuations, is not set (EBS_SNAPPER_QUEUE_URL)"},
		{Config{Name: Clean, QueueURL: queueURL, SQS: &recordingSQS{}}, "EBS_SNAPPER_LEASE_TABLE"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}

// The replication fan-out publishes only for the regions where the account
// owns snapshots, asking each with one smallest-page listing.
func TestFanoutReplicationSkipsRegionsWithoutSnapshots(t *testing.T) {
	fakes, store := fakeWorld(t, 1, replicatingStanza)
	fakes["eu-west-1"] = &ec2fake.Fake{}
	fakes["us-west-2"].AddSnapshot(inventory.Snapshot{ID: "snap-1", VolumeID: "vol-0000"}, "")
	fakes["us-east-1"].AddSnapshot(inventory.Snapshot{ID: "snap-2", VolumeID: "vol-9"}, "999999999999") // not the account's
	var pages []int32
	for _, f := range fakes {
		f.OnCall = func(op string, in any) error {
			if op == ec2fake.OpDescribeSnapshots {
				pages = append(pages, aws.ToInt32(in.(*ec2.DescribeSnapshotsInput).MaxResults))
			}
			return nil
		}
	}
	captureLogs(t)
	pub := &recordingSQS{}
	h := newHandler(t, Config{Name: FanoutReplication, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: pub})
	if err := h.Invoke(invokeCtx(t, "req-8", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
		t.Fatal(err)
	}
	if want := []string{`{"region": "us-west-2"}`}; !slices.Equal(want, pub.messages) {
		t.Errorf("messages %v, want %v", pub.messages, want)
	}
	if want := []int32{5, 5, 5}; !slices.Equal(want, pages) {
		t.Errorf("DescribeSnapshots page sizes %v, want one call of 5 per region", pages)
	}
}

func TestReplicationWorkerReplicatesItsRegion(t *testing.T) {
	fakes, store := fakeWorld(t, 1, replicatingStanza)
	ec2fake.Link(fakes)
	fakes["us-west-2"].AddSnapshot(inventory.Snapshot{ID: "snap-orig", VolumeID: "vol-0000",
		Tags: []inventory.Tag{{Key: "replication_dst_region", Value: "us-east-1"}}}, "")
	captureLogs(t)
	h := newHandler(t, Config{Name: Replication, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{}, Leases: &lease.Memory{}})
	if err := h.Invoke(invokeCtx(t, "req-9", 5*time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	copies := fakes["us-east-1"].Snapshots()
	if len(copies) != 1 {
		t.Fatalf("snapshots in us-east-1: %+v, want one replica", copies)
	}
	if id, _ := copies[0].Tag("replication_snapshot_id"); id != "snap-orig" {
		t.Errorf("replica tags %v", copies[0].Tags)
	}
	// The destination's worker keeps it; nothing is copied twice.
	if err := h.Invoke(invokeCtx(t, "req-10", 5*time.Minute), snsEvent(t, Message("us-east-1"), Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-east-1"].Snapshots()); n != 1 {
		t.Errorf("%d snapshots in us-east-1 after a second run, want 1", n)
	}
}

// EBS_SNAPPER_COPY_LIMIT (Config.CopyLimit) replaces EC2's default 20
// where AWS Support raised the quota.
func TestReplicationWorkerKeepsItsCopyLimit(t *testing.T) {
	fakes, store := fakeWorld(t, 1, replicatingStanza)
	ec2fake.Link(fakes)
	for i := range 22 {
		fakes["us-west-2"].AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-orig%02d", i), VolumeID: "vol-0000",
			Tags: []inventory.Tag{{Key: "replication_dst_region", Value: "us-east-1"}}}, "")
	}
	captureLogs(t)
	h := newHandler(t, Config{Name: Replication, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{},
		Leases: &lease.Memory{}, CopyLimit: 21})
	if err := h.Invoke(invokeCtx(t, "req-11", 5*time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	if n := len(fakes["us-east-1"].Snapshots()); n != 21 {
		t.Errorf("%d replicas in us-east-1, want 21 (the limit of 21; the 22nd is deferred)", n)
	}
}

func TestIAMActions(t *testing.T) {
	want := []string{"events:DescribeRule", "events:DisableRule", "events:EnableRule", "sqs:SendMessage"}
	if diff := cmp.Diff(want, IAMActions()); diff != "" {
		t.Errorf("IAM actions (-want +got):\n%s", diff)
	}
}

func TestMessageIsTheOriginalSerialisation(t *testing.T) {
	if got := Message("eu-west-1"); got != `{"region": "eu-west-1"}` {
		t.Errorf("Message = %s", got)
	}
}

// A copy that keeps failing fails the worker's invocation, so the
// function's Errors alarm sees it: after snapper.MaxCopyAttempts copies in
// state error the original is not copied again and is reported failed.
func TestReplicationWorkerFailsOnACopyThatKeepsFailing(t *testing.T) {
	fakes, store := fakeWorld(t, 1, replicatingStanza)
	ec2fake.Link(fakes)
	fakes["us-west-2"].AddSnapshot(inventory.Snapshot{ID: "snap-orig", VolumeID: "vol-0000",
		Tags: []inventory.Tag{{Key: "replication_dst_region", Value: "us-east-1"}}}, "")
	for i := range snapper.MaxCopyAttempts {
		fakes["us-east-1"].AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-failed%d", i), VolumeID: provenance.PlaceholderVolume, State: inventory.StateError,
			Description: provenance.CopyDescription(provenance.Copy{SourceRegion: "us-west-2", SourceID: "snap-orig", VolumeID: "vol-0000"}, ""),
			Tags:        []inventory.Tag{{Key: "replication_src_region", Value: "us-west-2"}, {Key: "replication_snapshot_id", Value: "snap-orig"}}}, "")
	}
	captureLogs(t)
	h := newHandler(t, Config{Name: Replication, Sources: accounttest.Sources(fakes, store), QueueURL: queueURL, SQS: &recordingSQS{}, Leases: &lease.Memory{}})
	if err := h.Invoke(invokeCtx(t, "req-12", 5*time.Minute), snsEvent(t, Message("us-west-2"))); err == nil {
		t.Error("the worker succeeded though the original's copies keep failing")
	}
	if n := len(fakes["us-east-1"].Snapshots()); n != snapper.MaxCopyAttempts {
		t.Errorf("%d snapshots in us-east-1, want the %d failed copies and no new one", n, snapper.MaxCopyAttempts)
	}
}
