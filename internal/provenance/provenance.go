// Package provenance reads what EC2 records about a snapshot and no one can
// change after it is made, its Description and its VolumeId, to tell what
// ebs-snapper made and which volume a snapshot backs up. Tags are never
// evidence here: anyone allowed ec2:CreateTags can write any tag, while a
// snapshot's Description is set by the CreateSnapshot, CreateSnapshots or
// CopySnapshot call that makes it and no API changes it afterwards (EC2 API
// reference, Snapshot and ModifySnapshotAttribute). docs/security.md has the
// threat model this serves.
//
// A principal allowed to create or copy snapshots can write any
// Description too, but only on a snapshot it makes then: forging one can
// make ebs-snapper delete that new snapshot at most, never an existing
// backup. The package is pure.
package provenance

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// PlaceholderVolume is the VolumeId EC2 gives every snapshot copy:
// "Snapshots copies have an arbitrary source volume ID. Do not use this
// volume ID for any purpose" (EC2 API reference, CopySnapshot and
// Snapshot). It names no volume: snapshots carrying it are never grouped
// together.
const PlaceholderVolume = "vol-ffffffff"

// MaxDescription is EC2's limit on a snapshot's Description, in
// characters (CopySnapshot and CreateSnapshot API reference).
const MaxDescription = 255

// Copy is what the Description of a copy ebs-snapper made records: the
// snapshot it copied, that snapshot's region, and the volume of record of
// the original ("" when unknown).
type Copy struct {
	SourceRegion string
	SourceID     string
	VolumeID     string
}

// copyPattern reads CopyDescription's form; the original's description may
// be cut at MaxDescription or hold anything, newlines included.
var copyPattern = regexp.MustCompile(`^ebs-snapper copy of (snap-\S+) from ([a-z0-9-]+) \((vol-[^\s()]+|volume unknown)\)(?s:: (.*))?$`)

// CopyDescription is the Description ebs-snapper gives a copy it makes
// with CopySnapshot: "ebs-snapper copy of <snap> from <region> (<vol>): "
// then the original's description, cut to MaxDescription (and then
// without its stanza, StanzaSuffix, which could be cut). <vol> is the
// original's volume of record, "volume unknown" when it has none. The
// prefix, at most 80 characters, is never cut.
func CopyDescription(c Copy, original string) string {
	vol := c.VolumeID
	if vol == "" {
		vol = "volume unknown"
	}
	d := fmt.Sprintf("ebs-snapper copy of %s from %s (%s)", c.SourceID, c.SourceRegion, vol)
	if original != "" {
		d += ": " + original
	}
	if len(d) > MaxDescription {
		// A cut stanza id could name another stanza: the cut text names
		// none.
		d = d[:MaxDescription]
		if i := strings.LastIndex(d, StanzaSuffix("")); i >= 0 {
			d = d[:i]
		}
	}
	return d
}

// ParseCopy reads a Description written by CopyDescription; ok is false
// for any other text.
func ParseCopy(desc string) (c Copy, ok bool) {
	m := copyPattern.FindStringSubmatch(desc)
	if m == nil {
		return Copy{}, false
	}
	c = Copy{SourceID: m[1], SourceRegion: m[2], VolumeID: m[3]}
	if !strings.HasPrefix(c.VolumeID, "vol-") {
		c.VolumeID = ""
	}
	return c, true
}

// createPattern reads the Description ebs-snapper (and ebs_snapper, the
// Python tool, in the same words) gives a new snapshot: "Created from
// <instance> by EbsSnapper(<version>) for <ami> from <volumes>", where a
// multi-volume set names its volumes joined by commas. ebs_snapper's copies
// carry their original's description unchanged.
var createPattern = regexp.MustCompile(`^Created from i-\S+ by EbsSnapper\([^)]*\) for \S* from (vol-[^\s,;]+)(?:; stanza .+)?$`)

// stanzaPattern reads the stanza ebs-snapper names at the end of a create
// Description (StanzaSuffix), one volume or a multi-volume set.
var stanzaPattern = regexp.MustCompile(`^Created from i-\S+ by EbsSnapper\([^)]*\) for \S* from vol-[^\s;]+; stanza (.+)$`)

// StanzaSuffix ends the create Description of a snapshot ebs-snapper takes
// for stanza id: "; stanza <id>". EC2 keeps a Description for the
// snapshot's life, so the stanza that made a snapshot is known from what
// no tag can change. A Description that would be cut at MaxDescription - 1
// (the original's limit) goes without it: a cut id could name another
// stanza.
func StanzaSuffix(id string) string { return "; stanza " + id }

// CreatedStanza returns the stanza an ebs-snapper create Description names
// (StanzaSuffix), read through a copy's Description to its original's.
// Snapshots ebs_snapper (Python) made, and those ebs-snapper made before it
// wrote the stanza, name none.
func CreatedStanza(desc string) (string, bool) {
	if m := copyPattern.FindStringSubmatch(desc); m != nil {
		desc = m[4]
	}
	m := stanzaPattern.FindStringSubmatch(desc)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CreatedVolume returns the volume an ebs-snapper create Description
// names, when it names exactly one and was not cut short.
func CreatedVolume(desc string) (string, bool) {
	m := createPattern.FindStringSubmatch(desc)
	if m == nil || m[1] == PlaceholderVolume {
		return "", false
	}
	return m[1], true
}

// KnownVolume reports whether id names a volume: not empty and not
// PlaceholderVolume.
func KnownVolume(id string) bool {
	return id != "" && id != PlaceholderVolume
}

// VolumeOfRecord is the volume a snapshot backs up, from what EC2 records
// immutably: its VolumeId when that names a volume (CreateSnapshot's, which
// EC2 sets); for a copy (PlaceholderVolume), the volume its Description
// records, ebs-snapper's copy form first, then the create form an
// ebs_snapper copy inherits from its original; "" when nothing recorded
// tells. Tags (replication_volume_id among them) are never read.
func VolumeOfRecord(s inventory.Snapshot) string {
	if KnownVolume(s.VolumeID) {
		return s.VolumeID
	}
	if c, ok := ParseCopy(s.Description); ok {
		return c.VolumeID
	}
	if v, ok := CreatedVolume(s.Description); ok {
		return v
	}
	return ""
}
