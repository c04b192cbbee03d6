package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

func newDrillCommand(f *factory) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Restore the due volumes' newest snapshots to throw-away volumes and check that EC2 reads them back",
		Long: `Restore drills for the stanzas with a "drill" key (docs/drills.md). First, in
every region, delete the drill volumes of earlier runs that outlived the time
allowed (found by their ebs-snapper:drill-run tag; deleted only when unattached,
created from the snapshot their tag names at its size after their run began,
and carrying no tag a drill does not set; others are reported). Then, for each volume whose last drill is
older than drill.every (within drill.sample and drill.max_gib_per_day), create
a volume from its newest completed snapshot in one of the region's
availability zones, tagged in the same call; ask EC2 every 15 seconds until it
is available (or drill.timeout has passed, or it is in error); delete it; and
tag the snapshot ebs-snapper:last-drill with the date, the outcome and the
seconds it took. A snapshot in state error fails its drill without a volume.
A volume not drilled has its last record copied to its newest snapshot, so
that the record outlives the snapshot drilled.

Exit status: 0 ok, 1 error, 2 usage error, 3 a drill failed or some action or
region failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runJob(cmd.Context(), f, o, drillUseCase)
		},
	}
	o.addFlags(cmd, true)
	o.scope.add(cmd)
	o.orgs.add(cmd)
	return cmd
}

// printDrillRows writes one row per drill decision and per leftover drill
// volume a run found.
func printDrillRows(w io.Writer, out output, width int) {
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tVOLUME\tSNAPSHOT\tCONFIG\tACTION\tSTATUS\tOUTCOME\tSECONDS\tREASON")
	for _, rr := range out.Regions {
		for _, v := range rr.Swept {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tsweep\t%s\t-\t-\t%s\n", rr.Region, v.VolumeID, dash(v.SnapshotID), dash(v.Status), withError(v.Reason, v.Error))
		}
		for _, r := range rr.Drills {
			secs := "-"
			if r.Outcome == snapper.DrillPassed {
				secs = strconv.Itoa(r.SecondsToAvailable)
			}
			reason := r.Reason
			switch {
			case r.CarryTo != "" && out.DryRun:
				reason += "; would carry the record to " + r.CarryTo
			case r.CarryTo != "":
				reason += "; record carried to " + r.CarryTo
			}
			if r.DrillVolumeID != "" {
				reason += fmt.Sprintf(" -> %s in %s", r.DrillVolumeID, r.AvailabilityZone)
				if r.Deleted {
					reason += ", deleted"
				}
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rr.Region, r.VolumeID, dash(r.InstanceID), dash(r.SnapshotID), r.ConfigID,
				r.Action, dash(r.Status), dash(r.Outcome), secs, withError(reason, r.Error))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printDrillSummary writes the per-region summary of a drill run.
func printDrillSummary(w io.Writer, out output, width int) {
	verb := map[bool]string{true: " (dry run: nothing was changed)", false: ""}[out.DryRun]
	fmt.Fprintf(w, "drill as of %s%s\n", out.Now.Format(time.RFC3339), verb)
	if out.RunToken != "" {
		fmt.Fprintf(w, "drill volumes carry the tag %s=%s\n", snapper.DrillRunTag, out.RunToken)
	}
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tDRILL\tPASSED\tFAILED\tSKIP\tSWEPT\tNOTE")
	idle := 0
	for _, rr := range out.Regions {
		if len(rr.Drills)+len(rr.Swept) == 0 && rr.Skipped == "" && rr.Error == "" {
			idle++
			continue
		}
		due, skip := 0, 0
		for _, r := range rr.Drills {
			if r.Action == snapper.ActionDrill {
				due++
			} else {
				skip++
			}
		}
		note := rr.Skipped
		if rr.Error != "" {
			note = "error: " + rr.Error
		}
		if rr.Summary.NotStarted > 0 {
			note += fmt.Sprintf(" %d not started", rr.Summary.NotStarted)
		}
		s := rr.Summary
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", rr.Region, due, s.Drilled-s.DrillsFailed, s.Failed, skip, s.Swept, note)
	}
	tw.Flush()
	if idle > 0 {
		fmt.Fprintf(w, "%d other regions: nothing to drill\n", idle)
	}
}

// drillCSV is the CSV rows of a region's drills and swept volumes, in
// runCSVHeader's columns: kind "drill" (resource_id the snapshot, new_id
// the drill volume, status "<status>/<outcome>") or "sweep".
func drillCSV(rr snapper.RegionReport) [][]string {
	var rows [][]string
	for _, v := range rr.Swept {
		rows = append(rows, []string{rr.Region, "sweep", v.VolumeID, v.VolumeID, "", "", "sweep", v.Status, v.Reason, v.Error, "", ""})
	}
	for _, r := range rr.Drills {
		status := r.Status
		if r.Outcome != "" {
			status += "/" + r.Outcome
		}
		rows = append(rows, []string{rr.Region, "drill", r.SnapshotID, r.VolumeID, r.InstanceID, r.ConfigID, r.Action, status, r.Reason, r.Error, r.DrillVolumeID, ""})
	}
	return rows
}
