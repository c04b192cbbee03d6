package account_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

// TestForAccountMoto: against moto's organisation, ForAccount acts in a
// spoke through its role (what it lists is the spoke's, not the hub's),
// passes the external id a spoke's trust policy requires, and reports a
// spoke without the role, a wrong external id and a closed account as a
// *CellError with its cause; the hub's own account assumes nothing.
func TestForAccountMoto(t *testing.T) {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	org, err := seeder.Organization(ctx, cfg, []seeder.Member{
		{Name: "alpha", SpokeRole: "snapper-spoke"},
		{Name: "bravo", SpokeRole: "snapper-spoke", ExternalID: "xyzzy"},
		{Name: "charlie"},
		{Name: "delta", SpokeRole: "snapper-spoke"},
	})
	if err != nil {
		t.Fatal(err)
	}
	alpha, bravo, charlie, delta := org.Accounts[0], org.Accounts[1], org.Accounts[2], org.Accounts[3]
	if err := seeder.CloseAccount(ctx, cfg, delta); err != nil {
		t.Fatal(err)
	}
	// A volume in alpha only.
	inAlpha := awsclient.AssumeRole(cfg, "arn:aws:iam::"+alpha+":role/OrganizationAccountAccessRole", "", "test")
	vol, err := ec2.NewFromConfig(inAlpha).CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(cfg.Region + "a"), Size: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	hub := account.Hub{Config: cfg, Table: "ebs_snapshot_configuration", Account: motoserver.AccountID}
	spoke := account.Spoke{RoleName: "snapper-spoke", Session: "ebs-snapper-test"}

	src, err := account.ForAccount(ctx, hub, alpha, spoke)
	if err != nil {
		t.Fatalf("alpha: %v", err)
	}
	if got, _ := src.Identify(ctx); got != alpha {
		t.Errorf("Identify = %s, want %s", got, alpha)
	}
	vols, err := src.EC2(cfg.Region).Volumes(ctx, []string{aws.ToString(vol.VolumeId)})
	if err != nil || len(vols) != 1 {
		t.Errorf("alpha's volume through the spoke: %v, %v", vols, err)
	}
	hubSrc, err := account.ForAccount(ctx, hub, motoserver.AccountID, spoke)
	if err != nil {
		t.Fatal(err)
	}
	if vols, _ := hubSrc.EC2(cfg.Region).Volumes(ctx, []string{aws.ToString(vol.VolumeId)}); len(vols) != 0 {
		t.Errorf("the hub sees alpha's volume %v: the hub's own account must not assume the spoke role", vols)
	}

	if _, err := account.ForAccount(ctx, hub, bravo, account.Spoke{RoleName: "snapper-spoke", ExternalID: "xyzzy"}); err != nil {
		t.Errorf("bravo with its external id: %v", err)
	}
	for name, c := range map[string]struct {
		acct  string
		spoke account.Spoke
	}{
		"no spoke role":     {charlie, spoke},
		"wrong external id": {bravo, spoke},
		"closed account":    {delta, spoke},
	} {
		_, err := account.ForAccount(ctx, hub, c.acct, c.spoke)
		var ce *account.CellError
		if !errors.As(err, &ce) || ce.Cause != account.RoleRefused || ce.Account != c.acct || ce.Role != "arn:aws:iam::"+c.acct+":role/snapper-spoke" {
			t.Errorf("%s: %v, want a *CellError RoleRefused naming the account and role", name, err)
		}
	}
	if _, err := account.ForAccount(ctx, hub, alpha, account.Spoke{}); !errors.Is(err, account.ErrNoSpokeRole) {
		t.Errorf("no role name: %v, want ErrNoSpokeRole", err)
	}
}

// TestProtectedMoto: a hub's protected scope resolves through moto's
// Organizations: "organization" is every account (closed ones with their
// status), an OU its accounts with their OU path, and a listed account id
// its path; each account once, sorted.
func TestProtectedMoto(t *testing.T) {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	org, err := seeder.Organization(ctx, cfg, []seeder.Member{{Name: "alpha", OU: "prod"}, {Name: "bravo", OU: "prod"}, {Name: "charlie"}})
	if err != nil {
		t.Fatal(err)
	}
	alpha, bravo, charlie := org.Accounts[0], org.Accounts[1], org.Accounts[2]
	prod := org.OUs["prod"]
	if err := seeder.CloseAccount(ctx, cfg, charlie); err != nil {
		t.Fatal(err)
	}
	conn, err := account.Connect(ctx, account.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(accts []account.OrgAccount) string {
		var out []string
		for _, a := range accts {
			out = append(out, a.ID+":"+a.Status+":"+strings.Join(a.OUs, "/"))
		}
		return strings.Join(out, " ")
	}
	sorted := func(s ...string) string { slices.Sort(s); return strings.Join(s, " ") }
	for _, c := range []struct {
		scope []string
		want  string
	}{
		{[]string{account.Organization}, sorted(motoserver.AccountID+":ACTIVE:", alpha+":ACTIVE:"+prod, bravo+":ACTIVE:"+prod, charlie+":SUSPENDED:")},
		{[]string{prod}, sorted(alpha+":ACTIVE:"+prod, bravo+":ACTIVE:"+prod)},
		{[]string{alpha, prod}, sorted(alpha+":ACTIVE:"+prod, bravo+":ACTIVE:"+prod)},
		// Given by id, an account has its status too (a closed one is
		// skipped by the fan-out as one found in the tree).
		{[]string{bravo}, bravo + ":ACTIVE:" + prod},
		{[]string{charlie}, charlie + ":SUSPENDED:"},
	} {
		got, err := conn.Protected(ctx, c.scope)
		if err != nil {
			t.Fatalf("%v: %v", c.scope, err)
		}
		if ids(got) != c.want {
			t.Errorf("Protected(%v) = %s, want %s", c.scope, ids(got), c.want)
		}
	}
	// An account listed by id that is not a member (one whose spoke
	// trusts an external id) is kept with no OU path, and stops no other:
	// its spoke says whether it can be worked on.
	outside := "999999999999"
	got, err := conn.Protected(ctx, []string{alpha, outside})
	if err != nil {
		t.Errorf("an account outside the organisation: %v, want it kept without OUs beside alpha", err)
	} else if want := alpha + ":ACTIVE:" + prod + " " + outside + "::"; ids(got) != want {
		t.Errorf("Protected with an outside account = %s, want %s", ids(got), want)
	}
	if _, err := conn.Protected(ctx, []string{"ou-zzzz-zzzzzzzz"}); err == nil || !strings.Contains(err.Error(), "ou-zzzz-zzzzzzzz") {
		t.Errorf("an OU outside the organisation: %v, want an error naming it", err)
	}
}
