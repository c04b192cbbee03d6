package handler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// TestFanoutSendsTheListedAccountsWhenOneIsUnknown: when the stack's
// ProtectedAccounts names an account Organizations cannot place (it left
// the organisation), Config.Accounts returns the others with that
// account's error: their cells are still sent, and the invocation fails
// naming the account, so that its alarm fires. One bad account used to
// stop every other account's cells.
func TestFanoutSendsTheListedAccountsWhenOneIsUnknown(t *testing.T) {
	fakes, store := fakeWorld(t, 1, dailyStanza)
	captureLogs(t)
	q := &recordingSQS{}
	unknown := errors.New("find the organisational units of account 999999999999 with organizations:ListParents: AccountNotFoundException")
	h := newHandler(t, Config{Name: FanoutClean, Sources: accounttest.Sources(fakes, store), Account: ec2fake.AccountID,
		QueueURL: queueURL, SQS: q, Accounts: func(context.Context) ([]account.OrgAccount, error) {
			return []account.OrgAccount{{ID: "222222222222", Status: "ACTIVE"}}, unknown
		}})
	err := h.Invoke(invokeCtx(t, "req-fan", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil))
	if err == nil || !strings.Contains(err.Error(), "999999999999") {
		t.Errorf("error %v, want the unknown account named", err)
	}
	if want := `{"region":"us-west-2","account":"222222222222"}`; !slices.Contains(q.messages, want) {
		t.Errorf("cells %v lack %s", q.messages, want)
	}
	if want := 2 * len(fakes); len(q.messages) != want {
		t.Errorf("%d cells sent, want %d (the hub's and 222222222222's in every region)", len(q.messages), want)
	}
}
