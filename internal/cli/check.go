package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// ErrFindings reports that configure -c printed findings, one line each.
// It exits with ExitPartial, so that a pipeline can gate on the check.
var ErrFindings = errors.New("the configuration check reported findings")

// runCheck is configure -c: it prints one "<prefix>: <finding>" line per
// problem in the account's configuration, and nothing when all is well.
// It returns ErrFindings when it printed any, and another error when it
// could not check.
func runCheck(ctx context.Context, src account.Sources, acct, extra string, out io.Writer) error {
	env, err := loadEnvironment(ctx, src, acct, nil)
	if err != nil {
		return err
	}
	prefix := env.Account
	if extra != "" {
		prefix = extra + "," + env.Account
	}
	findings, notes, err := checkFindings(ctx, env)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintf(out, "%s: %s\n", prefix, f)
	}
	// Notes are what the operator should know and need not fix: they do
	// not change the exit status.
	for _, n := range notes {
		fmt.Fprintf(out, "%s: note: %s\n", prefix, n)
	}
	if len(findings) > 0 {
		return fmt.Errorf("%w: %d", ErrFindings, len(findings))
	}
	return nil
}

// checkFindings returns the findings (problems to fix: the invalid stored
// stanzas, then snapper.Engine.Check's) and the notes (protected snapshots
// and Recycle Bin rules per region, to know about).
func checkFindings(ctx context.Context, env *account.Environment) (findings, notes []string, err error) {
	for _, msg := range env.InvalidMessages() {
		findings = append(findings, "Found a snapshot configuration that isn't valid: "+strings.ReplaceAll(msg, "\n", "; "))
	}
	rep := snapper.New(env.Regions, env.Policy, snapper.Options{}).Check(ctx)
	if rep.Err != nil {
		return nil, nil, rep.Err
	}
	return append(findings, rep.Findings...), rep.Notes, nil
}
