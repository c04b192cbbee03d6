package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// sqsEvent is testdata/sqs-event.json, an SQS event as Lambda's event
// source mapping delivers it, with one record per body, the message ids
// "m0", "m1", ...
func sqsEvent(t *testing.T, bodies ...string) json.RawMessage {
	t.Helper()
	var ev map[string][]map[string]any
	readJSON(t, "testdata/sqs-event.json", &ev)
	template := ev["Records"][0]
	ev["Records"] = nil
	for i, b := range bodies {
		rec := map[string]any{}
		for k, v := range template {
			rec[k] = v
		}
		rec["body"], rec["messageId"] = b, fmt.Sprintf("m%d", i)
		ev["Records"] = append(ev["Records"], rec)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// failedIDs are the message ids of a partial batch response.
func failedIDs(t *testing.T, resp any) []string {
	t.Helper()
	r, ok := resp.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("response %T %v, want an events.SQSEventResponse", resp, resp)
	}
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// A worker fed from SQS runs the cell of each record and answers, in the
// partial batch response, exactly the message ids of the cells that
// failed: a body that is not a cell, a cell of an account this stack
// cannot reach; the good cells of the batch are done and not delivered
// again. Only a batch whose every cell failed fails the invocation.
func TestSQSWorkerReportsOnlyTheFailedCells(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bodies  []string
		failed  []string
		fails   bool
		created int
		logs    []string
	}{
		{"one good cell", []string{Message("us-west-2")}, nil, false, 1, []string{`"created":1`}},
		{"the hub's own account named", []string{`{"account": "123456789012", "region": "us-west-2"}`}, nil, false, 1, nil},
		{"one bad cell among good", []string{Message("us-west-2"), `{"account": "222222222222", "region": "us-west-2"}`, "oops"},
			[]string{"m1", "m2"}, false, 1, []string{"account 222222222222: " + ErrNoSpokeAccess.Error(), "not a JSON object"}},
		{"no region", []string{`{"account": "222222222222"}`}, []string{"m0"}, true, 0, []string{`names no \"region\"`}},
		{"account not an id", []string{`{"account": "prod", "region": "us-west-2"}`}, []string{"m0"}, true, 0, []string{"not a 12-digit account id"}},
		{"negative hop", []string{`{"region": "us-west-2", "hop": -1}`}, []string{"m0"}, true, 0, []string{`\"hop\" is negative`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, dailyStanza)
			logs := captureLogs(t)
			h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), Account: ec2fake.AccountID})
			resp, err := h.Handle(invokeCtx(t, "req-sqs", 5*time.Minute), sqsEvent(t, tc.bodies...))
			if (err != nil) != tc.fails {
				t.Errorf("error %v, want an error %v", err, tc.fails)
			}
			if got := failedIDs(t, resp); !slices.Equal(got, tc.failed) {
				t.Errorf("failed message ids %v, want %v", got, tc.failed)
			}
			if n := len(fakes["us-west-2"].Snapshots()); n != tc.created {
				t.Errorf("%d snapshots, want %d", n, tc.created)
			}
			for _, want := range tc.logs {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
		})
	}
}

