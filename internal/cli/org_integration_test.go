package cli

// Organisation runs through the built binary against moto: the hub
// (moto's default account, the organisation's management account) and
// member accounts that Organizations created, reached through their spoke
// roles (moto's AssumeRole acts in the role's account; the patched moto
// refuses a role that does not exist, a wrong external id and a closed
// account, as AWS does).

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// orgEnv is a hub and its organisation in moto.
type orgEnv struct {
	t   *testing.T
	srv *motoserver.Server
	ctx context.Context
	cfg aws.Config
	org seeder.Org
	// admin are EC2 clients acting in each member account.
	admin map[string]*ec2.Client
}

const orgSpokeRole = "snapper-spoke"

// newOrgEnv stages the hub's table and an organisation: alpha and bravo
// in OU "prod" with spoke roles (bravo's requires the external id
// "xyzzy"), charlie under the root without one (the StackSet missed it),
// and delta, closed.
func newOrgEnv(t *testing.T) *orgEnv {
	srv := motoserver.Require(t)
	e := &orgEnv{t: t, srv: srv, ctx: motoserver.Context(t), cfg: srv.Config(t), admin: map[string]*ec2.Client{}}
	store := configstore.NewDynamo(dynamodb.NewFromConfig(e.cfg), DefaultTable)
	if err := store.CreateTable(e.ctx); err != nil {
		t.Fatal(err)
	}
	org, err := seeder.Organization(e.ctx, e.cfg, []seeder.Member{
		{Name: "alpha", OU: "prod", SpokeRole: orgSpokeRole},
		{Name: "bravo", OU: "prod", SpokeRole: orgSpokeRole, ExternalID: "xyzzy"},
		{Name: "charlie"},
		{Name: "delta", SpokeRole: orgSpokeRole},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.org = org
	if err := seeder.CloseAccount(e.ctx, e.cfg, org.Accounts[3]); err != nil {
		t.Fatal(err)
	}
	for _, id := range org.Accounts[:3] {
		e.admin[id] = ec2.NewFromConfig(awsclient.AssumeRole(e.cfg, "arn:aws:iam::"+id+":role/OrganizationAccountAccessRole", "", "test"))
	}
	return e
}

func (e *orgEnv) accounts() (alpha, bravo, charlie, delta string) {
	a := e.org.Accounts
	return a[0], a[1], a[2], a[3]
}

// configure runs configure -s through the binary.
func (e *orgEnv) configure(key, id, js string) {
	e.t.Helper()
	if out, errOut, code := runBinary(e.t, e.srv, "", "configure", "-a", key, "-s", id, js); code != 0 {
		e.t.Fatalf("configure -a %s -s %s: exit %d\n%s%s", key, id, code, out, errOut)
	}
}

func (e *orgEnv) launch(acct string, tags ...string) string {
	e.t.Helper()
	var tt []inventory.Tag
	for i := 0; i+1 < len(tags); i += 2 {
		tt = append(tt, inventory.Tag{Key: tags[i], Value: tags[i+1]})
	}
	inst, err := seeder.Launch(e.ctx, e.admin[acct], seeder.Group{Count: 1, Tags: tt})
	if err != nil {
		e.t.Fatal(err)
	}
	return inst[0].VolumeIDs[0]
}

// snapshots are the completed snapshots of vol in acct.
func (e *orgEnv) snapshots(acct, vol string) []ec2types.Snapshot {
	e.t.Helper()
	out, err := e.admin[acct].DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{vol}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Snapshots
}

// run runs an organisation command and decodes its JSON.
func (e *orgEnv) run(wantCode int, v any, args ...string) {
	e.t.Helper()
	args = append(args, "--region", "us-east-1", "--role-name", orgSpokeRole, "--external-id", "xyzzy", "--json")
	stdout, stderr, code := runBinary(e.t, e.srv, "", args...)
	if code != wantCode {
		e.t.Fatalf("ebs-snapper %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		e.t.Fatalf("decode: %v\n%s", err, stdout)
	}
}

func byAccount(out orgOutput) map[string]accountRun {
	m := map[string]accountRun{}
	for _, r := range out.Accounts {
		m[r.Account] = r
	}
	return m
}

const (
	orgDaily   = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "3 days", "minimum": 1, "frequency": "1 day"}}`
	bravoDaily = `{"match": {"tag:backup": "bravo"}, "snapshot": {"retention": "3 days", "minimum": 1, "frequency": "1 day"}}`
	prodDB     = `{"match": {"tag:tier": "db"}, "snapshot": {"retention": "3 days", "minimum": 1, "frequency": "1 day"}}`
)

// TestOrgSnapshotAndCleanInEachAccount: one hub run snapshots, then
// cleans, in every account of the organisation through its spoke role,
// by the organisation's stanza, the OU's, and an account's own stanza of
// the same id winning over the organisation's; an account without the
// spoke role is reported with the fix while the others are done (exit
// 3), and a closed account is skipped.
func TestOrgSnapshotAndCleanInEachAccount(t *testing.T) {
	e := newOrgEnv(t)
	alpha, bravo, charlie, delta := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	e.configure(e.org.OUs["prod"], "db", prodDB)
	e.configure(bravo, "daily", bravoDaily)

	alphaVol := e.launch(alpha, "backup", "yes")
	alphaDB := e.launch(alpha, "tier", "db")
	bravoYes := e.launch(bravo, "backup", "yes")
	bravoOwn := e.launch(bravo, "backup", "bravo")
	charlieVol := e.launch(charlie, "backup", "yes")

	var out orgOutput
	e.run(3, &out, "snapshot", "--all-accounts")
	runs := byAccount(out)
	for _, id := range []string{alpha, bravo, motoserver.AccountID} {
		if runs[id].Outcome != "ok" {
			t.Errorf("account %s: outcome %q (%s), want ok", id, runs[id].Outcome, runs[id].Error)
		}
	}
	if r := runs[charlie]; r.Outcome != outcomeError || r.Cause != "role_refused" || !strings.Contains(r.Error, "arn:aws:iam::"+charlie+":role/"+orgSpokeRole) || !strings.Contains(r.Fix, "StackSet") {
		t.Errorf("charlie: %+v, want an error naming its role and the StackSet fix", r)
	}
	if r := runs[delta]; r.Outcome != outcomeSkipped || r.Cause != "suspended" || !strings.Contains(r.Error, "suspended") {
		t.Errorf("delta: %+v, want skipped as suspended", r)
	}
	for vol, want := range map[string]int{alphaVol: 1, alphaDB: 1, bravoOwn: 1, bravoYes: 0} {
		acct := alpha
		if vol == bravoYes || vol == bravoOwn {
			acct = bravo
		}
		if got := len(e.snapshots(acct, vol)); got != want {
			t.Errorf("volume %s in %s: %d snapshots, want %d", vol, acct, got, want)
		}
	}
	if got := e.snapshots(charlie, charlieVol); len(got) != 0 {
		t.Errorf("charlie's volume has %d snapshots: nothing may act there without the spoke role", len(got))
	}

	// Two days on, a second snapshot each; ten days on, clean deletes
	// the first, keeping the minimum of one.
	e.run(3, &out, "snapshot", "--all-accounts", "--now", at(48*time.Hour), "--unsafe-now")
	e.run(3, &out, "clean", "--all-accounts", "--now", at(240*time.Hour), "--unsafe-now")
	runs = byAccount(out)
	for acct, vol := range map[string]string{alpha: alphaVol, bravo: bravoOwn} {
		if runs[acct].Run == nil || runs[acct].Outcome != "ok" {
			t.Fatalf("clean in %s: %+v", acct, runs[acct])
		}
		deleted := 0
		for _, rr := range runs[acct].Run.Regions {
			deleted += rr.Summary.Deleted
		}
		if got := len(e.snapshots(acct, vol)); got != 1 || deleted == 0 {
			t.Errorf("account %s: %d snapshots of %s left after %d deletes, want 1", acct, got, vol, deleted)
		}
	}
}

// TestOrgAccountsTextCSVAndExit: --account picks accounts (with their OU
// stanzas found through Organizations); text groups by account with the
// fix of a refused one; CSV leads each row with its account; a run where
// no account can be worked in fails (exit 1).
func TestOrgAccountsTextCSVAndExit(t *testing.T) {
	e := newOrgEnv(t)
	alpha, _, charlie, _ := e.accounts()
	e.configure(e.org.OUs["prod"], "db", prodDB)
	db := e.launch(alpha, "tier", "db")

	args := []string{"plan", "--account", alpha, "--account", charlie, "--region", "us-east-1", "--role-name", orgSpokeRole}
	stdout, stderr, code := runBinary(t, e.srv, "", args...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"=== account " + alpha + " (" + e.org.OUs["prod"] + "): ok", "=== account " + charlie + ": error",
		"fix: deploy the spokes' StackSet to account " + charlie, "create"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, code = runBinary(t, e.srv, "", append(args, "--output", "csv")...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 3 || !strings.HasPrefix(lines[0], "account,region,kind,") || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, alpha+",us-east-1,snapshot,") }) ||
		!slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, charlie+",,account,") }) {
		t.Errorf("csv (exit %d):\n%s", code, stdout)
	}
	// An account outside the hub's organisation (its spoke trusts the
	// external id; moto lets the hub assume a role there) is worked on
	// with no OU path beside alpha: Organizations not knowing it stops no
	// account (before, ListParents' AccountNotFoundException failed the run).
	var out orgOutput
	e.run(0, &out, "plan", "--account", alpha, "--account", "999999999999")
	if runs := byAccount(out); runs[alpha].Outcome != "ok" || runs["999999999999"].Outcome != "ok" || len(runs["999999999999"].OUs) != 0 {
		t.Errorf("an account outside the organisation beside alpha: %+v", out.Accounts)
	}
	// An account named twice is one account of the run: two runs of one
	// cell at once (one run's lease holder) would both snapshot.
	var twice orgOutput
	e.run(0, &twice, "snapshot", "--account", alpha, "--account", alpha+","+alpha)
	if len(twice.Accounts) != 1 || len(e.snapshots(alpha, db)) != 1 {
		t.Errorf("--account %s three times: %d accounts run, %d snapshots of %s; want 1 and 1", alpha, len(twice.Accounts), len(e.snapshots(alpha, db)), db)
	}
	if _, _, code := runBinary(t, e.srv, "", "plan", "--account", charlie, "--region", "us-east-1"); code != 1 {
		t.Errorf("plan in charlie alone: exit %d, want 1 (no account could be worked in)", code)
	}
}

// TestOrgReportWorstFirst: report's organisation view lists the refused
// account first, then the account with a missing volume, in JSON and on
// the HTML page, and exits 4 (a volume is missing).
func TestOrgReportWorstFirst(t *testing.T) {
	e := newOrgEnv(t)
	alpha, bravo, charlie, _ := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	e.launch(alpha, "backup", "yes")
	e.launch(bravo, "backup", "yes")
	var snap orgOutput
	e.run(3, &snap, "snapshot", "--account", alpha, "--account", charlie)

	page := filepath.Join(t.TempDir(), "org.html")
	var org report.Org
	e.run(4, &org, "report", "--all-accounts", "--html", page)
	var order []string
	for _, a := range org.Accounts {
		order = append(order, a.Account+":"+a.Outcome)
	}
	if len(order) < 3 || order[0] != charlie+":error" || order[1] != bravo+":breach" {
		t.Errorf("accounts %v, want charlie (error) then bravo (breach) first", order)
	}
	if org.Coverage.Missing != 1 || org.Coverage.OK != 1 {
		t.Errorf("coverage %+v, want 1 ok (alpha) and 1 missing (bravo)", org.Coverage)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "organisation report") || !strings.Contains(string(html), charlie) || !strings.Contains(string(html), "StackSet") {
		t.Errorf("HTML page lacks the organisation view:\n%s", html)
	}
}

// TestOrgFlagsUsage: bad organisation flags and reserved keys are usage
// errors naming the flag.
func TestOrgFlagsUsage(t *testing.T) {
	srv := motoserver.Require(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot", "--account", "12345"}, `--account "12345": want a 12-digit account id`},
		{[]string{"snapshot", "--account", "123456789012", "--all-accounts"}, "give one"},
		{[]string{"report", "--ou", "ou-ab12-cdef3456"}, "takes --all-accounts"},
		{[]string{"plan", "--all-accounts", "--ou", "prod"}, `--ou "prod"`},
		{[]string{"clean", "-a", "123456789012", "--all-accounts"}, "leave -a out"},
		{[]string{"configure", "-a", "organisation", "-l"}, `aws_account_id "organisation": want a 12-digit account id, "organization"`},
	} {
		_, stderr, code := runBinary(t, srv, "", c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s", c.args, code, c.want, stderr)
		}
	}
}

// TestOrgRegionDeniedByAPolicyIsSkippedInEachAccount: a region a service
// control policy denies (every EC2 call there answered as such) is
// skipped in each account's cell with the policy's answer, while the
// accounts' allowed region is done: exit 0.
func TestOrgRegionDeniedByAPolicyIsSkippedInEachAccount(t *testing.T) {
	e := newOrgEnv(t)
	alpha, bravo, _, _ := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	alphaVol := e.launch(alpha, "backup", "yes")
	denied := scpProxy(t, e.srv.URL, "eu-west-1", "")
	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, denied, "snapshot", "--account", alpha, "--account", bravo,
		"--region", "us-east-1", "--region", "eu-west-1", "--role-name", orgSpokeRole, "--external-id", "xyzzy", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	var out orgOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, r := range out.Accounts {
		if r.Run == nil {
			t.Fatalf("account %s not run: %s", r.Account, r.Error)
		}
		for _, rr := range r.Run.Regions {
			if rr.Region != "eu-west-1" {
				continue
			}
			if rr.Error != "" || !strings.Contains(rr.Skipped, "region denied by a service control policy") {
				t.Errorf("account %s: eu-west-1 skipped %q, error %q", r.Account, rr.Skipped, rr.Error)
			}
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("eu-west-1 reported in %d accounts, want 2", skipped)
	}
	if got := len(e.snapshots(alpha, alphaVol)); got != 1 {
		t.Errorf("alpha's volume in the allowed region has %d snapshots, want 1", got)
	}
}
