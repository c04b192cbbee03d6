package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
)

// SpokeRoleEnv names the spoke role when --role-name is not given (the
// workers read it too).
const SpokeRoleEnv = "EBS_SNAPPER_SPOKE_ROLE"

// DefaultSpokeRole is the name the spokes' StackSet gives the role.
const DefaultSpokeRole = "ebs-snapper-spoke"

// accountFlags are the organisation flags of plan, snapshot, clean,
// replication and report: which accounts to work in from the hub, and
// how to act in them.
type accountFlags struct {
	accounts    []string
	all         bool
	units       []string
	roleName    string
	externalID  string
	concurrency int
}

func (a *accountFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&a.accounts, "account", nil, "work in this account through its spoke role (12 digits; repeatable or comma-separated)")
	f.BoolVar(&a.all, "all-accounts", false, "work in every ACTIVE account of the organisation (Organizations ListAccountsForParent from the root; run from the management or delegated administrator account)")
	f.StringSliceVar(&a.units, "ou", nil, "with --all-accounts: only the accounts under this organisational unit, at any depth (ou-…; repeatable)")
	f.StringVar(&a.roleName, "role-name", envOr(SpokeRoleEnv, DefaultSpokeRole), "name of the spoke role to assume in each account, with its path if it has one (env "+SpokeRoleEnv+")")
	f.StringVar(&a.externalID, "external-id", "", "external id the spoke roles' trust policy requires (spokes outside an organisation)")
	f.IntVar(&a.concurrency, "account-concurrency", 8, "accounts worked on at once (each with its own EC2 rate budget)")
}

// multi says whether the run names its accounts (an organisation run).
func (a *accountFlags) multi() bool { return len(a.accounts) > 0 || a.all || len(a.units) > 0 }

var (
	digits12 = regexp.MustCompile(`^[0-9]{12}$`)
	rootID   = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	// roleName is a role's name, 1-64 of [\w+=,.@-], after its path's
	// segments, if any, with or without the path's leading slash (IAM API
	// reference, CreateRole: RoleName and Path; account.RoleARN drops the
	// slash).
	roleName = regexp.MustCompile(`^/?([\x21-\x2e\x30-\x7e]+/)*[\w+=,.@-]{1,64}$`)
)

// check refuses contradictory or malformed organisation flags; single is
// -a/--aws_account_id, which an organisation run replaces.
func (a *accountFlags) check(single string) error {
	if !a.multi() {
		return nil
	}
	if single != "" {
		return usagef("-a/--aws_account_id %s: an organisation run (--account, --all-accounts) reads each account's own stanzas; leave -a out", single)
	}
	if len(a.accounts) > 0 && a.all {
		return usagef("--account and --all-accounts: give one (--all-accounts lists the organisation's accounts itself)")
	}
	if len(a.units) > 0 && !a.all {
		return usagef("--ou %s: takes --all-accounts (it narrows the organisation's accounts to the OU)", a.units[0])
	}
	for _, id := range a.accounts {
		if !digits12.MatchString(id) {
			return usagef("--account %q: want a 12-digit account id", id)
		}
	}
	for _, ou := range a.units {
		if !account.IsOU(ou) && !rootID.MatchString(ou) {
			return usagef("--ou %q: want an organisational unit id such as ou-ab12-cdef3456 (or a root, r-ab12)", ou)
		}
	}
	if a.roleName == "" {
		return usagef("--role-name is empty: name the spoke role the StackSet installed (default %s)", DefaultSpokeRole)
	}
	if !roleName.MatchString(a.roleName) {
		return usagef("--role-name %q: want a role name (1-64 letters, digits and +=,.@_-), after its path if it has one (/team/%s)", a.roleName, DefaultSpokeRole)
	}
	if a.concurrency < 1 {
		return usagef("--account-concurrency %d: want 1 or more", a.concurrency)
	}
	return nil
}

// checkSingle refuses a -a/--aws_account_id of a single-account run
// (plan, snapshot, clean, replication, report, snapshots, deploy) that is
// not a 12-digit account id; the organisation's and OUs' stanza keys are
// named with the flags that read them.
func checkSingle(id string) error {
	switch {
	case id == "" || digits12.MatchString(id):
		return nil
	case id == account.Organization || account.IsOU(id):
		return usagef("-a/--aws_account_id %q: a stanza key, not an account: --all-accounts (with --ou to narrow it) or --account runs accounts with the organisation's and their OUs' stanzas; configure -a %s reads and writes them", id, id)
	}
	return usagef("-a/--aws_account_id %q: want a 12-digit account id", id)
}

// cell is one account of an organisation run.
type cell struct {
	ID string
	// OUs is the account's OU path, root's child first.
	OUs []string
	// Skip is why the account is not worked on (suspended), else nil.
	Skip *account.CellError
	// Fail is why the account cannot be worked on (its OU path, which
	// picks its stanzas, could not be read), else nil: that account is
	// reported as an error and the others go on.
	Fail error
}

