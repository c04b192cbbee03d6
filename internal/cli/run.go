package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// runOptions are the flags of snapshot, clean and plan.
type runOptions struct {
	account string
	regions []string
	now     string
	dryRun  bool
	print   printFlags
	// scope is --instance, --volume, --stanza (plan, snapshot, report).
	scope scopeFlags
	// unsafeNow lets --now drive a run that changes snapshots.
	unsafeNow bool
	// ignoreLease runs without taking the regions' leases.
	ignoreLease bool
	// copyLimit is --copy-limit (replication and plan); 0 where the
	// command has no such flag.
	copyLimit int
	// orgs are --account, --all-accounts and the spoke role's flags.
	orgs accountFlags
}

func (o *runOptions) addFlags(cmd *cobra.Command, dryRun bool) {
	f := cmd.Flags()
	f.StringVarP(&o.account, "aws_account_id", "a", "", "account whose stanzas to use (default: discovered with STS GetCallerIdentity)")
	f.StringArrayVar(&o.regions, "region", nil, "limit the run to this region (repeatable; default: every enabled region)")
	f.StringVar(&o.now, "now", "", "evaluate as of this RFC 3339 time instead of the clock (previews; DeleteOn dates follow it too)")
	o.print.add(cmd, true)
	if dryRun {
		f.BoolVar(&o.dryRun, "dry-run", false, "plan only: print what would be done and make no change")
		f.BoolVar(&o.unsafeNow, "unsafe-now", false, "let --now drive a run that changes snapshots (tests, emulators): a wrong time deletes snapshots early or dates new ones short")
		f.BoolVar(&o.ignoreLease, "ignore-lease", false, "run in regions whose lease another run (CLI or the stack's worker) holds: two runs at once can snapshot a volume twice")
	}
}

// addCopyLimitFlag adds --copy-limit, for the commands that plan copies.
func (o *runOptions) addCopyLimitFlag(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.copyLimit, "copy-limit", snapper.DefaultCopyLimit,
		"snapshot copies in progress allowed per destination region: EC2's quota, raise it only where AWS Support raised that quota")
}

// checkCopyLimit refuses a --copy-limit below 1, which would defer every
// copy for ever.
func (o *runOptions) checkCopyLimit(cmd *cobra.Command) error {
	if f := cmd.Flags().Lookup("copy-limit"); f != nil && o.copyLimit < 1 {
		return usagef("--copy-limit %d: want 1 or more (EC2's quota is %d copies in progress per destination region)", o.copyLimit, snapper.DefaultCopyLimit)
	}
	return nil
}

func newSnapshotCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Take the snapshots that are due",
		Long: `Take a snapshot of every volume of every running or stopped instance a
stanza matches, when the volume has no snapshot yet or its latest one is
older than the stanza's frequency (or the cron expression has fired since),
less a slack of min(10 minutes, 10 % of the period) for the run's own latency.
Each snapshot is created with all its tags in one call: DeleteOn (the first
UTC date on which the whole retention has passed) and the tags inherited
from the instance and volume.

Exit status: 0 ok, 1 error, 2 usage error, 3 some actions or regions failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return orgRun(cmd.Context(), g, o, snapper.JobSnapshot)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	o.scope.add(cmd)
	return cmd
}

func newCleanCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Delete the snapshots whose DeleteOn date has come, keeping each volume's minimum",
		Long: `Delete every snapshot owned by the account whose DeleteOn tag holds a date
that is today (UTC) or earlier, oldest first per volume, while the volume
keeps more completed snapshots than its stanza's minimum. Never deleted: the
newest completed snapshot of a volume, a pending snapshot, a snapshot backing
an AMI, anything ignored, and snapshots whose minimum is unknown (unless a
stanza sets ignore_retention). Snapshots of any instance that still exists
(every state but terminated) keep their stanza's minimum.

Exit status: 0 ok, 1 error, 2 usage error, 3 some actions or regions failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return orgRun(cmd.Context(), g, o, snapper.JobClean)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	return cmd
}

func newReplicationCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "replication",
		Short: "Copy snapshots tagged replication_dst_region to that region, and delete replicas whose original is gone",
		Long: `In each region, copy every completed snapshot tagged replication_dst_region=D
into region D once, with replication_src_region, replication_snapshot_id,
replication_volume_id, DeleteOn and Name set in the same call (all user tags
with replication_copy_tags; encrypted with replication_kms_key's key for D),
and delete every replica whose original no longer exists in its source
region or no longer asks for this region. Pending and error snapshots and
ignored ids are left alone. At most 20 copies are in flight per destination
region (EC2's quota; --copy-limit where AWS Support raised it): what does not
fit is copied on a later run. See docs/replication.md.

Exit status: 0 ok, 1 error, 2 usage error, 3 some actions or regions failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkCopyLimit(cmd); err != nil {
				return err
			}
			return orgRun(cmd.Context(), g, o, snapper.JobReplicate)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	o.addCopyLimitFlag(cmd)
	return cmd
}

func newPlanCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what snapshot and clean would do, with the reason for every decision",
		Long: `Show both plans as one table: a row per volume of every matched instance
(create or skip) and a row per snapshot carrying a DeleteOn tag (delete or
keep), each with its reason; when a stanza says "replication": "yes", a row
per snapshot carrying a replication tag too (copy, defer, delete-replica,
keep or skip). Makes no change.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkCopyLimit(cmd); err != nil {
				return err
			}
			return orgRun(cmd.Context(), g, o, snapper.JobPlan)
		},
	}
	o.addFlags(cmd, false)
	o.orgs.add(cmd)
	o.addCopyLimitFlag(cmd)
	o.scope.add(cmd)
	return cmd
}

// output is what snapshot, clean and plan print.
type output struct {
	snapper.Report
	Account        string   `json:"account"`
	InvalidStanzas []string `json:"invalid_stanzas,omitempty"`
	// APICalls counts the AWS calls of the run by operation, retries
	// included: what the run cost against the account's rate limits.
	APICalls []awsclient.Count `json:"api_calls"`
	// Figures are the run's counts per region, as the Lambda workers
	// publish them in EMF (see docs/report.md).
	Figures []report.Figures `json:"figures"`
}

// evaluationTime is --now, or the clock when it is not given.
func (o *runOptions) evaluationTime() (time.Time, error) {
	if o.now == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, o.now)
	if err != nil {
		return time.Time{}, usagef("--now: want an RFC 3339 time such as 2026-11-25T06:00:00Z, got %q", o.now)
	}
	return t, nil
}

// checkNow refuses --now on a run that changes snapshots unless
// --unsafe-now says the operator means it: what is due and the DeleteOn
// dates of new snapshots both follow --now, so "clean --now <next year>"
// would delete snapshots before their retention has passed, and
// "snapshot --now <last year>" would tag new ones with a DeleteOn already
// past. Dry runs and plan only preview, so --now is safe there.
func (o *runOptions) checkNow(job snapper.Job) error {
	if o.now == "" || o.dryRun || job == snapper.JobPlan || o.unsafeNow {
		return nil
	}
	risk := map[snapper.Job]string{
		snapper.JobSnapshot:  "takes what is due and the DeleteOn of new snapshots from --now, so a time other than the clock's can date new snapshots short",
		snapper.JobClean:     "deletes what is due as of --now, so a later time deletes snapshots before their retention has passed",
		snapper.JobReplicate: "dates replicas and retires them as of --now, so a time other than the clock's can delete replicas early",
	}[job]
	return usagef("--now %s: a %s run %s; preview with --dry-run (or plan), or add --unsafe-now to run as of that time anyway (tests, emulators)", o.now, job, risk)
}

// runJobWithAWS runs job against the AWS account of the standard
// credential chain, counting its API calls.
func runJobWithAWS(ctx context.Context, g *globalOptions, o *runOptions, job snapper.Job) error {
	calls := &awsclient.Calls{}
	src, err := awsSources(ctx, g, calls)
	if err != nil {
		return err
	}
	return runJob(ctx, g, o, job, src, calls)
}

