package snapper

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// lossy is the fake with lost answers: a call that lose picks is carried
// out by the fake and then answered with a broken connection, as when a
// connection drops after EC2 acted. Set lose before the run.
type lossy struct {
	*ec2fake.Fake
	lose func(op, id string) bool
}

// errLost is what the SDK returns when the connection breaks after the
// request was sent (no HTTP status).
var errLost = &smithy.OperationError{ServiceID: "EC2", OperationName: "x", Err: io.ErrUnexpectedEOF}

func (l *lossy) CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	out, err := l.Fake.CreateSnapshot(ctx, in, opts...)
	if err == nil && l.lose(ec2fake.OpCreateSnapshot, aws.ToString(in.VolumeId)) {
		return nil, errLost
	}
	return out, err
}

func (l *lossy) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, opts ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	out, err := l.Fake.DeleteSnapshot(ctx, in, opts...)
	if err == nil && l.lose(ec2fake.OpDeleteSnapshot, aws.ToString(in.SnapshotId)) {
		return nil, errLost
	}
	return out, err
}

// once returns a lose func that picks the first call of op on id.
func once(op, id string) func(string, string) bool {
	var mu sync.Mutex
	done := false
	return func(gotOp, gotID string) bool {
		mu.Lock()
		defer mu.Unlock()
		if done || gotOp != op || gotID != id {
			return false
		}
		done = true
		return true
	}
}

func lossyClient(l *lossy) EC2 {
	return ebs.New(l, "us-east-1")
}

func snapshotsOf(f *ec2fake.Fake, vol string) []inventory.Snapshot {
	var out []inventory.Snapshot
	for _, s := range f.Snapshots() {
		if s.VolumeID == vol {
			out = append(out, s)
		}
	}
	return out
}

func rowOf(t *testing.T, rep Report, vol string) SnapshotRow {
	t.Helper()
	for _, r := range rep.Regions[0].Snapshots {
		if r.VolumeID == vol && r.Action == Create {
			return r
		}
	}
	t.Fatalf("no create row for %s", vol)
	return SnapshotRow{}
}

// A create whose answer was lost after EC2 acted is found by the run tag
// with one listing: done with the right id, and never re-issued.
func TestLostCreateIsSettledByTheRunTag(t *testing.T) {
	l := &lossy{Fake: webFleet(), lose: once(ec2fake.OpCreateSnapshot, "vol-a1")}
	rep := runUseCase(t.Context(), useSnapshot, []EC2{lossyClient(l)}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), engineOptions(now))

	snaps := snapshotsOf(l.Fake, "vol-a1")
	if len(snaps) != 1 {
		t.Fatalf("vol-a1 has %d snapshots, want exactly 1", len(snaps))
	}
	if r := rowOf(t, rep, "vol-a1"); r.Status != StatusDone || r.SnapshotID != snaps[0].ID || r.Error != "" {
		t.Errorf("row %s %q [%s]; want done with %s", r.Status, r.SnapshotID, r.Error, snaps[0].ID)
	}
	if v, _ := inventory.TagValue(snaps[0].Tags, RunTag); v != testRun {
		t.Errorf("snapshot's %s = %q, want %q", RunTag, v, testRun)
	}
	// One listing for the inventory, one to settle: not one per volume.
	if n := l.Calls(ec2fake.OpDescribeSnapshots); n != 2 {
		t.Errorf("%d DescribeSnapshots, want 2", n)
	}
	if n := l.Calls(ec2fake.OpCreateSnapshot); n != 4 {
		t.Errorf("%d CreateSnapshot calls, want 4 (no re-issue)", n)
	}
	if s := rep.Regions[0].Summary; s.Created != 4 || s.Failed != 0 || s.Unknown != 0 || rep.RunToken != testRun {
		t.Errorf("summary %+v, run token %q; want 4 created and the token", s, rep.RunToken)
	}
}

