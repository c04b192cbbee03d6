package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/deploy"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// deployOptions are the flags of deploy: the original's -a, -n, -m, -o and
// this port's additions.
type deployOptions struct {
	account                    string
	noBuild, noUpload, noStack bool
	region                     string
	parameters                 []string
	zip                        string
	arch                       string
	printTemplate              bool
	printImportTemplate        bool
	delete                     bool
	allowVersionMismatch       bool
	tableOnly                  bool
	yes                        bool
	// The spokes (docs/organizations.md).
	orgUnits, accounts []string
	spokeRoleName      string
	externalID         string
	spokeTrust         []string
	printSpokeTemplate bool
}

func newDeployCommand(f *factory) *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Install or update the scheduled ebs-snapper stack in an account and region",
		Long: `deploy installs ebs-snapper in the account's region as a CloudFormation
stack named ebs-snapper-<account>: the configuration table (retained when
the stack is deleted), six Lambda functions running this binary as
bootstrap, each with its own role, three SNS topics, three schedules, the
failed-events queue and the alarms (docs/deploy.md, docs/security.md).

It packages the code (--zip, checked against a SHA256SUMS beside it; else
this binary when it is a static Linux build of the architecture; else,
for a binary from go install …@version, that module version built for
Lambda with go install; else a cross-build with the Go toolchain from the
source tree) and refuses code of another version than this binary's
unless --allow-version-mismatch; it uploads it to the private bucket
ebs-snapper-<account>-<region> (refusing a bucket of that name another
account owns), creates or updates the stack (keeping every parameter set
earlier), then updates and publishes each function's code. An update is
shown as a change set and a creation as its parameters, and deploy asks
before it executes them on a terminal; --yes executes without asking, and
without --yes a deploy whose stdin is not a terminal stops at once. A
deploy with nothing to change changes nothing and says so. Over a stack
made by the Python ebs_snapper it upgrades in place and keeps the table
and its stanzas.

--table-only creates only the configuration table, exactly as the stack
creates it (keys, on-demand billing, point-in-time recovery, encryption,
as the template sets them; --parameter CostCenter=X tags it), so that
configure -s works without the stack: for the CLI run from cron or CI. A
later deploy there imports it into the new stack, as after --delete.

--delete removes the stack and the code bucket, after saying what it
keeps (the table with its stanzas, the log groups) and asking. Deploying
again afterwards is the same command: deploy imports the retained table
into the new stack and takes the parameters of the deleted stack (kept by
CloudFormation for 90 days) under any --parameter given.

--org-units (organizational unit or root ids) or --accounts (account ids)
make this stack the hub of an organization or of a list of accounts: after
the stack, deploy installs the spoke role (--print-spoke-template) in each
through the CloudFormation StackSet ebs-snapper-spoke, in this region (a
role is global). With --org-units the StackSet is service-managed with
automatic deployment, so an account added to those units later gets the
role by itself; it needs trusted access for StackSets and, from a
delegated administrator, that registration (docs/organizations.md). With
--accounts it is self-managed and needs the StackSet administration and
execution roles. The role trusts only this stack's worker and report roles
(and the roles of this account given with --spoke-trust, for the CLI's runs
across accounts), from within the hub's organization, or with
--external-id outside one. The
lists are what the set should be: a unit or account left out of a later
deploy --org-units/--accounts loses its spoke (after asking). --delete
removes the spokes and the StackSet first.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeploy(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.account, "aws_account_id", "a", "", "account to deploy to (default: discovered with STS GetCallerIdentity)")
	fl.BoolVarP(&o.noBuild, "no_build", "n", false, "do not package the binary: use --zip")
	fl.BoolVarP(&o.noUpload, "no_upload", "m", false, "do not upload code: the stack uses the code already in the bucket, functions keep theirs")
	fl.BoolVarP(&o.noStack, "no_stack", "o", false, "do not create or update the stack (still upload and update the functions' code)")
	fl.StringVar(&o.region, "region", "", "region to deploy to (default: the AWS configuration's region, else us-east-1)")
	fl.StringArrayVar(&o.parameters, "parameter", nil, "template parameter Key=Value (repeatable); see --print-template")
	fl.StringVar(&o.zip, "zip", "", "deploy this zip (holding bootstrap) instead of packaging the binary")
	fl.StringVar(&o.arch, "arch", "", "arm64 or x86_64 (default: the stack's, else arm64)")
	fl.BoolVar(&o.printTemplate, "print-template", false, "print the CloudFormation template and exit")
	fl.BoolVar(&o.printImportTemplate, "print-import-template", false, "print the template that imports an existing configuration table into a new stack, and exit")
	fl.BoolVar(&o.delete, "delete", false, "delete the stack and the code bucket (the configuration table and the logs are retained)")
	fl.BoolVarP(&o.yes, "yes", "y", false, "execute the change set or the deletion without asking (for scripts; without it deploy asks on a terminal and refuses otherwise)")
	fl.BoolVar(&o.tableOnly, "table-only", false, "create only the configuration table, as the stack would (for the CLI without the stack; a later deploy imports it)")
	fl.StringSliceVar(&o.orgUnits, "org-units", nil, "install the spoke role in every account of these organizational units (ou-…, or the root r-…), now and later: a service-managed StackSet")
	fl.StringSliceVar(&o.accounts, "accounts", nil, "install the spoke role in these accounts (12-digit ids): a self-managed StackSet")
	fl.StringVar(&o.spokeRoleName, "spoke-role-name", deploy.DefaultSpokeRoleName, "name of the spoke role in every protected account")
	fl.StringVar(&o.externalID, "external-id", "", "external id the hub's workers must pass to assume the spoke role (for accounts outside the hub's organization)")
	fl.StringSliceVar(&o.spokeTrust, "spoke-trust", nil, "ARN of a role of this account that the spokes trust too, for the CLI's runs across accounts (repeatable)")
	fl.BoolVar(&o.printSpokeTemplate, "print-spoke-template", false, "print the CloudFormation template of the spoke role and exit")
	fl.BoolVar(&o.allowVersionMismatch, "allow-version-mismatch", false, "deploy a --zip whose bootstrap is not this binary's version (or whose version cannot be read)")
	return cmd
}

// check checks the command line without touching AWS.
func (o *deployOptions) check() (map[string]string, error) {
	if o.account != "" && !digits12.MatchString(o.account) {
		return nil, usagef("-a/--aws_account_id %q: want a 12-digit account id (the account to deploy to)", o.account)
	}
	if o.arch != "" && !slices.Contains(deploy.Architectures, o.arch) {
		return nil, usagef("--arch %q: want %s", o.arch, strings.Join(deploy.Architectures, " or "))
	}
	if o.delete && (o.noBuild || o.noUpload || o.noStack || o.zip != "" || o.arch != "" || len(o.parameters) > 0 || o.allowVersionMismatch) {
		return nil, usagef("--delete takes only -a and --region")
	}
	if o.tableOnly && (o.delete || o.noBuild || o.noUpload || o.noStack || o.zip != "" || o.arch != "" || o.allowVersionMismatch) {
		return nil, usagef("--table-only takes only -a, --region and --parameter CostCenter=… or TableKmsKeyArn=…")
	}
	spokes := o.spokes()
	if (spokes.Set() || o.externalID != "" || len(o.spokeTrust) > 0) && (o.delete || o.tableOnly) {
		return nil, usagef("--org-units, --accounts, --external-id and --spoke-trust install spokes: not with --delete (which removes them all) or --table-only")
	}
	if o.externalID != "" && !spokes.Set() {
		return nil, usagef("--external-id applies to the spokes: give --org-units or --accounts too")
	}
	if err := spokes.Check(); err != nil {
		return nil, usagef("%v", err)
	}
	if o.noBuild && o.zip == "" && !o.noUpload {
		return nil, usagef("-n/--no_build needs --zip (or -m/--no_upload to keep the code already uploaded)")
	}
	params := map[string]string{}
	for _, kv := range o.parameters {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--parameter %q: want Key=Value", kv)
		}
		if _, dup := params[k]; dup {
			return nil, usagef("--parameter %s given twice", k)
		}
		params[k] = v
	}
	if err := deploy.CheckParameters(params); err != nil {
		return nil, usagef("%s", deployWording(err))
	}
	for k := range params {
		if o.tableOnly && k != "CostCenter" && k != "TableKmsKeyArn" {
			return nil, usagef("--table-only: --parameter %s does not apply to the table; only CostCenter and TableKmsKeyArn do", k)
		}
	}
	// The workers parse Ec2Rates at start (EBS_SNAPPER_RATES); a value
	// they refuse would fail every invocation, and CloudFormation cannot
	// tell.
	if v, ok := params[deploy.ParamEc2Rates]; ok {
		if _, err := account.ParseRates(v); err != nil {
			return nil, usagef("--parameter %s=%s: %v", deploy.ParamEc2Rates, v, err)
		}
	}
	return params, nil
}

// spokes are the spoke flags.
func (o *deployOptions) spokes() deploy.Spokes {
	return deploy.Spokes{OrgUnits: o.orgUnits, Accounts: o.accounts, RoleName: o.spokeRoleName, ExternalID: o.externalID, Operators: o.spokeTrust}
}

// checkPrint refuses --print-template and --print-import-template together
// or with the flags of a deployment, which they would silently ignore.
func (o *deployOptions) checkPrint() error {
	n := 0
	for _, p := range []bool{o.printTemplate, o.printImportTemplate, o.printSpokeTemplate} {
		if p {
			n++
		}
	}
	if n > 1 {
		return usagef("--print-template, --print-import-template and --print-spoke-template: give one")
	}
	if o.delete || o.noBuild || o.noUpload || o.noStack || o.zip != "" || o.arch != "" || len(o.parameters) > 0 || o.tableOnly || o.allowVersionMismatch || o.spokes().Set() {
		flag := "--print-template"
		if o.printImportTemplate {
			flag = "--print-import-template"
		}
		if o.printSpokeTemplate {
			flag = "--print-spoke-template"
		}
		return usagef("%s prints the template and exits: it takes none of --delete, -n, -m, -o, --zip, --arch, --parameter", flag)
	}
	return nil
}

// confirmer returns how deploy asks before it changes the stack: not at
// all with --yes; on a terminal, a question on stderr answered on stdin
// (y or yes goes ahead, anything else stops); otherwise a usage error
// before any AWS call, so a script without --yes stops at once instead of
// waiting for an answer nobody gives.
func (o *deployOptions) confirmer(streams *ioStreams) (deploy.Confirm, error) {
	if o.yes {
		return nil, nil
	}
	if !streams.stdinIsTerminal() {
		what := "deploy creates or changes the stack"
		if o.delete {
			what = "deploy --delete deletes the stack and the code bucket"
		}
		return nil, usagef("%s and stdin is not a terminal to confirm on: pass --yes", what)
	}
	in := bufio.NewReader(streams.in)
	return func(question string) (bool, error) {
		fmt.Fprintf(streams.errOut, "%s [y/N] ", question)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return false, fmt.Errorf("read the answer: %w", err)
		}
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "y" || a == "yes", nil
	}, nil
}

func runDeploy(ctx context.Context, f *factory, o *deployOptions) error {
	if o.printTemplate || o.printImportTemplate || o.printSpokeTemplate {
		if err := o.checkPrint(); err != nil {
			return err
		}
	}
	if o.printSpokeTemplate {
		_, err := f.io.out.Write(deploy.SpokeTemplate())
		return err
	}
	if o.printTemplate {
		_, err := f.io.out.Write(deploy.Template())
		return err
	}
	if o.printImportTemplate {
		_, err := f.io.out.Write(deploy.ImportTemplate())
		return err
	}
	params, err := o.check()
	if err != nil {
		return err
	}
	confirm := deploy.Confirm(nil)
	// --table-only creates a table and changes no stack: nothing to
	// confirm, and a script (cron, CI) runs it as documented, without --yes.
	// A spokes' change asks too, with -o: it may remove spokes.
	if (!o.noStack || o.delete || o.spokes().Set()) && !o.tableOnly {
		if confirm, err = o.confirmer(f.io); err != nil {
			return err
		}
	}
	conn, err := f.connect(ctx, o.region)
	if err != nil {
		return err
	}
	region := conn.Region()
	if err := checkRegion(ctx, f, o.region, region); err != nil {
		return err
	}
	if o.tableOnly {
		if _, err := deploy.CreateTable(ctx, deploy.NewTableClient(conn.Config()), region, params, f.io.out); err != nil {
			return err
		}
		fmt.Fprintf(f.io.out, "next: ebs-snapper configure -t %s -s ID @stanza.json; a later ebs-snapper deploy --region %s (with the same --parameter values) imports this table, with its stanzas, into the stack\n", region, region)
		return nil
	}
	if o.account == "" {
		if o.account, err = conn.AccountID(ctx); err != nil {
			return err
		}
	}
	opts := deploy.Options{
		Account: o.account, Region: region, Arch: o.arch, Parameters: params, ZipPath: o.zip,
		NoUpload: o.noUpload, NoStack: o.noStack,
		Build: version.Current(), AllowVersionMismatch: o.allowVersionMismatch,
		Out: f.io.out, Progress: f.io.errOut, Confirm: confirm, Spokes: o.spokes(),
	}
	clients := deploy.NewClients(conn.Config())
	if o.delete {
		if err := deploy.Delete(ctx, clients, opts); err != nil {
			return &deployError{msg: deployWording(err), err: err}
		}
		return nil
	}
	if err := deploy.Run(ctx, clients, opts); err != nil {
		return &deployError{msg: "deploy to " + region + ": " + deployWording(err), err: err}
	}
	return nil
}

// deployError is an error of deploy worded with the CLI's flags; it
// unwraps to deploy's own error.
type deployError struct {
	msg string
	err error
}

func (e *deployError) Error() string { return e.msg }

func (e *deployError) Unwrap() error { return e.err }

// deployWording words an error of deploy with the flags that set what it
// names (deploy returns typed errors in its own terms): --parameter,
// --zip, -m/--no_upload, --allow-version-mismatch, deploy --delete. The
// typed error's text is replaced where it stands in err's, so any context
// around it stays; other errors keep their text.
func deployWording(err error) string {
	var (
		param    *deploy.ParameterError
		noCode   *deploy.NoCodeError
		zip      *deploy.ZipError
		noPack   *deploy.NoPackageError
		quota    *deploy.ConcurrencyQuotaError
		mismatch *deploy.VersionMismatchError
		state    *deploy.StackStateError
	)
	var typed error
	var worded string
	switch {
	case errors.As(err, &param):
		typed = param
		switch {
		case errors.Is(param.Err, deploy.ErrReservedParameter):
			worded = fmt.Sprintf("--parameter %s: %v; use --zip for other code", param.Name, param.Err)
		case errors.Is(param.Err, deploy.ErrArchParameter):
			worded = fmt.Sprintf("--parameter %s: use --arch", param.Name)
		case param.NameProblem():
			worded = fmt.Sprintf("--parameter %s: %v", param.Name, param.Err)
		default:
			worded = fmt.Sprintf("--parameter %s=%s: %v", param.Name, param.Value, param.Err)
		}
	case errors.As(err, &noCode):
		typed, worded = noCode, fmt.Sprintf("-m/--no_upload: %v; deploy once without -m", noCode)
	case errors.As(err, &zip) && zip.Read:
		typed, worded = zip, fmt.Sprintf("read --zip: %v", zip.Err)
	case errors.As(err, &zip):
		typed, worded = zip, fmt.Sprintf("--zip %s: %v", zip.Path, zip.Err)
	case errors.As(err, &noPack):
		typed, worded = noPack, noPack.Advise("pass --zip")
	case errors.As(err, &quota):
		typed, worded = quota, fmt.Sprintf("%v; deploy with --parameter %s=0 (or a smaller value), or ask AWS Support to raise the quota", quota, quota.Parameter)
	case errors.As(err, &mismatch):
		typed, worded = mismatch, fmt.Sprintf("%v; nothing was uploaded or changed: deploy the zip of this version (the release's ebs-snapper_%s_lambda_<arch>.zip), or pass --allow-version-mismatch to deploy it anyway", mismatch, mismatch.CLI.Version)
	case errors.As(err, &state):
		typed, worded = state, state.Advise("ebs-snapper deploy --delete")
	default:
		return err.Error()
	}
	return strings.Replace(err.Error(), typed.Error(), worded, 1)
}

// checkRegion refuses a deployment region that is not a region name, or
// not one the account has enabled (EC2 DescribeRegions, asked in the tool
// region as the other commands do, since an unknown region has no
// endpoint): a usage error naming --region, or the AWS configuration when
// the region came from there.
func checkRegion(ctx context.Context, f *factory, flag, region string) error {
	from := "--region"
	if flag == "" {
		from = "the AWS configuration's region (AWS_REGION or the profile; set --region)"
	}
	if !config.IsRegionName(region) {
		return usagef("%s %q: not a region name such as eu-west-1", from, region)
	}
	src, err := f.sources(ctx)
	if err != nil {
		return err
	}
	enabled, err := src.Regions(ctx)
	if err != nil {
		// A well-formed region that does not exist has no endpoint, and
		// when it is also the tool region this listing is what fails.
		return fmt.Errorf("check %s %q: list the regions enabled for the account: %w", from, region, err)
	}
	if !slices.Contains(enabled, region) {
		return usagef("%s %q: %v (enabled: %s)", from, region, account.ErrRegionNotEnabled, strings.Join(enabled, ", "))
	}
	return nil
}
