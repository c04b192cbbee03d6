package retention

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// fuzzReader hands out small numbers from the fuzz bytes, zero once they
// run out, so that every byte string is a valid input.
type fuzzReader []byte

func (r *fuzzReader) intn(n int) int {
	if len(*r) == 0 {
		return 0
	}
	v := int((*r)[0]) % n
	*r = (*r)[1:]
	return v
}

// fuzzInput builds a small region from fuzz bytes: up to 4 volumes that
// are governed (minimum 0-4), of an instance (perhaps ignored, perhaps
// shared) or of nothing; up to 15 snapshots on them or on a fifth volume
// no one knows, with start times clustered so that ties happen, DeleteOn
// dates around Now (some garbage, some missing), any state; ignores, AMIs
// and ignore_retention; Now in any time zone.
func fuzzInput(data []byte) Input {
	r := fuzzReader(data)
	zone := time.FixedZone("fuzz", (r.intn(27)-12)*3600)
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	in := Input{
		Now:             base.Add(time.Duration(r.intn(48)-12) * time.Hour).In(zone),
		IgnoreRetention: r.intn(2) == 1,
		Volumes:         map[string]VolumePolicy{},
		VolumeInstance:  map[string]string{},
		Ignore:          map[string]bool{},
	}
	nVol := 1 + r.intn(4)
	for v := range nVol {
		vol, inst := fmt.Sprintf("vol-%d", v), fmt.Sprintf("i-%d", r.intn(3))
		switch r.intn(4) {
		case 0: // no instance, minimum unknown
		case 1: // of an instance no stanza governs: ignored, or left out
			in.VolumeInstance[vol] = inst
		default:
			in.VolumeInstance[vol] = inst
			p := VolumePolicy{ConfigID: "cfg", InstanceID: inst, Minimum: r.intn(5), Tiers: fuzzTiers(&r)}
			if r.intn(3) == 0 {
				p.Adopt = &Adopt{Retention: time.Duration(r.intn(10)) * 24 * time.Hour}
			}
			if r.intn(3) == 0 {
				p.ArchiveAfter = time.Duration(1+r.intn(5)) * 24 * time.Hour
			}
			p.IgnoreLaunchTemplates = r.intn(4) == 0
			p.Retention = time.Duration(r.intn(12)) * 12 * time.Hour
			in.Volumes[vol] = p
		}
	}
	in.Orphans = map[string]OrphanPolicy{}
	for _, id := range []string{"web", "db"} {
		switch r.intn(4) {
		case 1:
			in.Orphans[id] = OrphanPolicy{Keep: true, Name: "keep"}
		case 2:
			in.Orphans[id] = OrphanPolicy{Minimum: r.intn(4), Tiers: fuzzTiers(&r), Name: "retain"}
		case 3:
			in.Orphans[id] = OrphanPolicy{Minimum: 1 + r.intn(3), Name: "keep_last"}
		}
	}
	in.UngovernedRetention = time.Duration(r.intn(12)) * 12 * time.Hour
	states := []string{inventory.StateCompleted, inventory.StatePending, inventory.StateError, "recoverable"}
	garbage := []string{"", "tomorrow", "2026-11-5", "2026-02-29", "2026-11-26Z"}
	for i := range r.intn(16) {
		s := inventory.Snapshot{
			ID:        fmt.Sprintf("snap-%02d", i),
			VolumeID:  fmt.Sprintf("vol-%d", r.intn(nVol+1)),
			State:     states[r.intn(len(states))],
			StartTime: base.Add(-time.Duration(r.intn(20)) * time.Duration(1+r.intn(3)*100) * 12 * time.Hour),
		}
		if r.intn(5) == 0 {
			s.Tags = append(s.Tags, inventory.Tag{Key: "Expires", Value: "2020-01-01"})
		}
		// Copies: EC2's placeholder VolumeId, with a Description that
		// records a volume (ebs-snapper's copy form, or the create form an
		// ebs_snapper copy keeps) or none; and tags that claim one.
		vol := fmt.Sprintf("vol-%d", r.intn(nVol+1))
		switch r.intn(8) {
		case 0:
			s.VolumeID = provenance.PlaceholderVolume
			s.Description = provenance.CopyDescription(provenance.Copy{SourceRegion: "us-east-1", SourceID: "snap-src", VolumeID: vol}, "")
		case 1:
			s.VolumeID = provenance.PlaceholderVolume
			s.Description = "Created from i-1 by EbsSnapper(0.10.6) for ami-1 from " + vol
		case 2:
			s.VolumeID = provenance.PlaceholderVolume
			s.Tags = append(s.Tags, inventory.Tag{Key: "replication_volume_id", Value: vol})
		case 3:
			s.VolumeID = ""
		}
		switch k := r.intn(8); k {
		case 0: // no DeleteOn
		case 1:
			s.Tags = append(s.Tags, inventory.Tag{Key: DeleteOnTag, Value: garbage[r.intn(len(garbage))]})
		default:
			due := base.AddDate(0, 0, r.intn(16)-10).Format(time.DateOnly)
			s.Tags = append(s.Tags, inventory.Tag{Key: DeleteOnTag, Value: due})
		}
		switch r.intn(16) {
		case 0:
			s.Protections = append(s.Protections, amiProtection("ami-"+s.ID))
		case 1:
			s.Protections = append(s.Protections, inventory.Protection{Kind: inventory.ProtectedByLock, Mode: "compliance", Until: base.AddDate(0, 1, 0)})
		case 2:
			s.Protections = append(s.Protections, inventory.Protection{Kind: inventory.ProtectedByAWSBackup})
		case 3:
			s.Protections = append(s.Protections, inventory.Protection{Kind: inventory.ProtectedByLaunchTemplate, Resource: "lt-1", Name: "web", Version: "2 (latest)"})
		}
		switch r.intn(6) {
		case 0:
			s.Description = madeBy("web")
			s.Tags = append(s.Tags, inventory.Tag{Key: ConfigIDTag, Value: "web"})
		case 1:
			s.Description = madeBy("db")
			// The tag says another stanza: it is not read.
			s.Tags = append(s.Tags, inventory.Tag{Key: ConfigIDTag, Value: "web"})
		case 2:
			s.StorageTier = inventory.TierArchive
		}
		in.Snapshots = append(in.Snapshots, s)
	}
	for range r.intn(4) {
		switch r.intn(3) {
		case 0:
			in.Ignore[fmt.Sprintf("snap-%02d", r.intn(16))] = true
		case 1:
			in.Ignore[fmt.Sprintf("vol-%d", r.intn(nVol+1))] = true
		default:
			in.Ignore[fmt.Sprintf("i-%d", r.intn(3))] = true
		}
	}
	return in
}

