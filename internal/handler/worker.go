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
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// worker runs one pipeline for the cell of each record, one hop of the
// cell's chain each (runHop): run does the work. Records from SQS (the
// stack's queues) answer a partial batch response (sqsWorker). Records
// from SNS (a stack before the queues, or the original's topics) are read
// as before: one that is not an SNS record, or without an Sns section, a
// message or a region, or whose message is not JSON, is logged and
// skipped, as the original did (docs/lambda.md), except that a non-JSON
// message no longer crashes the invocation. An event without Records (a
// console test event) is logged and returns normally.
func (h *Handler) worker(ctx context.Context, event json.RawMessage, pipeline string, run regionRun) (any, error) {
	// Records are decoded one by one, so that one of the wrong shape is
	// skipped like any other unusable record instead of failing the rest.
	var ev struct{ Records []json.RawMessage }
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("decode the event as an SQS or SNS event: %w", err)
	}
	if len(ev.Records) == 0 {
		slog.WarnContext(ctx, "no records: this function must be invoked from its SQS queue")
		return nil, nil
	}
	stop, release := h.stopStarting(ctx)
	defer release()
	if fromSQS(ev.Records[0]) {
		return h.sqsWorker(ctx, ev.Records, pipeline, stop, run)
	}
	var errs []error
	for i, raw := range ev.Records {
		var rec events.SNSEventRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			slog.WarnContext(ctx, "SNS record skipped: not an SNS record", "record", i, "error", err)
			continue
		}
		msg, ok := recordMessage(ctx, i, rec)
		if !ok {
			continue
		}
		if err := h.runHop(ctx, pipeline, msg, stop, run); err != nil {
			errs = append(errs, err)
		}
	}
	return nil, errors.Join(errs...)
}

// recordMessage returns the message of an SNS record, or logs why it has
// none a worker can use.
func recordMessage(ctx context.Context, i int, rec events.SNSEventRecord) (regionMessage, bool) {
	skip := func(why string, args ...any) (regionMessage, bool) {
		slog.WarnContext(ctx, "SNS record skipped: "+why, append([]any{"record", i, "message_id", rec.SNS.MessageID}, args...)...)
		return regionMessage{}, false
	}
	if reflect.ValueOf(rec.SNS).IsZero() {
		return skip("no Sns section")
	}
	if strings.TrimSpace(rec.SNS.Message) == "" {
		return skip("no message")
	}
	var msg regionMessage
	if err := json.Unmarshal([]byte(rec.SNS.Message), &msg); err != nil {
		return skip(`message is not a JSON object with a string "region"`, "message", rec.SNS.Message, "error", err)
	}
	if msg.Region == "" {
		return skip(`message names no "region"`, "message", rec.SNS.Message)
	}
	if msg.Hop < 0 {
		return skip(`"hop" is negative`, "message", rec.SNS.Message)
	}
	return msg, true
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

// useCase is the Engine's use case a worker runs, named as the worker is
// (Snapshot, Clean, Replication): the name is the run's "job" in its
// logs and errors.
type useCase struct {
	name string
	run  func(*snapper.Engine, context.Context) snapper.Report
}

// workerUseCases are the use cases of the worker handlers, by handler name.
var workerUseCases = map[string]useCase{
	Snapshot:    {Snapshot, (*snapper.Engine).Snapshot},
	Clean:       {Clean, (*snapper.Engine).Clean},
	Replication: {Replication, (*snapper.Engine).Replicate},
	Drill:       {Drill, (*snapper.Engine).Drill},
}

// engine returns the regionRun of a snapshot, clean or replication
// worker: the CLI's engine in one region. The run's report is logged as one
// "run finished" line and its figures written as EMF lines. The error is the
// run's verdict (snapper.Judge), the same rule as the CLI's exit status: a
// failed action, an outcome left unknown, a stanza EC2 rejected, an invalid
// stored stanza or a failed region fails the invocation, so that its Errors
// metric and alarm see it; actions not started before the deadline margin
// are not a failure, they are what is left.
func (h *Handler) engine(uc useCase) regionRun {
	return func(ctx context.Context, msg regionMessage, stop <-chan struct{}) (remaining, error) {
		region := msg.Region
		src, req, err := h.cell(ctx, uc.name, msg)
		if err != nil {
			return remaining{}, err
		}
		req.Regions = []string{region}
		env, err := account.Load(ctx, src, req)
		if err != nil {
			return remaining{}, fmt.Errorf("%s in %s of account %s: %w", uc.name, region, req.Account, err)
		}
		if len(env.Policy.Stanzas) == 0 {
			slog.InfoContext(ctx, "no valid configuration stanza: nothing to do", "region", region, "account", env.Account)
			return remaining{}, verdictError(uc.name, region, snapper.Judge(snapper.Report{}, len(env.Invalid)))
		}
		throttled := h.throttledIn(region)
		var inv *snapper.Inventory
		opts := snapper.Options{Version: h.cfg.Version, StopStarting: stop, CopyLimit: h.cfg.CopyLimit}
		if h.cfg.Now != nil {
			opts.Now = h.cfg.Now()
		}
		if uc.name == Snapshot {
			// The run returns after its goroutines, so inv is safe to read then.
			opts.Observer = inventoryOf{inv: &inv}
		}
		rep := uc.run(snapper.New(env.Regions, env.Policy, opts), ctx)
		rr := rep.Regions[0]
		s := rr.Summary
		verdict := snapper.Judge(rep, len(env.Invalid))
		slog.InfoContext(ctx, "run finished", "job", rep.Job, "region", region, "created", s.Created, "deleted", s.Deleted,
			"kept", s.Kept, "failed", s.Failed, "not_started", s.NotStarted, "unknown", s.Unknown, "skipped", rr.Skipped, "region_error", rr.Error,
			"outcome", verdict.Outcome)
		figs := withAccount(env.Account, workerFigures(rr, inv, env.Policy, rep.Now, h.throttledIn(region)-throttled))
		if len(figs) > 0 {
			figs[0].Drills = report.DrillsOf(rep.Job, rr)
		}
		h.emit(ctx, figs...)
		left := remaining{actions: s.NotStarted, region: strings.HasPrefix(rr.Skipped, snapper.StatusNotStarted)}
		return left, verdictError(uc.name, region, verdict)
	}
}

// inventoryOf is the Observer that keeps the region's inventory, for the
// run's figures (RPO freshness) without listing the region again.
type inventoryOf struct {
	snapper.NoObserver
	inv **snapper.Inventory
}

// Inventory keeps inv.
func (o inventoryOf) Inventory(inv *snapper.Inventory) { *o.inv = inv }

// verdictError is the verdict's error naming the job and region, or nil.
func verdictError(job, region string, v snapper.Verdict) error {
	if err := v.Err(); err != nil {
		return fmt.Errorf("%s in %s: %w", job, region, err)
	}
	return nil
}
