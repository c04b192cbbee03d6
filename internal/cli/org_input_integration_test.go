package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// TestSingleAccountIDIsChecked: every command's -a/--aws_account_id that
// names the account to act in is a 12-digit id, and --role-name a role
// name; anything else is a usage
// error naming the flag and the value (it used to read an empty stanza
// set under "12" and report "nothing to do", exit 0), and an organisation
// or OU key points at the flags that read it.
func TestSingleAccountIDIsChecked(t *testing.T) {
	srv := motoserver.Require(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"clean", "-a", "12", "--region", "us-east-1"}, `-a/--aws_account_id "12": want a 12-digit account id`},
		{[]string{"snapshot", "-a", "12", "--region", "us-east-1"}, `-a/--aws_account_id "12": want a 12-digit account id`},
		{[]string{"replication", "-a", "12", "--region", "us-east-1"}, `-a/--aws_account_id "12": want a 12-digit account id`},
		{[]string{"plan", "--aws_account_id", "1234567890123", "--region", "us-east-1"}, `-a/--aws_account_id "1234567890123": want a 12-digit account id`},
		{[]string{"report", "-a", "12", "--region", "us-east-1"}, `-a/--aws_account_id "12": want a 12-digit account id`},
		{[]string{"snapshots", "-a", "12", "--region", "us-east-1"}, `-a/--aws_account_id "12": want a 12-digit account id`},
		{[]string{"plan", "-a", account.Organization, "--region", "us-east-1"}, `-a/--aws_account_id "organization": a stanza key, not an account: --all-accounts`},
		{[]string{"report", "-a", "ou-ab12-cdef3456", "--region", "us-east-1"}, `configure -a ou-ab12-cdef3456 reads and writes them`},
		{[]string{"deploy", "-a", "12", "--region", "us-east-1", "--yes"}, `-a/--aws_account_id "12": want a 12-digit account id (the account to deploy to)`},
		// The spoke role's name goes into its ARN after "role/": a
		// character IAM refuses, or an empty path segment, would be each
		// account's refusal.
		{[]string{"plan", "--account", "123456789012", "--role-name", "team//ebs-snapper-spoke"}, `--role-name "team//ebs-snapper-spoke": want a role name`},
		{[]string{"report", "--all-accounts", "--role-name", "bad name!"}, `--role-name "bad name!": want a role name`},
	} {
		stdout, stderr, code := runBinary(t, srv, "", c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, ExitUsage, c.want, stdout, stderr)
		}
	}
}

// TestOrgReportOfUnreadableAccountsIsPartial: a report whose only account
// could not be read (its spoke role refuses) exits 3 naming it, as
// docs/organizations.md says, not 4 "no account's stanzas match a volume":
// its stanzas were never matched against its volumes.
func TestOrgReportOfUnreadableAccountsIsPartial(t *testing.T) {
	e := newOrgEnv(t)
	_, _, charlie, _ := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	stdout, stderr, code := runBinary(t, e.srv, "", "report", "--account", charlie, "--region", "us-east-1", "--role-name", orgSpokeRole, "-q")
	if code != ExitPartial || !strings.Contains(stderr, "1 accounts could not be read") || strings.Contains(stderr, "no account's stanzas match") {
		t.Errorf("exit %d, want %d with the unread account\n%s%s", code, ExitPartial, stdout, stderr)
	}
}

// TestOrgClosedAccountGivenByIDIsSkipped: a closed account named with
// --account is skipped as --all-accounts skips it (its status read with
// ListAccountsForParent of its parent), not refused with the StackSet's
// fix: the run of the other account is ok (exit 0).
func TestOrgClosedAccountGivenByIDIsSkipped(t *testing.T) {
	e := newOrgEnv(t)
	alpha, _, _, delta := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	stdout, stderr, code := runBinary(t, e.srv, "", "plan", "--account", alpha, "--account", delta, "--region", "us-east-1", "--role-name", orgSpokeRole, "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitOK, stdout, stderr)
	}
	var out orgOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Accounts {
		if r.Account == delta && (r.Outcome != outcomeSkipped || r.Cause != "suspended") {
			t.Errorf("delta: %+v, want skipped, suspended", r)
		}
		if r.Account == alpha && r.Outcome != "ok" {
			t.Errorf("alpha: %+v, want ok", r)
		}
	}
}
