package snapper

import (
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// TestListRegion lists snapshots newest first per volume, with the
// governing stanza, clean's verdict and, for a snapshot without DeleteOn,
// why clean never deletes it; the scope and --latest narrow it.
func TestListRegion(t *testing.T) {
	daily := stanza(t, "daily", "1 day", 1)
	r := region(map[string][]string{"i-a": {"vol-a"}, "i-b": {"vol-b"}}, map[string]string{"i-a": "daily", "i-b": "daily"},
		snap("snap-a1", "vol-a", "completed", 120*time.Hour, "2026-11-20"),
		snap("snap-a2", "vol-a", "completed", 2*time.Hour, "2026-11-30"),
		snap("snap-b1", "vol-b", "completed", time.Hour, ""),
		snap("snap-x", "vol-gone", "completed", time.Hour, "2026-11-30"),
	)
	for i := range r.Snapshots {
		if r.Snapshots[i].ID == "snap-b1" {
			r.Snapshots[i].Protections = []inventory.Protection{{Kind: inventory.ProtectedByAMI, Resource: "ami-9", Disabled: true}}
		}
	}
	p := NewPolicy([]config.Stanza{daily}, 0)

	all := ListRegion(r, p, now, Scope{}, false)
	var got []string
	for _, l := range all {
		got = append(got, l.SnapshotID+":"+l.Clean)
	}
	want := "snap-a2:keep snap-a1:delete snap-b1: snap-x:keep"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("listed %s, want %s", s, want)
	}
	if b := all[2]; b.Protection != "backs disabled AMI ami-9; no DeleteOn tag" || b.InstanceID != "i-b" || len(b.ConfigIDs) != 1 {
		t.Errorf("snap-b1: %+v", b)
	}
	if x := all[3]; x.InstanceID != "" || len(x.ConfigIDs) != 0 || x.Protection == "" {
		t.Errorf("snap-x (orphan): %+v", x)
	}
	if l := ListRegion(r, p, now, Scope{Instances: []string{"i-a"}}, true); len(l) != 1 || l[0].SnapshotID != "snap-a2" {
		t.Errorf("--instance i-a --latest: %+v", l)
	}
	if l := ListRegion(r, p, now, Scope{Stanzas: []string{"daily"}, Volumes: []string{"vol-b", "vol-gone"}}, false); len(l) != 1 || l[0].SnapshotID != "snap-b1" {
		t.Errorf("--stanza daily --volume vol-b --volume vol-gone: %+v", l)
	}
}
