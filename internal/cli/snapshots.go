package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

// snapshotsOptions are the flags of snapshots.
type snapshotsOptions struct {
	runOptions
	latest bool
}

// listing is what snapshots prints.
type listing struct {
	Account string                 `json:"account"`
	Now     time.Time              `json:"now"`
	Regions []snapper.ListedRegion `json:"regions"`
}

func newSnapshotsCommand(f *factory) *cobra.Command {
	o := &snapshotsOptions{}
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List the account's snapshots per volume, with their stanza, DeleteOn, run and protection",
		Long: `List every snapshot the account owns, per region and volume, newest first:
its state and start time, the stanzas governing its volume, its DeleteOn
tag, the run that created it (the ebs-snapper:run tag), and what clean
would do with it now and why: the protection that keeps it (minimum,
newest completed, backs an AMI, not due yet, …) or why it is due.

It reads what clean reads (instances per stanza, snapshots, AMIs) and
changes nothing. --instance, --volume and --stanza narrow the list;
--latest keeps each volume's newest snapshot.`,
		Example: `  ebs-snapper snapshots --region eu-west-1
  ebs-snapper snapshots --instance i-0123456789abcdef0 --latest
  ebs-snapper snapshots --stanza tagged_instances --output csv > snapshots.csv
  ebs-snapper snapshots --jq '.regions[].snapshots[] | select(.clean == "delete") | .snapshot_id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshots(cmd.Context(), f, o)
		},
	}
	o.addFlags(cmd, false)
	o.scope.add(cmd)
	cmd.Flags().BoolVar(&o.latest, "latest", false, "only each volume's newest snapshot")
	return cmd
}

func runSnapshots(ctx context.Context, f *factory, o *snapshotsOptions) error {
	if err := checkSingle(o.account); err != nil {
		return err
	}
	now, err := o.evaluationTime()
	if err != nil {
		return err
	}
	format, err := o.print.format()
	if err != nil {
		return err
	}
	src, err := f.sources(ctx)
	if err != nil {
		return err
	}
	env, scope, err := o.scope.load(ctx, src, o.account, o.regions)
	if err != nil {
		return err
	}
	out := listing{Account: env.Account, Now: now.UTC(),
		Regions: snapper.New(env.Regions, env.Policy, snapper.Options{Now: now, Scope: scope}).List(ctx, o.latest)}
	err = o.print.emit(ctx, f.io.out, format, out, func(w io.Writer) error { return writeListing(w, out, f.io.width()) },
		func(w io.Writer) error { return writeListingCSV(w, out) })
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The verdict every command shares: here only regions can fail.
	read := snapper.Report{Regions: make([]snapper.RegionReport, len(out.Regions))}
	for i, r := range out.Regions {
		read.Regions[i] = snapper.RegionReport{Region: r.Region, Error: r.Error}
	}
	return snapper.Judge(read, 0).Err()
}

// writeListing prints one row per snapshot and a line per region that
// was skipped or failed.
func writeListing(w io.Writer, out listing, width int) error {
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tVOLUME\tINSTANCE\tSNAPSHOT\tSTARTED\tSTATE\tSTANZA\tDELETEON\tRUN\tCLEAN\tPROTECTION")
	n := 0
	for _, r := range out.Regions {
		for _, s := range r.Snapshots {
			n++
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Region, s.VolumeID, report.InstanceLabel(s.InstanceID, s.InstanceName),
				s.SnapshotID, s.StartTime.Format(time.RFC3339), s.State, dash(strings.Join(s.ConfigIDs, "+")), dash(s.DeleteOn),
				dash(s.Run), dash(s.Clean), s.Protection)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range out.Regions {
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "%s: error: %s\n", r.Region, r.Error)
		case r.Skipped != "":
			fmt.Fprintf(w, "%s: skipped: %s\n", r.Region, r.Skipped)
		}
	}
	_, err := fmt.Fprintf(w, "%d snapshots as of %s\n", n, out.Now.Format(time.RFC3339))
	return err
}

func writeListingCSV(w io.Writer, out listing) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"region", "volume_id", "instance_id", "instance_name", "snapshot_id", "start_time", "state", "config_ids",
		"delete_on", "run", "storage_tier", "clean", "protection"})
	for _, r := range out.Regions {
		for _, s := range r.Snapshots {
			_ = cw.Write([]string{r.Region, s.VolumeID, s.InstanceID, s.InstanceName, s.SnapshotID, s.StartTime.Format(time.RFC3339),
				s.State, strings.Join(s.ConfigIDs, "+"), s.DeleteOn, s.Run, s.StorageTier, s.Clean, s.Protection})
		}
	}
	cw.Flush()
	return cw.Error()
}