// runJob loads the account from src and runs job in its regions; calls,
// when non-nil, holds the API call counts the report shows.
func runJob(ctx context.Context, g *globalOptions, o *runOptions, job snapper.Job, src account.Sources, calls *awsclient.Calls) error {
	now, err := o.evaluationTime()
	if err != nil {
		return err
	}
	if err := o.checkNow(job); err != nil {
		return err
	}
	format, err := o.print.format()
	if err != nil {
		return err
	}
	env, scope, err := o.scope.load(ctx, src, o.account, o.regions)
	if err != nil {
		return err
	}
	invalid := env.InvalidMessages()
	if len(env.Policy.Stanzas) == 0 {
		// Without a valid stanza nothing is matched and no minimum is known:
		// there is nothing to snapshot and nothing clean may delete.
		// The report's usual shape, with no region, so that a script
		// reading --json or CSV always gets its format.
		rep := snapper.Report{Job: job.String(), Now: now.UTC(), DryRun: o.dryRun || job == snapper.JobPlan, Regions: []snapper.RegionReport{}}
		out := newOutput(rep, env.Account, invalid, []report.Figures{}, calls)
		err := o.print.emit(ctx, g.stdout, format, out, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "No configurations found for account %s: nothing to do\n", env.Account)
			return err
		}, func(w io.Writer) error { return writeRunCSV(w, out) })
		if err != nil {
			return err
		}
		if err := snapper.Judge(snapper.Report{}, len(invalid)).Err(); err != nil {
			return fmt.Errorf("%w:\n%s", err, strings.Join(invalid, "\n"))
		}
		return nil
	}
	opts := snapper.Options{
		Now:       now,
		DryRun:    o.dryRun,
		Scope:     scope,
		Version:   version.Current().Version,
		Remote:    env.Remote,
		RunToken:  snapper.NewRunToken(time.Now()),
		CopyLimit: o.copyLimit,
	}
	// A run that changes snapshots holds each region's lease, as the
	// stack's workers do: one run per pipeline and region at a time.
	var busy map[string]string
	if !o.dryRun && job != snapper.JobPlan && !o.ignoreLease {
		leases, b, err := takeLeases(ctx, src, env, job, opts.RunToken, "")
		if err != nil {
			return err
		}
		defer leases.release(ctx)
		busy = b
	}
	var bars *progress
	if format == formatText && !g.quiet {
		bars = newProgress(g.stderr)
	}
	bars.observe(&opts)
	restoreNotice := func() {}
	if bars != nil {
		// Log lines and the Ctrl-C notice go above the bars while they
		// are drawn.
		g.setupLogging(bars.writer())
		restoreNotice = g.interrupt.noticeTo(bars.writer())
	}
	interrupted, runEnded := g.interrupt.startRun(&opts)
	rep := snapper.Run(ctx, job, env.Clients, env.Policy, opts)
	busyRegions(&rep, busy)
	runEnded()
	if bars != nil {
		bars.finish()
		restoreNotice()
		g.setupLogging(g.stderr)
	}
	out := newOutput(rep, env.Account, invalid, runFigures(rep, calls), calls)
	slog.InfoContext(ctx, "run finished", "job", rep.Job, "api_calls", out.APICalls)
	err = o.print.emit(ctx, g.stdout, format, out, func(w io.Writer) error { printReport(w, out, g.width(), g.quiet); return nil },
		func(w io.Writer) error { return writeRunCSV(w, out) })
	if err != nil {
		return err
	}
	if interrupted() {
		notStarted := 0
		for _, rr := range rep.Regions {
			notStarted += rr.Summary.NotStarted
		}
		return fmt.Errorf("%w: %d actions not started (not failures: the next run takes them), %d failed or unknown",
			ErrInterrupted, notStarted, rep.Failed())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return snapper.Judge(rep, len(invalid)).Err()
}

// loadEnvironment loads the account through the composition root; a
// --region the account has not enabled is a usage error.
func loadEnvironment(ctx context.Context, src account.Sources, acct string, regions []string) (*account.Environment, error) {
	env, err := account.Load(ctx, src, account.Request{Account: acct, Regions: regions})
	if errors.Is(err, account.ErrRegionNotEnabled) {
		return nil, usagef("--region %v", err)
	}
	return env, err
}

