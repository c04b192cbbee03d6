package snapper

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// twoRegions links a fake per region into one account.
func twoRegions(regions ...string) map[string]*ec2fake.Fake {
	fakes := map[string]*ec2fake.Fake{}
	for _, r := range regions {
		fakes[r] = &ec2fake.Fake{}
	}
	ec2fake.Link(fakes)
	return fakes
}

func replicating(t *testing.T) Policy {
	s := stanza(t, "daily", "12 hours", 2)
	s.Replication = true
	return NewPolicy([]config.Stanza{s}, 0)
}

// remote serves the fakes' regions outside a run, as account.Environment
// does.
func remote(fakes map[string]*ec2fake.Fake) func(string) EC2 {
	return func(region string) EC2 {
		if f, ok := fakes[region]; ok {
			return client(f, region)
		}
		return nil
	}
}

func replicas(f *ec2fake.Fake) []inventory.Snapshot {
	var out []inventory.Snapshot
	for _, s := range f.Snapshots() {
		if _, ok := s.Tag(ReplicationSourceTag); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestRunReplicationCopiesOnceThenRetiresTheReplica(t *testing.T) {
	fakes := twoRegions(east, west)
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-orig", VolumeID: "vol-1", Description: "Created from i-1",
		Tags: tags("DeleteOn", "2026-12-01", "Name", "web", "replication_dst_region", west)}, "")
	p := replicating(t)
	opts := engineOptions(now)
	other := remote(fakes)

	// A worker of us-east-1 alone reaches us-west-2 through Regions.Client.
	rep := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, p, opts)
	if got := rep.Regions[0].Summary; got != (Summary{Copied: 1}) {
		t.Fatalf("summary %+v, want 1 copied (%+v)", got, rep.Regions[0].Replication)
	}
	got := replicas(fakes[west])
	if len(got) != 1 {
		t.Fatalf("replicas in %s: %+v, want 1", west, got)
	}
	want := tags("replication_src_region", east, "replication_snapshot_id", "snap-orig", "replication_volume_id", "vol-1", "DeleteOn", "2026-12-01", "Name", "web")
	if diff := cmp.Diff(want, got[0].Tags); diff != "" || got[0].Description != "ebs-snapper copy of snap-orig from us-east-1 (vol-1): Created from i-1" {
		t.Errorf("replica description %q, tags (-want +got):\n%s", got[0].Description, diff)
	}
	if rep.Regions[0].Replication[0].ReplicaID != got[0].ID {
		t.Errorf("row's replica id %q, want %q", rep.Regions[0].Replication[0].ReplicaID, got[0].ID)
	}
	// One listing per region, whatever the number of snapshots.
	for region, wantCalls := range map[string]map[string]int{
		east: {"DescribeSnapshots": 1},
		west: {"DescribeSnapshots": 1, "CopySnapshot": 1},
	} {
		if diff := cmp.Diff(wantCalls, fakes[region].AllCalls()); diff != "" {
			t.Errorf("%s calls (-want +got):\n%s", region, diff)
		}
	}

	regions := []EC2{client(fakes[east], east), client(fakes[west], west)}
	rep = runWithOthers(t.Context(), other, useReplicate, regions, p, opts)
	if n := fakes[west].Calls(ec2fake.OpCopySnapshot); n != 1 {
		t.Errorf("second run: %d copies in all, want still 1", n)
	}
	if got := rep.Regions[1].Summary.Kept; got != 1 {
		t.Errorf("second run kept %d replicas in %s, want 1: %+v", got, west, rep.Regions[1].Replication)
	}

	if err := client(fakes[east], east).DeleteSnapshot(t.Context(), "snap-orig"); err != nil {
		t.Fatal(err)
	}
	rep = runWithOthers(t.Context(), other, useReplicate, regions, p, opts)
	if got := rep.Regions[1].Summary; got != (Summary{Deleted: 1}) {
		t.Errorf("after the original went: %s summary %+v, want 1 deleted", west, got)
	}
	if r := replicas(fakes[west]); len(r) != 0 {
		t.Errorf("replicas left in %s: %+v", west, r)
	}
}

