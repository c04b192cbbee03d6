package account

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// Hub is the deployment's own account: where the configuration table and
// the leases are, and whose credentials assume the spoke roles.
type Hub struct {
	// Config is the hub's SDK configuration (awsclient.Load), in the
	// region of the configuration table.
	Config aws.Config
	// Table is the configuration table's name.
	Table string
	// Pacing paces every cell's EC2 clients; each cell gets its own
	// buckets.
	Pacing Pacing
	// Account is the hub's own account id; a cell of this account (or of
	// "") uses the hub's credentials as they are, assuming no role.
	Account string
}

// Spoke says how the hub acts in another account: the role every
// protected account holds (installed by the spokes' StackSet), and what
// names the session.
type Spoke struct {
	// RoleName is the spoke role's name (not its ARN): the role assumed
	// is arn:<partition>:iam::<account>:role/<RoleName>.
	RoleName string
	// ExternalID is passed to AssumeRole when not empty: the trust
	// policy of a spoke outside the organisation requires it.
	ExternalID string
	// Session names the chain in CloudTrail: "ebs-snapper-<pipeline>-<region>"
	// or "ebs-snapper-cli"; SessionName makes it valid.
	Session string
	// Regions are the regions the run works in. The account's enabled
	// regions (DescribeRegions) are asked in the hub's region first and,
	// when the account refuses that region (a service control policy
	// that denies it, say), in each of these in turn: a policy that denies
	// the hub's region must not stop the account's allowed ones.
	Regions []string
}

// Cause is why a cell could not be worked on.
type Cause int

const (
	// RoleRefused: AssumeRole on the spoke role was refused (the role is
	// missing, or its trust policy does not admit the hub's role or the
	// external id).
	RoleRefused Cause = iota + 1
	// Suspended: Organizations lists the account as SUSPENDED or
	// PENDING_CLOSURE; a closed account answers no call.
	Suspended
	// PolicyDenied: the account's calls are refused by a service control
	// policy (an organisation's deny, often of a region).
	PolicyDenied
)

// CellError is a cell (an account, or one of its regions) that could not
// be worked on for a known Cause; it never stops the other cells. The
// CLI words the fix from Cause.
type CellError struct {
	Account string
	// Region is empty when the whole account is concerned.
	Region string
	// Role is the spoke role's ARN, when one was assumed.
	Role  string
	Cause Cause
	// Err is AWS's answer, or nil for Suspended.
	Err error
}

