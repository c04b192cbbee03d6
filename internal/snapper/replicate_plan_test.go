package snapper

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

const (
	east = "us-east-1"
	west = "us-west-2"
)

func tagged(id, state string, kv ...string) inventory.Snapshot {
	return inventory.Snapshot{ID: id, VolumeID: "vol-" + id, State: state, StartTime: now.Add(-time.Hour), Description: "desc of " + id, Tags: tags(kv...)}
}

// replica is a copy ebs-snapper made in region src's destination of
// snapshot of, proven by the copy's Description, and tagged as such.
func replica(id, state, src, of string, kv ...string) inventory.Snapshot {
	s := tagged(id, state, append([]string{"replication_src_region", src, "replication_snapshot_id", of}, kv...)...)
	s.VolumeID = "vol-ffffffff"
	s.Description = provenance.CopyDescription(provenance.Copy{SourceRegion: src, SourceID: of, VolumeID: "vol-" + of}, "desc of "+of)
	return s
}

type replRow struct{ Snapshot, Role, Action string }

// TestPlanReplicationDecisionTable follows the original's replication
// decisions, seen from the region planned (here: us-west-2), plus our
// fixes (docs/differences.md: a replica without its id tag, an unlisted region).
func TestPlanReplicationDecisionTable(t *testing.T) {
	policy := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 2, "snap-ignored")}, 0)
	for _, tc := range []struct {
		name       string
		local      inventory.Snapshot
		remote     []inventory.Snapshot // us-east-1
		unlisted   bool                 // us-east-1's listing failed
		want       string               // action
		wantReason string
		problem    bool
	}{
		{"replica pending: skip", replica("snap-r", "pending", east, "snap-o"),
			[]inventory.Snapshot{tagged("snap-o", "completed", "replication_dst_region", west)}, false, Skip, "replica is pending", false},
		{"replica in error whose original is gone: delete", replica("snap-r", "error", east, "snap-o"),
			nil, false, DeleteReplica, "original snap-o no longer exists in us-east-1, a copy that ended in error", false},
		{"replica in error whose original still asks: kept as a record", replica("snap-r", "error", east, "snap-o"),
			[]inventory.Snapshot{tagged("snap-o", "completed", "replication_dst_region", west)}, false, Keep, "ended in error; kept as the record", false},
		{"replica whose original still asks: keep", replica("snap-r", "completed", east, "snap-o"),
			[]inventory.Snapshot{tagged("snap-o", "completed", "replication_dst_region", west)}, false, Keep, "original snap-o in us-east-1 still asks for us-west-2", false},
		{"replica whose original is gone: delete", replica("snap-r", "completed", east, "snap-o"),
			nil, false, DeleteReplica, "original snap-o no longer exists in us-east-1", false},
		{"replica whose original asks for another region: delete", replica("snap-r", "completed", east, "snap-o"),
			[]inventory.Snapshot{tagged("snap-o", "completed", "replication_dst_region", "eu-west-1")}, false, DeleteReplica, `no longer asks for us-west-2 (replication_dst_region="eu-west-1")`, false},
		{"replica whose original lost its tag: delete", replica("snap-r", "completed", east, "snap-o"),
			[]inventory.Snapshot{tagged("snap-o", "completed")}, false, DeleteReplica, "no longer asks for us-west-2", false},
		{"replica without its id tag: reported, left alone", tagged("snap-r", "completed", "replication_src_region", east),
			nil, false, Skip, "replica has no replication_snapshot_id tag", true},
		{"replica whose source cannot be listed: kept, reported", replica("snap-r", "completed", east, "snap-o"),
			nil, true, Keep, "source region us-east-1 could not be listed", true},
		{"ignored replica: skip", replica("snap-ignored", "completed", east, "snap-o"),
			nil, false, Skip, "snapshot snap-ignored is ignored", false},
		{"original pending: skip", tagged("snap-o", "pending", "replication_dst_region", east),
			nil, false, Skip, "snapshot is pending: copied once completed", false},
		{"original in error: skip", tagged("snap-o", "error", "replication_dst_region", east),
			nil, false, Skip, "snapshot is error", false},
		{"original already copied: nothing", tagged("snap-o", "completed", "replication_dst_region", east),
			[]inventory.Snapshot{replica("snap-c", "pending", west, "snap-o")}, false, Skip, "already copied to us-east-1 as snap-c", false},
		{"original with a replica of another source only: copy", tagged("snap-o", "completed", "replication_dst_region", east),
			[]inventory.Snapshot{replica("snap-c", "completed", "eu-west-1", "snap-o")}, false, Copy, "completed, asks for us-east-1", false},
		{"original not copied yet: copy", tagged("snap-o", "completed", "replication_dst_region", east),
			nil, false, Copy, "completed, asks for us-east-1, no replica there yet", false},
		{"original whose destination cannot be listed: reported", tagged("snap-o", "completed", "replication_dst_region", east),
			nil, true, Skip, "destination us-east-1 could not be listed", true},
		{"original asking for its own region: skip", tagged("snap-o", "completed", "replication_dst_region", west),
			nil, false, Skip, "names its own region", false},
		{"ignored original: skip", tagged("snap-ignored", "completed", "replication_dst_region", east),
			nil, false, Skip, "snapshot snap-ignored is ignored", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ReplicationInput{Region: west, Now: now, Policy: policy,
				Snapshots: map[string][]inventory.Snapshot{west: {tc.local}, east: tc.remote}, Unlisted: map[string]string{}}
			if tc.unlisted {
				delete(in.Snapshots, east)
				in.Unlisted[east] = "AuthFailure"
			}
			got := PlanReplication(in)
			if len(got) != 1 {
				t.Fatalf("got %d decisions, want 1: %+v", len(got), got)
			}
			d := got[0]
			if d.Action != tc.want || !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("got %s (%q), want %s with %q", d.Action, d.Reason, tc.want, tc.wantReason)
			}
			if (d.Problem != "") != tc.problem {
				t.Errorf("problem = %q, want reported: %v", d.Problem, tc.problem)
			}
		})
	}
}

