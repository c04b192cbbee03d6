package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// outcomeSkipped is an account an organisation run leaves alone (a
// suspended one); outcomeError one it could not work in (its spoke role
// refused, its stanzas unreadable).
const (
	outcomeSkipped = "skipped"
	outcomeError   = "error"
)

// accountRun is one account's part of an organisation run.
type accountRun struct {
	Account string   `json:"account"`
	OUs     []string `json:"ous,omitempty"`
	// Outcome is the account's verdict (ok, partial, failed,
	// interrupted), or skipped or error.
	Outcome string `json:"outcome"`
	// Error and Fix say why the account was skipped or could not be
	// worked in, and what to do; Cause names a known cause
	// ("role_refused", "suspended", "policy_denied").
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
	Fix   string `json:"fix,omitempty"`
	// Run is the account's report, as a single-account run prints it.
	Run *output `json:"run,omitempty"`
}

// orgOutput is what an organisation run of snapshot, clean, replication
// or plan prints: one part per account, in the order of --account, or
// by id from Organizations.
type orgOutput struct {
	Job      string       `json:"job"`
	Now      time.Time    `json:"now"`
	DryRun   bool         `json:"dry_run"`
	Accounts []accountRun `json:"accounts"`
}

// runOrgJob runs job in each account of the organisation flags, up to
// --account-concurrency accounts at once, each through its spoke role
// with its own EC2 rate budget and its own leases; an account that fails
// never stops another. The exit status is read from every account's
// verdict: a failed or refused account makes the run partial (or failed
// when none succeeded).
func runOrgJob(ctx context.Context, f *factory, o *runOptions, job useCase) error {
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
	// Malformed --instance and --volume ids are usage errors at once;
	// --stanza ids are checked in each account, whose stanzas differ.
	named := map[string]bool{}
	for _, id := range o.scope.stanzas {
		named[id] = true
	}
	if _, err := o.scope.scope(named); err != nil {
		return err
	}
	h, cells, err := f.orgHub(ctx, &o.orgs)
	if err != nil {
		return err
	}
	base := snapper.Options{Now: now, DryRun: o.dryRun, Version: version.Current().Version, RunToken: snapper.NewRunToken(time.Now()), CopyLimit: o.copyLimit}
	interrupted, runEnded := f.interrupt.startRun(&base, job.name)
	out := orgOutput{Job: job.name, Now: now.UTC(), DryRun: o.dryRun || job.name == snapper.PipelinePlan, Accounts: make([]accountRun, len(cells))}
	var eg errgroup.Group
	eg.SetLimit(o.orgs.concurrency)
	for i, c := range cells {
		eg.Go(func() error {
			calls := &account.Calls{}
			out.Accounts[i] = o.runCell(ctx, job, c, h.hub(calls), calls, base)
			return nil
		})
	}
	_ = eg.Wait()
	runEnded()
	err = o.print.emit(ctx, f.io.out, format, out, func(w io.Writer) error { printOrg(w, out, f.io.width(), f.flags.quiet); return nil },
		func(w io.Writer) error { return writeOrgCSV(w, out) })
	if err != nil {
		return err
	}
	if interrupted() {
		return fmt.Errorf("%w: accounts and actions not started are not failures: the next run takes them", ErrInterrupted)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return orgVerdict(out.Accounts)
}

// runCell runs job in one account, counting its calls in calls; what
// went wrong is in the result.
func (o *runOptions) runCell(ctx context.Context, job useCase, c cell, hub account.Hub, calls *account.Calls, opts snapper.Options) accountRun {
	res := accountRun{Account: c.ID, OUs: c.OUs}
	failed := func(err error) accountRun {
		res.Outcome, res.Error, res.Cause, res.Fix = outcomeError, err.Error(), causeOf(err), fix(err, o.orgs.roleName)
		slog.ErrorContext(ctx, "account not worked on", "account", c.ID, "error", err)
		return res
	}
	if c.Skip != nil {
		res.Outcome, res.Error, res.Cause, res.Fix = outcomeSkipped, c.Skip.Error(), causeOf(c.Skip), fix(c.Skip, o.orgs.roleName)
		return res
	}
	if c.Fail != nil {
		res = failed(c.Fail)
		res.Fix = failFix(c.ID)
		return res
	}
	src, err := account.ForAccount(ctx, hub, c.ID, o.orgs.spoke(job.name, o.regions))
	if err != nil {
		return failed(err)
	}
	env, err := account.Load(ctx, src, account.Request{Account: c.ID, Regions: o.regions, Scopes: account.Scopes(c.OUs)})
	if err != nil {
		return failed(err)
	}
	invalid := env.InvalidMessages()
	scope, err := o.scope.scope(validIDs(env.Policy))
	if err != nil {
		return failed(fmt.Errorf("account %s: %w", c.ID, err))
	}
	opts.Scope = scope
	var rep snapper.Report
	if len(env.Policy.Stanzas) == 0 {
		rep = snapper.Report{Job: job.name, Now: opts.Now.UTC(), DryRun: opts.DryRun || job.name == snapper.PipelinePlan, Regions: []snapper.RegionReport{}}
	} else {
		var busy map[string]string
		if !o.dryRun && job.name != snapper.PipelinePlan && !o.ignoreLease {
			leases, b, err := takeLeases(ctx, src, env, job, opts.RunToken)
			if err != nil {
				return failed(fmt.Errorf("account %s: %w", c.ID, err))
			}
			defer leases.Release(ctx)
			busy = b
		}
		rep = job.run(snapper.New(env.Regions, env.Policy, opts), ctx)
		busyRegions(&rep, busy)
	}
	run := newOutput(rep, env.Account, invalid, actionFigures(rep, calls), calls)
	res.Run = &run
	res.Outcome = string(snapper.Judge(rep, len(invalid)).Outcome)
	return res
}

// orgVerdict is the run's error from every account's outcome: failed
// when no account was worked on successfully, partial when some failed,
// nil otherwise (skipped accounts are not failures).
func orgVerdict(runs []accountRun) error {
	var bad []string
	good := 0
	for _, r := range runs {
		switch r.Outcome {
		case outcomeError, string(snapper.OutcomeFailed), string(snapper.OutcomePartial):
			bad = append(bad, r.Account+" ("+r.Outcome+")")
		case outcomeSkipped:
		default:
			good++
		}
	}
	switch {
	case len(bad) == 0:
		return nil
	case good == 0:
		return fmt.Errorf("%w: no account succeeded: %s", snapper.ErrFailed, strings.Join(bad, ", "))
	}
	return fmt.Errorf("%w: %d of %d accounts: %s", snapper.ErrPartial, len(bad), len(runs), strings.Join(bad, ", "))
}

// printOrg writes each account's report under its heading, then one line
// per account.
func printOrg(w io.Writer, out orgOutput, width int, quiet bool) {
	for _, r := range out.Accounts {
		fmt.Fprintf(w, "=== account %s%s: %s\n", r.Account, ouSuffix(r.OUs), r.Outcome)
		switch {
		case r.Run != nil && len(r.Run.Regions) == 0 && len(r.Run.InvalidStanzas) == 0:
			fmt.Fprintf(w, "No configurations found for account %s: nothing to do\n", r.Account)
		case r.Run != nil:
			printReport(w, *r.Run, width, quiet)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Outcome, r.Error)
		}
		if r.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", r.Fix)
		}
		fmt.Fprintln(w)
	}
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "ACCOUNT\tOUTCOME\tCREATE\tCOPY\tDELETE\tFAILED\tNOTE")
	for _, r := range out.Accounts {
		var c, cp, d, f int
		if r.Run != nil {
			for _, rr := range r.Run.Regions {
				f += rr.Summary.Failed
				if out.DryRun {
					a, b, e := countPlanned(rr)
					c, cp, d = c+a, cp+b, d+e
				} else {
					c, cp, d = c+rr.Summary.Created, cp+rr.Summary.Copied, d+rr.Summary.Deleted
				}
			}
		}
		note := r.Cause
		if note == "" {
			note = firstLine(r.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Account, r.Outcome, c, cp, d, f, note)
	}
	tw.Flush()
}

