// Package accounttest wires account.Sources to in-memory fakes for unit
// tests of the CLI and the Lambda handlers. (It cannot live in ebstest:
// the engine's own tests import ebstest, and the engine is below account.)
package accounttest

import (
	"context"
	"maps"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs/ebstest"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// Sources wires account.Sources to in-memory fakes: the caller is
// ebstest.AccountID, the enabled regions are the keys of fakes, each region
// is served by its fake through a real ebs.Client (without rate limits),
// and the stanzas are in store.
func Sources(fakes map[string]*ebstest.Fake, store configstore.Store) account.Sources {
	return account.Sources{
		Store:    store,
		Identify: func(context.Context) (string, error) { return ebstest.AccountID, nil },
		Regions: func(context.Context) ([]string, error) {
			return slices.Sorted(maps.Keys(fakes)), nil
		},
		EC2: func(region string) snapper.EC2 {
			return ebs.New(fakes[region], region)
		},
	}
}
