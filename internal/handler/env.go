package handler

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// The environment of a function, as the CloudFormation template sets it.
const (
	// RuntimeAPIEnv is set by Lambda (and its runtime interface emulator)
	// for the runtime: its presence makes the binary serve a handler
	// instead of being the CLI.
	RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"
	// NameEnv names the handler the function serves (Handler names).
	NameEnv = "EBS_SNAPPER_HANDLER"
	// TableEnv is the configuration table, in the function's region.
	TableEnv = "EBS_SNAPPER_TABLE"
	// QueueEnv is the URL of the pipeline's SQS queue: a fan-out sends its
	// cells to it; a worker is fed from it and sends its continuations to
	// it.
	QueueEnv = "EBS_SNAPPER_QUEUE_URL"
	// LeaseTableEnv is the lease table (workers), in the function's region.
	LeaseTableEnv = "EBS_SNAPPER_LEASE_TABLE"
	// MaxHopsEnv optionally overrides DefaultMaxHops (workers), a
	// non-negative integer; 0 makes no continuation.
	MaxHopsEnv = "EBS_SNAPPER_MAX_HOPS"
	// ReplicationRuleEnv is the name of the replication pipeline's
	// EventBridge rule (snapshot fan-out only).
	ReplicationRuleEnv = "EBS_SNAPPER_REPLICATION_RULE"
	// MarginEnv optionally overrides DefaultMargin, as a Go duration
	// ("90s", "2m").
	MarginEnv = "EBS_SNAPPER_DEADLINE_MARGIN"
	// RatesEnv optionally sets the EC2 calls a second per action, as the
	// CLI's --rate does ("CreateSnapshot=3,DeleteSnapshot=4"); it is
	// independent of the stanzas, since the limits are the account's.
	RatesEnv = "EBS_SNAPPER_RATES"
	// CopyLimitEnv optionally overrides snapper.DefaultCopyLimit, EC2's 20
	// snapshot copies in progress per destination region (replication
	// worker), a whole number of 1 or more, where AWS Support raised it.
	CopyLimitEnv = "EBS_SNAPPER_COPY_LIMIT"
	// RegionsEnv optionally limits the fan-outs to these regions, named
	// and separated by commas ("us-east-1,eu-west-1"): the stack's
	// Regions parameter, for an account whose organisation denies the
	// others with a service control policy. Empty means every enabled
	// region.
	RegionsEnv = "EBS_SNAPPER_REGIONS"
	// ReportBucketEnv is the S3 bucket the report handler writes to, in
	// the function's account (the stack's ReportBucket parameter).
	ReportBucketEnv = "EBS_SNAPPER_REPORT_BUCKET"
	// ReportPrefixEnv optionally starts the report handler's keys
	// ("audit/ebs-snapper"); a "/" is added when it lacks one.
	ReportPrefixEnv = "EBS_SNAPPER_REPORT_PREFIX"
	// AccountsEnv is the stack's ProtectedAccounts (fan-outs): empty for
	// the hub alone, "organization", or OU, root and account ids
	// separated by commas; the fan-out lists their accounts at every run
	// (account.AWS.Protected).
	AccountsEnv = "EBS_SNAPPER_ACCOUNTS"
	// SpokeRoleEnv names the spoke role (its name, with its path if it
	// has one) that the workers assume in the organisation's accounts
	// for the cells of other accounts than the function's.
	SpokeRoleEnv = "EBS_SNAPPER_SPOKE_ROLE"
	// ExternalIDEnv optionally holds the external id the spoke roles'
	// trust policy requires (spokes outside an organisation).
	ExternalIDEnv = "EBS_SNAPPER_EXTERNAL_ID"
	// LambdaLogLevelEnv is the application log level Lambda sets from the
	// function's LoggingConfig (ApplicationLogLevel: TRACE, DEBUG, INFO,
	// WARN, ERROR or FATAL; "Configuring log-level filtering", Lambda
	// Developer Guide,
	// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
	// It wins over LogLevelEnv. TRACE logs as debug, FATAL as error.
	LambdaLogLevelEnv = "AWS_LAMBDA_LOG_LEVEL"
	// LogLevelEnv is debug, info (the default), warn or error: the
	// function's own variable, read when Lambda sets no
	// LambdaLogLevelEnv (the stack's functions log in Text format, for
	// which Lambda sets none).
	LogLevelEnv = "LOG_LEVEL"
)

