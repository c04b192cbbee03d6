package report

import (
	"context"
	"errors"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// RegionWorkers is how many regions Collect reads at once.
const RegionWorkers = 4

// Account is what Collect reads: one account's stanzas and the EC2 client
// of each region to report on (account.Environment holds them).
type Account struct {
	// ID is the account id the report names.
	ID string
	// Regions are the regions to report on (Names, in report order) and
	// their EC2 clients.
	Regions snapper.Regions
	// Policy combines the valid stanzas.
	Policy snapper.Policy
	// Invalid are the messages of the stored stanzas that failed to load,
	// in id order: each lowers the headline by one volume.
	Invalid []string
}

// Collect reads every region of acct, RegionWorkers at a time, with the
// listings snapshot uses plus one batched DescribeVolumes per region, and
// computes the account's report as of opts.Now (opts.Volumes is set per
// region). A region the account cannot use (inventory.ErrRegionUnavailable)
// is skipped with its reason; any other listing error is the region's
// Error, which never stops the others. The CLI's report command and the
// Lambda report handler both call it. It changes nothing.
func Collect(ctx context.Context, acct Account, opts Options) Report {
	stanzas := acct.Policy.Ordered()
	names := acct.Regions.Names()
	regions := make([]Region, len(names))
	var eg errgroup.Group
	eg.SetLimit(RegionWorkers)
	for i, name := range names {
		eg.Go(func() error {
			regions[i] = collectRegion(ctx, acct.Regions.Client(name), stanzas, acct.Policy, opts)
			return nil
		})
	}
	_ = eg.Wait()
	rep := New(acct.ID, opts.Now, opts.Grace, regions)
	rep.ValidStanzas = len(stanzas)
	rep.SetInvalid(acct.Invalid)
	return rep
}

// collectRegion reads one region; stanzas are the policy's, sorted by id.
func collectRegion(ctx context.Context, c snapper.EC2, stanzas []config.Stanza, p snapper.Policy, opts Options) Region {
	name := c.Region()
	if len(stanzas) == 0 {
		return Region{Region: name, Skipped: "no valid configuration stanza"}
	}
	inv, err := snapper.BuildInventory(ctx, c, stanzas, snapper.NeedSnapshots|snapper.NeedImages|snapper.NeedRecycleBin)
	if err != nil {
		if errors.Is(err, inventory.ErrRegionUnavailable) {
			return Region{Region: name, Skipped: inventory.SkipReason(err)}
		}
		slog.ErrorContext(ctx, "region failed", "region", name, "error", err)
		return Region{Region: name, Error: err.Error()}
	}
	var ids []string
	for _, inst := range inv.Instances {
		ids = append(ids, inst.VolumeIDs...)
	}
	for _, s := range inv.Snapshots {
		ids = append(ids, s.VolumeID)
	}
	var volumes map[string]inventory.Volume
	if len(ids) > 0 {
		vols, err := c.Volumes(ctx, ids)
		if err != nil {
			// Sizes and deleted-or-unmatched are extras: report without them.
			slog.WarnContext(ctx, "volumes not listed: sizes and orphan reasons unknown", "region", name, "error", err)
		} else {
			volumes = make(map[string]inventory.Volume, len(vols))
			for _, v := range vols {
				volumes[v.ID] = v
			}
		}
	}
	opts.Volumes = volumes
	return ForRegion(inv, p, opts)
}

// Verdict is the report's verdict as every run states it (snapper.Judge):
// here only regions fail, and stored stanzas that are invalid. It says
// nothing of late or missing volumes (Breach, Unprotected).
func (r Report) Verdict() snapper.Verdict {
	read := snapper.Report{Regions: make([]snapper.RegionReport, len(r.Regions))}
	for i, rr := range r.Regions {
		read.Regions[i] = snapper.RegionReport{Region: rr.Region, Error: rr.Error}
	}
	return snapper.Judge(read, len(r.InvalidStanzas))
}
