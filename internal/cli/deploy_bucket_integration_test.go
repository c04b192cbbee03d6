package cli

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
)

// The code bucket deploy makes is versioned and tagged with its stack,
// besides private and encrypted. (moto's endpoint is plain HTTP, where the
// TLS-only policy would refuse every request: deploy leaves it out and
// says so; TestEnsureBucketDeniesInsecureTransport checks the policy.)
func TestDeployBucketIsVersionedTaggedAndTLSOnly(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)
	deployStep(t, srv, []string{"bucket " + deployBucket + ": created (private, encrypted, versioned, no TLS-only policy: the endpoint is plain HTTP)"}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"), "-o")
	b := aws.String(deployBucket)
	if v, err := d.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}); err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning %v, %v; want Enabled", v, err)
	}
	if tags, err := d.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); err != nil || len(tags.TagSet) != 1 ||
		aws.ToString(tags.TagSet[0].Key) != "ebs-snapper:stack" || aws.ToString(tags.TagSet[0].Value) != deployStack {
		t.Errorf("tags %v, %v; want ebs-snapper:stack=%s", tags, err, deployStack)
	}
	if _, err := d.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); err != nil {
		t.Errorf("no public access block: %v", err)
	}
	// Creation is idempotent: a second deploy finds the bucket and sets
	// the same settings again.
	deployStep(t, srv, []string{"bucket " + deployBucket + ": exists"}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"), "-o")
}

// A bucket of the code bucket's name that another account created first
// (moto's account 222222222222, reached by AssumeRole) stops deploy with
// a clear message before anything is uploaded, even when its policy would
// let this account write.
func TestDeployRefusesABucketAnotherAccountOwns(t *testing.T) {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	cfg.Region = deployRegion
	other := cfg.Copy()
	other.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::222222222222:role/x"))
	if id, err := sts.NewFromConfig(other).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || aws.ToString(id.Account) != "222222222222" {
		t.Fatalf("assumed role acts in %v, %v; want 222222222222", id, err)
	}
	squatter := s3.NewFromConfig(other, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := squatter.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(deployBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(deployRegion)}}); err != nil {
		t.Fatal(err)
	}
	open := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + motoserver.AccountID + `:root"},"Action":"s3:*","Resource":["arn:aws:s3:::` + deployBucket + `","arn:aws:s3:::` + deployBucket + `/*"]}]}`
	if _, err := squatter.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(deployBucket), Policy: aws.String(open)}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBinary(t, srv, "", "deploy", "--region", deployRegion, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"), "--yes")
	want := "the code bucket is not owned by this account: code bucket " + deployBucket + " (" + deployRegion + ") exists but S3 refuses it to account " + motoserver.AccountID
	if code != ExitError || !strings.Contains(stderr, want) || strings.Contains(stdout, "upload") {
		t.Errorf("deploy over another account's bucket: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 1 with %q and no upload", code, stdout, stderr, want)
	}
	objs, err := squatter.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(deployBucket)})
	if err != nil || len(objs.Contents) != 0 {
		t.Errorf("the other account's bucket holds %v (%v): our code was written there", objs, err)
	}
}

// Without --yes and without a terminal to ask on, deploy and deploy
// --delete stop at once with a usage error naming --yes, before any AWS
// call: a script never hangs on a question.
func TestDeployWithoutYesOffTerminalRefusesAtOnce(t *testing.T) {
	motoserver.Offline(t)
	for _, args := range [][]string{
		{"deploy", "--region", "eu-west-1", "-a", "123456789012"},
		{"deploy", "--delete", "--region", "eu-west-1", "-a", "123456789012"},
	} {
		_, stderr, code := runBinaryEnv(t, nil, "y\n", args...)
		if code != ExitUsage || !strings.Contains(stderr, "stdin is not a terminal to confirm on: pass --yes") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error asking for --yes", args, code, stderr)
		}
	}
}

