// Package cli holds the ebs-snapper commands. Each command is built by a
// newXCommand constructor whose RunE only calls runX(ctx, opts, ...), so
// tests can call runX directly; main maps the returned error to an exit
// code with ExitCode.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// Exit codes, documented in the root command's help.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitPartial = 3
	// ExitLate is report's status when some volume is late or missing.
	ExitLate = 4
)

// UsageError is a mistake in the command line: a missing argument, a
// conflicting flag. It exits with ExitUsage.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ErrPartial reports that some actions of a run failed while others were
// done. It exits with ExitPartial.
var ErrPartial = errors.New("some actions failed")

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, ErrPartial), errors.Is(err, snapper.ErrPartial):
		return ExitPartial
	case errors.Is(err, ErrRPOBreach), errors.Is(err, ErrNothingProtected):
		return ExitLate
	case errors.Is(err, ErrFindings):
		return ExitPartial
	case errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	default:
		return ExitError
	}
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	verbosity  int
	quiet      bool
	version    bool
	toolRegion string
	// profile and endpoint are --profile and --endpoint-url, as aws-cli's.
	profile  string
	endpoint string
	table    string
	// rates and rateScale are --rate and --rate-scale: the EC2 clients'
	// pacing (factory.sources).
	rates     string
	rateScale float64
}

// TableEnv overrides the default configuration table name.
const TableEnv = "EBS_SNAPPER_TABLE"

// DefaultTable is the original's hard-coded table name.
const DefaultTable = "ebs_snapshot_configuration"

// NewRootCommand builds the ebs-snapper command tree, without signal
// handling (Main adds it).
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	return newRoot(newIOStreams(nil, stdout, stderr), nil)
}

// newRoot builds the command tree on streams; in, when non-nil, stops
// engine runs on signals.
func newRoot(streams *ioStreams, in *interruption) *cobra.Command {
	g := &globalOptions{}
	f := newFactory(g, streams, in)
	root := &cobra.Command{
		Use:   "ebs-snapper",
		Short: "Scheduled EBS snapshots of tagged EC2 instances, and their safe clean-up",
		Long: `ebs-snapper takes scheduled EBS snapshots of the EC2 instances its
configuration stanzas match, and deletes them once their DeleteOn date has
passed while always keeping a minimum number per volume.

Configuration lives in the DynamoDB table ebs_snapshot_configuration, as
in the original ebs_snapper. AWS credentials, profiles and regions come
from the standard AWS chain; AWS_ENDPOINT_URL points every call at
another endpoint (an emulator such as moto).

Exit status: 0 ok, 1 error, 2 usage error, 3 partial failure (some
actions failed, the others were done; configure -c: a finding), 4
(report) some volume is late or missing a snapshot, or none is protected,
130 interrupted.

Ctrl-C (or SIGTERM) during snapshot, clean, replication or plan starts
nothing new, lets the calls already sent finish (up to 10 s), prints the
report and exits 130; a second Ctrl-C aborts at once.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.quiet && g.verbosity > 0 {
				return usagef("--quiet and -V ask for opposite things: give one")
			}
			if err := checkEndpoint(g.endpoint); err != nil {
				return err
			}
			setupLogging(f.io.diag(), g.verbosity, g.quiet)
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.version {
				fmt.Fprintln(f.io.out, version.Current().String())
				return nil
			}
			return usagef("a command is required (see ebs-snapper --help)")
		},
	}
	root.SetOut(streams.out)
	root.SetErr(streams.errOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.CountVarP(&g.verbosity, "verbose", "V", "log more: -V info, -VV debug (default: warnings only)")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print less: no progress bars, errors only in the log, and the summary without a row per decision or volume")
	pf.StringVarP(&g.toolRegion, "table-region", "t", "", "region of the configuration table (default: the AWS configuration's region, else us-east-1)")
	pf.StringVar(&g.toolRegion, "tool_region", "", "the original's name of --table-region")
	_ = pf.MarkHidden("tool_region")
	pf.StringVar(&g.profile, "profile", "", "use this profile of the shared AWS configuration (as AWS_PROFILE)")
	pf.StringVar(&g.endpoint, "endpoint-url", "", "send every AWS call to this URL, e.g. a local emulator (as AWS_ENDPOINT_URL)")
	pf.StringVar(&g.table, "table", envOr(TableEnv, DefaultTable), "DynamoDB configuration table (env "+TableEnv+")")
	pf.StringVar(&g.rates, "rate", "", "EC2 calls a second per region and action, e.g. CreateSnapshot=3,DeleteSnapshot=4 (default: EC2's refill rates, 5/s for both)")
	pf.Float64Var(&g.rateScale, "rate-scale", 1, "multiply every EC2 rate (table or --rate): below 1 to leave room for other tools, above 1 where AWS raised the limits")
	root.Flags().BoolVarP(&g.version, "version", "v", false, "print the program, version, commit, platform and Go version, and exit")

	root.AddCommand(
		newConfigureCommand(f),
		newSnapshotCommand(f),
		newCleanCommand(f),
		newReplicationCommand(f),
		newPlanCommand(f),
		newDeployCommand(f),
		newReportCommand(f),
		newSnapshotsCommand(f),
	)
	// A word the command line does not take (an unknown command, an
	// argument to a command that takes none) is a usage error, exit 2, as
	// an unknown flag is; cobra's own checks return plain errors (exit 1).
	root.Args = unknownCommand
	root.SuggestionsMinimumDistance = 2
	addHelp(root)
	addCompletion(root, f)
	return root
}

// unknownCommand refuses any argument of the root command: with Args set,
// cobra hands an unknown command name to the root instead of failing.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
	}
	return usagef("%s", msg)
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// setupLogging sends slog text to w at the level -V/-VV ask for, or
// errors only with --quiet: once, before the command runs (w is the
// streams' diagnostics, which follow the progress bars).
func setupLogging(w io.Writer, verbosity int, quiet bool) {
	level := slog.LevelWarn
	switch {
	case quiet:
		level = slog.LevelError
	case verbosity == 1:
		level = slog.LevelInfo
	case verbosity >= 2:
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})))
}
