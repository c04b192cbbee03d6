package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// TestOrgHubRegionDeniedStopsNoOtherRegion: a service control policy that
// denies EC2 in the hub's region (where the table is, and where the
// account's enabled regions are asked first) must not stop a member's
// allowed region: the enabled regions are asked there instead, and each
// member's volume in eu-west-1 is snapshotted (exit 0).
func TestOrgHubRegionDeniedStopsNoOtherRegion(t *testing.T) {
	e := newOrgEnv(t)
	alpha, bravo, _, _ := e.accounts()
	e.configure(account.Organization, "daily", orgDaily)
	vols := map[string]string{}
	clients := map[string]*ec2.Client{}
	for _, acct := range []string{alpha, bravo} {
		cfg := awsclient.AssumeRole(e.cfg, "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole", "", "test")
		cfg.Region = "eu-west-1"
		clients[acct] = ec2.NewFromConfig(cfg)
		inst, err := seeder.Launch(e.ctx, clients[acct], seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
		if err != nil {
			t.Fatal(err)
		}
		vols[acct] = inst[0].VolumeIDs[0]
	}
	denied := scpProxy(t, e.srv.URL, e.cfg.Region, "")
	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, denied, "snapshot", "--account", alpha, "--account", bravo,
		"--region", "eu-west-1", "--role-name", orgSpokeRole, "--external-id", "xyzzy", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	var out orgOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Accounts {
		if r.Run == nil || strings.Contains(r.Error, "describe regions") {
			t.Errorf("account %s not run: %s", r.Account, r.Error)
		}
	}
	for acct, vol := range vols {
		snaps, err := clients[acct].DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{vol}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps.Snapshots) != 1 {
			t.Errorf("account %s: volume %s in the allowed region has %d snapshots, want 1", acct, vol, len(snaps.Snapshots))
		}
	}
}
