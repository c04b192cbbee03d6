// Package accounttest wires account.Sources to in-memory fakes for unit
// tests of the CLI and the Lambda handlers. (It cannot live in ec2fake:
// the engine's own tests import ec2fake, and the engine is below account.)
package accounttest

import (
	"context"
	"maps"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// Sources wires account.Sources to in-memory fakes: the caller is
// ec2fake.AccountID, the enabled regions are the keys of fakes, each region
// is served by its fake through a real ebs.Client (without rate limits),
// and the stanzas are in store.
func Sources(fakes map[string]*ec2fake.Fake, store configstore.Store) account.Sources {
	return account.Sources{
		Store:    store,
		Identify: func(context.Context) (string, error) { return ec2fake.AccountID, nil },
		Regions: func(context.Context) ([]string, error) {
			return slices.Sorted(maps.Keys(fakes)), nil
		},
		EC2: func(region string) snapper.EC2 {
			return ebs.New(fakes[region], region)
		},
	}
}