// A create whose outcome is unknown and that EC2 did not carry out (a 5xx
// before acting) is not in the listing: it is re-issued once, or, once
// the run stops starting work, reported failed as not created.
func TestUnknownCreateNotFoundIsReissuedOnceOrFailed(t *testing.T) {
	serverError := &smithy.GenericAPIError{Code: "InternalError", Message: "boom", Fault: smithy.FaultServer}
	for _, tc := range []struct {
		name       string
		stop       bool
		wantStatus string
		wantCalls  int
	}{
		{name: "time allows", wantStatus: StatusDone, wantCalls: 2},
		{name: "stopping", stop: true, wantStatus: StatusFailed, wantCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &ec2fake.Fake{Now: func() time.Time { return now }}
			f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1"}})
			f.Fail(ec2fake.OpCreateSnapshot, 1, serverError)
			opts := engineOptions(now)
			if tc.stop {
				stop := make(chan struct{})
				// The run stops starting work while the settling listing runs.
				f.OnCall = func(op string, _ any) error {
					if op == ec2fake.OpDescribeSnapshots && f.Calls(op) == 2 {
						close(stop)
					}
					return nil
				}
				opts.StopStarting = stop
			}
			rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), opts)
			r := rowOf(t, rep, "vol-a1")
			if r.Status != tc.wantStatus {
				t.Errorf("row %s [%s], want %s", r.Status, r.Error, tc.wantStatus)
			}
			if tc.stop && !strings.Contains(r.Error, "not created: no snapshot of the volume carries "+RunTag+"="+testRun) {
				t.Errorf("error %q does not say it was not created", r.Error)
			}
			if n := f.Calls(ec2fake.OpCreateSnapshot); n != tc.wantCalls {
				t.Errorf("%d CreateSnapshot calls, want %d", n, tc.wantCalls)
			}
			if n := len(snapshotsOf(f, "vol-a1")); n > 1 {
				t.Errorf("%d snapshots of vol-a1, want at most 1", n)
			}
		})
	}
}

// When the listing that would settle it fails, the row stays unknown and
// says why; it counts as a failure, never as done.
func TestUnknownCreateStaysUnknownWhenTheListingFails(t *testing.T) {
	l := &lossy{Fake: webFleet(), lose: once(ec2fake.OpCreateSnapshot, "vol-a1")}
	l.OnCall = func(op string, _ any) error {
		if op == ec2fake.OpDescribeSnapshots && l.Calls(op) > 1 {
			return &smithy.GenericAPIError{Code: "AuthFailure", Message: "expired", Fault: smithy.FaultClient}
		}
		return nil
	}
	rep := runUseCase(t.Context(), useSnapshot, []EC2{lossyClient(l)}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), engineOptions(now))
	r := rowOf(t, rep, "vol-a1")
	if r.Status != StatusUnknown || !strings.Contains(r.Error, "the listing that would settle it failed") {
		t.Errorf("row %s [%s], want unknown naming the failed listing", r.Status, r.Error)
	}
	if s := rep.Regions[0].Summary; s.Unknown != 1 || rep.Failed() != 1 {
		t.Errorf("summary %+v, Failed() %d; want 1 unknown counted as a failure", s, rep.Failed())
	}
}

// A create cut off by the end of the run's context (the CLI's grace
// period) after EC2 acted is settled with a fresh, short context.
func TestCreateCutOffByTheContextIsSettled(t *testing.T) {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1"}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l := &lossy{Fake: f, lose: func(op, _ string) bool {
		// EC2 acted; the answer is still on its way when ctx ends.
		cancel()
		return true
	}}
	rep := runUseCase(ctx, useSnapshot, []EC2{lossyClient(l)}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0), engineOptions(now))
	snaps := snapshotsOf(f, "vol-a1")
	if r := rowOf(t, rep, "vol-a1"); len(snaps) != 1 || r.Status != StatusDone || r.SnapshotID != snaps[0].ID {
		t.Errorf("row %s %q [%s], %d snapshots; want done with the one snapshot", r.Status, r.SnapshotID, r.Error, len(snaps))
	}
}

