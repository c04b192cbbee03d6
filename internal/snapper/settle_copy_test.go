package snapper

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

func (l *lossy) CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, opts ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error) {
	out, err := l.Fake.CopySnapshot(ctx, in, opts...)
	if err == nil && l.lose(ec2fake.OpCopySnapshot, aws.ToString(in.SourceSnapshotId)) {
		return nil, errLost
	}
	return out, err
}

// replicatingPair is east with originals ids asking for west, and the
// options of a worker of east, and how it reaches west: through l.
func replicatingPair(l *lossy, fakes map[string]*ec2fake.Fake, ids ...string) (Options, func(region string) EC2) {
	for i, id := range ids {
		fakes[east].AddSnapshot(inventory.Snapshot{ID: id, VolumeID: fmt.Sprintf("vol-%d", i), Tags: tags("DeleteOn", "2026-12-01", "replication_dst_region", west)}, "")
	}
	return engineOptions(now), func(region string) EC2 {
		if region == west {
			return ebs.New(l, west)
		}
		return nil
	}
}

func copyRow(t *testing.T, rep Report, id string) ReplicationRow {
	t.Helper()
	for _, r := range rep.Regions[0].Replication {
		if r.SnapshotID == id && r.Action == Copy {
			return r
		}
	}
	t.Fatalf("no copy row for %s", id)
	return ReplicationRow{}
}

func replicasOf(f *ec2fake.Fake, orig string) []inventory.Snapshot {
	var out []inventory.Snapshot
	for _, s := range replicas(f) {
		if v, _ := s.Tag(ReplicationSnapshotIDTag); v == orig {
			out = append(out, s)
		}
	}
	return out
}

// A copy whose answer was lost after EC2 acted is found in the destination
// by its replication_snapshot_id tag with one listing: done with the
// replica's id, never issued again, so exactly one replica.
func TestLostCopyIsSettledByItsReplicationTag(t *testing.T) {
	fakes := twoRegions(east, west)
	l := &lossy{Fake: fakes[west], lose: once(ec2fake.OpCopySnapshot, "snap-a")}
	opts, other := replicatingPair(l, fakes, "snap-a", "snap-b")
	rep := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts)

	got := replicasOf(fakes[west], "snap-a")
	if len(got) != 1 {
		t.Fatalf("%d replicas of snap-a in %s, want exactly 1", len(got), west)
	}
	if r := copyRow(t, rep, "snap-a"); r.Status != StatusDone || r.ReplicaID != got[0].ID || r.Error != "" {
		t.Errorf("row %s %q [%s]; want done with %s", r.Status, r.ReplicaID, r.Error, got[0].ID)
	}
	if n := fakes[west].Calls(ec2fake.OpCopySnapshot); n != 2 {
		t.Errorf("%d CopySnapshot calls, want 2 (one per original, no re-issue)", n)
	}
	// One listing for the plan, one to settle: not one per copy.
	if n := fakes[west].Calls(ec2fake.OpDescribeSnapshots); n != 2 {
		t.Errorf("%d DescribeSnapshots in %s, want 2", n, west)
	}
	if s := rep.Regions[0].Summary; s.Copied != 2 || s.Failed != 0 || s.Unknown != 0 {
		t.Errorf("summary %+v, want 2 copied", s)
	}
}

// A copy whose outcome is unknown and that EC2 did not carry out (a 5xx
// before acting) is not in the destination's listing: it is issued again
// once, or, once the run stops starting work, reported failed as not
// copied.
func TestUnknownCopyNotFoundIsReissuedOnceOrFailed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stop       bool
		wantStatus string
		wantCalls  int
		wantCopies int
	}{
		{name: "time allows", wantStatus: StatusDone, wantCalls: 2, wantCopies: 1},
		{name: "stopping", stop: true, wantStatus: StatusFailed, wantCalls: 1, wantCopies: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes := twoRegions(east, west)
			l := &lossy{Fake: fakes[west], lose: func(string, string) bool { return false }}
			opts, other := replicatingPair(l, fakes, "snap-a")
			fakes[west].Fail(ec2fake.OpCopySnapshot, 1, &smithy.GenericAPIError{Code: "InternalError", Message: "boom", Fault: smithy.FaultServer})
			if tc.stop {
				stop := make(chan struct{})
				// The run stops starting work while the settling listing runs.
				fakes[west].OnCall = func(op string, _ any) error {
					if op == ec2fake.OpDescribeSnapshots && fakes[west].Calls(op) == 2 {
						close(stop)
					}
					return nil
				}
				opts.StopStarting = stop
			}
			rep := runWithOthers(t.Context(), other, useReplicate, []EC2{client(fakes[east], east)}, replicating(t), opts)
			r := copyRow(t, rep, "snap-a")
			if r.Status != tc.wantStatus {
				t.Errorf("row %s [%s], want %s", r.Status, r.Error, tc.wantStatus)
			}
			if tc.stop && !strings.Contains(r.Error, "not copied: no snapshot in "+west+" carries "+ReplicationSnapshotIDTag+"=snap-a") {
				t.Errorf("error %q does not say it was not copied", r.Error)
			}
			if n := fakes[west].Calls(ec2fake.OpCopySnapshot); n != tc.wantCalls {
				t.Errorf("%d CopySnapshot calls, want %d", n, tc.wantCalls)
			}
			if n := len(replicasOf(fakes[west], "snap-a")); n != tc.wantCopies {
				t.Errorf("%d replicas of snap-a, want %d", n, tc.wantCopies)
			}
		})
	}
}
