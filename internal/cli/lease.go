package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// A CLI run holds each lease for leaseTerm past its last renewal and
// renews it every leaseRenewal, so a run killed without a chance to
// release (SIGKILL, a lost machine) holds its regions for at most
// leaseTerm, and a live run never loses them.
const (
	leaseTerm    = 15 * time.Minute
	leaseRenewal = 5 * time.Minute
)

// runLeases are the per-region leases a run that changes snapshots holds:
// the same keys (lease.Key(job, region)) the stack's workers take, so that
// no two runs, CLI or Lambda, work on one pipeline in one region at once.
type runLeases struct {
	store  lease.Store
	holder string
	chain  string
	keys   []string
	stop   chan struct{}
	wg     sync.WaitGroup
}

// takeLeases takes job's lease in each region of env, in src.Leases (the
// stack's lease table) or, when no such table exists (no stack in the
// table's region), in lock files in the user's cache directory, which
// serialise the runs of one machine. A region whose lease another run
// holds is removed from env (regions and clients), and its skip line is
// returned by region: that run does the work. Any other failure to take a
// lease releases those taken and is returned. A nil src.Leases takes none.
//
// cellAccount is the account of an organisation run's cell, in the lease
// key (lease.CellKey), or "" for the hub's own account.
func takeLeases(ctx context.Context, src account.Sources, env *account.Environment, job snapper.Job, token, cellAccount string) (*runLeases, map[string]string, error) {
	if src.Leases == nil {
		return nil, nil, nil
	}
	host, _ := os.Hostname()
	l := &runLeases{store: src.Leases, holder: fmt.Sprintf("cli:%s:%d:%s", host, os.Getpid(), token), chain: token, stop: make(chan struct{})}
	busy := map[string]string{}
	var regions []string
	var clients []snapper.EC2
	for i, region := range env.Regions {
		key := lease.CellKey(cellAccount, job.String(), region)
		err := l.acquire(ctx, key)
		if errors.Is(err, lease.ErrNoTable) {
			dir := lockDir(env.Account)
			slog.InfoContext(ctx, "no lease table (no stack in the configuration table's region): lock files serialise the runs of this machine only",
				"table", lease.Table, "dir", dir)
			l.store = &lease.File{Dir: dir}
			err = l.acquire(ctx, key)
		}
		switch {
		case errors.Is(err, lease.ErrHeld):
			busy[region] = fmt.Sprintf("region busy: another run holds its %s lease and does the work (%v); --ignore-lease runs anyway", job, err)
			slog.WarnContext(ctx, "region skipped: "+busy[region], "region", region)
			continue
		case err != nil:
			l.release(ctx)
			return nil, nil, fmt.Errorf("%s in %s: %w (grant dynamodb:PutItem and dynamodb:DeleteItem on the table, or run with --ignore-lease)", job, region, err)
		}
		l.keys = append(l.keys, key)
		regions, clients = append(regions, region), append(clients, env.Clients[i])
	}
	env.Regions, env.Clients = regions, clients
	l.wg.Go(func() { l.renew(ctx) })
	return l, busy, nil
}

// acquire takes or renews key until leaseTerm from now.
func (l *runLeases) acquire(ctx context.Context, key string) error {
	now := time.Now()
	return l.store.Acquire(ctx, lease.Lease{Key: key, Holder: l.holder, Chain: l.chain, Expires: now.Add(leaseTerm)}, "", now)
}

// renew renews every lease each leaseRenewal until release: a holder
// takes its own lease again (lease.Store.Acquire).
func (l *runLeases) renew(ctx context.Context) {
	t := time.NewTicker(leaseRenewal)
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

// release stops the renewals and gives every lease up; nil is a no-op.
func (l *runLeases) release(ctx context.Context) {
	if l == nil {
		return
	}
	close(l.stop)
	l.wg.Wait()
	for _, key := range l.keys {
		// Released even when the run was interrupted.
		if err := l.store.Release(context.WithoutCancel(ctx), key, l.holder); err != nil {
			slog.WarnContext(ctx, "lease not released; it lapses at its expiry", "lease", key, "error", err)
		}
	}
}

// busyRegions adds a skipped region report for each busy region to rep,
// keeping rep's regions sorted.
func busyRegions(rep *snapper.Report, busy map[string]string) {
	for region, why := range busy {
		rep.Regions = append(rep.Regions, snapper.RegionReport{Region: region, Skipped: why})
	}
	slices.SortFunc(rep.Regions, func(a, b snapper.RegionReport) int {
		switch {
		case a.Region < b.Region:
			return -1
		case a.Region > b.Region:
			return 1
		}
		return 0
	})
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