func TestPlanReplicationCopyCarriesTagsAndDescription(t *testing.T) {
	orig := tagged("snap-o", "completed", "DeleteOn", "2026-12-01", "Name", "web", "team", "a",
		"replication_dst_region", west, "replication_snapshot_id", "stale", "aws:x", "y", RunTag, "20261130T000000Z-0123456789abcdef")
	base := stanza(t, "daily", "12 hours", 2)
	for _, tc := range []struct {
		name   string
		extras func(*config.Stanza)
		want   []inventory.Tag
		kms    string
	}{
		{"as ebs_snapper, plus the volume and DeleteOn", func(*config.Stanza) {},
			tags("replication_src_region", east, "replication_snapshot_id", "snap-o", "replication_volume_id", "vol-snap-o", "DeleteOn", "2026-12-01", "Name", "web"), ""},
		{"replication_copy_tags copies the user tags but replication_*, aws: and the run token", func(s *config.Stanza) { s.ReplicationCopyTags = true },
			tags("replication_src_region", east, "replication_snapshot_id", "snap-o", "replication_volume_id", "vol-snap-o", "DeleteOn", "2026-12-01", "Name", "web", "team", "a"), ""},
		{"replication_retention dates DeleteOn from the original's start", func(s *config.Stanza) { s.ReplicationRetention = 30 * 24 * time.Hour },
			tags("replication_src_region", east, "replication_snapshot_id", "snap-o", "replication_volume_id", "vol-snap-o", "DeleteOn", "2026-12-26", "Name", "web"), ""},
		{"replication_kms_key for the destination", func(s *config.Stanza) {
			s.ReplicationKMSKeys = map[string]string{west: "alias/dr", "eu-west-1": "alias/eu"}
		},
			tags("replication_src_region", east, "replication_snapshot_id", "snap-o", "replication_volume_id", "vol-snap-o", "DeleteOn", "2026-12-01", "Name", "web"), "alias/dr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.extras(&s)
			got := PlanReplication(ReplicationInput{Region: east, Now: now, Policy: NewPolicy([]config.Stanza{s}, 0),
				Snapshots: map[string][]inventory.Snapshot{east: {orig}, west: nil}})
			if len(got) != 1 || got[0].Action != Copy {
				t.Fatalf("got %+v, want one copy", got)
			}
			if diff := cmp.Diff(tc.want, got[0].Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			const desc = "ebs-snapper copy of snap-o from us-east-1 (vol-snap-o): desc of snap-o"
			if got[0].Description != desc || got[0].KMSKeyID != tc.kms {
				t.Errorf("description %q, key %q; want %q, %q", got[0].Description, got[0].KMSKeyID, desc, tc.kms)
			}
		})
	}
}