func TestRunReplicationReportsARefusingDestinationAndGoesOn(t *testing.T) {
	fakes := twoRegions(east, west, "eu-west-1")
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-a", VolumeID: "vol-1", Tags: tags("replication_dst_region", west)}, "")
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-b", VolumeID: "vol-2", Tags: tags("replication_dst_region", west)}, "")
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-c", VolumeID: "vol-3", Tags: tags("replication_dst_region", "eu-west-1")}, "")
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-d", VolumeID: "vol-4", Tags: tags("replication_dst_region", "ap-south-2")}, "")
	// The replica without its id tag is reported and the run goes on.
	fakes[west].AddSnapshot(inventory.Snapshot{ID: "snap-lost", VolumeID: "vol-9", Tags: tags("replication_src_region", east)}, "")
	// eu-west-1 is not opted in; the first copy into us-west-2 names a
	// KMS key EC2 cannot use.
	fakes["eu-west-1"].Fail(ec2fake.OpDescribeSnapshots, 1, &smithy.GenericAPIError{Code: "OptInRequired", Message: "not subscribed"})
	fakes[west].Fail(ec2fake.OpCopySnapshot, 1, &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "KMS key alias/dr not found", Fault: smithy.FaultClient})
	opts := engineOptions(now)
	other := remote(fakes)

	rep := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east), client(fakes[west], west)}, replicating(t), opts)
	status := map[string]string{}
	for _, rr := range rep.Regions {
		for _, r := range rr.Replication {
			status[r.SnapshotID] = r.Status + ": " + r.Error
		}
	}
	done, failed := 0, 0
	for _, id := range []string{"snap-a", "snap-b"} {
		switch {
		case strings.HasPrefix(status[id], StatusDone):
			done++
		case strings.Contains(status[id], "KMS key"):
			failed++
		}
	}
	if done != 1 || failed != 1 {
		t.Errorf("copies to %s: %v, want one done and one failed naming the KMS key", west, status)
	}
	for id, want := range map[string]string{
		"snap-c":    "destination eu-west-1 could not be listed",
		"snap-d":    "ap-south-2: not a region enabled for the account",
		"snap-lost": "replica has no replication_snapshot_id tag",
	} {
		if !strings.HasPrefix(status[id], StatusFailed) || !strings.Contains(status[id], want) {
			t.Errorf("%s: %q, want failed with %q", id, status[id], want)
		}
	}
	if got := rep.Failed(); got != 4 {
		t.Errorf("failures = %d, want 4 (KMS, opt-in, unknown region, missing tag)", got)
	}
}

// addPendingCopies adds n copies in progress from eu-west-1 to f, which
// count toward f's copy limit.
func addPendingCopies(f *ec2fake.Fake, n int) {
	for i := range n {
		f.AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-p%02d", i), VolumeID: "vol-x", State: inventory.StatePending,
			Tags: tags("replication_src_region", "eu-west-1", "replication_snapshot_id", "snap-elsewhere")}, "")
	}
}

func TestRunReplicationNeverExceedsTheCopyLimit(t *testing.T) {
	fakes := twoRegions(east, west)
	addPendingCopies(fakes[west], 17)
	for i := range 5 {
		fakes[east].AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-o%d", i), VolumeID: "vol-1", Tags: tags("replication_dst_region", west)}, "")
	}
	opts := engineOptions(now)
	other := remote(fakes)
	run := func() RegionReport {
		return runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts).Regions[0]
	}

	rr := run()
	if got := fakes[west].Calls(ec2fake.OpCopySnapshot); got != 3 {
		t.Errorf("copies issued = %d, want 3 (20 - 17 pending)", got)
	}
	if rr.Summary.Copied != 3 || rr.Summary.Deferred != 2 || rr.Summary.Failed != 0 {
		t.Errorf("summary %+v, want 3 copied, 2 deferred, none failed", rr.Summary)
	}
	// The pending copies complete; the next run copies the rest.
	for i := range 17 {
		s, _ := fakes[west].Snapshot(fmt.Sprintf("snap-p%02d", i))
		s.State = inventory.StateCompleted
		fakes[west].AddSnapshot(s, "")
	}
	rr = run()
	if rr.Summary.Copied != 2 || fakes[west].Calls(ec2fake.OpCopySnapshot) != 5 {
		t.Errorf("next run: summary %+v, %d copies in all; want 2 more, 5 in all", rr.Summary, fakes[west].Calls(ec2fake.OpCopySnapshot))
	}
}

