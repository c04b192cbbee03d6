package account

import (
	"context"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// OrgAccount is one member account of the organisation: id, name,
// status (ACTIVE, SUSPENDED, PENDING_CLOSURE) and OU path.
type OrgAccount = awsclient.OrgAccount

// ErrNoOrganization is OrgPath's error when the connection's account is
// in no organisation.
var ErrNoOrganization = awsclient.ErrNoOrganization

// OrgAccounts lists the organisation's accounts, or those under units
// (OU or root ids) at any depth, each with its status and OU path
// (awsclient.OrgAccounts). The connection must be the management
// account's or a delegated administrator's.
func (a *AWS) OrgAccounts(ctx context.Context, units []string) ([]OrgAccount, error) {
	return awsclient.OrgAccounts(ctx, a.cfg, units)
}

// OrgPath returns acct's OU path, root's child first (ListParents), or
// ErrNoOrganization.
func (a *AWS) OrgPath(ctx context.Context, acct string) ([]string, error) {
	return awsclient.OrgPath(ctx, a.cfg, acct)
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