// cells lists the run's accounts: --account's, with their OU path from
// Organizations when the hub is in an organisation, or the organisation's
// (--all-accounts, --ou), a suspended one kept with its Skip.
func (a *accountFlags) cells(ctx context.Context, hub *account.AWS) ([]cell, error) {
	if a.all {
		accts, err := hub.OrgAccounts(ctx, a.units)
		if err != nil {
			return nil, fmt.Errorf("--all-accounts: %w", err)
		}
		out := make([]cell, 0, len(accts))
		for _, ac := range accts {
			c := cell{ID: ac.ID, OUs: ac.OUs}
			if !ac.Active() {
				c.Skip = &account.CellError{Account: ac.ID, Cause: account.Suspended}
			}
			out = append(out, c)
		}
		return out, nil
	}
	var out []cell
	for _, id := range a.accounts {
		// An account named twice is worked on once: its two runs would
		// hold one lease (the run's holder) and act at once.
		if slices.ContainsFunc(out, func(c cell) bool { return c.ID == id }) {
			continue
		}
		member, err := hub.OrgMember(ctx, id)
		// An account outside the hub's organisation (its spoke trusts an
		// external id) has no OU; its AssumeRole says if it can be reached.
		if errors.Is(err, account.ErrNoOrganization) || errors.Is(err, account.ErrNotMember) {
			member, err = account.OrgAccount{ID: id}, nil
		}
		c := cell{ID: id, OUs: member.OUs}
		switch {
		case err != nil:
			c.Fail = fmt.Errorf("--account %s: %w", id, err)
		case member.Status != "" && !member.Active():
			c.Skip = &account.CellError{Account: id, Cause: account.Suspended}
		}
		out = append(out, c)
	}
	return out, nil
}

// failFix is what to do about an --account whose OU path Organizations
// would not give (cell.Fail): the hub may not read the organisation.
func failFix(id string) string {
	return fmt.Sprintf("run from the management account or a delegated administrator that may call organizations:ListParents and ListAccountsForParent (docs/organizations.md), or leave %s out", id)
}

// spoke is how the run acts in other accounts; its session names the CLI
// run ("ebs-snapper-cli-<job>-<user>").
func (a *accountFlags) spoke(job string, regions []string) account.Spoke {
	user := os.Getenv("USER")
	return account.Spoke{RoleName: a.roleName, ExternalID: a.externalID, Session: "ebs-snapper-cli-" + job + "-" + user, Regions: regions}
}

// causeOf names err's cause when it is a *account.CellError, else "".
func causeOf(err error) string {
	var ce *account.CellError
	if errors.As(err, &ce) {
		return ce.Cause.String()
	}
	return ""
}

// fix is what to do about a cell error, worded for the operator: the
// account's fix and, for a refused role, the flags that may be wrong.
func fix(err error, roleName string) string {
	var ce *account.CellError
	if !errors.As(err, &ce) {
		return ""
	}
	switch ce.Cause {
	case account.RoleRefused:
		return fmt.Sprintf("deploy the spokes' StackSet to account %s (ebs-snapper deploy --org-units or --accounts; docs/organizations.md), "+
			"or check that its role %s trusts this hub's role (and --external-id, if its trust policy asks for one)", ce.Account, roleName)
	case account.PolicyDenied:
		return ce.Fix() + " (--region leaves a region out of this run)"
	}
	return ce.Fix()
}

// orgHub is the hub of a run across accounts: its connection in the tool's
// region, its own account id and the --rate pacing every cell gets.
type orgHub struct {
	conn   *account.AWS
	id     string
	table  string
	pacing account.Pacing
}

// hub is the account.Hub of one cell, counting its AWS calls in calls
// (nil counts none).
func (h orgHub) hub(calls *account.Calls) account.Hub {
	return h.conn.Hub(h.table, h.pacing, h.id, calls)
}

// orgHub connects the hub of a run across accounts and lists the run's
// cells (accountFlags.cells). Errors: --rate's, the connection's, the
// hub's identity and the account listing's.
func (f *factory) orgHub(ctx context.Context, orgs *accountFlags) (orgHub, []cell, error) {
	pacing, err := f.flags.pacing()
	if err != nil {
		return orgHub{}, nil, err
	}
	conn, err := f.connect(ctx, f.flags.toolRegion)
	if err != nil {
		return orgHub{}, nil, err
	}
	id, err := conn.AccountID(ctx)
	if err != nil {
		return orgHub{}, nil, err
	}
	cells, err := orgs.cells(ctx, conn)
	if err != nil {
		return orgHub{}, nil, err
	}
	return orgHub{conn: conn, id: id, table: f.flags.table, pacing: pacing}, cells, nil
}