// printReport writes the human-readable report: one row per decision, then
// the per-region summary.
func printReport(w io.Writer, out output, width int, quiet bool) {
	for _, msg := range out.InvalidStanzas {
		fmt.Fprintf(w, "invalid stanza skipped: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	}
	if !quiet {
		printRows(w, out, width)
	}
	printSummary(w, out, width)
}

// printRows writes one row per decision.
func printRows(w io.Writer, out output, width int) {
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tRESOURCE\tCONFIG\tACTION\tSTATUS\tREASON")
	for _, rr := range out.Regions {
		for _, r := range rr.Snapshots {
			reason := r.Reason
			if r.SnapshotID != "" {
				reason += fmt.Sprintf(" -> %s (DeleteOn %s)", r.SnapshotID, r.DeleteOn)
			}
			if r.Locked {
				reason += ", locked"
			}
			if r.LockError != "" {
				reason += "; NOT LOCKED: " + r.LockError
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\t%s\t%s\n", rr.Region, r.VolumeID, r.InstanceID,
				configs(r.ConfigID, r.ConfigIDs), r.Action, dash(r.Status), withError(reason, r.Error))
		}
		for _, r := range rr.Clean {
			reason := r.Reason
			if h := r.RecycleBin; h != nil {
				reason += fmt.Sprintf("; Recycle Bin rule %s keeps it billed (up to %d GiB) until %s", h.Rule, h.GiB, h.Until.Format(time.RFC3339))
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\t%s\t%s\n", rr.Region, r.SnapshotID, r.VolumeID,
				configs(r.ConfigID, r.ConfigIDs), r.Action, dash(r.Status), withError(reason, r.Error))
		}
		for _, r := range rr.Replication {
			reason := r.Reason
			if r.ReplicaID != "" {
				reason += " -> " + r.ReplicaID
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t-\t%s\t%s\t%s\n", rr.Region, r.SnapshotID, r.Role,
				r.Action, dash(r.Status), withError(reason, r.Error))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printSummary writes the per-region summary.
func printSummary(w io.Writer, out output, width int) {
	verb := map[bool]string{true: " (dry run: nothing was changed)", false: ""}[out.DryRun]
	fmt.Fprintf(w, "%s as of %s%s\n", out.Job, out.Now.Format(time.RFC3339), verb)
	if out.RunToken != "" {
		fmt.Fprintf(w, "new snapshots carry the tag %s=%s\n", snapper.RunTag, out.RunToken)
	}
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tCREATE\tSKIP\tCOPY\tDELETE\tKEEP\tFAILED\tNOTE")
	idle := 0
	for _, rr := range out.Regions {
		if len(rr.Snapshots)+len(rr.Clean)+len(rr.Replication)+len(rr.Conflicts)+len(rr.InvalidStanzas) == 0 && rr.Skipped == "" && rr.Error == "" {
			idle++
			continue
		}
		c, cp, d := rr.Summary.Created, rr.Summary.Copied, rr.Summary.Deleted
		if out.DryRun {
			c, cp, d = countPlanned(rr)
		}
		note := rr.Skipped
		if rr.Error != "" {
			note = "error: " + rr.Error
		}
		if n := rr.Summary.Deferred; n > 0 && !out.DryRun {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d copies deferred (destination's copy limit)", n)
		}
		if rr.Summary.NotStarted > 0 {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d not started", rr.Summary.NotStarted)
		}
		if rr.Summary.Unknown > 0 {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d outcome unknown (see each row)", rr.Summary.Unknown)
		}
		for _, cf := range rr.Conflicts {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%s matched by %s (the safer rule of each applies)", cf.InstanceID, strings.Join(cf.ConfigIDs, ", "))
		}
		for _, st := range rr.InvalidStanzas {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("invalid stanza %s: %s", st.ConfigID, st.Error)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", rr.Region, c, skipped(rr), cp, d, rr.Summary.Kept, rr.Summary.Failed, note)
	}
	tw.Flush()
	if idle > 0 {
		fmt.Fprintf(w, "%d other regions: nothing to do\n", idle)
	}
	for _, rr := range out.Regions {
		if b := rr.RecycleBin; b != nil {
			fmt.Fprintln(w, recycleBinLine(rr.Region, b, out.DryRun))
		}
		if n := len(rr.NeverDue); n > 0 {
			fmt.Fprintf(w, "%s: %d snapshots have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: %s\n",
				rr.Region, n, strings.Join(rr.NeverDue, ", "))
		}
	}
}

// configs is the CONFIG column: the deciding stanza, or every stanza
// governing the row when there are several ("db+workers").
func configs(id string, ids []string) string {
	if len(ids) > 1 {
		return strings.Join(ids, "+")
	}
	return dash(id)
}

func countPlanned(rr snapper.RegionReport) (create, copies, del int) {
	for _, r := range rr.Snapshots {
		if r.Action == snapper.Create {
			create++
		}
	}
	for _, r := range rr.Clean {
		if r.Action == retention.Delete {
			del++
		}
	}
	for _, r := range rr.Replication {
		switch r.Action {
		case snapper.Copy:
			copies++
		case snapper.DeleteReplica:
			del++
		}
	}
	return create, copies, del
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// withError appends err to reason in brackets, unless it is empty or the
// reason already is the error (a decision that could not be taken gives its
// problem as both).
func withError(reason, err string) string {
	if err == "" || err == reason {
		return reason
	}
	return reason + " [" + err + "]"
}
