package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// ErrRPOBreach reports that some matched volume is late or missing. It
// exits with ExitLate.
var ErrRPOBreach = errors.New("some volumes are late or missing a snapshot")

// reportOptions are the flags of report.
type reportOptions struct {
	runOptions
	html  string
	grace string
}

func newReportCommand(f *factory) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Show whether every matched volume has a recent enough snapshot (RPO), and coverage",
		Long: `Show, per region and stanza, every volume of every matched instance with its
newest completed snapshot and a status:

  ok       the newest completed snapshot is younger than the period + grace
  late     it is older (or nothing completed since a first attempt that old)
  missing  the volume has no snapshot at all
  failed   the latest attempt ended in error
  pending  the only snapshots are still in progress

The period is the stanza's frequency, or for a cron expression the gap
between its fires before and after now; the grace defaults to one period.
Also listed: orphaned snapshots (of deleted volumes or volumes no matched
instance holds), snapshots without a DeleteOn tag, and an upper bound of
the storage. It reads the same inventory as snapshot and clean (plus one
batched DescribeVolumes per region for sizes) and changes nothing.

A volume several stanzas govern is judged by the one with the shortest
period. With no valid stanza, or none matching a volume, the report says
no volume is protected (0 %, exit 4); each invalid stored stanza counts as
one volume not ok in the headline.

Exit status: 0 every volume ok (or failed/pending), 1 error, 2 usage error,
3 some regions could not be read or a stored stanza is invalid, 4 some
volume is late or missing, or no volume is protected.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), f, o)
		},
	}
	o.addFlags(cmd, false)
	o.orgs.add(cmd)
	o.scope.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.html, "html", "", "also write the report as a self-contained HTML page to this file (- for standard output, instead of the text)")
	fl.StringVar(&o.grace, "grace", "", `time a volume may be overdue before it is late, e.g. "6 hours" (default: one period)`)
	return cmd
}

func runReport(ctx context.Context, f *factory, o *reportOptions) error {
	now, err := o.evaluationTime()
	if err != nil {
		return err
	}
	var grace *time.Duration
	if o.grace != "" {
		d, err := config.ParseDuration(o.grace)
		if err != nil {
			// Also Go's forms, such as "0" (no grace) or "1h30m".
			d, err = time.ParseDuration(o.grace)
		}
		if err != nil || d < 0 {
			return usagef("--grace: want a duration such as \"6 hours\" or \"90m\", got %q", o.grace)
		}
		grace = &d
	}
	format, err := o.print.format()
	if err != nil {
		return err
	}
	if o.html == "-" && (format != formatText || o.print.output != formatText) {
		return usagef("--html - writes the page to standard output: it cannot be combined with --json, --jq or --output")
	}
	if err := checkSingle(o.account); err != nil {
		return err
	}
	if err := o.orgs.check(o.account); err != nil {
		return err
	}
	if o.orgs.multi() {
		return runOrgReport(ctx, f, o, format, report.Options{Now: now, Grace: grace})
	}
	src, err := f.sources(ctx)
	if err != nil {
		return err
	}
	env, scope, err := o.scope.load(ctx, src, o.account, o.regions)
	if err != nil {
		return err
	}
	rep := report.Collect(ctx, report.Account{ID: env.Account, Regions: env.Regions, Policy: env.Policy, Invalid: env.InvalidMessages()},
		report.Options{Now: now, Grace: grace, Scope: scope})

	switch {
	case o.html == "-":
		// The page is the output.
		if err := report.WriteHTML(f.io.out, rep); err != nil {
			return fmt.Errorf("--html -: %w", err)
		}
	case o.html != "":
		if err := writeHTML(o.html, rep); err != nil {
			return err
		}
	}
	if o.html != "-" {
		err := o.print.emit(ctx, f.io.out, format, rep, func(w io.Writer) error {
			if f.flags.quiet {
				return report.WriteHeadline(w, rep)
			}
			return report.WriteTextWidth(w, rep, f.io.width())
		},
			func(w io.Writer) error { return report.WriteCSV(w, rep) })
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return reportOutcome(rep)
}

func writeHTML(path string, rep report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err := report.WriteHTML(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("--html: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--html: write %s: %w", path, err)
	}
	return nil
}

// actionFigures are the action figures of a run (report.ActionsOf), per
// region that ran, the same the Lambda workers publish in EMF.
func actionFigures(rep snapper.Report, calls *account.Calls) []report.Figures {
	out := []report.Figures{}
	for _, rr := range rep.Regions {
		if rr.Skipped != "" || rep.DryRun {
			continue
		}
		out = append(out, report.Figures{Region: rr.Region, Actions: report.ActionsOf(rr, calls.ThrottledIn(rr.Region)), Drills: report.DrillsOf(rep.Job, rr)})
	}
	return out
}
