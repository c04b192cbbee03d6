package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
)

// configureOptions are the flags of configure, the original's: exactly one
// action flag, and the positionals object_id and configuration_json.
type configureOptions struct {
	check, list, get, set, del bool
	account                    string
	extra                      string
	// print is --output/--json/--jq, for -l and -c.
	print printFlags
}

func (o *configureOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.check, "check", "c", false, "sanity-check the stanzas against the account's instances")
	f.BoolVarP(&o.list, "list", "l", false, "list the ids of the account's stanzas")
	f.BoolVarP(&o.get, "get", "g", false, "print the stanza stored under object_id")
	f.BoolVarP(&o.set, "set", "s", false, "validate configuration_json and store it under object_id")
	f.BoolVarP(&o.del, "delete", "d", false, "delete the stanza stored under object_id (also --del)")
	f.StringVarP(&o.account, "aws_account_id", "a", "", "account whose stanzas to use: 12 digits, organization or an OU id (default: discovered with STS GetCallerIdentity)")
	f.StringVarP(&o.extra, "extra", "e", "", "with --check, prefix every finding with this text and a comma")
	// The original README spells --delete as --del, which Python's argparse
	// accepted as an abbreviation; keep that spelling working.
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "del" {
			name = "delete"
		}
		return pflag.NormalizedName(name)
	})
}

// configureRequest is a checked configure command line.
type configureRequest struct {
	action string // the action's long flag name
	id     string
	source string // -s: the JSON text, @file or -
}

// configureMaxArgs is how many positionals each action takes.
var configureMaxArgs = map[string]int{"check": 0, "list": 0, "get": 1, "delete": 1, "set": 2}

// request checks the command line without touching AWS, so that a usage
// mistake is reported at once and needs no credentials.
func (o *configureOptions) request(args []string) (configureRequest, error) {
	var actions []string
	for _, a := range []struct {
		on   bool
		name string
	}{{o.check, "check"}, {o.list, "list"}, {o.get, "get"}, {o.set, "set"}, {o.del, "delete"}} {
		if a.on {
			actions = append(actions, a.name)
		}
	}
	switch len(actions) {
	case 0:
		return configureRequest{}, usagef("configure needs one action: -c/--check, -l/--list, -g/--get, -s/--set or -d/--delete")
	case 1:
	default:
		return configureRequest{}, usagef("configure takes one action at a time, got --%s", strings.Join(actions, " and --"))
	}
	r := configureRequest{action: actions[0]}
	if o.extra != "" && r.action != "check" {
		return r, usagef("-e/--extra applies to --check only")
	}
	if n := configureMaxArgs[r.action]; len(args) > n {
		return r, usagef("--%s takes %d argument(s), got %d: %s", r.action, n, len(args), strings.Join(args, " "))
	}
	if r.action == "check" || r.action == "list" {
		return r, nil
	}
	if len(args) == 0 || args[0] == "" {
		return r, usagef("must provide an object key id")
	}
	r.id = args[0]
	if r.action == "set" {
		// Read back, such an id would be a different one (U+FFFD for
		// invalid UTF-8) or split the lines of configure -l; a long one
		// fails every snapshot's config-id tag.
		if msg := config.IDProblem(r.id); msg != "" {
			return r, usagef("--set: the stanza id %s", msg)
		}
		if len(args) < 2 || args[1] == "" {
			return r, usagef("--set needs the stanza after the id: JSON text, @file.json, or - to read standard input")
		}
		r.source = args[1]
	}
	return r, nil
}