func (e *CellError) Error() string {
	where := "account " + e.Account
	if e.Region != "" {
		where += " in " + e.Region
	}
	switch e.Cause {
	case RoleRefused:
		return fmt.Sprintf("%s: assume the spoke role %s: refused: %v", where, e.Role, e.Err)
	case Suspended:
		return where + ": the account is suspended (closed) in the organisation"
	case PolicyDenied:
		return fmt.Sprintf("%s: denied by an organisation policy: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *CellError) Unwrap() error { return e.Err }

// String names the cause in logs and JSON: "role_refused", "suspended",
// "policy_denied".
func (c Cause) String() string {
	switch c {
	case RoleRefused:
		return "role_refused"
	case Suspended:
		return "suspended"
	case PolicyDenied:
		return "policy_denied"
	}
	return "unknown"
}

// Fix says what to do about the cell, for a log line or a report.
func (e *CellError) Fix() string {
	switch e.Cause {
	case RoleRefused:
		return fmt.Sprintf("deploy the spokes' StackSet to account %s (docs/organizations.md), or check that its role trusts the hub's role and external id", e.Account)
	case Suspended:
		return "nothing to do: a closed account answers no call; it leaves the organisation after its post-closure period"
	case PolicyDenied:
		return "a service control policy of the organisation denies this; leave the region out of the stack's Regions, or exempt the spoke role from the policy"
	}
	return ""
}

// ErrNoSpokeRole is returned by ForAccount for another account than the
// hub's when no spoke role name is set.
var ErrNoSpokeRole = errors.New("no spoke role name set to act in another account")

// RoleARN is the ARN of the spoke role name in account, in the partition
// of region (aws, aws-cn, aws-us-gov). roleName is the role's name with
// its path if it has one ("ebs-snapper/ebs-snapper-spoke"); a leading
// "/" is dropped, as the stack writes the path with it ("/ebs-snapper/…",
// or "/" and the name).
func RoleARN(account, region, roleName string) string {
	roleName = strings.TrimLeft(roleName, "/")
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roleName)
}

// badSessionRune is what AssumeRole's RoleSessionName does not allow:
// it takes [\w+=,.@-], 2 to 64 of them.
var badSessionRune = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName makes s a valid RoleSessionName: each disallowed character
// becomes "-", and it is cut to 64 characters.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func SessionName(s string) string {
	s = badSessionRune.ReplaceAllString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	if len(s) < 2 {
		s = "ebs-snapper"
	}
	return s
}

// ForAccount returns the Sources of a cell in account acct: the hub's
// configuration table and leases (stanzas and leases stay in the hub),
// and EC2 clients acting in acct through the spoke role, each with its own
// rate buckets. The role is assumed once, here (one AssumeRole per call
// of ForAccount: call it once per invocation, as a role-chained session
// lasts one hour at most), and its credentials are cached for every
// client. The hub's own account, or "", gets FromAWSWith as it is.
//
// A refused AssumeRole is a *CellError with Cause RoleRefused (or
// PolicyDenied when AWS names a service control policy); a missing
// sp.RoleName is ErrNoSpokeRole.
func ForAccount(ctx context.Context, hub Hub, acct string, sp Spoke) (Sources, error) {
	if acct == "" || acct == hub.Account {
		return FromAWSWith(hub.Config, hub.Table, hub.Pacing), nil
	}
	if sp.RoleName == "" {
		return Sources{}, fmt.Errorf("account %s: %w", acct, ErrNoSpokeRole)
	}
	arn := RoleARN(acct, hub.Config.Region, sp.RoleName)
	cfg := awsclient.AssumeRole(hub.Config, arn, sp.ExternalID, SessionName(sp.Session))
	if err := awsclient.Retrieve(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			return Sources{}, ctx.Err()
		}
		switch {
		case awsclient.DeniedByPolicy(err):
			return Sources{}, &CellError{Account: acct, Role: arn, Cause: PolicyDenied, Err: err}
		case awsclient.Refused(err):
			return Sources{}, &CellError{Account: acct, Role: arn, Cause: RoleRefused, Err: err}
		}
		return Sources{}, fmt.Errorf("account %s: assume the spoke role %s: %w", acct, arn, err)
	}
	opts := ebs.Options{Rates: hub.Pacing.Rates, RateScale: hub.Pacing.Scale}
	return Sources{
		Store:    configstore.ReaderFromConfig(hub.Config, hub.Table),
		Identify: func(context.Context) (string, error) { return acct, nil },
		Regions:  enabledRegions(cfg, append([]string{hub.Config.Region}, sp.Regions...), opts),
		EC2:      func(region string) snapper.EC2 { return ebs.NewForRegion(cfg, region, opts) },
		Leases:   lease.FromConfig(hub.Config, lease.Table),
		// The leases of another account's cells are its own.
		LeaseAccount: acct,
	}, nil
}

// enabledRegions lists the account's enabled regions (EC2
// DescribeRegions) in the first of from that the account does not refuse:
// a refusal (AccessDenied, UnauthorizedOperation: a service control
// policy that denies a region) moves on to the next region; any other
// error, or the last region's refusal, is returned.
func enabledRegions(cfg aws.Config, from []string, opts ebs.Options) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		var err error
		for _, region := range slices.Compact(from) {
			var enabled []string
			if enabled, err = ebs.NewForRegion(cfg, region, opts).Regions(ctx); err == nil || !awsclient.Refused(err) {
				return enabled, err
			}
		}
		return nil, err
	}
}
