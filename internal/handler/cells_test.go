package handler

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

const (
	spokeAccount   = "222222222222"
	refusedAccount = "333333333333"
	cellOU         = "ou-ab12-cdef3456"
)

// keyLog records the lease keys taken.
type keyLog struct {
	lease.Memory
	mu   sync.Mutex
	keys []string
}

func (k *keyLog) Acquire(ctx context.Context, l lease.Lease, from string, now time.Time) error {
	k.mu.Lock()
	k.keys = append(k.keys, l.Key)
	k.mu.Unlock()
	return k.Memory.Acquire(ctx, l, from, now)
}

// orgWorld is a hub (ec2fake.AccountID, no instance) whose table holds an
// OU-wide stanza only, and a spoke account with a tagged instance of
// volumes in us-west-2; refusedAccount's spoke role refuses.
func orgWorld(t *testing.T, volumes int) (hub, spoke map[string]*ec2fake.Fake, store *configstore.Memory, spokeFn SpokeFunc, sessions *[]string) {
	t.Helper()
	hub = map[string]*ec2fake.Fake{"us-west-2": {}}
	spoke, _ = fakeWorld(t, volumes, "")
	store = &configstore.Memory{}
	if err := store.Put(t.Context(), configstore.Item{AccountID: cellOU, ID: "daily", Configuration: dailyStanza}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sessions = &[]string{}
	spokeFn = func(_ context.Context, acct, _, session string) (account.Sources, error) {
		mu.Lock()
		*sessions = append(*sessions, acct+" "+session)
		mu.Unlock()
		if acct == refusedAccount {
			return account.Sources{}, &account.CellError{Account: acct, Role: "arn:aws:iam::" + acct + ":role/ebs-snapper-spoke", Cause: account.RoleRefused, Err: errors.New("AccessDenied")}
		}
		return accounttest.Sources(spoke, store), nil
	}
	return hub, spoke, store, spokeFn, sessions
}

func cellIn(acct string, ous ...string) string { return cellMessageIn("us-west-2", acct, ous...) }

// cellMessageIn is the worker message of acct's cell in region.
func cellMessageIn(region, acct string, ous ...string) string {
	b, _ := json.Marshal(regionMessage{Region: region, Account: acct, OUs: ous})
	return string(b)
}

// TestWorkerActsInTheCellsAccount: a message naming another account is
// worked on through that account's spoke (one session per invocation,
// named after the pipeline and region) by the stanzas of its OU, under a
// lease keyed by the account; a refused spoke fails its own record (a
// batch item failure) with the cause and fix logged while the next
// record's cell is done.
func TestWorkerActsInTheCellsAccount(t *testing.T) {
	hub, spoke, store, spokeFn, sessions := orgWorld(t, 2)
	logs := captureLogs(t)
	leases := &keyLog{}
	h := newHandler(t, Config{Name: Snapshot, Account: ec2fake.AccountID, Sources: accounttest.Sources(hub, store), Spoke: spokeFn,
		QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases})
	resp, err := h.Handle(invokeCtx(t, "req-1", 5*time.Minute), sqsEvent(t, cellIn(refusedAccount, cellOU), cellIn(spokeAccount, cellOU)))
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(t, resp); !slices.Equal(got, []string{"m0"}) {
		t.Errorf("failed cells %v, want m0 (the refused one) only", got)
	}
	if n := len(spoke["us-west-2"].Snapshots()); n != 2 {
		t.Errorf("%d snapshots in the spoke, want 2 (by the OU's stanza)", n)
	}
	if calls := hub["us-west-2"].AllCalls(); len(calls) != 0 {
		t.Errorf("the hub's own EC2 was called: %v", calls)
	}
	if want := []string{refusedAccount + " ebs-snapper-snapshot-us-west-2", spokeAccount + " ebs-snapper-snapshot-us-west-2"}; !slices.Equal(*sessions, want) {
		t.Errorf("spoke sessions %v, want %v", *sessions, want)
	}
	if want := []string{refusedAccount + "/snapshot/us-west-2", spokeAccount + "/snapshot/us-west-2"}; !slices.Equal(leases.keys, want) {
		t.Errorf("lease keys %v, want %v", leases.keys, want)
	}
	lines := logLines(t, logs, "cell not worked on")
	if len(lines) != 1 || lines[0]["cause"] != "role_refused" || !strings.Contains(lines[0]["fix"].(string), "StackSet") {
		t.Errorf("cell log lines %v, want one with cause role_refused and the StackSet fix", lines)
	}

	// Without the OU, the account's stanzas are its own only: none.
	spoke["us-west-2"].AddInstance(inventory.Instance{ID: "i-other", ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}, VolumeIDs: []string{"vol-x"}})
	if err := h.Invoke(invokeCtx(t, "req-2", 5*time.Minute), sqsEvent(t, cellIn(spokeAccount))); err != nil {
		t.Fatal(err)
	}
	if n := len(spoke["us-west-2"].Snapshots()); n != 2 {
		t.Errorf("%d snapshots, want still 2: the OU's stanza governs only the accounts under it", n)
	}

	// The hub's own account named in a message uses its own Sources and
	// the single-account lease key.
	leases.keys = nil
	if err := h.Invoke(invokeCtx(t, "req-3", 5*time.Minute), sqsEvent(t, cellIn(ec2fake.AccountID, cellOU))); err != nil {
		t.Fatal(err)
	}
	if want := []string{"snapshot/us-west-2"}; !slices.Equal(leases.keys, want) || len(*sessions) != 3 {
		t.Errorf("hub cell: lease keys %v (want %v), %d sessions (want no new one)", leases.keys, want, len(*sessions))
	}
}

