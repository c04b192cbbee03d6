package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// runOrgReport is report across the organisation flags' accounts: each
// account read through its spoke role (up to --account-concurrency at
// once), shown as one row per account, worst first, in text, JSON, CSV
// and the HTML page (--html); the text's -q-less form adds each account's
// own report. Exit status: 4 when a volume of some account is late or
// missing, else 3 when an account could not be read (or partly), else 0.
func runOrgReport(ctx context.Context, f *factory, o *reportOptions, format string, opts report.Options) error {
	h, cells, err := f.orgHub(ctx, &o.orgs)
	if err != nil {
		return err
	}
	hub := h.hub(nil)
	accounts := make([]report.OrgAccount, len(cells))
	var eg errgroup.Group
	eg.SetLimit(o.orgs.concurrency)
	for i, c := range cells {
		eg.Go(func() error {
			accounts[i] = o.reportCell(ctx, hub, c, opts)
			return nil
		})
	}
	_ = eg.Wait()
	org := report.NewOrg(opts.Now, accounts)
	switch {
	case o.html == "-":
		if err := report.WriteOrgHTML(f.io.out, org); err != nil {
			return fmt.Errorf("--html -: %w", err)
		}
	case o.html != "":
		if err := writeOrgHTML(o.html, org); err != nil {
			return err
		}
	}
	if o.html != "-" {
		err := o.print.emit(ctx, f.io.out, format, org,
			func(w io.Writer) error { return report.WriteOrgText(w, org, f.io.width(), !f.flags.quiet) },
			func(w io.Writer) error { return report.WriteOrgCSV(w, org) })
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case org.Breach():
		return fmt.Errorf("%w: %d late, %d missing across %d accounts", ErrRPOBreach, org.Coverage.Late, org.Coverage.Missing, len(org.Accounts))
	case org.Count("error")+org.Count("partial") > 0:
		// Before "nothing protected": an account that could not be read
		// matched nothing because it was not read.
		return fmt.Errorf("%w: %d accounts could not be read, %d partly", snapper.ErrPartial, org.Count("error"), org.Count("partial"))
	case org.Coverage.Matched == 0:
		return fmt.Errorf("%w: no account's stanzas match a volume", ErrNothingProtected)
	}
	return nil
}

// reportCell reads one account's report; what went wrong is in the row.
func (o *reportOptions) reportCell(ctx context.Context, hub account.Hub, c cell, opts report.Options) report.OrgAccount {
	row := report.OrgAccount{Account: c.ID, OUs: c.OUs}
	if c.Skip != nil {
		row.Outcome, row.Error, row.Fix = "skipped", c.Skip.Error(), fix(c.Skip, o.orgs.roleName)
		return row
	}
	err := c.Fail
	var src account.Sources
	if err == nil {
		src, err = account.ForAccount(ctx, hub, c.ID, o.orgs.spoke("report", o.regions))
	}
	var env *account.Environment
	if err == nil {
		env, err = account.Load(ctx, src, account.Request{Account: c.ID, Regions: o.regions, Scopes: account.Scopes(c.OUs)})
	}
	var scope snapper.Scope
	if err == nil {
		scope, err = o.scope.scope(validIDs(env.Policy))
	}
	if err != nil {
		slog.ErrorContext(ctx, "account not read", "account", c.ID, "error", err)
		row.Outcome, row.Error, row.Fix = "error", err.Error(), fix(err, o.orgs.roleName)
		if c.Fail != nil {
			row.Fix = failFix(c.ID)
		}
		return row
	}
	opts.Scope = scope
	rep := report.Collect(ctx, report.Account{ID: env.Account, Regions: env.Regions, Policy: env.Policy, Invalid: env.InvalidMessages()}, opts)
	return report.AccountOf(rep, c.OUs)
}

func writeOrgHTML(path string, org report.Org) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err := report.WriteOrgHTML(f, org); err != nil {
		f.Close()
		return fmt.Errorf("--html: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--html: write %s: %w", path, err)
	}
	return nil
}
