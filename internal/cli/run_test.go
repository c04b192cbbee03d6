package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// fakeAccount is two regions of fakes: one backup-tagged instance in
// eu-west-1, one in us-west-2 tagged backup=true that no stanza matches,
// and the README's stanza.
func fakeAccount(t *testing.T) (map[string]*ec2fake.Fake, *configstore.Memory) {
	t.Helper()
	clock := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	fakes := map[string]*ec2fake.Fake{"eu-west-1": {Now: clock}, "us-west-2": {Now: clock}}
	fakes["eu-west-1"].AddInstance(inventory.Instance{ID: "i-web", ImageID: "ami-1", Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}, VolumeIDs: []string{"vol-1", "vol-2"}})
	fakes["us-west-2"].AddInstance(inventory.Instance{ID: "i-db", ImageID: "ami-1", Tags: []inventory.Tag{{Key: "Backup", Value: "true"}}, VolumeIDs: []string{"vol-3"}})
	store := &configstore.Memory{}
	if err := store.Put(t.Context(), configstore.Item{AccountID: ec2fake.AccountID, ID: "tagged_instances", Configuration: taggedInstancesCompact}); err != nil {
		t.Fatal(err)
	}
	return fakes, store
}

// runJob takes the account's sources from the factory and runCheck takes
// them as a dependency, so the whole command runs here on fakes.
func TestRunJobOnFakes(t *testing.T) {
	fakes, store := fakeAccount(t)
	var stdout bytes.Buffer
	f := fakeFactory(&stdout, accounttest.Sources(fakes, store))
	err := runJob(t.Context(), f, &runOptions{print: printFlags{json: true}, now: "2026-11-25T12:00:00Z", unsafeNow: true}, snapshotUseCase)
	if err != nil {
		t.Fatal(err)
	}
	var out output
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v in %s", err, stdout.String())
	}
	if out.Account != ec2fake.AccountID || out.Job != "snapshot" || len(out.Regions) != 2 {
		t.Fatalf("report %+v, want a snapshot run of account %s in 2 regions", out, ec2fake.AccountID)
	}
	if got := out.Regions[0].Summary.Created; got != 2 || len(fakes["eu-west-1"].Snapshots()) != 2 {
		t.Errorf("eu-west-1: %d created, %d snapshots; want 2", got, len(fakes["eu-west-1"].Snapshots()))
	}

	err = runJob(t.Context(), f, &runOptions{regions: []string{"eu-west-3"}}, snapshotUseCase)
	var usage *UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--region") {
		t.Errorf("unknown region: got %v, want a usage error naming --region", err)
	}
}

// --now moves what is due and the DeleteOn of new snapshots, so a run that
// changes snapshots refuses it unless --unsafe-now says so; previews take it.
func TestNowOnlyPreviewsUnlessUnsafe(t *testing.T) {
	const nextYear = "2027-11-25T12:00:00Z"
	for _, job := range []useCase{snapshotUseCase, cleanUseCase, replicateUseCase} {
		fakes, store := fakeAccount(t)
		g := fakeFactory(&bytes.Buffer{}, accounttest.Sources(fakes, store))
		err := runJob(t.Context(), g, &runOptions{now: nextYear}, job)
		var usage *UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--unsafe-now") {
			t.Errorf("%s --now: got %v, want a usage error naming --unsafe-now", job, err)
		}
		for _, f := range fakes {
			if n := f.Calls(ec2fake.OpCreateSnapshot) + f.Calls(ec2fake.OpDeleteSnapshot) + f.Calls(ec2fake.OpDescribeInstances); n != 0 {
				t.Errorf("%s --now refused after %d EC2 calls, want none", job, n)
			}
		}
		for _, o := range []*runOptions{{now: nextYear, dryRun: true}, {now: nextYear, unsafeNow: true}} {
			if err := runJob(t.Context(), g, o, job); err != nil {
				t.Errorf("%s %+v: %v, want it accepted", job, *o, err)
			}
		}
	}
	if err := runJob(t.Context(), fakeFactory(&bytes.Buffer{}, accounttest.Sources(fakeAccount(t))), &runOptions{now: nextYear}, planUseCase); err != nil {
		t.Errorf("plan --now: %v, want it accepted", err)
	}
}

func TestRunCheckOnFakes(t *testing.T) {
	fakes, store := fakeAccount(t)
	var out bytes.Buffer
	if err := runCheck(t.Context(), accounttest.Sources(fakes, store), "", "", &out); !errors.Is(err, ErrFindings) || ExitCode(err) != ExitPartial {
		t.Fatalf("got %v (exit %d), want ErrFindings, exit 3", err, ExitCode(err))
	}
	want := ec2fake.AccountID + ": tag:Backup, value:true was tagged on an instance, but no configuration exists (instance i-db in us-west-2)\n"
	if out.String() != want {
		t.Errorf("check printed\n%q\nwant\n%q", out.String(), want)
	}
}

// TestPrintReportProblemOnce: a replication row whose decision could not be
// taken carries the problem as both its reason and its error; the text
// report says it once, not "msg [msg]".
func TestPrintReportProblemOnce(t *testing.T) {
	problem := "destination nowhere-1 could not be listed: nowhere-1: not a region enabled for the account"
	row := snapper.ReplicationRow{Status: snapper.StatusFailed, Error: problem}
	row.Region, row.SnapshotID, row.Role, row.Action, row.Reason = "us-east-1", "snap-1", snapper.RoleOriginal, snapper.Skip, problem
	var out output
	out.Regions = []snapper.RegionReport{{Region: "us-east-1", Replication: []snapper.ReplicationRow{row}}}
	var buf bytes.Buffer
	printReport(&buf, out, 0, false)
	if n := strings.Count(buf.String(), problem); n != 1 {
		t.Errorf("problem printed %d times, want once:\n%s", n, buf.String())
	}
}

// TestPartialErrorNamesWhatFailed: the exit-3 message (here: EC2 rejects
// us-west-2's instance listing as a bad parameter, which is the stanza's
// fault, not the region's) says what failed, in the right number, and
// leaves out what did not happen ("1 actions …, 0 stored stanzas are
// invalid" before).
func TestPartialErrorNamesWhatFailed(t *testing.T) {
	fakes, store := fakeAccount(t)
	fakes["us-west-2"].Fail(ec2fake.OpDescribeInstances, 100, &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "boom"})
	err := runJob(t.Context(), fakeFactory(&bytes.Buffer{}, accounttest.Sources(fakes, store)), &runOptions{}, snapshotUseCase)
	want := "partial failure: 1 stanza rejected by EC2"
	if !errors.Is(err, snapper.ErrPartial) || ExitCode(err) != ExitPartial || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// fakeFactory is the factory of a command run on fakes: its sources are
// src, its output goes to stdout, and it counts no AWS calls.
func fakeFactory(stdout io.Writer, src account.Sources) *factory {
	f := newFactory(&globalOptions{}, newIOStreams(strings.NewReader(""), stdout, io.Discard), nil)
	f.calls = nil
	f.sources = func(context.Context) (account.Sources, error) { return src, nil }
	return f
}
