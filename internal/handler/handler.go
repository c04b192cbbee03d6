// Package handler is ebs-snapper's Lambda runtime: the one binary, zipped
// as bootstrap for provided.al2023, serves every function of the stack,
// each picking its role from EBS_SNAPPER_HANDLER.
//
// Fan-outs (EventBridge scheduled events) send one SQS message per cell,
// {"region": "<r>"} for the hub's own account and {"account": "<id>",
// "region": "<r>"} for another, to their pipeline's queue; workers (SQS
// events through an event source mapping, or SNS events of an older
// stack) run the engine for the cell of each message, one worker per
// pipeline and cell at a time (a lease), answer the failed cells' message
// ids (a partial batch response), stop starting new actions a margin
// before the invocation deadline and hand what is left to a continuation
// on their own queue, write their figures as CloudWatch EMF lines, and
// return an error when the cell failed so that the function's Errors
// metric and its alarm see it. The report function (scheduled, when the stack has a report bucket)
// collects the account's RPO report and writes it to S3. See
// docs/lambda.md.
package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// Handler names, the values of EBS_SNAPPER_HANDLER.
const (
	FanoutSnapshot    = "fanout-snapshot"
	FanoutClean       = "fanout-clean"
	FanoutReplication = "fanout-replication"
	Snapshot          = "snapshot"
	Clean             = "clean"
	Replication       = "replication"
	// Report writes the account's RPO report to an S3 bucket (the
	// stack's ReportBucket), on its own schedule.
	Report = "report"
	// FanoutDrill and Drill are the restore-drill pipeline (the stack's
	// DrillScheduleExpression): the fan-out publishes a job per region
	// when some valid stanza has a "drill" key, the worker runs the drills
	// of its region (snapper.JobDrill).
	FanoutDrill = "fanout-drill"
	Drill       = "drill"
)

// DefaultMargin is how long before the invocation deadline a worker stops
// starting new actions, leaving time for the calls in flight (each bounded
// by the SDK's retryer) and the report. The original stopped at one minute
// left too.
const DefaultMargin = 60 * time.Second

// Config is what a Handler needs. Which fields are required depends on
// Name; New says which one is missing.
type Config struct {
	// Name is one of the handler names above.
	Name string
	// Sources load the account (stanzas, regions, EC2 clients).
	Sources account.Sources
	// Account is the account id whose stanzas to read; "" asks
	// Sources.Identify at every invocation.
	Account string
	// Spoke resolves a worker message's other account to its Sources
	// through the spoke role (account.ForAccount); nil serves the
	// function's own account only, and a cell naming another fails with
	// ErrNoSpokeAccess.
	Spoke SpokeFunc
	// QueueURL is the SQS queue of the pipeline's cells: a fan-out sends
	// one message per (account, region) to it, and a worker, which Lambda
	// feeds from it, sends its continuations to it (required for both).
	QueueURL string
	// SQS sends the fan-out's messages and the continuations (required
	// for fan-outs and workers).
	SQS SQSAPI
	// Accounts, when set, lists the accounts a fan-out sends cells for
	// (the organization's, or a list), each with its status and OU path:
	// an organisation deployment. nil sends the hub's own cells only, as
	// a single-account stack. An error may come with the accounts that
	// could be listed: their cells are sent, and the invocation fails.
	Accounts func(ctx context.Context) ([]account.OrgAccount, error)
	// Leases hold one worker per pipeline and region at a time (required
	// for workers).
	Leases lease.Store
	// MaxHops is how many continuations one chain publishes at most; 0
	// publishes none (FromEnvironment's default is DefaultMaxHops).
	MaxHops int
	// Metrics receives the workers' CloudWatch EMF lines, one Write per
	// line; nil writes none. Under Lambda it is stdout, shared with the
	// logger (FromEnvironment).
	Metrics io.Writer
	// Calls counts the AWS calls of the function's clients, for the
	// ThrottledCalls figure; nil counts none.
	Calls *awsclient.Calls
	// ReplicationRule is the name of the EventBridge rule of the
	// replication pipeline, which the snapshot fan-out enables when any
	// valid stanza asks for replication and disables otherwise (required
	// for fanout-snapshot), through Events.
	ReplicationRule string
	Events          EventsAPI
	// Margin is how long before the invocation deadline a worker stops
	// starting new actions; zero means DefaultMargin.
	Margin time.Duration
	// Version goes into new snapshots' descriptions.
	Version string
	// Now, when set, gives the workers' evaluation time for each run
	// (tests move it past a retention); nil is the clock.
	Now func() time.Time
	// CopyLimit is the replication worker's limit of snapshot copies in
	// progress per destination region; zero means
	// snapper.DefaultCopyLimit (EC2's quota).
	CopyLimit int
	// Regions, when not empty, are the only regions a fan-out publishes
	// to (the stack's Regions parameter): its workers are not started in
	// any other. Empty means every region enabled for the account.
	Regions []string
	// Objects is the bucket the report handler writes to (required for
	// report); ReportPrefix starts every key it writes, "" or ending in
	// "/".
	Objects      ObjectStore
	ReportPrefix string
}