func ouSuffix(ous []string) string {
	if len(ous) == 0 {
		return ""
	}
	return " (" + strings.Join(ous, "/") + ")"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// writeOrgCSV writes the single-account CSV with the account first in
// each row, and one row of kind "account" for an account that was
// skipped or could not be worked in (its error and fix in reason and
// error).
func writeOrgCSV(w io.Writer, out orgOutput) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"account"}, runCSVHeader...))
	for _, r := range out.Accounts {
		if r.Run == nil {
			_ = cw.Write([]string{r.Account, "", "account", r.Account, "", "", "", r.Outcome, r.Outcome, r.Fix, r.Error, "", ""})
			continue
		}
		for _, row := range runCSVRows(*r.Run) {
			_ = cw.Write(append([]string{r.Account}, row...))
		}
	}
	cw.Flush()
	return cw.Error()
}

// orgRun sends an organisation run to runOrgJob and any other to
// runJob.
func orgRun(ctx context.Context, f *factory, o *runOptions, job useCase) error {
	if err := checkSingle(o.account); err != nil {
		return err
	}
	if err := o.orgs.check(o.account); err != nil {
		return err
	}
	if o.orgs.multi() {
		return runOrgJob(ctx, f, o, job)
	}
	return runJob(ctx, f, o, job)
}
