// Package lease keeps one worker per pipeline and region at a time with a
// lease in DynamoDB: a conditional PutItem takes it when it is free or
// expired (or handed over by its holder), a conditional DeleteItem
// releases it, and it expires on its own at the holder's deadline, so a
// worker that dies never blocks the region for longer than its timeout.
//
// The leases live in their own table (the stack's ebs_snapper_lease), not
// in the configuration table, so they never show among the stanzas.
// Memory is the same behaviour in memory, for unit tests.
package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease is one holder's claim on a key until Expires.
type Lease struct {
	// Key names what is held: Key(pipeline, region).
	Key string
	// Holder is who holds it: the Lambda request id of the invocation.
	Holder string
	// Chain identifies the chain of invocations (a run and its
	// continuations) the holder works for: the request id of the chain's
	// first invocation. Logged by whoever finds the lease held.
	Chain string
	// Expires is when the lease lapses by itself (UTC; stored to the
	// second, rounded up): the holder's invocation deadline.
	Expires time.Time
}

// Key returns the lease key of one pipeline ("snapshot", "clean",
// "replication", ...) in one region, such as "snapshot/us-west-2".
func Key(pipeline, region string) string { return pipeline + "/" + region }

// CellKey returns the lease key of one pipeline in one region of account,
// such as "222222222222/snapshot/us-west-2", for a hub working in other
// accounts. account "" (the hub's own account, which the caller passes as
// "") is Key(pipeline, region), so that a hub's runs in its own account
// and a single-account stack's share one lease.
func CellKey(account, pipeline, region string) string {
	if account == "" {
		return Key(pipeline, region)
	}
	return account + "/" + Key(pipeline, region)
}

// ErrHeld is matched (errors.Is) by the error of an Acquire that found the
// lease held by another holder, and of a Release by a holder that no
// longer holds it.
var ErrHeld = errors.New("lease held by another worker")

// HeldError says who holds a lease that could not be taken. Holder, Chain
// and Expires are empty when the store could not tell.
type HeldError struct {
	Key     string
	Holder  string
	Chain   string
	Expires time.Time
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("lease %s: %v", e.Key, ErrHeld)
	}
	return fmt.Sprintf("lease %s: %v (holder %s, chain %s, until %s)", e.Key, ErrHeld, e.Holder, e.Chain,
		e.Expires.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Store takes and releases leases.
type Store interface {
	// Acquire takes l.Key for l.Holder until l.Expires when the lease is
	// free or expired at now, when l.Holder already holds it (Lambda's
	// retry of an invocation that crashed or timed out keeps its request
	// id, so it takes its own lease back; a CLI run renews its lease the
	// same way), or when from is not empty and names its current holder
	// (a holder handing the lease to its continuation). It returns a
	// *HeldError otherwise. A matching chain alone is not enough: a second
	// delivery of one continuation message has the chain and from of the
	// first, and must not run beside it.
	Acquire(ctx context.Context, l Lease, from string, now time.Time) error
	// Release gives up key when holder still holds it; a *HeldError when
	// another holder took it over (after expiry) or it is gone.
	Release(ctx context.Context, key, holder string) error
}

// expiresAt is the stored expiry: Unix seconds rounded up, as DynamoDB's
// TTL attribute takes them, so a lease never lapses before its deadline.
func expiresAt(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}
