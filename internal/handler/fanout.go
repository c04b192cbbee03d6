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

// fanout publishes one message per enabled region to the pipeline's topic,
// without the original's 5 s sleeps (SNS takes far more than one publish a
// second, and each worker throttles its own region). The snapshot fan-out
// first switches the replication rule. Its event is only logged: what to do
// depends on the function, not on the event. One region's failed publish
// never stops the others; the invocation then fails.
func (h *Handler) fanout(ctx context.Context, event json.RawMessage) error {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		slog.WarnContext(ctx, "event is not a scheduled event; fanning out anyway", "error", err)
	}
	slog.InfoContext(ctx, "fan-out", "event_id", ev.ID, "source", ev.Source, "resources", ev.Resources)
	env, err := account.Load(ctx, h.cfg.Sources, account.Request{Account: h.cfg.Account})
	if err != nil {
		// No heartbeat: the pipeline's alarm treats its absence as a breach.
		return fmt.Errorf("%s: %w", h.cfg.Name, err)
	}
	h.heartbeat(ctx, len(env.Policy.Stanzas), len(env.Invalid))
	var errs []error
	if h.cfg.Name == FanoutSnapshot {
		errs = append(errs, h.syncReplicationRule(ctx, env))
	}
	if len(env.Policy.Stanzas) == 0 {
		// The workers would find nothing to do in any region. With stanzas
		// stored but none valid, no backup is taken: that fails the
		// invocation (the run's verdict), so that the alarm fires.
		slog.InfoContext(ctx, "no valid configuration stanza: nothing to fan out", "account", env.Account, "invalid", len(env.Invalid))
		return errors.Join(append(errs, snapper.Judge(snapper.Report{}, len(env.Invalid)).Err())...)
	}
	h.limitRegions(ctx, env)
	regions := env.Regions.Names()
	if h.cfg.Name == FanoutReplication {
		var err error
		regions, err = regionsWithSnapshots(ctx, env)
		errs = append(errs, err)
	}
	published := 0
	for _, region := range regions {
		if err := h.publish(ctx, region, Message(region)); err != nil {
			slog.ErrorContext(ctx, "publish failed", "region", region, "error", err)
			errs = append(errs, err)
			continue
		}
		published++
	}
	slog.InfoContext(ctx, "fanned out", "topic", h.cfg.TopicARN, "regions", published)
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

// publish sends one region's message to the topic: a fan-out's, or a
// worker's continuation to its own topic.
//
// IAM: sns:Publish on the topic.
func (h *Handler) publish(ctx context.Context, region, body string) error {
	if err := publishMessage(ctx, h.cfg.SNS, h.cfg.TopicARN, body); err != nil {
		return fmt.Errorf("publish region %s to %s: %w", region, h.cfg.TopicARN, err)
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
