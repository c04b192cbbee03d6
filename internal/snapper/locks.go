package snapper

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// lockFor is the lock a new snapshot of a volume governed by the stanzas
// ids gets at now, due on deleteOn, or nil when none asks for one. Of
// several, the safer reading wins: compliance over governance, the latest
// expiry, the shortest cooling-off period.
func (p Policy) lockFor(ids []string, now time.Time, deleteOn string) *inventory.Lock {
	var out *inventory.Lock
	for _, id := range ids {
		l := p.Stanzas[id].Lock
		if !l.On() {
			continue
		}
		cand := inventory.Lock{Mode: l.Mode, Until: l.Until(now, deleteOn), CoolOff: l.CoolOff}
		if out == nil {
			out = &cand
			continue
		}
		if cand.Mode == inventory.LockCompliance && out.Mode != inventory.LockCompliance {
			out.Mode, out.CoolOff = cand.Mode, cand.CoolOff
		} else if cand.Mode == out.Mode && cand.CoolOff < out.CoolOff {
			out.CoolOff = cand.CoolOff
		}
		if cand.Until.After(out.Until) {
			out.Until = cand.Until
		}
	}
	return out
}

// reasonLock ends the reason of a create whose snapshot will be locked.
func reasonLock(l *inventory.Lock) string {
	s := fmt.Sprintf("; to be locked in %s mode until %s", l.Mode, l.Until.UTC().Format(time.RFC3339))
	if l.CoolOff > 0 {
		s += fmt.Sprintf(" (cooling-off %s)", l.CoolOff)
	}
	return s
}

// lockSnapshots locks every snapshot the run created whose row asks for a
// lock (a stanza's "lock"), once the creates, settled ones included, are
// done. A lock that fails is the row's LockError and counts as a failure:
// the snapshot exists, without the protection the stanza asked for; so does
// a lock the run stopped before (StopStarting, a cancelled context). The
// observer hears of each lock as an action planned, started and done.
func lockSnapshots(ctx context.Context, ec2 EC2, rows []SnapshotRow, opts Options) {
	locks := 0
	for _, r := range rows {
		if lockDue(r) {
			locks++
		}
	}
	opts.planned(ec2.Region(), locks)
	// A lock is an action of its own for the observer (a call in flight);
	// its outcome is the row's Locked or LockError, not its Status.
	status := make([]string, len(rows))
	perform(ctx, opts, ec2.Region(), len(rows), func(i int) ([]*string, func(context.Context)) {
		r := &rows[i]
		if !lockDue(*r) {
			return nil, nil
		}
		return []*string{&status[i]}, func(ctx context.Context) {
			if err := ec2.LockSnapshot(ctx, r.SnapshotID, *r.Lock); err != nil {
				status[i], r.LockError = StatusFailed, err.Error()
				slog.ErrorContext(ctx, "snapshot lock failed", "region", r.Region, "snapshot_id", r.SnapshotID, "error", err)
				return
			}
			status[i], r.Locked = StatusDone, true
			slog.InfoContext(ctx, "snapshot locked", "region", r.Region, "snapshot_id", r.SnapshotID,
				"mode", r.Lock.Mode, "until", r.Lock.Until.UTC().Format(time.RFC3339))
		}
	})
	// A lock the run stopped before is a failure, not work left: no later
	// run locks a snapshot it did not create.
	for i := range rows {
		if r := &rows[i]; lockDue(*r) && status[i] == "" {
			r.LockError = "not locked: the run stopped starting work before the lock"
			slog.ErrorContext(ctx, "snapshot lock not started", "region", r.Region, "snapshot_id", r.SnapshotID)
		}
	}
}

// lockDue reports whether r is a snapshot the run created whose stanza
// asks for a lock.
func lockDue(r SnapshotRow) bool {
	return r.Lock != nil && r.Status == StatusDone && r.SnapshotID != ""
}
