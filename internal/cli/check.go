package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// backupTag is the tag key (any case) the sanity check looks for on
// instances no stanza covers, as the original did.
const backupTag = "backup"

// ErrFindings reports that configure -c printed findings, one line each.
// It exits with ExitPartial, so that a pipeline can gate on the check.
var ErrFindings = errors.New("the configuration check reported findings")

// runCheck is configure -c: it prints one "<prefix>: <finding>" line per
// problem in the account's configuration, and nothing when all is well.
// It returns ErrFindings when it printed any, and another error when it
// could not check.
func runCheck(ctx context.Context, src account.Sources, acct, extra string, out io.Writer) error {
	env, err := loadEnvironment(ctx, src, acct, nil)
	if err != nil {
		return err
	}
	prefix := env.Account
	if extra != "" {
		prefix = extra + "," + env.Account
	}
	findings, notes, err := checkFindings(ctx, env)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintf(out, "%s: %s\n", prefix, f)
	}
	// Notes are what the operator should know and need not fix: they do
	// not change the exit status.
	for _, n := range notes {
		fmt.Fprintf(out, "%s: note: %s\n", prefix, n)
	}
	if len(findings) > 0 {
		return fmt.Errorf("%w: %d", ErrFindings, len(findings))
	}
	return nil
}

// regionCheck is what one region contributes to the check.
type regionCheck struct {
	inv *snapper.Inventory
	all []inventory.Instance
}

// checkFindings returns the findings (problems to fix) and the notes
// (protected snapshots and Recycle Bin rules per region, to know about).
func checkFindings(ctx context.Context, env *account.Environment) (findings, notes []string, err error) {
	for _, msg := range env.InvalidMessages() {
		findings = append(findings, "Found a snapshot configuration that isn't valid: "+strings.ReplaceAll(msg, "\n", "; "))
	}
	if len(env.Policy.Stanzas) == 0 {
		return append(findings, "No configurations existed for this account"), nil, nil
	}
	stanzas := make([]config.Stanza, 0, len(env.Policy.Stanzas))
	for _, id := range slices.Sorted(maps.Keys(env.Policy.Stanzas)) {
		stanzas = append(stanzas, env.Policy.Stanzas[id])
	}
	checks := make([]regionCheck, len(env.Clients))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, c := range env.Clients {
		g.Go(func() error {
			// The snapshots too (one paginated listing): those whose DeleteOn
			// is not a date are kept forever, and the operator must hear of it.
			inv, err := snapper.BuildInventory(gctx, c, stanzas, snapper.NeedSnapshots|snapper.NeedImages|snapper.NeedRecycleBin)
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
				return fmt.Errorf("instances in %s: %w", c.Region(), err)
			}
			checks[i] = regionCheck{inv: inv, all: all}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}

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
		for _, st := range stanzas {
			if !unmatched[st.ID] {
				matchedSomewhere[st.ID] = true
			}
		}
		for _, c := range rc.inv.Conflicts {
			conflicts = append(conflicts, conflictFinding(env.Policy, c))
		}
		if p := report.CountProtected(rc.inv.Snapshots, rc.inv.RecycleBin); p.WithDeleteOn > 0 || p.RecycleBinRules > 0 {
			notes = append(notes, rc.inv.Name+": "+p.String())
		}
		if ids := retention.NeverDue(rc.inv.Snapshots); len(ids) > 0 {
			neverDue = append(neverDue, neverDueFinding(rc.inv.Name, ids))
		}
		for _, inst := range rc.all {
			if _, covered := rc.inv.Matched[inst.ID]; covered {
				continue
			}
			for _, t := range inst.Tags {
				if strings.EqualFold(t.Key, backupTag) && !isNo(t.Value) {
					untracked = append(untracked, fmt.Sprintf("tag:%s, value:%s was tagged on an instance, but no configuration exists (instance %s in %s)",
						t.Key, t.Value, inst.ID, rc.inv.Name))
				}
			}
		}
	}
	for _, s := range stanzas {
		if errs := rejected[s.ID]; len(errs) > 0 {
			findings = append(findings, fmt.Sprintf("stanza %s: EC2 rejected its match in %d regions, so it governs nothing there (e.g. %s)", s.ID, len(errs), errs[0]))
			continue
		}
		if !matchedSomewhere[s.ID] {
			findings = append(findings, fmt.Sprintf("%s was configured, but didn't match any instances (stanza %s)", s.MatchDescription(), s.ID))
		}
	}
	sort.Strings(conflicts)
	sort.Strings(untracked)
	sort.Strings(neverDue)
	sort.Strings(notes)
	return slices.Concat(findings, conflicts, untracked, neverDue), notes, nil
}

// conflictFinding says which stanzas match an instance and what they
// resolve to (snapper.Policy.Govern).
func conflictFinding(p snapper.Policy, c snapper.Conflict) string {
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

func isNo(v string) bool {
	switch strings.ToLower(v) {
	case "false", "0", "no":
		return true
	}
	return false
}
