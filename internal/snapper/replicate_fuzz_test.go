package snapper

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// fuzzBytes hands out small numbers from the fuzz bytes, zero once they
// run out.
type fuzzBytes []byte

func (r *fuzzBytes) intn(n int) int {
	if len(*r) == 0 {
		return 0
	}
	v := int((*r)[0]) % n
	*r = (*r)[1:]
	return v
}

// replicationFuzzInput builds us-east-1 originals (asking for us-west-2 or
// not, with ebs-snapper's create description or another) and us-west-2
// snapshots that claim to be their replicas by tags, by description, by
// both or by neither, in any state.
func replicationFuzzInput(t *testing.T, data []byte) ReplicationInput {
	r := fuzzBytes(data)
	states := []string{inventory.StateCompleted, inventory.StatePending, inventory.StateError}
	var originals, local []inventory.Snapshot
	for i := range r.intn(5) {
		s := inventory.Snapshot{ID: fmt.Sprintf("snap-o%d", i), VolumeID: fmt.Sprintf("vol-%d", r.intn(3)),
			State: states[r.intn(3)], StartTime: now.Add(-time.Duration(10+r.intn(10)) * time.Hour)}
		if r.intn(3) > 0 {
			s.Description = "Created from i-1 by EbsSnapper(0.10.6) for ami-1 from " + s.VolumeID
		} else {
			s.Description = "hand-made"
		}
		if r.intn(3) > 0 {
			s.Tags = tags(ReplicationDestinationTag, west)
		}
		originals = append(originals, s)
	}
	for i := range r.intn(8) {
		of := fmt.Sprintf("snap-o%d", r.intn(7)) // may name no original
		src := []string{east, west, "eu-west-1"}[r.intn(3)]
		s := inventory.Snapshot{ID: fmt.Sprintf("snap-r%d", i), VolumeID: provenance.PlaceholderVolume,
			State: states[r.intn(3)], StartTime: now.Add(-time.Duration(r.intn(20)) * time.Hour)}
		switch r.intn(4) {
		case 0: // ebs-snapper's copy form
			s.Description = provenance.CopyDescription(provenance.Copy{SourceRegion: []string{east, "eu-west-1"}[r.intn(2)],
				SourceID: fmt.Sprintf("snap-o%d", r.intn(7)), VolumeID: "vol-1"}, "")
		case 1: // an original's description, as ebs_snapper copied it
			s.Description = "Created from i-1 by EbsSnapper(0.10.6) for ami-1 from " + fmt.Sprintf("vol-%d", r.intn(3))
		case 2:
			s.Description = "hand-made"
		}
		if r.intn(4) > 0 {
			s.Tags = tags(ReplicationSourceTag, src, ReplicationSnapshotIDTag, of)
		}
		local = append(local, s)
	}
	return ReplicationInput{Region: west, Now: now, Policy: NewPolicy([]config.Stanza{stanza(t, "dr", "1 day", 1)}, 0),
		Snapshots: map[string][]inventory.Snapshot{west: local, east: originals, "eu-west-1": nil}}
}

// proven is the fuzz test's own reading of the proof that replica s is a
// copy of original o of region src (docs/replication.md, "Proof of a
// copy").
func proven(s inventory.Snapshot, src string, o inventory.Snapshot) bool {
	if c, ok := provenance.ParseCopy(s.Description); ok {
		return c.SourceRegion == src && c.SourceID == o.ID
	}
	tagSrc, _ := s.Tag(ReplicationSourceTag)
	tagID, _ := s.Tag(ReplicationSnapshotIDTag)
	_, createForm := provenance.CreatedVolume(o.Description)
	return tagSrc == src && tagID == o.ID && createForm && s.Description == o.Description && !s.StartTime.Before(o.StartTime)
}

// FuzzPlanReplication checks that replication deletes only what provably
// is a copy ebs-snapper made, and that no snapshot only tagged as a
// replica stops an original from being copied.
func FuzzPlanReplication(f *testing.F) {
	for _, seed := range [][]byte{{}, {4, 0, 1, 1, 1, 0, 0, 1, 2, 2, 1, 0, 1, 1, 1}, []byte("replication provenance seed: tags are not evidence")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := replicationFuzzInput(t, data)
		byID := map[string]inventory.Snapshot{}
		for _, region := range []string{east, west} {
			for _, s := range in.Snapshots[region] {
				byID[s.ID] = s
			}
		}
		// Replicas are planned in us-west-2, originals in us-east-1.
		originals := in
		originals.Region = east
		for _, d := range append(PlanReplication(in), PlanReplication(originals)...) {
			s := byID[d.SnapshotID]
			switch {
			case d.Action == DeleteReplica:
				o, found := byID[d.OriginalID]
				if c, ours := provenance.ParseCopy(s.Description); ours {
					if c.SourceID != d.OriginalID || c.SourceRegion != d.Source {
						t.Errorf("deleted %s as a copy of %s in %s, its description says %+v", s.ID, d.OriginalID, d.Source, c)
					}
					continue
				}
				if !found || !proven(s, d.Source, o) {
					t.Errorf("deleted %s (%q, tags %v) as a replica of %s without proof: %s", s.ID, s.Description, s.Tags, d.OriginalID, d.Reason)
				}
			case d.Role == RoleOriginal && s.State == inventory.StateCompleted && d.Destination == west:
				// Copied exactly when no proven good copy is there and
				// fewer than MaxCopyAttempts proven copies failed: a copy
				// only tagged as one neither counts nor stops it.
				good, failed := 0, 0
				for _, l := range in.Snapshots[west] {
					switch {
					case !proven(l, east, s):
					case l.State == inventory.StateError:
						failed++
					default:
						good++
					}
				}
				if want := good == 0 && failed < MaxCopyAttempts; (d.Action == Copy) != want {
					t.Errorf("%s: %s (%s); %d good and %d failed proven copies in %s", s.ID, d.Action, d.Reason, good, failed, west)
				}
			}
		}
	})
}
