package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// A run outside Lambda holds each lease for LeaseTerm past its last
// renewal and renews it every LeaseRenewal, so a run killed without a
// chance to release (SIGKILL, a lost machine) holds its regions for at
// most LeaseTerm, and a live run never loses them.
const (
	LeaseTerm    = 15 * time.Minute
	LeaseRenewal = 5 * time.Minute
)

// LeaseError is a lease of Pipeline in Region that could not be taken
// for another reason than another run holding it (a lease table the
// credentials may not write: the run needs dynamodb:PutItem and
// dynamodb:DeleteItem on it). Err is the store's error.
type LeaseError struct {
	Pipeline, Region string
	Err              error
}

func (e *LeaseError) Error() string {
	return fmt.Sprintf("%s in %s: %v", e.Pipeline, e.Region, e.Err)
}

func (e *LeaseError) Unwrap() error { return e.Err }

// RunLeases are the per-region leases of one run outside Lambda: the
// same keys (lease.CellKey(src.LeaseAccount, pipeline, region)) the
// stack's workers take, so
// that no two runs, CLI or Lambda, work on one pipeline in one region at
// once. They are renewed until Release.
type RunLeases struct {
	store  lease.Store
	holder string
	chain  string
	keys   []string
	stop   chan struct{}
	wg     sync.WaitGroup
}

// TakeLeases takes pipeline's lease in each of regions for the account
// in src.Leases (the stack's lease table) or, when no such table exists
// (no stack in the table's region), in lock files in the user's cache
// directory, which serialise the runs of one machine; token names the
// run (its holder and chain). It returns the regions taken, in order, and
// for each region whose lease another run holds the store's error
// (matching lease.ErrHeld): that run does the work. Any other failure
// releases the leases taken and is a *LeaseError. A nil src.Leases takes
// none and returns every region.
func TakeLeases(ctx context.Context, src Sources, account, pipeline string, regions []string, token string) (l *RunLeases, taken []string, busy map[string]error, err error) {
	if src.Leases == nil {
		return nil, regions, nil, nil
	}
	host, _ := os.Hostname()
	l = &RunLeases{store: src.Leases, holder: fmt.Sprintf("cli:%s:%d:%s", host, os.Getpid(), token), chain: token, stop: make(chan struct{})}
	busy = map[string]error{}
	for _, region := range regions {
		key := lease.CellKey(src.LeaseAccount, pipeline, region)
		err := l.acquire(ctx, key)
		if errors.Is(err, lease.ErrNoTable) {
			dir := lockDir(account)
			slog.InfoContext(ctx, "no lease table (no stack in the configuration table's region): lock files serialise the runs of this machine only",
				"table", lease.Table, "dir", dir)
			l.store = &lease.File{Dir: dir}
			err = l.acquire(ctx, key)
		}
		switch {
		case errors.Is(err, lease.ErrHeld):
			busy[region] = err
			continue
		case err != nil:
			l.Release(ctx)
			return nil, nil, nil, &LeaseError{Pipeline: pipeline, Region: region, Err: err}
		}
		l.keys = append(l.keys, key)
		taken = append(taken, region)
	}
	l.wg.Go(func() { l.renew(ctx) })
	return l, taken, busy, nil
}

// acquire takes or renews key until LeaseTerm from now.
func (l *RunLeases) acquire(ctx context.Context, key string) error {
	now := time.Now()
	return l.store.Acquire(ctx, lease.Lease{Key: key, Holder: l.holder, Chain: l.chain, Expires: now.Add(LeaseTerm)}, "", now)
}

// renew renews every lease each LeaseRenewal until Release: a holder
// takes its own lease again (lease.Store.Acquire).
func (l *RunLeases) renew(ctx context.Context) {
	t := time.NewTicker(LeaseRenewal)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			for _, key := range l.keys {
				if err := l.acquire(context.WithoutCancel(ctx), key); err != nil {
					slog.ErrorContext(ctx, "lease not renewed: another run may start on this region", "lease", key, "error", err)
				}
			}
		}
	}
}

// Release stops the renewals and gives every lease up, even when ctx is
// cancelled (an interrupted run); nil is a no-op.
func (l *RunLeases) Release(ctx context.Context) {
	if l == nil {
		return
	}
	close(l.stop)
	l.wg.Wait()
	for _, key := range l.keys {
		if err := l.store.Release(context.WithoutCancel(ctx), key, l.holder); err != nil {
			slog.WarnContext(ctx, "lease not released; it lapses at its expiry", "lease", key, "error", err)
		}
	}
}

// lockDir is where lock files live for account: the user's cache
// directory ($XDG_CACHE_HOME or ~/.cache on Linux), else the temporary
// directory.
func lockDir(account string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "ebs-snapper", "locks", account)
}
