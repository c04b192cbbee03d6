package snapper

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// engineOptions are the Options the CLI passes, with the test clock.
func engineOptions(at time.Time) Options {
	return Options{Now: at, Version: "test", RunToken: testRun}
}

// testRun is the run token of the engine tests.
const testRun = "20261125T060000Z-0000000000000001"

func client(f *ec2fake.Fake, region string) EC2 {
	return ebs.New(f, region)
}

// webFleet is two instances tagged backup=yes with two volumes each, and
// one untagged instance.
func webFleet() *ec2fake.Fake {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-a1", Tags: tags("Service", "Baz")})
	f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes", "Name", "Foo", "Service", "Bar"), VolumeIDs: []string{"vol-a1", "vol-a2"}})
	f.AddInstance(inventory.Instance{ID: "i-b", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-b1", "vol-b2"}})
	f.AddInstance(inventory.Instance{ID: "i-c", ImageID: "ami-1", Tags: tags("Name", "scratch"), VolumeIDs: []string{"vol-c1"}})
	return f
}

func TestRunSnapshotCreatesTaggedSnapshotsOnce(t *testing.T) {
	f := webFleet()
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0)

	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	if got := rep.Regions[0].Summary; got != (Summary{Created: 4}) {
		t.Fatalf("summary = %+v, want 4 created", got)
	}
	byVolume := map[string]inventory.Snapshot{}
	for _, s := range f.Snapshots() {
		byVolume[s.VolumeID] = s
	}
	a1 := byVolume["vol-a1"]
	if want := "Created from i-a by EbsSnapper(test) for ami-1 from vol-a1; stanza daily"; a1.Description != want {
		t.Errorf("description = %q, want %q", a1.Description, want)
	}
	if diff := cmp.Diff(tags("DeleteOn", "2026-11-30", "ebs-snapper:config-id", "daily", RunTag, testRun, "Name", "Foo", "Service", "Baz", "backup", "yes"), a1.Tags); diff != "" {
		t.Errorf("tags mismatch (-want +got):\n%s", diff)
	}
	if _, ok := byVolume["vol-c1"]; ok {
		t.Error("the untagged instance's volume was snapshotted")
	}
	// One inventory: one DescribeInstances per stanza, one snapshot listing,
	// one DescribeVolumes for the due volumes, no AMI listing.
	wantCalls := map[string]int{"DescribeInstances": 1, "DescribeSnapshots": 1, "DescribeVolumes": 1, "CreateSnapshot": 4}
	if diff := cmp.Diff(wantCalls, f.AllCalls()); diff != "" {
		t.Errorf("EC2 calls mismatch (-want +got):\n%s", diff)
	}

	// A second run an hour later finds nothing due; 13 hours later all are.
	rep = runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now.Add(time.Hour)))
	if got := rep.Regions[0].Summary.Created; got != 0 {
		t.Errorf("second run created %d snapshots, want 0", got)
	}
	rep = runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now.Add(13*time.Hour)))
	if got := rep.Regions[0].Summary.Created; got != 4 {
		t.Errorf("run after the frequency created %d snapshots, want 4", got)
	}
	for _, s := range f.Snapshots() {
		if _, ok := s.Tag("DeleteOn"); !ok {
			t.Errorf("snapshot %s has no DeleteOn tag", s.ID)
		}
	}
}

func TestRunDryRunMakesNoMutatingCall(t *testing.T) {
	f := webFleet()
	f.AddSnapshot(snap("snap-old", "vol-a1", inventory.StateCompleted, 72*time.Hour, "2026-11-01"), "")
	f.AddSnapshot(snap("snap-new", "vol-a1", inventory.StateCompleted, 24*time.Hour, "2026-11-01"), "")
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0)
	for _, job := range []useCase{useSnapshot, useClean, usePlan} {
		opts := engineOptions(now)
		opts.DryRun = true
		rep := runUseCase(t.Context(), job, []EC2{client(f, "us-east-1")}, p, opts)
		if !rep.DryRun {
			t.Errorf("%s: report not marked dry run", job)
		}
	}
	if n := f.Calls(ec2fake.OpCreateSnapshot) + f.Calls(ec2fake.OpDeleteSnapshot); n != 0 {
		t.Errorf("dry runs made %d mutating calls, want 0", n)
	}
}

