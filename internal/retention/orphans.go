package retention

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
)

// orphanPolicy is the orphans pre-pass for a volume no stanza governs: the
// policy of the stanzas that made its snapshots, as their Description names
// them (provenance.CreatedStanza; never the ConfigIDTag, which anyone
// allowed ec2:CreateTags can rewrite), combined the safer way. keep names a "keep" policy that decides everything;
// known is false when no snapshot names a stanza of orphans, so the old
// rule (minimum unknown, ignore_retention) applies.
func orphanPolicy(orphans map[string]OrphanPolicy, snaps []inventory.Snapshot) (p VolumePolicy, keep string, known bool) {
	named := map[string]bool{}
	for i := range snaps {
		if id, ok := namesOrphans(orphans, &snaps[i]); ok {
			named[id] = true
		}
	}
	if len(named) == 0 {
		return VolumePolicy{}, "", false
	}
	ids := slices.Sorted(maps.Keys(named))
	var names []string
	for i, id := range ids {
		o := orphans[id]
		names = append(names, fmt.Sprintf("%q of stanza %s", o.Name, id))
		if o.Keep && keep == "" {
			keep = names[i]
		}
		if i == 0 || o.Minimum > p.Minimum {
			p.Minimum, p.ConfigID = o.Minimum, id
		}
		p.Tiers = p.Tiers.Union(o.Tiers)
	}
	if len(ids) > 1 {
		p.ConfigIDs = ids
	}
	if keep != "" {
		return VolumePolicy{ConfigID: ids[0], ConfigIDs: p.ConfigIDs}, keep, false
	}
	p.Orphans = strings.Join(names, ", ")
	return p, "", true
}

// namesOrphans returns the stanza of orphans that s's Description names.
func namesOrphans(orphans map[string]OrphanPolicy, s *inventory.Snapshot) (string, bool) {
	id, ok := provenance.CreatedStanza(s.Description)
	if !ok {
		return "", false
	}
	_, valid := orphans[id]
	return id, valid
}

// orphansUnnamedRule gives a snapshot whose own Description names no stanza
// of orphans the old rule (unknownMinimumRule) on a volume whose policy
// comes from the orphans policy its other snapshots name. Anyone allowed
// ec2:CreateSnapshot can write any Description on a new snapshot of the
// volume: naming a stanza there must not make the volume's other
// snapshots (ebs_snapper's, another tool's) deletable. Under
// ignore_retention, which would delete them anyway, the orphans policy's
// minimum still applies.
func orphansUnnamedRule(v *volume, c *candidate) (Action, string, bool) {
	if !v.orphans || v.in.IgnoreRetention {
		return "", "", false
	}
	if _, named := namesOrphans(v.in.Orphans, c.snap); named {
		return "", "", false
	}
	return Keep, "kept: its Description names no stanza whose orphans policy applies, volume " + v.id + " is not attached to an instance any stanza matches", true
}