// FromEnvironment sets the default logger to JSON on stdout (NewLogger)
// and builds the Handler the function's environment names, with AWS
// clients for the function's region (AWS_REGION) and the account id from
// STS GetCallerIdentity, asked once here rather than at every invocation.
// It logs the build (program, version, commit, platform, Go version) once,
// at this cold start. getenv is os.Getenv outside tests. Errors name the
// variable at fault.
func FromEnvironment(ctx context.Context, getenv func(string) string, build version.Info) (*Handler, error) {
	level := new(slog.LevelVar)
	// The log records and the EMF lines share stdout, one Write per line.
	stdout := &syncWriter{w: os.Stdout}
	slog.SetDefault(NewLogger(stdout, level).With("handler", getenv(NameEnv)))
	if err := setLevel(level, getenv); err != nil {
		return nil, err
	}
	// Warn, not info: the build must be in the log at every level.
	slog.WarnContext(ctx, "cold start: "+build.String(), "version", build.Version, "commit", build.Commit,
		"platform", build.GOOS+"/"+build.GOARCH, "go", build.GoVersion)
	cfg := Config{
		Name:            getenv(NameEnv),
		QueueURL:        getenv(QueueEnv),
		ReplicationRule: getenv(ReplicationRuleEnv),
		Version:         build.Version,
	}
	if v := getenv(MarginEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive Go duration such as 60s or 2m", MarginEnv, v)
		}
		cfg.Margin = d
	}
	cfg.MaxHops = DefaultMaxHops
	if v := getenv(MaxHopsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s=%q: want a whole number of continuations, 0 or more", MaxHopsEnv, v)
		}
		cfg.MaxHops = n
	}
	if v := getenv(CopyLimitEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a whole number of copies in progress per destination region, 1 or more", CopyLimitEnv, v)
		}
		cfg.CopyLimit = n
	}
	if v := getenv(RegionsEnv); v != "" {
		regions, err := ParseRegions(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", RegionsEnv, v, err)
		}
		cfg.Regions = regions
	}
	cfg.ReportPrefix = getenv(ReportPrefixEnv)
	if cfg.ReportPrefix != "" && !strings.HasSuffix(cfg.ReportPrefix, "/") {
		cfg.ReportPrefix += "/"
	}
	bucket := getenv(ReportBucketEnv)
	if cfg.Name == Report && bucket == "" {
		return nil, fmt.Errorf("%s is not set: it names the bucket the report is written to", ReportBucketEnv)
	}
	table := getenv(TableEnv)
	if table == "" {
		return nil, fmt.Errorf("%s is not set: it names the configuration table", TableEnv)
	}
	rates, err := account.ParseRates(getenv(RatesEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RatesEnv, err)
	}
	// Check the name before any AWS call, so a typo fails fast and clearly.
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	scope, err := protectedScope(getenv(AccountsEnv))
	if err != nil {
		return nil, err
	}
	// Wired as the CLI's factory wires its commands: one connection
	// (account.Connect), the adapters built from it.
	cfg.Calls = &account.Calls{}
	conn, err := account.Connect(ctx, account.Settings{Calls: cfg.Calls})
	if err != nil {
		return nil, err
	}
	cfg.Sources = conn.Sources(table, account.Pacing{Rates: rates})
	cfg.SQS, cfg.Events = sdkClients(conn.Config())
	if t := getenv(LeaseTableEnv); t != "" {
		cfg.Leases = conn.Leases(t)
	}
	cfg.Metrics = stdout
	if cfg.Account, err = cfg.Sources.Identify(ctx); err != nil {
		return nil, err
	}
	if cfg.Name == Report {
		cfg.Objects = conn.Bucket(bucket, cfg.Account)
	}
	if scope != nil {
		cfg.Accounts = func(ctx context.Context) ([]account.OrgAccount, error) { return conn.Protected(ctx, scope) }
	}
	hub := conn.Hub(table, account.Pacing{Rates: rates}, cfg.Account, nil)
	role, external := getenv(SpokeRoleEnv), getenv(ExternalIDEnv)
	cfg.Spoke = func(ctx context.Context, acct, region, session string) (account.Sources, error) {
		return account.ForAccount(ctx, hub, acct, account.Spoke{RoleName: role, ExternalID: external, Session: session, Regions: []string{region}})
	}
	return New(cfg)
}

// setLevel sets level from LambdaLogLevelEnv or, when Lambda set none,
// LogLevelEnv; neither leaves it at info. An error names the variable.
func setLevel(level *slog.LevelVar, getenv func(string) string) error {
	if v := getenv(LambdaLogLevelEnv); v != "" {
		switch strings.ToUpper(v) {
		case "TRACE":
			v = "DEBUG"
		case "FATAL":
			v = "ERROR"
		}
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%s=%q: want TRACE, DEBUG, INFO, WARN, ERROR or FATAL", LambdaLogLevelEnv, getenv(LambdaLogLevelEnv))
		}
		return nil
	}
	if v := getenv(LogLevelEnv); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%s=%q: want debug, info, warn or error", LogLevelEnv, v)
		}
	}
	return nil
}

// rootID is an organisation root's id, as Organizations writes it.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Root.html
var rootID = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)

// protectedScope reads AccountsEnv (the stack's ProtectedAccounts): keys
// separated by commas, each "organization", an OU id, a root id or a
// 12-digit account id; nil when v is empty. The error names the variable
// and the first bad key.
func protectedScope(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	scope := strings.Split(v, ",")
	for _, key := range scope {
		if err := account.CheckKey(key); err != nil && !rootID.MatchString(key) {
			return nil, fmt.Errorf("%s=%q: %v (or a root id, r-…)", AccountsEnv, v, err)
		}
	}
	return scope, nil
}

// regionName is the form of an AWS region name: "us-east-1",
// "ap-southeast-2", "us-gov-west-1", "eu-central-2".
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ParseRegions reads a list of region names separated by commas, as the
// stack's Regions parameter holds it: sorted and without duplicates in
// the result; an error names the first item that is not a region name.
func ParseRegions(v string) ([]string, error) {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if !regionName.MatchString(r) {
			return nil, fmt.Errorf("%q is not a region name such as us-east-1 (names separated by commas, no spaces)", r)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
