package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// takeLeases takes job's lease in each region of env (account.TakeLeases).
// A region whose lease another run holds is removed from env's run, and
// its skip line is returned by region: that run does the work. Any other
// failure to take a lease is returned, worded with the flag that runs
// without. A nil src.Leases takes none.
func takeLeases(ctx context.Context, src account.Sources, env *account.Environment, job useCase, token string) (*account.RunLeases, map[string]string, error) {
	leases, taken, held, err := account.TakeLeases(ctx, src, env.Account, job.String(), env.Regions.Names(), token)
	var le *account.LeaseError
	if errors.As(err, &le) {
		return nil, nil, fmt.Errorf("%w (grant dynamodb:PutItem and dynamodb:DeleteItem on the table, or run with --ignore-lease)", err)
	}
	if err != nil || len(held) == 0 {
		return leases, nil, err
	}
	busy := map[string]string{}
	for _, region := range env.Regions.Names() {
		if why, ok := held[region]; ok {
			busy[region] = fmt.Sprintf("region busy: another run holds its %s lease and does the work (%v); --ignore-lease runs anyway", job, why)
			slog.WarnContext(ctx, "region skipped: "+busy[region], "region", region)
		}
	}
	env.Regions = snapper.OnlyRegions(env.Regions, func(r string) bool { return slices.Contains(taken, r) })
	return leases, busy, nil
}

// busyRegions adds a skipped region report for each busy region to rep,
// keeping rep's regions sorted.
func busyRegions(rep *snapper.Report, busy map[string]string) {
	for region, why := range busy {
		rep.Regions = append(rep.Regions, snapper.RegionReport{Region: region, Skipped: why})
	}
	slices.SortFunc(rep.Regions, func(a, b snapper.RegionReport) int {
		switch {
		case a.Region < b.Region:
			return -1
		case a.Region > b.Region:
			return 1
		}
		return 0
	})
}
