package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// fanout sends one message per cell, an account and an enabled region, to
// the pipeline's queue, ten to a SendMessageBatch call, without the
// original's 5 s sleeps (each worker throttles its own cell, and the
// queue's event source mapping bounds how many run at once). The cells
// are the hub's own account's, and those of Config.Accounts. The snapshot
// fan-out first switches the replication rule. Its event is only logged:
// what to do depends on the function, not on the event. One cell's failed
// send never stops the others; the invocation then fails.
func (h *Handler) fanout(ctx context.Context, event json.RawMessage) error {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		slog.WarnContext(ctx, "event is not a scheduled event; fanning out anyway", "error", err)
	}
	slog.InfoContext(ctx, "fan-out", "event_id", ev.ID, "source", ev.Source, "resources", ev.Resources)
	req := account.Request{Account: h.cfg.Account}
	if h.cfg.Accounts != nil {
		// An organisation deployment: the organisation's stanzas count
		// (for the replication rule too).
		req.Scopes = account.Scopes(nil)
	}
	env, err := account.Load(ctx, h.cfg.Sources, req)
	if err != nil {
		// No heartbeat: the pipeline's alarm treats its absence as a breach.
		return fmt.Errorf("%s: %w", h.cfg.Name, err)
	}
	h.heartbeat(ctx, len(env.Policy.Stanzas), len(env.Invalid))
	var errs []error
	// The accounts first: in an organisation deployment their stanzas say
	// whether replication is wanted too.
	accounts, hubOUs, accountsErr := h.otherAccounts(ctx, env.Account)
	if h.cfg.Name == FanoutSnapshot {
		errs = append(errs, h.syncReplicationRule(ctx, env, scopeKeys(env.Account, accounts, hubOUs), accountsErr))
	}
	if len(env.Policy.Stanzas) == 0 && h.cfg.Accounts == nil {
		// The workers would find nothing to do in any region (an
		// organisation's OUs and accounts may have stanzas of their own:
		// its cells go out anyway). With stanzas
		// stored but none valid, no backup is taken: that fails the
		// invocation (the run's verdict), so that the alarm fires.
		slog.InfoContext(ctx, "no valid configuration stanza: nothing to fan out", "account", env.Account, "invalid", len(env.Invalid))
		return errors.Join(append(errs, snapper.Judge(snapper.Report{}, len(env.Invalid)).Err())...)
	}
	if h.cfg.Name == FanoutDrill && !drillsAsked(env.Policy) {
		slog.InfoContext(ctx, "no valid stanza has a drill key: nothing to fan out", "account", env.Account)
		return errors.Join(errs...)
	}
	h.limitRegions(ctx, env)
	regions := env.Regions.Names()
	// The other accounts' cells go to every region in scope: the probe
	// below asks the hub's own account only, and a spoke's worker finds
	// nothing to do where it has no snapshot.
	all := regions
	if h.cfg.Name == FanoutReplication {
		var err error
		regions, err = regionsWithSnapshots(ctx, env)
		errs = append(errs, err)
	}
	errs = append(errs, accountsErr)
	// In an organisation deployment the hub's own cells name the hub, so
	// that the organisation's stanzas (and its OUs', when it is in scope)
	// govern it as they govern the others (a message naming its account is
	// an organisation run).
	hub := account.OrgAccount{}
	if h.cfg.Accounts != nil {
		hub.ID, hub.OUs = env.Account, hubOUs
	}
	var cells []regionMessage
	for i, a := range append([]account.OrgAccount{hub}, accounts...) {
		in := all
		if i == 0 {
			in = regions
		}
		for _, region := range in {
			cells = append(cells, regionMessage{Account: a.ID, OUs: a.OUs, Region: region})
		}
	}
	bodies := make([]string, len(cells))
	for i, c := range cells {
		bodies[i] = cellBody(c)
	}
	sent := 0
	for i, err := range sendMessages(ctx, h.cfg.SQS, h.cfg.QueueURL, bodies) {
		if err != nil {
			err = fmt.Errorf("send the cell of %s in %s to %s: %w", h.accountOf(cells[i]), cells[i].Region, h.cfg.QueueURL, err)
			slog.ErrorContext(ctx, "cell not sent", "account", h.accountOf(cells[i]), "region", cells[i].Region, "error", err)
			errs = append(errs, err)
			continue
		}
		sent++
	}
	slog.InfoContext(ctx, "fanned out", "queue", h.cfg.QueueURL, "regions", len(regions), "accounts", 1+len(accounts), "cells", sent)
	return errors.Join(errs...)
}