// An update shows its change set (parameters old -> new) before
// executing it; --delete says what it
// keeps.
func TestDeployShowsTheChangeSetAndWhatDeleteKeeps(t *testing.T) {
	srv := motoserver.Require(t)
	zip := codeZip(t, "#!/bin/sh\n")
	deployStep(t, srv, []string{"will be created with these parameters", "stack " + deployStack + " (" + deployRegion + "): created"}, "--allow-version-mismatch", "--zip", zip)
	// moto's change sets list no resource for a parameter-only change;
	// TestPreviewListsEachResourceChange checks those lines.
	deployStep(t, srv, []string{
		"change set ebs-snapper-",
		"  parameter LambdaMemorySnapshot: 256 -> 512\n",
		"stack " + deployStack + " (" + deployRegion + "): updated",
	}, "--allow-version-mismatch", "--zip", zip, "--parameter", "LambdaMemorySnapshot=512")
	deployStep(t, srv, []string{
		"kept: the configuration table " + DefaultTable + " with its stanzas, and the functions' log groups",
		"stack " + deployStack + " (" + deployRegion + "): deleted",
	}, "--delete")
}

// PermissionsBoundary and RolePath reach every role the stack creates,
// and each function runs under its own role.
func TestDeployRolesTakeTheBoundaryAndPath(t *testing.T) {
	srv := motoserver.Require(t)
	d := deployClients(t, srv)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	iamAPI := iam.NewFromConfig(cfg)
	boundary, err := iamAPI.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(boundary.Policy.Arn)
	deployStep(t, srv, []string{"): created"}, "--allow-version-mismatch", "--zip", codeZip(t, "#!/bin/sh\n"),
		"--parameter", "PermissionsBoundary="+arn, "--parameter", "RolePath=/ebs-snapper/")
	seen := map[string]bool{}
	for _, fn := range []string{"fanout-snapshot", "fanout-clean", "fanout-replication", "snapshot", "clean", "replication"} {
		roleARN := aws.ToString(d.function(t, fn).Configuration.Role)
		if seen[roleARN] {
			t.Errorf("function %s shares role %s", fn, roleARN)
		}
		seen[roleARN] = true
		name := roleARN[strings.LastIndex(roleARN, "/")+1:]
		if !strings.Contains(roleARN, ":role/ebs-snapper/") {
			t.Errorf("function %s: role %s, want the path /ebs-snapper/", fn, roleARN)
		}
		role, err := iamAPI.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if b := role.Role.PermissionsBoundary; b == nil || aws.ToString(b.PermissionsBoundaryArn) != arn {
			t.Errorf("role %s: boundary %+v, want %s", name, b, arn)
		}
	}
}

// With neither AlarmTopicArn nor AlarmEmail, deploy says the alarms notify
// no one and how to set one; once AlarmEmail is set, it does not.
func TestDeploySaysWhenNoOneIsNotified(t *testing.T) {
	srv := motoserver.Require(t)
	zip := codeZip(t, "#!/bin/sh\n")
	const warn = "alarms: no AlarmTopicArn or AlarmEmail is set, so the stack's alarms notify no one; set one: ebs-snapper deploy --region " + deployRegion + " --parameter AlarmEmail=you@example.com"
	deployStep(t, srv, []string{warn}, "--allow-version-mismatch", "--zip", zip)
	out := deployStep(t, srv, []string{"): updated"}, "--allow-version-mismatch", "--zip", zip, "--parameter", "AlarmEmail=oncall@example.com")
	if strings.Contains(out, "notify no one") {
		t.Errorf("deploy with AlarmEmail still warns:\n%s", out)
	}
	// The address is kept: a later deploy does not warn either.
	if out := deployStep(t, srv, nil, "--allow-version-mismatch", "--zip", zip); strings.Contains(out, "notify no one") {
		t.Errorf("a later deploy warns although AlarmEmail is kept:\n%s", out)
	}
}
