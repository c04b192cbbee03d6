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
	if h.cfg.Name == FanoutSnapshot {
		errs = append(errs, h.syncReplicationRule(ctx, env))
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
	accounts, err := h.otherAccounts(ctx, env.Account)
	errs = append(errs, err)
	// In an organisation deployment the hub's own cells name the hub, so
	// that the organisation's stanzas govern it as they govern the others
	// (a message naming its account is an organisation run).
	hub := account.OrgAccount{}
	if h.cfg.Accounts != nil {
		hub.ID = env.Account
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
// no call. An error listing them fails the invocation, after the hub's
// own cells are sent.
func (h *Handler) otherAccounts(ctx context.Context, hub string) ([]account.OrgAccount, error) {
	if h.cfg.Accounts == nil {
		return nil, nil
	}
	// An error may come with the accounts that could be listed (a listed
	// account Organizations does not know): those are still sent.
	all, err := h.cfg.Accounts(ctx)
	if err != nil {
		err = fmt.Errorf("list the accounts to fan out to: %w", err)
	}
	var out []account.OrgAccount
	for _, a := range all {
		switch {
		case a.ID == hub || slices.ContainsFunc(out, func(o account.OrgAccount) bool { return o.ID == a.ID }):
		case a.Status != "" && !a.Active():
			slog.InfoContext(ctx, "account skipped: "+(&account.CellError{Account: a.ID, Cause: account.Suspended}).Error(), "account", a.ID, "status", a.Status)
		default:
			out = append(out, a)
		}
	}
	return out, err
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

// syncReplicationRule enables the replication rule when any valid stanza
// says "replication": "yes" and disables it otherwise, as the original's
// snapshot fan-out did (docs/lambda.md). It reads the rule's state first, so
// an unchanged state costs no write.
//
// IAM: events:DescribeRule, events:EnableRule, events:DisableRule on the rule.
func (h *Handler) syncReplicationRule(ctx context.Context, env *account.Environment) error {
	rule := h.cfg.ReplicationRule
	enabled, err := ruleEnabled(ctx, h.cfg.Events, rule)
	if err != nil {
		return fmt.Errorf("describe the replication rule %s: %w", rule, err)
	}
	want := false
	for _, s := range env.Policy.Stanzas {
		want = want || s.Replication
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
