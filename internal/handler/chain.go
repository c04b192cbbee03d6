package handler

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// DefaultMaxHops is how many continuations one chain publishes at most, so
// a region is worked on by at most nine invocations per scheduled message:
// with the stack's 900 s timeout about two hours, some 30,000 snapshots at
// EC2's 5 CreateSnapshot a second.
const DefaultMaxHops = 8

// leaseWithoutDeadline is how long a lease lasts for an invocation whose
// context has no deadline (never under Lambda): Lambda's longest timeout.
const leaseWithoutDeadline = 15 * time.Minute

// regionMessage is the body of a worker's message: one cell, an account
// and a region of the queue's pipeline. A fan-out's is {"region": "<r>"},
// hop 0, for the hub's own account (as the original wrote it, so that
// either version's workers read either version's messages), and
// {"account": "<12 digits>", "ous": [<its OU path>], "region": "<r>"}
// for another account (or the hub's own in an organisation run). A
// continuation's adds the hop number, the chain it continues (the request
// id of the chain's first invocation) and the lease holder handing the
// cell over (the request id of the hop that sent it). No plan travels: the
// next hop plans again, and planning is idempotent. (docs/lambda.md)
type regionMessage struct {
	Region string `json:"region"`
	// Account is the cell's account in an organisation run; "" (or the
	// function's own account) is the hub's own account.
	Account string `json:"account,omitempty"`
	// OUs is the account's OU path, root's child first, whose stanzas
	// govern it too (account.Scopes).
	OUs   []string `json:"ous,omitempty"`
	Hop   int      `json:"hop,omitempty"`
	Chain string   `json:"chain,omitempty"`
	From  string   `json:"from,omitempty"`
}

// remaining is what one hop's run left for the next: actions it never
// started, or the whole region when it stopped before reaching it.
type remaining struct {
	actions int
	region  bool
}

func (r remaining) none() bool { return r.actions == 0 && !r.region }

func (r remaining) String() string {
	if r.region {
		return "the whole region"
	}
	return fmt.Sprintf("%d actions", r.actions)
}

// regionRun does one pipeline's work in one cell (msg's account and
// region), starting nothing new once stop is closed, and says what it
// left. A snapshot or clean worker's is engine(job); a replication
// worker's would be its own.
type regionRun func(ctx context.Context, msg regionMessage, stop <-chan struct{}) (remaining, error)

// checkChain fails unless the configuration lets a worker chain: its own
// queue to send continuations to, and the leases.
func (h *Handler) checkChain() error {
	switch {
	case h.cfg.QueueURL == "" || h.cfg.SQS == nil:
		return fmt.Errorf("handler %s: its own SQS queue, for continuations, is not set (%s)", h.cfg.Name, QueueEnv)
	case h.cfg.Leases == nil:
		return fmt.Errorf("handler %s: the lease table is not set (%s)", h.cfg.Name, LeaseTableEnv)
	}
	return nil
}

// runHop runs one hop of pipeline's chain in msg's region.
//
// It first takes the region's lease until the invocation deadline: free or
// lapsed, or handed over by msg.From, the hop that published msg. When
// another worker holds it (a chain still running when the next scheduled
// message arrives, or a second delivery of one message), it logs and
// returns success: that worker finishes the work.
//
// After the run, when the run left work (it reached the deadline margin)
// and the chain has hops to spare, it publishes the next hop to its own
// topic and keeps the lease for it; otherwise it logs the chain's end
// (finished, or the hop limit reached with what is left, which the next
// scheduled run resumes) and releases the lease.
func (h *Handler) runHop(ctx context.Context, pipeline string, msg regionMessage, stop <-chan struct{}, run regionRun) error {
	me := requestID(ctx)
	chain := cmp.Or(msg.Chain, me)
	attrs := []any{"account", cmp.Or(msg.Account, h.cfg.Account), "region", msg.Region, "pipeline", pipeline, "chain", chain, "hop", msg.Hop}
	key := lease.CellKey(h.otherAccount(msg.Account), pipeline, msg.Region)
	err := h.cfg.Leases.Acquire(ctx, lease.Lease{Key: key, Holder: me, Chain: chain, Expires: leaseExpiry(ctx)}, msg.From, time.Now())
	if errors.Is(err, lease.ErrHeld) {
		slog.InfoContext(ctx, "region busy: another worker holds its lease and does the work", append(attrs, "lease", err.Error())...)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s in %s of %s: %w", pipeline, msg.Region, h.accountOf(msg), err)
	}

	left, runErr := run(ctx, msg, stop)
	handedOver := false
	var pubErr error
	switch {
	case left.none():
		slog.InfoContext(ctx, "chain finished", append(attrs, "invocations", msg.Hop+1)...)
	case msg.Hop >= h.cfg.MaxHops:
		slog.ErrorContext(ctx, "chain ended at the hop limit with work left; the next scheduled run resumes it",
			append(attrs, "max_hops", h.cfg.MaxHops, "left", left.String())...)
	default:
		next := regionMessage{Region: msg.Region, Account: msg.Account, OUs: msg.OUs, Hop: msg.Hop + 1, Chain: chain, From: me}
		body, _ := json.Marshal(next) // strings and an int always marshal
		if pubErr = h.send(ctx, msg, string(body)); pubErr != nil {
			slog.ErrorContext(ctx, "continuation not published: the chain ends here; the next scheduled run resumes it",
				append(attrs, "left", left.String(), "error", pubErr)...)
			break
		}
		handedOver = true
		slog.InfoContext(ctx, "continuation published", append(attrs, "next_hop", next.Hop, "left", left.String())...)
	}
	if !handedOver {
		if err := h.cfg.Leases.Release(ctx, key, me); err != nil {
			slog.WarnContext(ctx, "lease not released; it lapses at its expiry", append(attrs, "error", err)...)
		}
	}
	return errors.Join(runErr, pubErr)
}

// requestID is the invocation's AWS request id, which holds the lease; a
// random id stands in for a context that carries none (not under Lambda).
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return rand.Text()
}

// leaseExpiry is when the invocation's lease lapses: its deadline, after
// which the invocation cannot be working any more.
func leaseExpiry(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(leaseWithoutDeadline)
}