func newConfigureCommand(f *factory) *cobra.Command {
	o := &configureOptions{}
	cmd := &cobra.Command{
		Use:   "configure (-c | -l | -g ID | -s ID JSON | -d ID) [-a ACCOUNT] [-e TEXT]",
		Short: "List, get, set, delete or check the configuration stanzas",
		Long: `Manage the JSON configuration stanzas stored in the DynamoDB table, one
action at a time:

  -l                 list the ids: "aws_account_id,id", then "<account>,<id>" per stanza
  -g ID              print the stanza stored under ID on one line, as the
                     original did (Python's json.dumps: ", " and ": ")
  -s ID JSON         validate the stanza and store it under ID (replacing any);
                     JSON may be the text itself, @file.json, or - for stdin
  -d ID              delete the stanza (prints {})
  -c                 sanity-check the stanzas against the account's instances

The account is -a/--aws_account_id, or the credentials' account (STS). In a
hub that protects an organisation, -a also takes two reserved keys:
"organization" (stanzas for every account of an organisation run) and an
OU id such as ou-ab12-cdef3456 (every account under that OU); an account's
own stanza of the same id wins (docs/organizations.md). The
table is --table / EBS_SNAPPER_TABLE (default ebs_snapshot_configuration),
in -t/--table-region (or --region), else the AWS configuration's region,
else us-east-1. -l and -c print JSON with --json, --output json or --jq.

Exit status: 0 ok, 1 error (a rejected stanza: every problem is printed and
nothing is stored), 2 usage error, 3 with -g when the stored stanza is
invalid (it is printed as stored; its problems go to stderr).
With -c: 0 when the check finds nothing, 3 when it prints any finding (an
invalid stanza, a stanza matching no instance or rejected by EC2, an
instance tagged backup that no stanza covers, an instance several stanzas
match, snapshots whose DeleteOn is not a date), 1 when it could not check;
so "configure -c" can gate a deployment pipeline.`,
		Example: `  ebs-snapper configure -l
  ebs-snapper configure -g -a 112233445566 tagged_instances
  ebs-snapper configure -s -a 112233445566 daily_tagged '{"snapshot": {"minimum": 5, "frequency": "1 day", "retention": "5 days"}, "match": {"tag:backup": "daily"}}'
  ebs-snapper configure -s daily_tagged @daily_tagged.json
  ebs-snapper configure -d -a 112233445566 daily_tagged
  ebs-snapper configure -s -a organization daily_tagged @daily_tagged.json
  ebs-snapper configure -s -a ou-ab12-cdef3456 daily_tagged @daily_tagged.json
  ebs-snapper configure -l --jq '.[] | select(.valid | not) | .id'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := o.request(args)
			if err != nil {
				return err
			}
			if o.account != "" {
				if err := account.CheckKey(o.account); err != nil {
					return usagef("-a/--aws_account_id: %v", err)
				}
			}
			// Only the check runs the engine, on the account's sources
			// paced by --rate and --rate-scale as every run's; it
			// discovers the account itself when -a is not given.
			var src account.Sources
			if r.action == "check" {
				if src, err = f.sources(ctx); err != nil {
					return err
				}
			}
			// configure writes too; the engine's Sources only read.
			store, err := f.store(ctx)
			if err != nil {
				return err
			}
			if r.action != "check" && o.account == "" {
				conn, err := f.connect(ctx, f.flags.toolRegion)
				if err != nil {
					return err
				}
				if o.account, err = conn.AccountID(ctx); err != nil {
					return err
				}
			}
			return runConfigure(ctx, o, src, store, args, f.io.in, f.io.out)
		},
	}
	o.addFlags(cmd)
	o.print.add(cmd, false)
	// aws-cli's name for where the call goes: here the table's region.
	cmd.Flags().StringVar(&f.flags.toolRegion, "region", "", "region of the configuration table (same as -t/--table-region)")
	return cmd
}

// runConfigure runs one configure action on store for opts.account and
// writes the original's outputs to out; in is standard input for
// "-s ID -". Only the check uses src, the engine's read-only sources.
func runConfigure(ctx context.Context, opts *configureOptions, src account.Sources, store account.Store, args []string, in io.Reader, out io.Writer) error {
	r, err := opts.request(args)
	if err != nil {
		return err
	}
	format, err := opts.print.format()
	if err != nil {
		return err
	}
	if format == formatJSON {
		return configureJSON(ctx, opts, src, store, r.action, out)
	}
	switch r.action {
	case "check":
		return runCheck(ctx, src, opts.account, opts.extra, out)
	case "list":
		return listStanzas(ctx, store, opts.account, out)
	case "get":
		return getStanza(ctx, store, opts.account, r.id, out)
	case "set":
		return setStanza(ctx, store, opts.account, r.id, r.source, time.Now(), in, out)
	default:
		if err := store.Delete(ctx, opts.account, r.id); err != nil {
			return err
		}
		// The original printed DeleteItem's returned attributes: {}.
		_, err := fmt.Fprintln(out, "{}")
		return err
	}
}

// listStanzas prints every id, valid or not (an operator lists to find
// what to fix), and logs on stderr what is wrong with each invalid one; the
// listing itself succeeded, so the exit status stays 0.
func listStanzas(ctx context.Context, store account.Store, acct string, out io.Writer) error {
	items, err := store.List(ctx, acct)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := account.ParseItem(ctx, it); err != nil {
			slog.ErrorContext(ctx, "stored stanza is invalid: snapshot and clean skip it", "config_id", it.ID, "error", err)
		}
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(out, "No configurations found")
		return err
	}
	var b strings.Builder
	b.WriteString("aws_account_id,id\n")
	for _, it := range items {
		fmt.Fprintf(&b, "%s,%s\n", it.AccountID, listedID(it.ID))
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// listedID is id as configure -l prints it: as stored, or quoted with Go
// escapes when it holds what would split or hide a line (an id stored
// before configure -s refused such ids, or by another writer), so that
// each stanza stays one line.
func listedID(id string) string {
	if config.TextProblem(id) == "" {
		return id
	}
	return strconv.QuoteToASCII(id)
}

// getStanza prints the stored stanza as the original did, in Python's
// json.dumps layout (pythonJSON), keeping its key order; text that is not
// JSON is printed as stored. A
// stanza that snapshot and clean would skip is still printed as stored, so
// that it can be fixed, and then its problems are returned (on stderr,
// exit status 3); an item with no stanza text prints nothing; a missing
// id prints nothing and returns an error (exit 1).
func getStanza(ctx context.Context, store account.Store, acct, id string, out io.Writer) error {
	it, ok, err := store.Get(ctx, acct, id)
	if err != nil {
		return err
	}
	if !ok {
		// On stderr with exit 1, so that "configure -g ID > ID.json" never
		// saves this sentence as the stanza (the original printed it on
		// stdout and exited 0).
		return fmt.Errorf("no configuration found: account %s has no stanza %q", acct, id)
	}
	invalid := account.ParseItem(ctx, it)
	if it.Broken == nil {
		text := it.Configuration
		if py, err := pythonJSON([]byte(text)); err == nil {
			text = py
		}
		if _, err := fmt.Fprintln(out, text); err != nil {
			return err
		}
	}
	if invalid != nil {
		return &invalidStanzaError{id: id, err: invalid}
	}
	return nil
}

// invalidStanzaError reports an invalid stored stanza that -g printed; it
// exits with ExitPartial and keeps the parse error for errors.As.
type invalidStanzaError struct {
	id  string
	err error
}

func (e *invalidStanzaError) Error() string {
	return fmt.Sprintf("stanza %q is invalid, so snapshot and clean skip it:\n%v", e.id, e.err)
}

func (e *invalidStanzaError) Unwrap() []error { return []error{ErrPartial, e.err} }

// setStanza validates the stanza strictly, against now for a cron that
// must still fire, and stores its compacted text; a stanza with any
// problem is not stored.
func setStanza(ctx context.Context, store account.Store, acct, id, source string, now time.Time, in io.Reader, out io.Writer) error {
	data, err := readSource(source, in)
	if err != nil {
		return err
	}
	if _, err := config.ParseAt(id, data, now); err != nil {
		return fmt.Errorf("stanza %q not stored:\n%w", id, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return fmt.Errorf("stanza %q: %w", id, err)
	}
	item := account.Item{AccountID: acct, ID: id, Configuration: buf.String()}
	// Strict parsing still accepts a few spellings it would rather not see
	// (a minimum written as "5"); warn now, as every later read will.
	if err := account.ParseItem(ctx, item); err != nil {
		return err
	}
	if err := store.Put(ctx, item); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Saved to key %s under account %s\n", id, acct)
	return err
}

// readSource returns the stanza text: "@path" reads a file, "-" reads
// standard input, anything else is the JSON itself. Neither form can be
// mistaken for JSON, which never starts with "@" or is a lone "-".
func readSource(source string, in io.Reader) ([]byte, error) {
	switch {
	case source == "-":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("read the stanza from standard input: %w", err)
		}
		return data, nil
	case strings.HasPrefix(source, "@"):
		data, err := os.ReadFile(source[1:])
		if err != nil {
			return nil, fmt.Errorf("read the stanza from %q: %w", source[1:], err)
		}
		return data, nil
	default:
		return []byte(source), nil
	}
}
