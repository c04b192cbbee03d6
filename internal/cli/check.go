package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// backupTag is the tag key (any case) the sanity check looks for on
// instances no stanza covers, as the original did.
const backupTag = "backup"

// runCheck is configure -c: it prints one "<prefix>: <finding>" line per
// problem in the account's configuration, and nothing when all is well.
func runCheck(ctx context.Context, src account.Sources, acct, extra string, out io.Writer) error {
	env, err := loadEnvironment(ctx, src, acct, nil)
	if err != nil {
		return err
	}
	prefix := env.Account
	if extra != "" {
		prefix = extra + "," + env.Account
	}
	findings, err := checkFindings(ctx, env)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintf(out, "%s: %s\n", prefix, f)
	}
	return nil
}

// regionCheck is what one region contributes to the check.
type regionCheck struct {
	inv *snapper.Region
	all []inventory.Instance
}

func checkFindings(ctx context.Context, env *account.Environment) ([]string, error) {
	var findings []string
	for _, msg := range env.InvalidMessages() {
		findings = append(findings, "Found a snapshot configuration that isn't valid: "+strings.ReplaceAll(msg, "\n", "; "))
	}
	if len(env.Policy.Stanzas) == 0 {
		return append(findings, "No configurations existed for this account"), nil
	}
	stanzas := make([]config.Stanza, 0, len(env.Policy.Stanzas))
	for _, id := range sortedIDs(env.Policy.Stanzas) {
		stanzas = append(stanzas, env.Policy.Stanzas[id])
	}
	checks := make([]regionCheck, len(env.Clients))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, c := range env.Clients {
		g.Go(func() error {
			inv, err := snapper.BuildInventory(gctx, c, stanzas, 0)
			if err != nil {
				if errors.Is(err, inventory.ErrRegionUnavailable) {
					return nil
				}
				return err
			}
			// Every running or stopped instance, to find backup-tagged ones
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
		return nil, err
	}

	matchedSomewhere := map[string]bool{}
	var conflicts, untracked []string
	for _, rc := range checks {
		if rc.inv == nil {
			continue
		}
		unmatched := map[string]bool{}
		for _, id := range rc.inv.Unmatched {
			unmatched[id] = true
		}
		for _, st := range stanzas {
			if !unmatched[st.ID] {
				matchedSomewhere[st.ID] = true
			}
		}
		for _, c := range rc.inv.Conflicts {
			conflicts = append(conflicts, fmt.Sprintf("instance %s in %s is matched by stanzas %s; %s governs it",
				c.InstanceID, c.Region, strings.Join(c.ConfigIDs, ", "), c.ConfigIDs[0]))
		}
		for _, inst := range rc.all {
			if _, covered := rc.inv.Assigned[inst.ID]; covered {
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
		if !matchedSomewhere[s.ID] {
			findings = append(findings, fmt.Sprintf("%s was configured, but didn't match any instances (stanza %s)", s.MatchDescription(), s.ID))
		}
	}
	sort.Strings(conflicts)
	sort.Strings(untracked)
	return append(append(findings, conflicts...), untracked...), nil
}

func isNo(v string) bool {
	switch strings.ToLower(v) {
	case "false", "0", "no":
		return true
	}
	return false
}

func sortedIDs(m map[string]config.Stanza) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