// FuzzPlan checks Plan's invariants (planChecked: input untouched, order
// of Snapshots irrelevant; checkInvariants: each candidate decided once,
// minimum of completed snapshots held, newest completed, pending, AMI-backed, ignored and not-due snapshots
// kept, every reason well formed) on random regions.
func FuzzPlan(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{12, 30, 0, 3, 2, 2, 2, 2, 4, 2, 2, 2, 3, 2, 15},
		[]byte("ebs-snapper retention fuzz seed: minimum and newest"),
		{0, 0, 1, 3, 1, 0, 3, 2, 0, 10, 0, 0, 5, 0, 1, 2, 0, 4, 0, 0, 3, 0, 3, 2, 0, 7, 0, 0, 2, 0, 0, 1, 3, 0, 2, 1},
		{5, 47, 1, 3, 0, 2, 2, 1, 3, 1, 3, 0, 15, 1, 2, 1, 0, 1, 3, 0, 1, 1, 0, 2, 2, 0, 1, 2, 0, 2, 0, 1, 9, 0},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		got := planChecked(t, in)
		// Adding a rule (more of any tier, on every policy) only adds
		// keeps.
		r := fuzzReader(data[min(len(data), 7):])
		more := cloneInput(in)
		extra := fuzzTiers(&r)
		for vol, p := range more.Volumes {
			p.Tiers = p.Tiers.Union(extra)
			more.Volumes[vol] = p
		}
		for id, o := range more.Orphans {
			o.Tiers = o.Tiers.Union(extra)
			more.Orphans[id] = o
		}
		after := map[string]Action{}
		for _, d := range planChecked(t, more) {
			after[d.SnapshotID] = d.Action
		}
		for _, d := range got {
			if d.Action != Delete && after[d.SnapshotID] == Delete {
				t.Errorf("%s kept with tiers %+v, deleted after adding %+v: %s", d.SnapshotID, in.Volumes[d.VolumeID].Tiers, extra, d.Reason)
			}
		}
	})
}

// fuzzTiers is usually no tiers, else small counts of each.
func fuzzTiers(r *fuzzReader) Tiers {
	if r.intn(2) == 0 {
		return Tiers{}
	}
	return Tiers{Last: r.intn(3), Hourly: r.intn(3), Daily: r.intn(4), Weekly: r.intn(3), Monthly: r.intn(3),
		Yearly: r.intn(2), Within: time.Duration(r.intn(3)) * 30 * time.Hour}
}