// A delete whose answer was lost is settled by listing its snapshot: gone
// is done. One that EC2 did not carry out is deleted again.
func TestLostDeletesAreSettledByListing(t *testing.T) {
	l := &lossy{Fake: webFleet(), lose: once(ec2fake.OpDeleteSnapshot, "snap-1")}
	for i, id := range []string{"snap-0", "snap-1", "snap-2", "snap-3"} {
		l.AddSnapshot(snap(id, "vol-b1", inventory.StateCompleted, time.Duration(100-i)*time.Hour, "2026-11-20"), "")
	}
	// snap-2's first delete fails with a 5xx before EC2 acts.
	failFirst := map[string]bool{"snap-2": true}
	var mu sync.Mutex
	l.OnCall = func(op string, in any) error {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := in.(*ec2.DeleteSnapshotInput); ok && failFirst[aws.ToString(d.SnapshotId)] {
			delete(failFirst, aws.ToString(d.SnapshotId))
			return &smithy.GenericAPIError{Code: "InternalError", Message: "boom", Fault: smithy.FaultServer}
		}
		return nil
	}
	var logs lockedLog
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	rep := runUseCase(t.Context(), useClean, []EC2{lossyClient(l)}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0), engineOptions(now))
	// The delete settled by the listing is logged as one, naming its region.
	region := rep.Regions[0].Region
	want := `"msg":"snapshot deleted (its answer was lost; no longer listed)","region":"` + region + `","snapshot_id":"snap-1"`
	if !strings.Contains(logs.buf.String(), want) {
		t.Errorf("no log line %s in:\n%s", want, logs.buf.String())
	}
	for _, r := range rep.Regions[0].Clean {
		if r.Action == retention.Delete && r.Status != StatusDone {
			t.Errorf("%s: %s [%s], want done", r.SnapshotID, r.Status, r.Error)
		}
	}
	for _, s := range l.Snapshots() {
		if s.ID == "snap-1" || s.ID == "snap-2" {
			t.Errorf("%s still exists", s.ID)
		}
	}
	if n := l.Calls(ec2fake.OpDeleteSnapshot); n != 4 {
		t.Errorf("%d DeleteSnapshot calls, want 4 (3 deletes, snap-2 again)", n)
	}
}

func TestWithRunTag(t *testing.T) {
	many := []inventory.Tag{{Key: retention.DeleteOnTag, Value: "2026-12-01"}}
	for i := range MaxTags - 1 {
		many = append(many, inventory.Tag{Key: "k" + string(rune('A'+i)), Value: "v"})
	}
	for _, tc := range []struct {
		name string
		in   []inventory.Tag
		want []string // keys
	}{
		{name: "after DeleteOn", in: tags("DeleteOn", "d", "Name", "n"), want: []string{"DeleteOn", RunTag, "Name"}},
		{name: "after the tool's own tags", in: tags("DeleteOn", "d", "ebs-snapper:config-id", "web", "Name", "n"), want: []string{"DeleteOn", "ebs-snapper:config-id", RunTag, "Name"}},
		{name: "an inherited run tag is replaced", in: tags("DeleteOn", "d", "Name", "n", RunTag, "old"), want: []string{"DeleteOn", RunTag, "Name"}},
		{name: "only DeleteOn", in: tags("DeleteOn", "d"), want: []string{"DeleteOn", RunTag}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WithRunTag(tc.in, "tok")
			var keys []string
			for _, g := range got {
				keys = append(keys, g.Key)
				if g.Key == RunTag && g.Value != "tok" {
					t.Errorf("%s = %q, want tok", RunTag, g.Value)
				}
			}
			if strings.Join(keys, ",") != strings.Join(tc.want, ",") {
				t.Errorf("keys %v, want %v", keys, tc.want)
			}
		})
	}
	got := WithRunTag(many, "tok")
	if len(got) != MaxTags || got[1].Key != RunTag || got[MaxTags-1].Key == many[MaxTags-1].Key {
		t.Errorf("at the cap: %d tags, second %q, last %q; want %d with the run tag second and the last inherited tag dropped", len(got), got[1].Key, got[MaxTags-1].Key, MaxTags)
	}
}

func TestNewRunToken(t *testing.T) {
	start := time.Date(2026, 11, 25, 7, 0, 0, 0, time.FixedZone("CET", 3600))
	a, b := NewRunToken(start), NewRunToken(start)
	if !strings.HasPrefix(a, "20261125T060000Z-") || len(a) != len("20261125T060000Z-")+16 || a == b {
		t.Errorf("tokens %q and %q; want UTC start time, 16 hex digits, and distinct", a, b)
	}
}