func TestRunCleanReportsEachOutcome(t *testing.T) {
	f := webFleet()
	// vol-a1: four due snapshots and a newer one; minimum 1.
	for i, age := range []time.Duration{90, 80, 70, 60, 10} {
		f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-a1", inventory.StateCompleted, (age+100)*time.Hour, "2026-11-20"), "")
	}
	f.AddImage("ami-9", "snap-b")
	f.OnCall = func(op string, in any) error {
		if d, ok := in.(*ec2.DeleteSnapshotInput); ok && aws.ToString(d.SnapshotId) == "snap-a" {
			return &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}
		}
		return nil
	}
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1)}, 0)

	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	status := map[string]string{}
	for _, r := range rep.Regions[0].Clean {
		status[r.SnapshotID] = string(r.Action) + "/" + r.Status
	}
	// snap-a: the injected failure; snap-b backs an AMI (kept by the plan);
	// snap-c, snap-d deleted; snap-e is the newest.
	want := map[string]string{"snap-a": "delete/failed", "snap-b": "keep/", "snap-c": "delete/done", "snap-d": "delete/done", "snap-e": "keep/"}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
	}
	if got := rep.Regions[0].Summary; got != (Summary{Deleted: 2, Kept: 2, Failed: 1}) {
		t.Errorf("summary = %+v", got)
	}
	if rep.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1", rep.Failed())
	}
	if _, ok := f.Snapshot("snap-e"); !ok {
		t.Error("the newest snapshot was deleted")
	}
}

func TestRunCleanSkipsSnapshotsEC2SaysAreInUse(t *testing.T) {
	f := webFleet()
	f.AddSnapshot(snap("snap-old", "vol-a1", inventory.StateCompleted, 172*time.Hour, "2026-11-01"), "")
	f.AddSnapshot(snap("snap-new", "vol-a1", inventory.StateCompleted, 124*time.Hour, ""), "")
	// The AMI appears between the inventory and the delete.
	f.OnCall = func(op string, _ any) error {
		if op == ec2fake.OpDeleteSnapshot {
			return &smithy.GenericAPIError{Code: "InvalidSnapshot.InUse", Message: "in use by ami-late"}
		}
		return nil
	}
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0)
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	row := rep.Regions[0].Clean[0]
	if row.SnapshotID != "snap-old" || row.Status != StatusSkipped || !strings.Contains(row.Error, "in use") {
		t.Errorf("row = %+v, want snap-old skipped as in use", row)
	}
	if rep.Failed() != 0 {
		t.Errorf("an in-use snapshot counted as a failure")
	}
}

func TestRunOneRegionFailingDoesNotStopOthers(t *testing.T) {
	good, bad, optIn := webFleet(), webFleet(), webFleet()
	bad.Fail(ec2fake.OpDescribeSnapshots, 100, &smithy.GenericAPIError{Code: "InternalError", Message: "boom"})
	optIn.Fail(ec2fake.OpDescribeInstances, 100, &smithy.GenericAPIError{Code: "AuthFailure", Message: "not enabled"})
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0)
	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(bad, "eu-west-1"), client(good, "us-east-1"), client(optIn, "ap-east-1")}, p, engineOptions(now))
	// The report holds the regions in name order.
	rep.Regions = []RegionReport{rep.Regions[1], rep.Regions[2], rep.Regions[0]}

	if rep.Regions[0].Error == "" || !strings.Contains(rep.Regions[0].Error, "eu-west-1") {
		t.Errorf("eu-west-1: error = %q, want the region named", rep.Regions[0].Error)
	}
	if len(rep.Regions[0].Snapshots) != 0 || bad.Calls(ec2fake.OpCreateSnapshot) != 0 {
		t.Error("eu-west-1: planned on a partial inventory")
	}
	if rep.Regions[1].Summary.Created != 4 {
		t.Errorf("us-east-1 created %d, want 4", rep.Regions[1].Summary.Created)
	}
	if rep.Regions[2].Skipped == "" || rep.Regions[2].Error != "" {
		t.Errorf("ap-east-1: want skipped as not enabled, got %+v", rep.Regions[2])
	}
	if rep.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1 (the failed region)", rep.Failed())
	}
}

// cancelWhileCreating is an EC2 whose first two CreateSnapshot calls meet,
// cancel the run together and then complete (they were already on the
// wire: EC2 acts on them whatever the caller's context). It records every
// create that starts after the cancellation.
type cancelWhileCreating struct {
	EC2
	cancel   context.CancelFunc
	inFlight sync.WaitGroup // the first two creates, until both have started
	once     sync.Once

	mu          sync.Mutex
	started     int
	afterCancel []string
}

func (c *cancelWhileCreating) CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error) {
	c.mu.Lock()
	c.started++
	first := c.started <= 2
	if !first {
		c.afterCancel = append(c.afterCancel, volumeID)
	}
	c.mu.Unlock()
	if !first {
		return c.EC2.CreateSnapshot(ctx, volumeID, description, tags)
	}
	c.inFlight.Done()
	c.inFlight.Wait()
	c.once.Do(c.cancel)
	return c.EC2.CreateSnapshot(context.WithoutCancel(ctx), volumeID, description, tags)
}

