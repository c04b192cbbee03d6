package cli

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// spokeRole returns the spoke role as account sees it, through the
// credentials of AssumeRole into that account's
// OrganizationAccountAccessRole (moto acts in the role's account), or nil
// when the account has no such role.
func spokeRole(t *testing.T, srv *motoserver.Server, account string) *iam.GetRoleOutput {
	t.Helper()
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("spoke-test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ebs-snapper-spoke")})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return nil
	}
	if err != nil {
		t.Fatalf("GetRole in %s: %v", account, err)
	}
	return role
}

// trust returns a role's trust policy as JSON text.
func trust(t *testing.T, r *iam.GetRoleOutput) string {
	t.Helper()
	doc, err := url.QueryUnescape(aws.ToString(r.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// deploy --accounts installs the spoke role through a self-managed
// StackSet in each listed account, trusting the hub stack's worker roles
// with the external id; a later deploy without one account removes that
// account's role alone; deploy --delete removes every spoke and the set
// before the stack.
func TestDeployBinaryInstallsSpokesInAccounts(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)
	zipPath := codeZip(t, "#!/bin/sh\n")
	const a2, a3 = "222222222222", "333333333333"

	// A queue starting more workers than they may run is refused first.
	if _, stderr, code := runBinary(t, srv, "", "deploy", "--region", deployRegion, "--yes", "--allow-version-mismatch", "--zip", zipPath,
		"--parameter", "WorkerMaxConcurrency=50"); code == 0 || !strings.Contains(stderr, "WorkerMaxConcurrency=50 is more than ReservedConcurrency=20") {
		t.Errorf("deploy with WorkerMaxConcurrency above ReservedConcurrency: exit %d, stderr:\n%s", code, stderr)
	}
	// Outside an organization the external id is required.
	_, stderr, code := runBinary(t, srv, "", "deploy", "--region", deployRegion, "--yes", "--allow-version-mismatch", "--zip", zipPath, "--accounts", a2)
	if code == 0 || !strings.Contains(stderr, "--external-id") {
		t.Errorf("deploy --accounts without --external-id outside an organization: exit %d, stderr:\n%s", code, stderr)
	}
	// An operator's role of another account is never trusted.
	_, stderr, code = runBinary(t, srv, "", "deploy", "--region", deployRegion, "--yes", "--allow-version-mismatch", "--zip", zipPath, "--accounts", a2,
		"--external-id", "hub-secret-1", "--spoke-trust", "arn:aws:iam::999999999999:role/admin")
	if code == 0 || !strings.Contains(stderr, `role "arn:aws:iam::999999999999:role/admin" is not a role of the hub account`) {
		t.Errorf("deploy --spoke-trust of another account: exit %d, stderr:\n%s", code, stderr)
	}
	operator := "arn:aws:iam::" + motoserver.AccountID + ":role/backup/operators"
	deployStep(t, srv, []string{
		"spokes: role ebs-snapper-spoke in accounts " + a2 + ", " + a3 + ", trusting 4 roles of the hub " + motoserver.AccountID,
		"stack set ebs-snapper-spoke (" + deployRegion + "): created, SELF_MANAGED",
		"spokes: added to accounts " + a2 + ", " + a3,
	}, "--allow-version-mismatch", "--zip", zipPath, "--accounts", a2+","+a3, "--external-id", "hub-secret-1", "--spoke-trust", operator)

	set, err := d.cfn.DescribeStackSet(ctx, &cfn.DescribeStackSetInput{StackSetName: aws.String("ebs-snapper-spoke")})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range set.StackSet.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	if params["HubAccountId"] != motoserver.AccountID || params["OrganizationId"] != "" || params["SpokeRoleName"] != "ebs-snapper-spoke" {
		t.Errorf("stack set parameters %v", params)
	}
	arns := strings.Split(params["HubRoleArns"], ",")
	for _, logical := range []string{"CreateSnapshotRole", "CleanSnapshotRole", "ReplicationSnapshotRole"} {
		found := false
		for _, a := range arns {
			found = found || strings.HasPrefix(a, "arn:aws:iam::"+motoserver.AccountID+":role/") && strings.Contains(a, logical)
		}
		if !found {
			t.Errorf("HubRoleArns %v lacks the hub's %s", arns, logical)
		}
	}
	for _, a := range []string{a2, a3} {
		r := spokeRole(t, srv, a)
		if r == nil {
			t.Fatalf("account %s has no spoke role", a)
		}
		doc := trust(t, r)
		for _, want := range []string{`"sts:ExternalId":"hub-secret-1"`, `"aws:PrincipalAccount":"` + motoserver.AccountID + `"`, arns[0], operator} {
			if !strings.Contains(strings.ReplaceAll(doc, " ", ""), want) {
				t.Errorf("account %s: spoke trust policy lacks %s:\n%s", a, want, doc)
			}
		}
	}

	// The same command again changes nothing.
	deployStep(t, srv, []string{"stack set ebs-snapper-spoke (" + deployRegion + "): ", "spokes: accounts " + a2 + ", " + a3 + " already have the role"},
		"-m", "--accounts", a2+","+a3, "--external-id", "hub-secret-1", "--spoke-trust", operator)

	// The operators' role left out: the set is updated (UpdateStackSet)
	// to trust the stack's roles alone.
	deployStep(t, srv, []string{"stack set ebs-snapper-spoke (" + deployRegion + "): updated", "trusting 3 roles of the hub"},
		"-m", "--accounts", a2+","+a3, "--external-id", "hub-secret-1")
	set, err = d.cfn.DescribeStackSet(ctx, &cfn.DescribeStackSetInput{StackSetName: aws.String("ebs-snapper-spoke")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.StackSet.Parameters {
		if aws.ToString(p.ParameterKey) == "HubRoleArns" && strings.Contains(aws.ToString(p.ParameterValue), operator) {
			t.Errorf("HubRoleArns %s still trusts the operators' role left out", aws.ToString(p.ParameterValue))
		}
	}

	// One account leaves: its role goes, the other's stays.
	deployStep(t, srv, []string{"spokes: removed from accounts " + a3}, "-m", "--accounts", a2, "--external-id", "hub-secret-1")
	if spokeRole(t, srv, a3) != nil {
		t.Errorf("account %s still has the spoke role after it left the list", a3)
	}
	if spokeRole(t, srv, a2) == nil {
		t.Errorf("account %s lost the spoke role when %s left", a2, a3)
	}

	deployStep(t, srv, []string{
		"spokes: removed from accounts " + a2,
		"stack set ebs-snapper-spoke (" + deployRegion + "): deleted",
		"stack " + deployStack + " (" + deployRegion + "): deleted",
	}, "--delete")
	if spokeRole(t, srv, a2) != nil {
		t.Errorf("account %s still has the spoke role after deploy --delete", a2)
	}
	if _, err := d.cfn.DescribeStackSet(ctx, &cfn.DescribeStackSetInput{StackSetName: aws.String("ebs-snapper-spoke")}); err == nil {
		t.Error("the stack set is still there after deploy --delete")
	}
}

// deploy --org-units installs the spoke role through a service-managed
// StackSet in every account of the unit, trusting the hub's roles from
// within its organization (aws:PrincipalOrgID); deploy --delete removes
// them and the set.
func TestDeployBinaryInstallsSpokesInAnOrganizationalUnit(t *testing.T) {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	org := organizations.NewFromConfig(cfg)
	o, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{Name: aws.String("workloads"), ParentId: roots.Roots[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, name := range []string{"app-a", "app-b"} {
		acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(acct.CreateAccountStatus.AccountId)
		if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: roots.Roots[0].Id, DestinationParentId: ou.OrganizationalUnit.Id}); err != nil {
			t.Fatal(err)
		}
		members = append(members, id)
	}
	unit := aws.ToString(ou.OrganizationalUnit.Id)
	// The hub's run across the unit before the spokes exist: every member
	// refuses the role.
	plan := func() (string, string, int) {
		return runBinary(t, srv, "", "plan", "--all-accounts", "--ou", unit, "--region", deployRegion, "--table-region", deployRegion, "--json")
	}
	if stdout, stderr, code := plan(); code == 0 || !strings.Contains(stdout, "deploy the spokes' StackSet to account") {
		t.Errorf("plan across the unit without spokes: exit %d, want the role refused\n%s\n%s", code, stdout, stderr)
	}
	deployStep(t, srv, []string{
		"spokes: role ebs-snapper-spoke in organizational units " + unit + " (new accounts there get it automatically)",
		"stack set ebs-snapper-spoke (" + deployRegion + "): created, SERVICE_MANAGED",
		"spokes: added to organizational units " + unit,
	}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"), "--org-units", unit)
	for _, a := range members {
		r := spokeRole(t, srv, a)
		if r == nil {
			t.Fatalf("member %s of %s has no spoke role", a, unit)
		}
		if doc := strings.ReplaceAll(trust(t, r), " ", ""); !strings.Contains(doc, `"aws:PrincipalOrgID":"`+aws.ToString(o.Organization.Id)+`"`) {
			t.Errorf("member %s: spoke trust policy lacks the organization %s:\n%s", a, aws.ToString(o.Organization.Id), doc)
		}
	}
	// The spoke role the StackSet made is the one the hub's runs assume.
	if stdout, stderr, code := plan(); code != 0 || strings.Contains(stdout, "refused") {
		t.Errorf("plan across the unit with the spokes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	deployStep(t, srv, []string{
		"spokes: removed from organizational units " + unit,
		"stack set ebs-snapper-spoke (" + deployRegion + "): deleted",
	}, "--delete")
	for _, a := range members {
		if spokeRole(t, srv, a) != nil {
			t.Errorf("member %s still has the spoke role after deploy --delete", a)
		}
	}
}

// deploy --print-spoke-template prints the embedded spoke template and
// makes no call; with a flag of a deployment it is a usage error.
func TestDeployBinaryPrintsTheSpokeTemplate(t *testing.T) {
	motoserver.Offline(t)
	stdout, stderr, code := runBinaryEnv(t, nil, "", "deploy", "--print-spoke-template")
	if code != 0 || !strings.Contains(stdout, `"SpokeRole"`) || !strings.Contains(stdout, `"HubRolesOnly"`) {
		t.Errorf("deploy --print-spoke-template: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runBinaryEnv(t, nil, "", "deploy", "--print-spoke-template", "--accounts", "222222222222"); code != 2 || !strings.Contains(stderr, "--print-spoke-template prints the template and exits") {
		t.Errorf("deploy --print-spoke-template --accounts: exit %d, want 2\n%s", code, stderr)
	}
}