// limitRegions keeps in env only the regions of Config.Regions (all when
// it is empty), with their clients. A listed region the account has not
// enabled is logged and left out, like any region not enabled.
func (h *Handler) limitRegions(ctx context.Context, env *account.Environment) {
	if len(h.cfg.Regions) == 0 {
		return
	}
	enabled := env.Regions.Names()
	env.Regions = snapper.OnlyRegions(env.Regions, func(r string) bool { return slices.Contains(h.cfg.Regions, r) })
	for _, r := range h.cfg.Regions {
		if !slices.Contains(enabled, r) {
			slog.WarnContext(ctx, "region skipped: in the stack's Regions but not enabled for the account", "region", r)
		}
	}
	slog.InfoContext(ctx, "regions limited by the stack's Regions parameter", "regions", env.Regions.Names(), "enabled", len(enabled))
}

// snapshotProbe is how the replication fan-out asks a region whether the
// account owns snapshots there; ebs.Client implements it.
type snapshotProbe interface {
	HasSnapshots(ctx context.Context) (bool, error)
}

// regionsWithSnapshots returns the regions of env where the account owns
// some snapshot, as the original's replication fan-out chose them: only
// there can an original or a replica be. It costs one DescribeSnapshots of
// five results per region. A region that is not enabled is left out; one
// whose probe fails otherwise is kept (its worker reports the failure)
// and the error is returned with the others.
func regionsWithSnapshots(ctx context.Context, env *account.Environment) ([]string, error) {
	var out []string
	var errs []error
	for _, region := range env.Regions.Names() {
		probe, ok := env.Regions.Client(region).(snapshotProbe)
		if !ok {
			return nil, fmt.Errorf("the EC2 client of %s cannot list snapshots for the replication fan-out", region)
		}
		// The region's first call: a service control policy denying it
		// denies the region.
		has, err := probe.HasSnapshots(ctx)
		err = inventory.DenyRegion(region, err)
		switch {
		case errors.Is(err, inventory.ErrRegionUnavailable):
			slog.InfoContext(ctx, "region skipped: "+inventory.SkipReason(err), "region", region)
		case err != nil:
			slog.ErrorContext(ctx, "snapshot probe failed; fanning out anyway", "region", region, "error", err)
			errs = append(errs, err)
			out = append(out, region)
		case has:
			out = append(out, region)
		}
	}
	return out, errors.Join(errs...)
}

// Message returns the body of the fan-out message for region exactly as
// the original serialised it, {"region": "<r>"} with a space after the
// colon, so that either version's workers read either version's messages.
func Message(region string) string {
	r, _ := json.Marshal(region) // a string always marshals
	return `{"region": ` + string(r) + `}`
}

// cellBody is a fan-out's message for a cell: Message for the hub's own
// account, {"account": "<a>", "region": "<r>"} for another.
func cellBody(c regionMessage) string {
	if c.Account == "" {
		return Message(c.Region)
	}
	b, _ := json.Marshal(c) // strings and an int always marshal
	return string(b)
}

// otherAccounts lists the ACTIVE accounts besides the hub's (hub) that
// the fan-out sends cells for (Config.Accounts), each once; none without
// it. A suspended or closing account is logged and left out: it answers
// no call. hubOUs is the hub's own OU path when the list holds the hub,
// so that its OUs' stanzas govern it as they govern its neighbours (and
// as a CLI run across the organisation reads them). An error listing them
// fails the invocation, after the cells of the hub and of every account
// that could be listed are sent (Config.Accounts may return both).
func (h *Handler) otherAccounts(ctx context.Context, hub string) (out []account.OrgAccount, hubOUs []string, err error) {
	if h.cfg.Accounts == nil {
		return nil, nil, nil
	}
	// An error may come with the accounts that could be listed (a listed
	// account Organizations does not know): those are still sent.
	all, err := h.cfg.Accounts(ctx)
	if err != nil {
		err = fmt.Errorf("list the accounts to fan out to: %w", err)
	}
	for _, a := range all {
		switch {
		case a.ID == hub:
			hubOUs = a.OUs
		case slices.ContainsFunc(out, func(o account.OrgAccount) bool { return o.ID == a.ID }):
		case a.Status != "" && !a.Active():
			slog.InfoContext(ctx, "account skipped: "+(&account.CellError{Account: a.ID, Cause: account.Suspended}).Error(), "account", a.ID, "status", a.Status)
		default:
			out = append(out, a)
		}
	}
	return out, hubOUs, err
}

