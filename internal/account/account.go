// Package account is the composition root that the CLI and the Lambda
// handlers share. Connect makes a process's one connection to AWS, from
// which the adapters are wired (AWS.Sources, Store, Leases, Bucket); the
// CLI's factory and the handlers' FromEnvironment both build on it. Load
// then reads what every engine run needs about one AWS account — the
// account id, its configuration stanzas (valid and invalid) and the EC2
// clients by region — from Sources; TakeLeases holds a run's regions
// outside Lambda.
//
// Tests wire Sources to the in-memory fake (internal/testrig/ec2fake) and
// store (configstore.Memory), or to moto with FromAWS:
//
//	conn, err := account.Connect(ctx, account.Settings{Region: "us-east-1"})
//	env, err := account.Load(ctx, conn.Sources(table, account.Pacing{}), account.Request{})
//	rep := snapper.New(env.Regions, env.Policy, opts).Snapshot(ctx)
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// ErrRegionNotEnabled is returned by Load when a requested region is not
// one the account has enabled (a typo, or an opt-in region left off).
var ErrRegionNotEnabled = errors.New("not a region enabled for this account")

// Sources are where an Environment comes from. Each field is required but
// Leases.
type Sources struct {
	// Store lists the configuration stanzas. Read-only on purpose: the
	// Lambda role may only Query the table (configstore.IAMActions).
	Store configstore.Lister
	// Identify returns the account id of the caller.
	Identify func(ctx context.Context) (string, error)
	// Regions returns the regions enabled for the account, sorted.
	Regions func(ctx context.Context) ([]string, error)
	// EC2 returns the EC2 client of one region; it makes no call.
	EC2 func(region string) snapper.EC2
	// Leases is the stack's lease table (lease.Table, beside the
	// configuration table), which a CLI run that changes snapshots takes
	// per region, as the workers do. nil takes none (tests on fakes).
	Leases lease.Store
	// LeaseAccount is the account part of the lease keys
	// (lease.CellKey): the cell's account when the Sources act in another
	// account than the hub's (ForAccount sets it), "" for the hub's own.
	LeaseAccount string
}

// FromAWS wires Sources to AWS with cfg (as awsclient.Load returns it):
// the stanzas in DynamoDB table in cfg.Region (read with Query only), the account id from STS
// GetCallerIdentity, the enabled regions from EC2 DescribeRegions in
// cfg.Region, ebs clients with the default rate limits, and the leases in
// the stack's lease table in cfg.Region.
func FromAWS(cfg aws.Config, table string) Sources {
	return FromAWSWith(cfg, table, Pacing{})
}

// Pacing is how fast the EC2 clients of FromAWSWith call EC2.
type Pacing struct {
	// Rates sets the rate of named actions' token buckets in requests a
	// second (ParseRates reads the --rate flag and EBS_SNAPPER_RATES);
	// unset actions keep EC2's documented rates.
	Rates map[string]float64
	// Scale multiplies every rate (--rate-scale); zero means 1.
	Scale float64
}

// ParseRates reads a list of Action=requests-per-second items separated by
// commas ("CreateSnapshot=3,DeleteSnapshot=5") for Pacing.Rates; an error
// names the item and, for an unknown action, the actions it can pace.
func ParseRates(s string) (map[string]float64, error) { return ebs.ParseRates(s) }

// FromAWSWith is FromAWS with the EC2 clients' rate limits set by p (the
// --rate flags, EBS_SNAPPER_RATES).
func FromAWSWith(cfg aws.Config, table string, p Pacing) Sources {
	opts := ebs.Options{Rates: p.Rates, RateScale: p.Scale}
	return Sources{
		Store:    configstore.ReaderFromConfig(cfg, table),
		Identify: func(ctx context.Context) (string, error) { return awsclient.AccountID(ctx, cfg) },
		Regions:  ebs.NewForRegion(cfg, cfg.Region, opts).Regions,
		EC2:      func(region string) snapper.EC2 { return ebs.NewForRegion(cfg, region, opts) },
		Leases:   lease.FromConfig(cfg, lease.Table),
	}
}

// Request says which account and regions to load.
type Request struct {
	// Account is the account whose stanzas to read; "" asks Identify.
	Account string
	// Regions limits the run to these regions, each of which must be
	// enabled (else ErrRegionNotEnabled); none means every enabled region.
	Regions []string
	// Scopes are the wider keys of the hub's table whose stanzas govern
	// the account too (Scopes: Organization, then its OUs), widest
	// first; the account's own stanza of an id wins. None (a
	// single-account run) reads the account's stanzas only.
	Scopes []string
}

// Environment is what an engine run needs about the account.
type Environment struct {
	// Account is the account id the stanzas were read for.
	Account string
	// Policy combines the valid stanzas.
	Policy snapper.Policy
	// Invalid are the stored stanzas that could not be used, sorted by id;
	// each was logged at error level. They never stop the valid ones.
	Invalid []configstore.Invalid
	// Regions are the regions to work on (Names, sorted and distinct) and
	// the EC2 client of every region the account has enabled (Client):
	// replication reaches the regions its tags name through it.
	Regions snapper.Regions
}

// Load reads the account's stanzas (reporting the invalid ones without
// stopping), lists the enabled regions and prepares the EC2 clients by
// region (each made on first use). Errors name what failed: account discovery, the
// configuration table, DescribeRegions, or a requested region that is not
// enabled (wrapping ErrRegionNotEnabled).
func Load(ctx context.Context, src Sources, req Request) (*Environment, error) {
	account := req.Account
	if account == "" {
		var err error
		if account, err = src.Identify(ctx); err != nil {
			return nil, err
		}
	}
	loaded, err := loadScoped(ctx, src.Store, account, req.Scopes)
	if err != nil {
		return nil, err
	}
	env := &Environment{Account: account, Policy: snapper.NewPolicy(loaded.Stanzas, len(loaded.Invalid)), Invalid: loaded.Invalid}
	for _, inv := range loaded.Invalid {
		slog.ErrorContext(ctx, "invalid stanza skipped", "config_id", inv.ID, "error", inv.Err)
	}
	wanted := slices.ContainsFunc(loaded.Stanzas, func(s config.Stanza) bool { return s.IgnoreRetention })
	if wanted && !env.Policy.IgnoreRetention {
		slog.WarnContext(ctx, "ignore_retention held back for this run: an invalid stanza's instances would look like orphans")
	}
	enabled, err := src.Regions(ctx)
	if err != nil {
		return nil, err
	}
	regions := req.Regions
	if len(regions) == 0 {
		regions = enabled
	}
	for _, r := range regions {
		if !slices.Contains(enabled, r) {
			return nil, fmt.Errorf("%q: %w (enabled: %s)", r, ErrRegionNotEnabled, strings.Join(enabled, ", "))
		}
	}
	env.Regions = snapper.NewRegions(regions, enabled, src.EC2)
	return env, nil
}

// InvalidMessages returns the error text of each invalid stanza, in id
// order, for reports.
func (e *Environment) InvalidMessages() []string {
	var msgs []string
	for _, inv := range e.Invalid {
		msgs = append(msgs, inv.Err.Error())
	}
	return msgs
}
