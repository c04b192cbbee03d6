package account

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// OrgAccount is one member account of the organisation: id, name,
// status (ACTIVE, SUSPENDED, PENDING_CLOSURE) and OU path.
type OrgAccount = awsclient.OrgAccount

// ErrNoOrganization is OrgMember's error when the connection's account is
// in no organisation.
var ErrNoOrganization = awsclient.ErrNoOrganization

// ErrNotMember is OrgMember's error when the account is not a member of the
// connection's organisation.
var ErrNotMember = awsclient.ErrNotMember

// OrgAccounts lists the organisation's accounts, or those under units
// (OU or root ids) at any depth, each with its status and OU path
// (awsclient.OrgAccounts). The connection must be the management
// account's or a delegated administrator's.
func (a *AWS) OrgAccounts(ctx context.Context, units []string) ([]OrgAccount, error) {
	return awsclient.OrgAccounts(ctx, a.cfg, units)
}

// OrgMember returns acct with its OU path, root's child first, and its
// status (awsclient.OrgMember), or ErrNoOrganization.
func (a *AWS) OrgMember(ctx context.Context, acct string) (OrgAccount, error) {
	return awsclient.OrgMember(ctx, a.cfg, acct)
}

// Hub is the connection as the hub of an organisation run: its table
// and leases, its credentials assuming the spoke roles, and the EC2
// clients of every cell paced by p. calls, when non-nil, also counts the
// calls made for the cells of Sources built from it (one account's).
func (a *AWS) Hub(table string, p Pacing, hubAccount string, calls *Calls) Hub {
	cfg := a.cfg
	if calls != nil {
		cfg = calls.Counting(cfg)
	}
	return Hub{Config: cfg, Table: table, Pacing: p, Account: hubAccount}
}

// Protected resolves a hub's protected scope (the stack's
// ProtectedAccounts: "organization", OU and root ids, 12-digit account
// ids) to its accounts, each once, sorted by id, with status and OU path
// from Organizations; a listed account id outside any organisation, or
// outside the hub's, has neither (its status unknown, taken as active: its
// spoke role's AssumeRole says whether it can be worked on), so that it
// stops no other account. A listed account whose place cannot be read
// otherwise is left out and its error returned along with the others,
// which are still to be worked on. Called by every fan-out,
// so an account added to an OU in scope is protected at the next run.
func (a *AWS) Protected(ctx context.Context, scope []string) ([]OrgAccount, error) {
	var units, ids []string
	all := false
	for _, s := range scope {
		switch {
		case s == Organization:
			all = true
		case accountKey.MatchString(s):
			ids = append(ids, s)
		default:
			units = append(units, s)
		}
	}
	var out []OrgAccount
	if all || len(units) > 0 {
		if all {
			units = nil
		}
		listed, err := a.OrgAccounts(ctx, units)
		if err != nil {
			return nil, err
		}
		out = listed
	}
	var errs []error
	for _, id := range ids {
		if slices.ContainsFunc(out, func(o OrgAccount) bool { return o.ID == id }) {
			continue
		}
		member, err := a.OrgMember(ctx, id)
		switch {
		case errors.Is(err, ErrNoOrganization) || errors.Is(err, ErrNotMember):
			member = OrgAccount{ID: id}
		case err != nil:
			// This account's stanzas cannot be picked; the others go on.
			errs = append(errs, err)
			continue
		}
		out = append(out, member)
	}
	slices.SortFunc(out, func(x, y OrgAccount) int { return strings.Compare(x.ID, y.ID) })
	return out, errors.Join(errs...)
}