// Handler serves one Lambda function. Invoke is what lambda.Start calls.
type Handler struct {
	cfg    Config
	invoke func(ctx context.Context, event json.RawMessage) (any, error)
}

// New checks cfg for its handler and returns the Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Margin == 0 {
		cfg.Margin = DefaultMargin
	}
	if cfg.Margin < 0 {
		return nil, fmt.Errorf("deadline margin %s: must not be negative", cfg.Margin)
	}
	if cfg.MaxHops < 0 {
		return nil, fmt.Errorf("max hops %d: must not be negative", cfg.MaxHops)
	}
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg}
	switch cfg.Name {
	case FanoutSnapshot, FanoutClean, FanoutReplication, FanoutDrill:
		if cfg.QueueURL == "" || cfg.SQS == nil {
			return nil, fmt.Errorf("handler %s: the SQS queue to send the cells to is not set (%s)", cfg.Name, QueueEnv)
		}
		if cfg.Name == FanoutSnapshot && (cfg.ReplicationRule == "" || cfg.Events == nil) {
			return nil, fmt.Errorf("handler %s: the replication rule is not set (%s)", cfg.Name, ReplicationRuleEnv)
		}
		h.invoke = noResponse(h.fanout)
	case Snapshot, Clean, Replication, Drill:
		if err := h.checkChain(); err != nil {
			return nil, err
		}
		uc := workerUseCases[cfg.Name]
		h.invoke = func(ctx context.Context, event json.RawMessage) (any, error) {
			return h.worker(ctx, event, cfg.Name, h.engine(uc))
		}
	case Report:
		if cfg.Objects == nil {
			return nil, fmt.Errorf("handler %s: the bucket to write the report to is not set (%s)", cfg.Name, ReportBucketEnv)
		}
		h.invoke = noResponse(h.reportRun)
	}
	return h, nil
}

var names = []string{FanoutSnapshot, FanoutClean, FanoutReplication, Snapshot, Clean, Replication, Report, FanoutDrill, Drill}

// checkName fails unless name is one of the handler names.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("no handler named: set %s to one of %s", NameEnv, strings.Join(names, ", "))
	case !slices.Contains(names, name):
		return fmt.Errorf("unknown handler %q in %s: want one of %s", name, NameEnv, strings.Join(names, ", "))
	}
	return nil
}

// noResponse is an invocation that answers nothing but its error.
func noResponse(f func(ctx context.Context, event json.RawMessage) error) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, event json.RawMessage) (any, error) { return nil, f(ctx, event) }
}

// Handle handles one event: what lambda.Start calls. A worker fed by SQS
// answers an events.SQSEventResponse naming the messages of the cells
// that failed (partial batch response), so that only those are delivered
// again; other invocations answer nothing. It returns an error when the
// invocation failed (for a batch: every cell of it failed; some action or
// region failed, or the account could not be loaded), so that Lambda
// counts it in the function's Errors metric.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	start := time.Now()
	slog.InfoContext(ctx, "invoked")
	resp, err := h.invoke(ctx, event)
	if err != nil {
		slog.ErrorContext(ctx, "invocation failed", "error", err, "duration_ms", time.Since(start).Milliseconds())
		return resp, err
	}
	slog.InfoContext(ctx, "completed", "duration_ms", time.Since(start).Milliseconds())
	return resp, nil
}

// Invoke is Handle for callers that want only whether the invocation
// failed.
func (h *Handler) Invoke(ctx context.Context, event json.RawMessage) error {
	_, err := h.Handle(ctx, event)
	return err
}
