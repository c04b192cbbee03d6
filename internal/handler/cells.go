package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
)

// SpokeFunc returns the Sources of a cell in another account, assuming
// its spoke role with the session name given (account.ForAccount);
// region is the cell's region, where the account's enabled regions are
// asked when a service control policy denies the hub's region.
type SpokeFunc func(ctx context.Context, acct, region, session string) (account.Sources, error)

// accountOf is the account of msg's cell: the hub's own when it names
// none.
func (h *Handler) accountOf(msg regionMessage) string { return cmp.Or(msg.Account, h.cfg.Account) }

// otherAccount is acct, or "" when it is the function's own account: the
// account part of the cell's lease key (lease.CellKey).
func (h *Handler) otherAccount(acct string) string {
	if acct == h.cfg.Account {
		return ""
	}
	return acct
}

// cell resolves a message's account to the Sources to load and the
// request that reads its stanzas: the function's own Sources for its own
// account, else the spoke's (h.cfg.Spoke, one AssumeRole per invocation,
// named ebs-snapper-<pipeline>-<region>). A message naming an account
// is an organisation run, whose stanzas include the organisation's and
// its OUs' (account.Scopes). A cell the spoke refuses is logged with its
// cause and fix and returned as the invocation's error; it stops no other
// cell (each is its own message).
func (h *Handler) cell(ctx context.Context, pipeline string, msg regionMessage) (account.Sources, account.Request, error) {
	if msg.Account == "" {
		return h.cfg.Sources, account.Request{Account: h.cfg.Account}, nil
	}
	req := account.Request{Account: msg.Account, Scopes: account.Scopes(msg.OUs)}
	if h.otherAccount(msg.Account) == "" {
		return h.cfg.Sources, req, nil
	}
	if h.cfg.Spoke == nil {
		return account.Sources{}, req, fmt.Errorf("%s in %s: account %s: %w (deploy the hub with the spokes: docs/organizations.md)", pipeline, msg.Region, msg.Account, ErrNoSpokeAccess)
	}
	src, err := h.cfg.Spoke(ctx, msg.Account, msg.Region, account.SessionName("ebs-snapper-"+pipeline+"-"+msg.Region))
	if err != nil {
		var ce *account.CellError
		if errors.As(err, &ce) {
			slog.ErrorContext(ctx, "cell not worked on", "account", msg.Account, "region", msg.Region, "pipeline", pipeline,
				"cause", ce.Cause.String(), "fix", ce.Fix(), "error", err)
		}
		return account.Sources{}, req, fmt.Errorf("%s in %s: %w", pipeline, msg.Region, err)
	}
	return src, req, nil
}
