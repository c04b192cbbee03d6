package snapper

import (
	"maps"
	"slices"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// Policy is what every stanza of the account says together.
type Policy struct {
	// Stanzas by id; only valid ones.
	Stanzas map[string]config.Stanza
	// Ignore is the union of every stanza's ignore list: an id ignored by
	// one stanza is ignored by all, as in the original.
	Ignore map[string]bool
	// IgnoreRetention is on when any stanza sets it, unless some stored
	// stanza is invalid: then its instances look unmatched and their
	// snapshots would look like orphans, so orphan deletion is held back.
	IgnoreRetention bool
	// ordered holds Stanzas in id order (Ordered), built once by NewPolicy.
	ordered []config.Stanza
}

// Ordered returns the valid stanzas in id order: the one sorted list every
// use case walks. The caller must not modify it.
func (p Policy) Ordered() []config.Stanza { return p.ordered }

// NewPolicy combines the valid stanzas; invalid is the number of stored
// stanzas that failed to load.
func NewPolicy(stanzas []config.Stanza, invalid int) Policy {
	p := Policy{Stanzas: map[string]config.Stanza{}, Ignore: map[string]bool{}}
	for _, s := range stanzas {
		p.Stanzas[s.ID] = s
		for _, id := range s.Ignore {
			p.Ignore[id] = true
		}
		if s.IgnoreRetention && invalid == 0 {
			p.IgnoreRetention = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.Stanzas)) {
		p.ordered = append(p.ordered, p.Stanzas[id])
	}
	return p
}

// Governance is what several stanzas governing one volume say together,
// the safer reading of each rule: the largest minimum and the longest
// retention win (ties go to the first id), the tiers keep what any of
// them keeps (the largest count of each tier), snapshots without DeleteOn
// are adopted only when every stanza adopts them, and snapshots are
// archived only when every stanza archives, after the longest
// archive_after. The frequency that fires soonest wins too, which
// PlanSnapshots decides per volume.
type Governance struct {
	// ConfigIDs are the stanzas involved, sorted.
	ConfigIDs []string
	// Minimum is the largest minimum, set by stanza MinimumID.
	Minimum   int
	MinimumID string
	// Retention is the longest retention, set by stanza RetentionID.
	Retention   time.Duration
	RetentionID string
	// Tiers is the union of the stanzas' retention tiers.
	Tiers retention.Tiers
	// Adopt is true when every stanza adopts; AdoptAll when every one
	// adopts all (no filter).
	Adopt, AdoptAll bool
	// ArchiveAfter is the longest archive_after, zero unless every stanza
	// sets one.
	ArchiveAfter time.Duration
	// IgnoreLaunchTemplates is true when every stanza sets
	// "launch_templates": "ignore".
	IgnoreLaunchTemplates bool
}

// Govern combines the stanzas with the given ids (sorted, each in
// p.Stanzas) into one rule.
func (p Policy) Govern(ids []string) Governance {
	g := Governance{ConfigIDs: ids, Adopt: true, AdoptAll: true, IgnoreLaunchTemplates: true}
	for i, id := range ids {
		s := p.Stanzas[id]
		if i == 0 || s.Minimum > g.Minimum {
			g.Minimum, g.MinimumID = s.Minimum, id
		}
		if i == 0 || s.Retention > g.Retention {
			g.Retention, g.RetentionID = s.Retention, id
		}
		g.Tiers = g.Tiers.Union(s.Tiers)
		g.Adopt = g.Adopt && s.Adopt.On()
		g.AdoptAll = g.AdoptAll && s.Adopt.All
		g.IgnoreLaunchTemplates = g.IgnoreLaunchTemplates && s.IgnoreLaunchTemplates
		if i == 0 || (g.ArchiveAfter > 0 && s.ArchiveAfter > g.ArchiveAfter) || s.ArchiveAfter == 0 {
			g.ArchiveAfter = s.ArchiveAfter
		}
	}
	return g
}

// several returns ids when there is more than one, for the report's
// config_ids, and nil otherwise.
func several(ids []string) []string {
	if len(ids) > 1 {
		return ids
	}
	return nil
}

// governed is, per volume of a matched instance that is not ignored, the
// stanzas of every such instance it is attached to (sorted, unique) and
// the first such instance in id order. Instances and volumes are resolved
// by one rule: a volume attached to two instances is governed by the
// stanzas of both, as an instance matched by two stanzas is by both. A
// stanza whose exclude_volumes selects the volume does not govern it;
// a volume every stanza excludes is in excluded, with the first reason.
func governed(r *Inventory, p Policy) (stanzas map[string][]string, instance, excluded map[string]string) {
	stanzas, instance, excluded = map[string][]string{}, map[string]string{}, map[string]string{}
	for _, instID := range slices.Sorted(maps.Keys(r.Instances)) {
		if p.Ignore[instID] {
			continue
		}
		for _, vol := range r.Instances[instID].VolumeIDs {
			// Most volumes are excluded by no stanza and attached to one
			// instance: they share the instance's sorted Matched slice,
			// which nothing changes, instead of a copy each.
			ids := r.Matched[instID]
			if slices.ContainsFunc(ids, func(id string) bool { _, ex := r.ExcludedVolumes[id][vol]; return ex }) {
				ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
					reason, ex := r.ExcludedVolumes[id][vol]
					if ex && excluded[vol] == "" {
						excluded[vol] = reason
					}
					return ex
				})
			}
			if len(ids) == 0 {
				continue
			}
			if _, ok := instance[vol]; !ok {
				instance[vol] = instID
			}
			if prev, ok := stanzas[vol]; ok {
				ids = slices.Compact(slices.Sorted(slices.Values(slices.Concat(prev, ids))))
			}
			stanzas[vol] = ids
		}
	}
	for vol := range stanzas {
		delete(excluded, vol)
	}
	return stanzas, instance, excluded
}
