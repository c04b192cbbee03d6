package snapper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// backupTag is the tag key (any case) Check looks for on instances no
// stanza covers, as ebs_snapper's sanity check did.
const backupTag = "backup"

// CheckReport is the outcome of Check, what `configure -c` shows.
type CheckReport struct {
	// Findings are the problems to fix, one sentence each: a stanza EC2
	// rejected or that matches no instance (in stanza id order), then,
	// each sorted, the instances several stanzas match, the instances
	// tagged backupTag that no stanza covers, and the snapshots whose
	// DeleteOn is not a date. With no valid stanza, the one finding says so.
	Findings []string
	// Notes are what to know and need not fix, sorted: per region, the
	// protected snapshots and the Recycle Bin rules (Protected.String).
	Notes []string
	// Err is why the check could not be made (a region's listing failed,
	// named); the findings and notes are empty then. A region the account
	// cannot use (inventory.ErrRegionUnavailable) is left out, not an error.
	Err error
}

// Check lists every region of the run (at most Options.RegionWorkers at
// once): the inventory, with snapshots, images and Recycle Bin rules, and
// every instance that still exists; and reports what in the configuration
// needs fixing. It changes nothing. The first region that fails stops it.
func (e *Engine) Check(ctx context.Context) CheckReport {
	if len(e.stanzas) == 0 {
		return CheckReport{Findings: []string{"No configurations existed for this account"}}
	}
	type regionCheck struct {
		inv *Inventory
		all []inventory.Instance
	}
	names := e.regions.Names()
	checks := make([]regionCheck, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.RegionWorkers)
	for i, name := range names {
		g.Go(func() error {
			c := e.regions.Client(name)
			if c == nil {
				return fmt.Errorf("%s: %w", name, errNotEnabled)
			}
			// The snapshots too (one paginated listing): those whose DeleteOn
			// is not a date are kept forever, and the operator must hear of it.
			inv, err := BuildInventory(gctx, c, e.stanzas, NeedSnapshots|NeedImages|NeedRecycleBin)
			if err != nil {
				if errors.Is(err, inventory.ErrRegionUnavailable) {
					return nil
				}
				return err
			}
			// Every instance that still exists, to find backup-tagged ones
			// that no stanza covers.
			all, err := c.Instances(gctx, nil)
			if err != nil {
				return fmt.Errorf("instances in %s: %w", name, err)
			}
			checks[i] = regionCheck{inv: inv, all: all}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return CheckReport{Err: err}
	}

	var rep CheckReport
	matchedSomewhere := map[string]bool{}
	rejected := map[string][]string{} // stanza id → "region: error"
	var conflicts, untracked, neverDue []string
	for _, rc := range checks {
		if rc.inv == nil {
			continue
		}
		unmatched := map[string]bool{}
		for _, id := range rc.inv.Unmatched {
			unmatched[id] = true
		}
		for _, r := range rc.inv.Rejected {
			unmatched[r.ConfigID] = true
			rejected[r.ConfigID] = append(rejected[r.ConfigID], rc.inv.Name+": "+r.Error)
		}
		for _, st := range e.stanzas {
			if !unmatched[st.ID] {
				matchedSomewhere[st.ID] = true
			}
		}
		for _, c := range rc.inv.Conflicts {
			conflicts = append(conflicts, conflictFinding(e.policy, c))
		}
		if p := CountProtected(rc.inv.Snapshots, rc.inv.RecycleBin); p.WithDeleteOn > 0 || p.RecycleBinRules > 0 {
			rep.Notes = append(rep.Notes, rc.inv.Name+": "+p.String())
		}
		if ids := retention.NeverDue(rc.inv.Snapshots); len(ids) > 0 {
			neverDue = append(neverDue, neverDueFinding(rc.inv.Name, ids))
		}
		untracked = append(untracked, untrackedFindings(rc.inv, rc.all)...)
	}
	var findings []string
	for _, s := range e.stanzas {
		if errs := rejected[s.ID]; len(errs) > 0 {
			findings = append(findings, fmt.Sprintf("stanza %s: EC2 rejected its match in %d regions, so it governs nothing there (e.g. %s)", s.ID, len(errs), errs[0]))
			continue
		}
		if !matchedSomewhere[s.ID] {
			findings = append(findings, fmt.Sprintf("%s was configured, but didn't match any instances (stanza %s)", s.MatchDescription(), s.ID))
		}
	}
	slices.Sort(conflicts)
	slices.Sort(untracked)
	slices.Sort(neverDue)
	slices.Sort(rep.Notes)
	rep.Findings = slices.Concat(findings, conflicts, untracked, neverDue)
	return rep
}

// untrackedFindings names the instances of all that carry backupTag with a
// value other than a no, that no stanza of inv covers.
func untrackedFindings(inv *Inventory, all []inventory.Instance) []string {
	var out []string
	for _, inst := range all {
		if _, covered := inv.Matched[inst.ID]; covered {
			continue
		}
		for _, t := range inst.Tags {
			if strings.EqualFold(t.Key, backupTag) && !isNo(t.Value) {
				out = append(out, fmt.Sprintf("tag:%s, value:%s was tagged on an instance, but no configuration exists (instance %s in %s)",
					t.Key, t.Value, inst.ID, inv.Name))
			}
		}
	}
	return out
}

// conflictFinding says which stanzas match an instance and what they
// resolve to (Policy.Govern).
func conflictFinding(p Policy, c Conflict) string {
	g := p.Govern(c.ConfigIDs)
	return fmt.Sprintf("instance %s in %s is matched by stanzas %s; the safer rule of each governs it: minimum %d (%s), retention %s (%s), and the frequency that fires soonest",
		c.InstanceID, c.Region, strings.Join(c.ConfigIDs, ", "), g.Minimum, g.MinimumID, config.FormatDuration(g.Retention), g.RetentionID)
}

// neverDueFinding names the snapshots of a region that clean keeps forever
// because their DeleteOn tag is not a date.
func neverDueFinding(region string, ids []string) string {
	return fmt.Sprintf("%d snapshots in %s have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: %s",
		len(ids), region, strings.Join(ids, ", "))
}

// isNo reports whether a backupTag value says no.
func isNo(v string) bool {
	switch strings.ToLower(v) {
	case "false", "0", "no":
		return true
	}
	return false
}