// Where AWS Support raised the quota, Options.CopyLimit takes its place.
func TestRunReplicationKeepsARaisedCopyLimit(t *testing.T) {
	fakes := twoRegions(east, west)
	addPendingCopies(fakes[west], 17)
	for i := range 15 {
		fakes[east].AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-o%02d", i), VolumeID: "vol-1", Tags: tags("replication_dst_region", west)}, "")
	}
	opts := engineOptions(now)
	other := remote(fakes)
	opts.CopyLimit = 25
	rr := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts).Regions[0]
	if got := fakes[west].Calls(ec2fake.OpCopySnapshot); got != 8 {
		t.Errorf("copies issued = %d, want 8 (25 - 17 pending)", got)
	}
	if rr.Summary.Copied != 8 || rr.Summary.Deferred != 7 || rr.Summary.Failed != 0 {
		t.Errorf("summary %+v, want 8 copied, 7 deferred, none failed", rr.Summary)
	}
	for _, r := range rr.Replication {
		if r.Action == Defer && !strings.Contains(r.Reason, "the limit is 25") {
			t.Errorf("defer reason %q, want it to name the limit of 25", r.Reason)
			break
		}
	}
}

// Copies other tools started count toward EC2's limit too, unseen: the
// first ResourceLimitExceeded stops this run's copies to that region.
func TestRunReplicationStopsCopyingWhenTheDestinationIsFull(t *testing.T) {
	fakes := twoRegions(east, west)
	for i := range 4 {
		fakes[east].AddSnapshot(inventory.Snapshot{ID: fmt.Sprintf("snap-o%d", i), VolumeID: "vol-1", Tags: tags("replication_dst_region", west)}, "")
	}
	var copies atomic.Int32
	fakes[west].OnCall = func(op string, _ any) error {
		if op == ec2fake.OpCopySnapshot && copies.Add(1) > 1 {
			return &smithy.GenericAPIError{Code: "ResourceLimitExceeded", Message: "Too many snapshot copies in progress. The limit is 20 for this destination region.", Fault: smithy.FaultClient}
		}
		return nil
	}
	opts := engineOptions(now)
	other := remote(fakes)
	opts.Workers = 1
	rr := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts).Regions[0]
	if got := copies.Load(); got != 2 {
		t.Errorf("copy calls = %d, want 2 (one made, one refused, then none)", got)
	}
	if rr.Summary.Copied != 1 || rr.Summary.Deferred != 3 || rr.Summary.Failed != 0 {
		t.Errorf("summary %+v, want 1 copied, 3 deferred, no failure", rr.Summary)
	}

	fakes[west].OnCall = nil
	rr = runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts).Regions[0]
	if rr.Summary.Copied != 3 || len(replicas(fakes[west])) != 4 {
		t.Errorf("next run: summary %+v, %d replicas; want 3 copied, 4 replicas", rr.Summary, len(replicas(fakes[west])))
	}
}

func TestRunPlanShowsReplicationWhenAStanzaAsks(t *testing.T) {
	fakes := twoRegions(east, west)
	fakes[east].AddSnapshot(inventory.Snapshot{ID: "snap-o", VolumeID: "vol-1", Tags: tags("replication_dst_region", west)}, "")
	fakes[west].AddSnapshot(inventory.Snapshot{ID: "snap-r", VolumeID: "vol-1", Description: "ebs-snapper copy of snap-gone from us-east-1 (vol-1)",
		Tags: tags("replication_src_region", east, "replication_snapshot_id", "snap-gone")}, "")
	regions := []EC2{client(fakes[east], east), client(fakes[west], west)}
	rep := runUseCase(t.Context(), usePlan, regions, replicating(t), engineOptions(now))
	var got []replRow
	for _, rr := range rep.Regions {
		for _, r := range rr.Replication {
			got = append(got, replRow{r.SnapshotID, r.Role, r.Action})
		}
	}
	want := []replRow{{"snap-o", RoleOriginal, Copy}, {"snap-r", RoleReplica, DeleteReplica}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan rows (-want +got):\n%s", diff)
	}
	if n := fakes[west].Calls(ec2fake.OpCopySnapshot) + fakes[west].Calls(ec2fake.OpDeleteSnapshot); n != 0 {
		t.Errorf("plan made %d mutating calls", n)
	}
	rep = runUseCase(t.Context(), usePlan, regions, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 2)}, 0), engineOptions(now))
	for _, rr := range rep.Regions {
		if len(rr.Replication) != 0 {
			t.Errorf("replication off: %s plans %+v", rr.Region, rr.Replication)
		}
	}
}
