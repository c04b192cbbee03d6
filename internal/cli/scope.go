package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// scopeFlags are --instance, --volume and --stanza: the scoping flags of
// plan, report, snapshot and snapshots.
type scopeFlags struct {
	instances, volumes, stanzas []string
}

func (s *scopeFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&s.instances, "instance", nil, "only the volumes of this instance (i-…; repeatable or comma-separated)")
	f.StringSliceVar(&s.volumes, "volume", nil, "only this volume (vol-…; repeatable or comma-separated)")
	f.StringSliceVar(&s.stanzas, "stanza", nil, "only the volumes this stanza governs (repeatable or comma-separated)")
	_ = cmd.RegisterFlagCompletionFunc("instance", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("volume", cobra.NoFileCompletions)
}

// scope checks the ids and returns the scope; valid are the valid stanza
// ids of the account, which --stanza must name. A malformed id or an
// unknown stanza is a usage error naming the flag.
func (s *scopeFlags) scope(valid map[string]bool) (snapper.Scope, error) {
	for _, id := range s.instances {
		if !strings.HasPrefix(id, "i-") {
			return snapper.Scope{}, usagef("--instance %q: want an instance id such as i-0123456789abcdef0", id)
		}
	}
	for _, id := range s.volumes {
		if !strings.HasPrefix(id, "vol-") {
			return snapper.Scope{}, usagef("--volume %q: want a volume id such as vol-0123456789abcdef0", id)
		}
	}
	for _, id := range s.stanzas {
		if !valid[id] {
			return snapper.Scope{}, usagef("--stanza %q: no valid stanza has that id (configure -l lists them)", id)
		}
	}
	return snapper.Scope{Instances: s.instances, Volumes: s.volumes, Stanzas: s.stanzas}, nil
}

// validIDs is the set of the policy's valid stanza ids.
func validIDs(p snapper.Policy) map[string]bool {
	ids := make(map[string]bool, len(p.Stanzas))
	for id := range p.Stanzas {
		ids[id] = true
	}
	return ids
}

// load loads the account (loadEnvironment) and the scope these flags ask
// for, whose --stanza ids must be among the account's valid stanzas: what
// every command that plans a region does first.
func (s *scopeFlags) load(ctx context.Context, src account.Sources, acct string, regions []string) (*account.Environment, snapper.Scope, error) {
	env, err := loadEnvironment(ctx, src, acct, regions)
	if err != nil {
		return nil, snapper.Scope{}, err
	}
	scope, err := s.scope(validIDs(env.Policy))
	if err != nil {
		return nil, snapper.Scope{}, err
	}
	return env, scope, nil
}