func TestLimitCopiesCountsPendingCopiesAcrossRegions(t *testing.T) {
	plan := func(region string, n int) []ReplicationDecision {
		var out []ReplicationDecision
		for i := range n {
			out = append(out, ReplicationDecision{Region: region, SnapshotID: region + "-" + string(rune('a'+i)), Action: Copy, Destination: west})
		}
		return out
	}
	plans := [][]ReplicationDecision{plan("eu-west-1", 2), plan(east, 3)}
	var pendingSnaps []inventory.Snapshot
	for i := range 17 {
		pendingSnaps = append(pendingSnaps, tagged("snap-p"+string(rune('a'+i)), "pending", "replication_src_region", east))
	}
	pendingSnaps = append(pendingSnaps, tagged("snap-mine", "pending")) // a new snapshot, not a copy
	pending := PendingCopies(map[string][]inventory.Snapshot{west: pendingSnaps})
	if pending[west] != 17 {
		t.Fatalf("pending copies = %d, want 17", pending[west])
	}
	LimitCopies(plans, pending, DefaultCopyLimit)
	var got []string
	for _, p := range plans {
		for _, d := range p {
			got = append(got, d.Action)
		}
	}
	if want := []string{Copy, Copy, Copy, Defer, Defer}; !cmp.Equal(want, got) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	if r := plans[1][2].Reason; !strings.Contains(r, "17 copies in progress") || !strings.Contains(r, "later run") {
		t.Errorf("defer reason %q", r)
	}
}

// Clean in a destination treats replicas per source volume with the
// largest minimum of the replicating stanzas, and keeps the newest.
func TestPlanCleanCountsReplicasPerSourceVolume(t *testing.T) {
	replica := func(id string, age time.Duration, deleteOn string) inventory.Snapshot {
		s := snap(id, "vol-ffffffff", "completed", age, deleteOn)
		s.Description = provenance.CopyDescription(provenance.Copy{SourceRegion: east, SourceID: "snap-o" + id, VolumeID: "vol-src"}, "")
		s.Tags = append(s.Tags, tags("replication_src_region", east, "replication_snapshot_id", "o-"+id, "replication_volume_id", "vol-src")...)
		return s
	}
	// A copy whose Description records nothing is its own group whatever
	// its tags say: counted with vol-src's replicas, it would be the
	// newest and let one more of them go.
	forged := snap("snap-5", "vol-ffffffff", "completed", 101*time.Hour, "2026-11-20")
	forged.Tags = append(forged.Tags, tags("replication_src_region", east, "replication_snapshot_id", "o-5", "replication_volume_id", "vol-src")...)
	small, big := stanza(t, "small", "12 hours", 1), stanza(t, "big", "12 hours", 2)
	small.Replication, big.Replication = true, true
	r := region(nil, nil, replica("snap-1", 172*time.Hour, "2026-11-20"), replica("snap-2", 148*time.Hour, "2026-11-20"),
		replica("snap-3", 124*time.Hour, "2026-11-20"), replica("snap-4", 100*time.Hour, "2026-11-20"), forged)
	got := PlanClean(r, NewPolicy([]config.Stanza{small, big}, 0), now)
	var actions []retention.Action
	for _, d := range got {
		if d.SnapshotID == forged.ID {
			if d.Action != retention.Keep || d.VolumeID != "vol-ffffffff" {
				t.Errorf("forged replica: %+v, want kept as its own group", d)
			}
			continue
		}
		actions = append(actions, d.Action)
		if d.VolumeID != "vol-src" || d.ConfigID != "big" {
			t.Errorf("%s: volume %s config %s, want vol-src and big", d.SnapshotID, d.VolumeID, d.ConfigID)
		}
	}
	if want := []retention.Action{retention.Delete, retention.Delete, retention.Keep, retention.Keep}; !cmp.Equal(want, actions) {
		t.Errorf("actions = %v, want %v (%+v)", actions, want, got)
	}
}

// The Description of ebs-snapper's copy names its original; tags rewritten
// afterwards change nothing, either way.
func TestPlanReplicationTheCopyDescriptionWinsOverTags(t *testing.T) {
	policy := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 2)}, 0)
	asks := tagged("snap-o", "completed", "replication_dst_region", west)
	for _, tc := range []struct {
		name    string
		local   inventory.Snapshot
		want    string
		because string
	}{
		{"tags retargeted at a missing original: kept", func() inventory.Snapshot {
			r := replica("snap-r", "completed", east, "snap-o")
			r.Tags = tags("replication_src_region", east, "replication_snapshot_id", "snap-gone")
			return r
		}(), Keep, "original snap-o in us-east-1 still asks for us-west-2"},
		{"tags retargeted at an original that asks: deleted all the same", func() inventory.Snapshot {
			r := replica("snap-r", "completed", "eu-west-1", "snap-z")
			r.Tags = tags("replication_src_region", east, "replication_snapshot_id", "snap-o")
			return r
		}(), DeleteReplica, "original snap-z no longer exists in eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanReplication(ReplicationInput{Region: west, Now: now, Policy: policy,
				Snapshots: map[string][]inventory.Snapshot{west: {tc.local}, east: {asks}, "eu-west-1": nil}})
			if len(got) != 1 || got[0].Action != tc.want || !strings.Contains(got[0].Reason, tc.because) {
				t.Errorf("got %+v, want %s because %q", got, tc.want, tc.because)
			}
		})
	}
}