// TestWorkerContinuationKeepsTheCell: a continuation names the same
// account and OUs, and re-assumes the spoke role in its own invocation.
func TestWorkerContinuationKeepsTheCell(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hub, spoke, store, spokeFn, sessions := orgWorld(t, 40)
		slowCreates(spoke["us-west-2"], 50*time.Millisecond)
		pub := &recordingSQS{}
		h := newHandler(t, Config{Name: Snapshot, Account: ec2fake.AccountID, Sources: accounttest.Sources(hub, store), Spoke: spokeFn,
			QueueURL: queueURL, SQS: pub, Leases: &lease.Memory{}, MaxHops: 20, Margin: 310 * time.Millisecond})
		if err := h.Invoke(invokeCtx(t, "req-0", 400*time.Millisecond), sqsEvent(t, cellIn(spokeAccount, cellOU))); err != nil {
			t.Fatal(err)
		}
		published := pub.take()
		if len(published) != 1 {
			t.Fatalf("published %v, want one continuation", published)
		}
		var next regionMessage
		if err := json.Unmarshal([]byte(published[0]), &next); err != nil {
			t.Fatal(err)
		}
		if next.Account != spokeAccount || !slices.Equal(next.OUs, []string{cellOU}) || next.Hop != 1 {
			t.Errorf("continuation %+v, want account %s, OUs [%s], hop 1", next, spokeAccount, cellOU)
		}
		if err := h.Invoke(invokeCtx(t, "req-1", 400*time.Millisecond), sqsEvent(t, published[0])); err != nil {
			t.Fatal(err)
		}
		if len(*sessions) != 2 {
			t.Errorf("sessions %v, want one per invocation", *sessions)
		}
	})
}

// TestCellMessageNamesOnlyOUs: a message's "ous" pick keys of the hub's
// table, so one naming another account's id (or any key that is not an
// OU) would govern this account by that account's stanzas. Such a
// message, or one whose region is not a region name, fails its own record
// with an error naming the field, before any lease or spoke session, and
// changes nothing; the batch's good cell is done.
func TestCellMessageNamesOnlyOUs(t *testing.T) {
	hub, spoke, store, spokeFn, sessions := orgWorld(t, 2)
	// refusedAccount's own stanza would select the spoke's instance too.
	if err := store.Put(t.Context(), configstore.Item{AccountID: refusedAccount, ID: "theirs", Configuration: dailyStanza}); err != nil {
		t.Fatal(err)
	}
	logs := captureLogs(t)
	leases := &keyLog{}
	h := newHandler(t, Config{Name: Snapshot, Account: ec2fake.AccountID, Sources: accounttest.Sources(hub, store), Spoke: spokeFn,
		QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases})
	bad := []string{
		cellIn(spokeAccount, refusedAccount),
		cellIn(spokeAccount, account.Organization),
		cellMessageIn("us-west-2/x", spokeAccount, cellOU),
	}
	resp, err := h.Handle(invokeCtx(t, "req-1", 5*time.Minute), sqsEvent(t, append(bad, cellIn(refusedAccount, cellOU))...))
	if err == nil {
		t.Error("no error: every cell of the batch failed")
	}
	if got := failedIDs(t, resp); !slices.Equal(got, []string{"m0", "m1", "m2", "m3"}) {
		t.Errorf("failed cells %v, want all four", got)
	}
	if n := len(spoke["us-west-2"].Snapshots()); n != 0 {
		t.Errorf("%d snapshots in the spoke, want none: no cell was the spoke's by a valid message", n)
	}
	if want := []string{refusedAccount + "/snapshot/us-west-2"}; !slices.Equal(leases.keys, want) {
		t.Errorf("lease keys %v, want only the valid cell's %v", leases.keys, want)
	}
	if want := []string{refusedAccount + " ebs-snapper-snapshot-us-west-2"}; !slices.Equal(*sessions, want) {
		t.Errorf("sessions %v, want only the valid cell's %v", *sessions, want)
	}
	for _, want := range []string{`\"ous\"[0] \"333333333333\" is not an organisational unit id`, `\"ous\"[0] \"organization\" is not`, `\"region\" is not a region name`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	// The same cell with its OU is the spoke's, by the OU's stanza only.
	if err := h.Invoke(invokeCtx(t, "req-2", 5*time.Minute), sqsEvent(t, cellIn(spokeAccount, cellOU))); err != nil {
		t.Fatal(err)
	}
	if n := len(spoke["us-west-2"].Snapshots()); n != 2 {
		t.Errorf("%d snapshots, want 2 from the valid message", n)
	}
}