// A cell of another account runs on the Sources that Config.Spoke
// gives for it, and its
// figures carry its account.
func TestSQSWorkerRunsAnotherAccountsCellOnItsSources(t *testing.T) {
	hub, hubStore := fakeWorld(t, 1, dailyStanza)
	// The spoke's stanzas are in the hub's table, under its account id.
	spoke, _ := fakeWorld(t, 3, "")
	if err := hubStore.Put(t.Context(), configstore.Item{AccountID: "222222222222", ID: "daily", Configuration: dailyStanza}); err != nil {
		t.Fatal(err)
	}
	var asked []string
	var metrics lockedBuffer
	captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(hub, hubStore), Account: ec2fake.AccountID, Metrics: &metrics,
		Spoke: func(_ context.Context, id, _, _ string) (account.Sources, error) {
			asked = append(asked, id)
			if id != "222222222222" {
				return account.Sources{}, errors.New("no spoke role")
			}
			return accounttest.Sources(spoke, hubStore), nil
		}})
	resp, err := h.Handle(invokeCtx(t, "req-spoke", 5*time.Minute), sqsEvent(t, `{"account": "222222222222", "region": "us-west-2"}`, `{"account": "333333333333", "region": "us-west-2"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(t, resp); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("failed %v, want m1 (the account without a spoke)", got)
	}
	if n, m := len(spoke["us-west-2"].Snapshots()), len(hub["us-west-2"].Snapshots()); n != 3 || m != 0 {
		t.Errorf("%d snapshots in the spoke, %d in the hub; want 3 and 0", n, m)
	}
	// The cell's figures carry its account (the Account dimension).
	if !strings.Contains(metrics.String(), `"Account":"222222222222"`) || strings.Contains(metrics.String(), ec2fake.AccountID) {
		t.Errorf("EMF lines lack the spoke's account, or name the hub's:\n%s", metrics.String())
	}
	// The region's coverage goes to the [Account] dimension set too: the
	// per-account RPO series.
	byAccount := 0
	for _, doc := range emfLines(t, metrics.String()) {
		for _, dir := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
			d := dir.(map[string]any)
			if fmt.Sprint(d["Dimensions"]) == "[[Account]]" && len(d["Metrics"].([]any)) == 3 && doc["Account"] == "222222222222" {
				byAccount++
			}
		}
	}
	if byAccount != 1 {
		t.Errorf("%d lines publish the coverage by [Account], want 1 (us-west-2's):\n%s", byAccount, metrics.String())
	}
	if !slices.Equal(asked, []string{"222222222222", "333333333333"}) {
		t.Errorf("Spoke asked for %v", asked)
	}
}

// The fan-out of an organisation deployment sends one cell per ACTIVE
// account and region, ten to a call, each naming its account (the hub's
// too, so that the organisation's stanzas govern it) and OU path; a
// suspended account gets none; a cell SQS refuses fails the invocation
// and no other cell.
func TestFanoutSendsOneCellPerAccountAndRegion(t *testing.T) {
	fakes, store := fakeWorld(t, 1, dailyStanza)
	captureLogs(t)
	q := &recordingSQS{fail: func(body string) bool { return strings.Contains(body, `"region":"us-west-2","account":"444444444444"`) }}
	accounts := []account.OrgAccount{{ID: "222222222222", Status: "ACTIVE", OUs: []string{"ou-ab12-cdef3456"}}, {ID: "123456789012", OUs: []string{"ou-ab12-hubhub12"}}, {ID: "333333333333"},
		{ID: "444444444444"}, {ID: "222222222222"}, {ID: "555555555555", Status: "SUSPENDED"}}
	h := newHandler(t, Config{Name: FanoutClean, Sources: accounttest.Sources(fakes, store), Account: ec2fake.AccountID,
		QueueURL: queueURL, SQS: q, Accounts: func(context.Context) ([]account.OrgAccount, error) { return accounts, nil }})
	err := h.Invoke(invokeCtx(t, "req-fan", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil))
	if err == nil || !strings.Contains(err.Error(), "send the cell of 444444444444 in us-west-2") {
		t.Errorf("error %v, want the refused cell named", err)
	}
	regions := len(fakes)
	if want := 4*regions - 1; len(q.messages) != want {
		t.Errorf("%d cells sent, want %d (4 accounts × %d regions, one refused)", len(q.messages), want, regions)
	}
	if want := (4*regions + 9) / 10; q.calls != want {
		t.Errorf("%d SendMessageBatch calls, want %d", q.calls, want)
	}
	// The hub's cells carry its OU path too: its OUs' stanzas govern it.
	for _, want := range []string{`{"region":"us-west-2","account":"123456789012","ous":["ou-ab12-hubhub12"]}`, `{"region":"us-west-2","account":"333333333333"}`,
		`{"region":"us-west-2","account":"222222222222","ous":["ou-ab12-cdef3456"]}`} {
		if !slices.Contains(q.messages, want) {
			t.Errorf("cells %v lack %s", q.messages, want)
		}
	}
}

// recordingSQS records the messages sent to the queue, failing the
// bodies of fail (by SQS's per-entry Failed).
type recordingSQS struct {
	mu       sync.Mutex
	messages []string
	calls    int
	fail     func(body string) bool
}

func (r *recordingSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if aws.ToString(in.QueueUrl) != queueURL {
		return nil, fmt.Errorf("sent to %s", aws.ToString(in.QueueUrl))
	}
	if len(in.Entries) > 10 {
		return nil, fmt.Errorf("%d entries: SQS takes 10 at most", len(in.Entries))
	}
	r.calls++
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if r.fail != nil && r.fail(aws.ToString(e.MessageBody)) {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("staged"), SenderFault: false})
			continue
		}
		r.messages = append(r.messages, aws.ToString(e.MessageBody))
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m")})
	}
	return out, nil
}

// The replication fan-out probes the hub's own regions for snapshots, not
// the other accounts': their cells go to every region in scope, or a
// spoke's replicas where the hub has no snapshot would never be made.
func TestReplicationFanoutSendsOtherAccountsEveryRegion(t *testing.T) {
	fakes, store := fakeWorld(t, 1, replicatingStanza)
	fakes["us-west-2"].AddSnapshot(inventory.Snapshot{ID: "snap-1", VolumeID: "vol-0000", State: inventory.StateCompleted, StartTime: time.Now()}, ec2fake.AccountID)
	captureLogs(t)
	q := &recordingSQS{}
	h := newHandler(t, Config{Name: FanoutReplication, Sources: accounttest.Sources(fakes, store), Account: ec2fake.AccountID,
		QueueURL: queueURL, SQS: q, Accounts: func(context.Context) ([]account.OrgAccount, error) {
			return []account.OrgAccount{{ID: "222222222222", Status: "ACTIVE"}}, nil
		}})
	if err := h.Invoke(invokeCtx(t, "req-rep", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
		t.Fatal(err)
	}
	slices.Sort(q.messages)
	want := []string{`{"region":"us-east-1","account":"222222222222"}`, `{"region":"us-west-2","account":"123456789012"}`, `{"region":"us-west-2","account":"222222222222"}`}
	if !slices.Equal(q.messages, want) {
		t.Errorf("cells %v, want %v", q.messages, want)
	}
}

// In an organisation deployment the snapshot fan-out keeps the
// replication rule on when a stanza of an OU or of a member account in
// scope asks for replication, though neither the hub nor the organisation
// has one that does: else no member's snapshot would ever be copied. With
// no stanza in scope asking, it turns the rule off, as for one account;
// when the accounts cannot be listed it leaves the rule as it is.
func TestOrgFanoutKeepsReplicationForMembersStanzas(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key        string // where the replicating stanza is
		listErr    error
		wantCalls  []string
		wantFailed bool
	}{
		{"an OU's stanza", "ou-ab12-cdef3456", nil, []string{"DescribeRule r"}, false},
		{"a member's own stanza", "333333333333", nil, []string{"DescribeRule r"}, false},
		{"the hub's OU's stanza", "ou-ab12-hubhub12", nil, []string{"DescribeRule r"}, false},
		{"another account's stanza, out of scope", "999999999999", nil, []string{"DescribeRule r", "DisableRule r"}, false},
		{"accounts not listed", "999999999999", errors.New("AccessDenied"), []string{"DescribeRule r"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes, store := fakeWorld(t, 1, dailyStanza)
			if err := store.Put(t.Context(), configstore.Item{AccountID: tc.key, ID: "copies", Configuration: replicatingStanza}); err != nil {
				t.Fatal(err)
			}
			captureLogs(t)
			rule := &fakeRule{state: ebtypes.RuleStateEnabled}
			accounts := []account.OrgAccount{{ID: ec2fake.AccountID, OUs: []string{"ou-ab12-hubhub12"}},
				{ID: "222222222222", OUs: []string{"ou-ab12-cdef3456"}}, {ID: "333333333333"}}
			h := newHandler(t, Config{Name: FanoutSnapshot, Sources: accounttest.Sources(fakes, store), Account: ec2fake.AccountID,
				QueueURL: queueURL, SQS: &recordingSQS{}, ReplicationRule: "r", Events: rule,
				Accounts: func(context.Context) ([]account.OrgAccount, error) { return accounts, tc.listErr }})
			err := h.Invoke(invokeCtx(t, "req-rule", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil))
			if (err != nil) != tc.wantFailed {
				t.Errorf("error %v, want one %v", err, tc.wantFailed)
			}
			if !slices.Equal(rule.calls, tc.wantCalls) {
				t.Errorf("EventBridge calls %v, want %v", rule.calls, tc.wantCalls)
			}
		})
	}
}