// send sends a worker's continuation for msg's cell to its own queue.
//
// IAM: sqs:SendMessage on the queue (SendMessageBatch).
func (h *Handler) send(ctx context.Context, msg regionMessage, body string) error {
	if err := sendMessages(ctx, h.cfg.SQS, h.cfg.QueueURL, []string{body})[0]; err != nil {
		return fmt.Errorf("send the continuation of %s in %s to %s: %w", h.accountOf(msg), msg.Region, h.cfg.QueueURL, err)
	}
	return nil
}

// scopeKeys are the keys of the hub's table, besides the organisation's
// and the hub's own, whose stanzas govern some account of an organisation
// deployment: the hub's OUs, and each account's OUs and id, each once.
func scopeKeys(hub string, accounts []account.OrgAccount, hubOUs []string) []string {
	seen := map[string]bool{account.Organization: true, hub: true}
	var keys []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range hubOUs {
		add(k)
	}
	for _, a := range accounts {
		for _, k := range a.OUs {
			add(k)
		}
		add(a.ID)
	}
	return keys
}

// syncReplicationRule enables the replication rule when any valid stanza
// says "replication": "yes" and disables it otherwise, as the original's
// snapshot fan-out did (docs/lambda.md). In an organisation deployment the
// stanzas are env's (the organisation's and the hub's) and those of keys
// (the OUs and accounts in scope, read until one asks for replication):
// an OU's or a member's stanza asking for it keeps the rule on. When the
// accounts could not be listed (accountsErr) or a key could not be read,
// the rule is not disabled: an unknown answer never stops replication. It
// reads the rule's state first, so an unchanged state costs no write.
//
// IAM: events:DescribeRule, events:EnableRule, events:DisableRule on the
// rule; dynamodb:Query on the table.
func (h *Handler) syncReplicationRule(ctx context.Context, env *account.Environment, keys []string, accountsErr error) error {
	rule := h.cfg.ReplicationRule
	enabled, err := ruleEnabled(ctx, h.cfg.Events, rule)
	if err != nil {
		return fmt.Errorf("describe the replication rule %s: %w", rule, err)
	}
	want := false
	for _, s := range env.Policy.Stanzas {
		want = want || s.Replication
	}
	if !want && h.cfg.Accounts != nil {
		if accountsErr != nil {
			return nil // the error is the invocation's already; the rule stays as it is
		}
		for _, key := range keys {
			loaded, err := configstore.Load(ctx, h.cfg.Sources.Store, key)
			if err != nil {
				return fmt.Errorf("replication rule %s left as it is: %w", rule, err)
			}
			if want = slices.ContainsFunc(loaded.Stanzas, func(s config.Stanza) bool { return s.Replication }); want {
				break
			}
		}
	}
	switch {
	case want && !enabled:
		slog.InfoContext(ctx, "enabling snapshot replication due to configuration", "rule", rule)
		if err := switchRule(ctx, h.cfg.Events, rule, true); err != nil {
			return fmt.Errorf("enable the replication rule %s: %w", rule, err)
		}
	case !want && enabled:
		slog.InfoContext(ctx, "disabling snapshot replication due to configuration", "rule", rule)
		if err := switchRule(ctx, h.cfg.Events, rule, false); err != nil {
			return fmt.Errorf("disable the replication rule %s: %w", rule, err)
		}
	}
	return nil
}

// drillsAsked reports whether some stanza of p asks for restore drills.
func drillsAsked(p snapper.Policy) bool {
	for _, s := range p.Stanzas {
		if s.Drill.On() {
			return true
		}
	}
	return false
}
