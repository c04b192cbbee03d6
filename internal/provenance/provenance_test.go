package provenance

import (
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

func TestCopyDescriptionRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        Copy
		original string
	}{
		{"with volume", Copy{"us-east-1", "snap-0123456789abcdef0", "vol-0123456789abcdef0"}, "Created from i-0a by EbsSnapper(1.0.0) for ami-1 from vol-0123456789abcdef0"},
		{"volume unknown", Copy{"eu-west-1", "snap-0a", ""}, ""},
		{"long original is cut, the prefix is not", Copy{"ap-southeast-2", "snap-0123456789abcdef0", "vol-0123456789abcdef0"}, strings.Repeat("x", 300)},
		{"original with newlines", Copy{"us-west-2", "snap-0b", "vol-0c"}, "line one\nline two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := CopyDescription(tc.c, tc.original)
			if len(d) > MaxDescription {
				t.Fatalf("description of %d characters, EC2 allows %d", len(d), MaxDescription)
			}
			got, ok := ParseCopy(d)
			if !ok || got != tc.c {
				t.Errorf("ParseCopy(%q) = %+v, %v; want %+v", d, got, ok, tc.c)
			}
		})
	}
}

// The stanza an original names is read through its copy, unless the
// copy's Description had to be cut: a cut id could be another stanza's.
func TestCreatedStanzaThroughACopy(t *testing.T) {
	orig := "Created from i-0a by EbsSnapper(1.0.0) for ami-1 from vol-0b" + StanzaSuffix("web")
	c := Copy{"us-east-1", "snap-0123456789abcdef0", "vol-0b"}
	if id, ok := CreatedStanza(CopyDescription(c, orig)); !ok || id != "web" {
		t.Errorf("CreatedStanza of the copy = %q, %v; want web", id, ok)
	}
	long := "Created from i-0a by EbsSnapper(1.0.0) for ami-1 from vol-0b" + StanzaSuffix(strings.Repeat("w", 180))
	d := CopyDescription(c, long)
	if id, ok := CreatedStanza(d); ok || len(d) > MaxDescription {
		t.Errorf("CreatedStanza(%q) = %q: a cut copy names no stanza", d, id)
	}
	if _, ok := ParseCopy(d); !ok {
		t.Errorf("the cut copy %q no longer reads as a copy", d)
	}
}

func TestParseCopyRefusesOtherText(t *testing.T) {
	for _, d := range []string{
		"",
		"Created from i-0a by EbsSnapper(0.10.6) for ami-1 from vol-0b",
		"[Copied snap-0a from us-east-1] something",
		"ebs-snapper copy of snap-0a from us-east-1",              // no volume part
		"xebs-snapper copy of snap-0a from us-east-1 (vol-0b)",    // not at the start
		"ebs-snapper copy of snap-0a from us-east-1 (vol-0b) and", // trailing text without ": "
		"ebs-snapper copy of snap-0a from US-EAST-1 (vol-0b)",
	} {
		if c, ok := ParseCopy(d); ok {
			t.Errorf("ParseCopy(%q) = %+v, want no copy", d, c)
		}
	}
}

func TestVolumeOfRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    inventory.Snapshot
		want string
	}{
		{"a snapshot's own volume", inventory.Snapshot{VolumeID: "vol-0a", Description: "ebs-snapper copy of snap-0b from us-east-1 (vol-0c)"}, "vol-0a"},
		{"an ebs-snapper copy", inventory.Snapshot{VolumeID: PlaceholderVolume, Description: "ebs-snapper copy of snap-0b from us-east-1 (vol-0c): x"}, "vol-0c"},
		{"an ebs-snapper copy of a copy", inventory.Snapshot{VolumeID: PlaceholderVolume, Description: "ebs-snapper copy of snap-0b from us-east-1 (volume unknown)"}, ""},
		{"an ebs_snapper copy keeps its original's description", inventory.Snapshot{VolumeID: PlaceholderVolume, Description: "Created from i-0a by EbsSnapper(0.10.6) for ami-1 from vol-0d"}, "vol-0d"},
		{"a multi-volume set names several", inventory.Snapshot{VolumeID: PlaceholderVolume, Description: "Created from i-0a by EbsSnapper(1.0) for ami-1 from vol-0d,vol-0e"}, ""},
		{"someone else's copy", inventory.Snapshot{VolumeID: PlaceholderVolume, Description: "encrypted copy"}, ""},
		{"no volume id at all", inventory.Snapshot{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VolumeOfRecord(tc.s); got != tc.want {
				t.Errorf("VolumeOfRecord = %q, want %q", got, tc.want)
			}
		})
	}
}
