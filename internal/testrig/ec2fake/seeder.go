package ec2fake

import (
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// Seeder returns a Seeder that stages state directly in f, as
// seeder.SDK stages it on moto.
func (f *Fake) Seeder() seeder.Seeder { return fakeSeeder{f} }

type fakeSeeder struct{ f *Fake }

func (s fakeSeeder) Instance(_ testing.TB, spec seeder.InstanceSpec) inventory.Instance {
	spec = spec.WithDefaults()
	inst := inventory.Instance{
		ID:        s.f.seedID("i", func(id string) bool { _, ok := s.f.instances.get(id); return ok }),
		ImageID:   spec.ImageID,
		State:     spec.State,
		Tags:      spec.Tags,
		VolumeIDs: []string{s.f.seedID("vol", func(id string) bool { _, ok := s.f.volumes.get(id); return ok })},
	}
	s.f.AddVolume(inventory.Volume{ID: inst.VolumeIDs[0], Tags: spec.VolumeTags, Size: seeder.DefaultVolumeSize})
	s.f.AddInstance(inst)
	return inst
}

func (s fakeSeeder) Image(_ testing.TB, inst inventory.Instance) (string, string) {
	snap := inventory.Snapshot{
		ID:        s.f.seedID("snap", func(id string) bool { _, ok := s.f.snapshots.get(id); return ok }),
		VolumeID:  inst.VolumeIDs[0],
		StartTime: s.f.now().UTC(),
	}
	s.f.AddSnapshot(snap, "")
	ami := s.f.seedID("ami", func(id string) bool { _, ok := s.f.images.get(id); return ok })
	s.f.AddImage(ami, snap.ID)
	return ami, snap.ID
}

func (f *Fake) seedID(prefix string, taken func(string) bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newID(prefix, taken)
}