// TestRunStopsStartingWorkWhenCancelled cancels a run (a signal, a
// deadline) while two creates are in flight with two more due: nothing may
// start afterwards, the two in flight finish and are reported done with
// their snapshot ids, and the two never reached are reported as not
// started.
func TestRunStopsStartingWorkWhenCancelled(t *testing.T) {
	f := webFleet()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ec2 := &cancelWhileCreating{EC2: client(f, "us-east-1"), cancel: cancel}
	ec2.inFlight.Add(2)
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0)
	opts := engineOptions(now)
	opts.Workers = 2
	rep := runUseCase(ctx, useSnapshot, []EC2{ec2}, p, opts)

	if len(ec2.afterCancel) != 0 {
		t.Errorf("snapshots of %v started after cancellation", ec2.afterCancel)
	}
	created := map[string]string{}
	for _, s := range f.Snapshots() {
		created[s.VolumeID] = s.ID
	}
	if len(created) != 2 {
		t.Errorf("EC2 holds snapshots of %v, want the two in flight", created)
	}
	var done, notStarted int
	for _, r := range rep.Regions[0].Snapshots {
		if r.Action != Create {
			continue
		}
		id, ok := created[r.VolumeID]
		switch {
		case ok && r.Status == StatusDone && r.SnapshotID == id:
			done++
		case ok:
			t.Errorf("%s: in flight at cancellation and created as %s, reported %q %q %q", r.VolumeID, id, r.Status, r.SnapshotID, r.Error)
		case r.Status == StatusNotStarted:
			notStarted++
		default:
			t.Errorf("%s: never reached, reported %q %q; want not started", r.VolumeID, r.Status, r.Error)
		}
	}
	if done != 2 || notStarted != 2 {
		t.Errorf("%d rows done and %d not started, want 2 and 2", done, notStarted)
	}
	if got := rep.Regions[0].Summary.Created; got != 2 {
		t.Errorf("summary counts %d created, want the 2 that finished", got)
	}
	if got := rep.Regions[0].Summary; got.NotStarted != 2 || got.Failed != 0 || rep.Failed() != 0 {
		t.Errorf("summary = %+v, Failed() = %d; want 2 not started, which are no failure", got, rep.Failed())
	}
}

func TestBuildInventoryResolvesConflictsDeterministically(t *testing.T) {
	f := webFleet()
	a := stanza(t, "b-weekly", "1w", 2)
	b := stanza(t, "a-daily", "1 day", 5)
	b.Match = []inventory.Filter{{Name: "tag:Name", Values: []string{"Fo*"}}}
	inv, err := BuildInventory(t.Context(), client(f, "us-east-1"), []config.Stanza{a, b}, NeedSnapshots|NeedImages)
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Matched["i-a"]; !slices.Equal(got, []string{"a-daily", "b-weekly"}) {
		t.Errorf("i-a matched by %q, want both stanzas, sorted", got)
	}
	want := []Conflict{{Region: "us-east-1", InstanceID: "i-a", ConfigIDs: []string{"a-daily", "b-weekly"}}}
	if diff := cmp.Diff(want, inv.Conflicts); diff != "" {
		t.Errorf("conflicts mismatch (-want +got):\n%s", diff)
	}
	if f.Calls(ec2fake.OpDescribeImages) != 1 {
		t.Error("clean inventory did not list the AMIs")
	}
}

// The account's snapshots are counted toward each volume's minimum, and the
// plan never deletes the minimum even across many due snapshots.
func TestRunCleanNeverBelowMinimum(t *testing.T) {
	f := webFleet()
	for i := 0; i < 6; i++ {
		f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-b1", inventory.StateCompleted, time.Duration(100-i)*time.Hour, "2026-11-24"), "")
	}
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0)
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	var deleted []string
	for _, r := range rep.Regions[0].Clean {
		if r.Action == retention.Delete {
			deleted = append(deleted, r.SnapshotID)
		}
	}
	if diff := cmp.Diff([]string{"snap-a"}, deleted); diff != "" {
		t.Errorf("deleted mismatch (-want +got):\n%s", diff)
	}
}

// Unlike the original, a region without a single instance is still
// cleaned: orphaned due snapshots go when ignore_retention is set.
func TestRunCleansRegionWithoutInstances(t *testing.T) {
	f := &ec2fake.Fake{}
	f.AddSnapshot(snap("snap-1", "vol-gone", inventory.StateCompleted, 172*time.Hour, "2026-11-01"), "")
	f.AddSnapshot(snap("snap-2", "vol-gone", inventory.StateCompleted, 148*time.Hour, "2026-11-02"), "")
	s := stanza(t, "orphans", "1 day", 3)
	s.IgnoreRetention = true
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "sa-east-1")}, NewPolicy([]config.Stanza{s}, 0), engineOptions(now))
	if got := rep.Regions[0].Summary; got != (Summary{Deleted: 1, Kept: 1}) {
		t.Errorf("summary = %+v, want the older orphan deleted and the newest kept", got)
	}
	if _, ok := f.Snapshot("snap-2"); !ok {
		t.Error("the newest snapshot of the gone volume was deleted")
	}
}
