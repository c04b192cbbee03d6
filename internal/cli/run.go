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
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
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
	f.StringVarP(&o.account, "aws_account_id", "a", "", "account whose stanzas to use, 12 digits (default: discovered with STS GetCallerIdentity)")
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

func newSnapshotCommand(f *factory) *cobra.Command {
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
			return orgRun(cmd.Context(), f, o, snapshotUseCase)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	o.scope.add(cmd)
	return cmd
}

func newCleanCommand(f *factory) *cobra.Command {
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
			return orgRun(cmd.Context(), f, o, cleanUseCase)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	return cmd
}

func newReplicationCommand(f *factory) *cobra.Command {
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
			return orgRun(cmd.Context(), f, o, replicateUseCase)
		},
	}
	o.addFlags(cmd, true)
	o.orgs.add(cmd)
	o.addCopyLimitFlag(cmd)
	return cmd
}

func newPlanCommand(f *factory) *cobra.Command {
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
			return orgRun(cmd.Context(), f, o, planUseCase)
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
	APICalls []account.CallCount `json:"api_calls"`
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
func (o *runOptions) checkNow(job useCase) error {
	if o.now == "" || o.dryRun || job.name == snapper.PipelinePlan || o.unsafeNow {
		return nil
	}
	risk := map[string]string{
		snapper.PipelineSnapshot:    "takes what is due and the DeleteOn of new snapshots from --now, so a time other than the clock's can date new snapshots short",
		snapper.PipelineClean:       "deletes what is due as of --now, so a later time deletes snapshots before their retention has passed",
		snapper.PipelineReplication: "dates replicas and retires them as of --now, so a time other than the clock's can delete replicas early",
		snapper.PipelineDrill:       "sweeps drill volumes and dates drills as of --now, so a later time deletes the volumes of drills still running",
	}[job.name]
	return usagef("--now %s: a %s run %s; preview with --dry-run (or plan), or add --unsafe-now to run as of that time anyway (tests, emulators)", o.now, job, risk)
}

// runJob loads the account through the factory's sources and runs job in
// its regions, reporting the AWS calls the factory counted.
func runJob(ctx context.Context, f *factory, o *runOptions, job useCase) error {
	src, err := f.sources(ctx)
	if err != nil {
		return err
	}
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
		rep := snapper.Report{Job: job.name, Now: now.UTC(), DryRun: o.dryRun || job.name == snapper.PipelinePlan, Regions: []snapper.RegionReport{}}
		out := newOutput(rep, env.Account, invalid, []report.Figures{}, f.calls)
		err := o.print.emit(ctx, f.io.out, format, out, func(w io.Writer) error {
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
		RunToken:  snapper.NewRunToken(time.Now()),
		CopyLimit: o.copyLimit,
	}
	// A run that changes snapshots holds each region's lease, as the
	// stack's workers do: one run per pipeline and region at a time.
	var busy map[string]string
	if !o.dryRun && job.name != snapper.PipelinePlan && !o.ignoreLease {
		leases, b, err := takeLeases(ctx, src, env, job, opts.RunToken)
		if err != nil {
			return err
		}
		defer leases.Release(ctx)
		busy = b
	}
	var bars *progress
	if format == formatText && !f.flags.quiet && f.io.progressAllowed() {
		bars = newProgress(f.io.errOut)
	}
	bars.observe(&opts)
	restore := func() {}
	if bars != nil {
		// Log lines and the Ctrl-C notice go above the bars while they
		// are drawn.
		restore = f.io.divert(bars.writer())
	}
	interrupted, runEnded := f.interrupt.startRun(&opts, job.name)
	rep := job.run(snapper.New(env.Regions, env.Policy, opts), ctx)
	busyRegions(&rep, busy)
	runEnded()
	if bars != nil {
		bars.finish()
		restore()
	}
	out := newOutput(rep, env.Account, invalid, actionFigures(rep, f.calls), f.calls)
	slog.InfoContext(ctx, "run finished", "job", rep.Job, "api_calls", out.APICalls)
	err = o.print.emit(ctx, f.io.out, format, out, func(w io.Writer) error { printReport(w, out, f.io.width(), f.flags.quiet); return nil },
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
