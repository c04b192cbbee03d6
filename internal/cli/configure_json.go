package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
)

// listedStanza is one row of "configure -l --json".
type listedStanza struct {
	AccountID string `json:"aws_account_id"`
	ID        string `json:"id"`
	Valid     bool   `json:"valid"`
	// Error is why the stored stanza is invalid (snapshot and clean skip
	// it), "" when it is valid.
	Error string `json:"error,omitempty"`
}

// checkResult is "configure -c --json".
type checkResult struct {
	Account  string   `json:"account"`
	Findings []string `json:"findings"`
	// Notes are what the operator should know and need not fix (protected
	// snapshots, Recycle Bin rules, per region): no finding.
	Notes []string `json:"notes"`
}

// configureJSON runs -l or -c with JSON output (--json, --output json,
// --jq); other actions print what the original printed and take none.
func configureJSON(ctx context.Context, o *configureOptions, src account.Sources, store account.Store, action string, w io.Writer) error {
	switch action {
	case "list":
		items, err := store.List(ctx, o.account)
		if err != nil {
			return err
		}
		out := make([]listedStanza, 0, len(items))
		for _, it := range items {
			row := listedStanza{AccountID: it.AccountID, ID: it.ID, Valid: true}
			if err := account.ParseItem(ctx, it); err != nil {
				row.Valid, row.Error = false, err.Error()
			}
			out = append(out, row)
		}
		return o.print.writeJSON(ctx, w, out)
	case "check":
		env, err := loadEnvironment(ctx, src, o.account, nil)
		if err != nil {
			return err
		}
		findings, notes, err := checkFindings(ctx, env)
		if err != nil {
			return err
		}
		if findings == nil {
			findings = []string{}
		}
		if notes == nil {
			notes = []string{}
		}
		if err := o.print.writeJSON(ctx, w, checkResult{Account: env.Account, Findings: findings, Notes: notes}); err != nil {
			return err
		}
		if len(findings) > 0 {
			return fmt.Errorf("%w: %d", ErrFindings, len(findings))
		}
		return nil
	}
	return usagef("--json, --output and --jq go with configure -l or -c only")
}
