package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// regionMessage is the body of a fan-out message.
type regionMessage struct {
	Region string `json:"region"`
}

// worker runs job for the region of each SNS record. A record without an
// Sns section, a message or a region, or whose message is not JSON, is
// logged and skipped, as the original did (reference §8), except that a
// non-JSON message no longer crashes the invocation. An event without
// Records (a console test event) is logged and returns normally.
func (h *Handler) worker(ctx context.Context, event json.RawMessage, job snapper.Job) error {
	var ev events.SNSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("decode the event as an SNS event: %w", err)
	}
	if len(ev.Records) == 0 {
		slog.WarnContext(ctx, "no SNS records: this function must be invoked from its SNS topic")
		return nil
	}
	stop, release := h.stopStarting(ctx)
	defer release()
	var errs []error
	for i, rec := range ev.Records {
		region, ok := recordRegion(ctx, i, rec)
		if !ok {
			continue
		}
		if err := h.runRegion(ctx, job, region, stop); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recordRegion returns the region an SNS record names, or logs why it
// names none.
func recordRegion(ctx context.Context, i int, rec events.SNSEventRecord) (string, bool) {
	skip := func(why string, args ...any) (string, bool) {
		slog.WarnContext(ctx, "SNS record skipped: "+why, append([]any{"record", i, "message_id", rec.SNS.MessageID}, args...)...)
		return "", false
	}
	if reflect.ValueOf(rec.SNS).IsZero() {
		return skip("no Sns section")
	}
	if strings.TrimSpace(rec.SNS.Message) == "" {
		return skip("no message")
	}
	var msg regionMessage
	if err := json.Unmarshal([]byte(rec.SNS.Message), &msg); err != nil {
		return skip("message is not a JSON object", "message", rec.SNS.Message, "error", err)
	}
	if msg.Region == "" {
		return skip(`message names no "region"`, "message", rec.SNS.Message)
	}
	return msg.Region, true
}

// stopStarting returns a channel closed Margin before ctx's deadline (the
// invocation deadline under Lambda), for snapper.Options.StopStarting, and
// a function that releases its timer. Without a deadline it never closes;
// when Margin is not less than the time left, a fifth of that time is the
// margin.
// The context itself is left alone: calls in flight at the margin keep it
// and finish.
func (h *Handler) stopStarting(ctx context.Context) (<-chan struct{}, func()) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, func() {}
	}
	margin, remaining := h.cfg.Margin, time.Until(deadline)
	if margin >= remaining {
		// A function timeout at or below the margin would never start
		// anything: keep a fifth of the time instead, as 60 s is of the
		// original's 300 s timeout.
		margin = remaining / 5
		slog.WarnContext(ctx, "deadline margin exceeds the invocation's time: using a fifth of it",
			"margin", h.cfg.Margin.String(), "remaining_ms", remaining.Milliseconds())
	}
	stop := make(chan struct{})
	t := time.AfterFunc(remaining-margin, func() {
		slog.WarnContext(ctx, "deadline margin reached: no new action starts",
			"margin", margin.String(), "remaining_ms", time.Until(deadline).Milliseconds())
		close(stop)
	})
	return stop, func() { t.Stop() }
}

// runRegion runs job in one region and logs its report. It returns an
// error when actions or the region failed, or when stored stanzas are
// invalid, so that the invocation counts as failed and the alarm fires;
// actions not started before the deadline margin are not a failure.
func (h *Handler) runRegion(ctx context.Context, job snapper.Job, region string, stop <-chan struct{}) error {
	env, err := account.Load(ctx, h.cfg.Sources, account.Request{Account: h.cfg.Account, Regions: []string{region}})
	if err != nil {
		return fmt.Errorf("%s in %s: %w", job, region, err)
	}
	var invalid error
	if n := len(env.Invalid); n > 0 {
		invalid = fmt.Errorf("%s in %s: %d stored stanzas are invalid (each logged), e.g. %w", job, region, n, env.Invalid[0].Err)
	}
	if len(env.Policy.Stanzas) == 0 {
		slog.InfoContext(ctx, "no valid configuration stanza: nothing to do", "region", region, "account", env.Account)
		return invalid
	}
	rep := snapper.Run(ctx, job, env.Clients, env.Policy, snapper.Options{Version: h.cfg.Version, StopStarting: stop, Remote: env.Remote})
	rr := rep.Regions[0]
	s := rr.Summary
	slog.InfoContext(ctx, "run finished", "job", rep.Job, "region", region, "created", s.Created, "deleted", s.Deleted,
		"kept", s.Kept, "failed", s.Failed, "not_started", s.NotStarted, "skipped", rr.Skipped, "region_error", rr.Error)
	var failed error
	switch {
	case rr.Error != "":
		failed = fmt.Errorf("%s in %s failed: %s", job, region, rr.Error)
	case s.Failed > 0:
		failed = fmt.Errorf("%s in %s: %d actions failed (each logged)", job, region, s.Failed)
	}
	return errors.Join(failed, invalid)
}
