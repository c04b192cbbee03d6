package lease

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// File is a Store of lock files, for a CLI run that finds no lease table
// (no stack deployed): each key is an advisory lock on its own file in Dir
// (flock(2) on Unix, LockFileEx on Windows, through github.com/gofrs/flock).
// The operating system drops the lock when the process ends, however it
// ends, so a crashed run never blocks the next one and no expiry is kept.
// It serialises runs on one machine only: runs on two machines, or a run
// and the stack's workers, need the stack's lease table (Dynamo).
//
// The files are left in place after a release: removing one while another
// process waits to lock it would let a third lock a new file of the same
// name.
type File struct {
	// Dir holds the lock files; it is created when missing.
	Dir string

	mu   sync.Mutex
	held map[string]*flock.Flock
}

var _ Store = (*File)(nil)

// path is the lock file of key ("snapshot/us-west-2" is
// snapshot_us-west-2.lock).
func (f *File) path(key string) string {
	return filepath.Join(f.Dir, strings.ReplaceAll(key, "/", "_")+".lock")
}

// Acquire locks l.Key's file without waiting and writes l.Holder and
// l.Chain into it, so that a run turned away can say who holds it; a lock
// this File already holds for l.Holder is kept. from and now are unused:
// the lock lasts until Release or the end of the process. A lock held by
// another process is a *HeldError naming the holder its file names.
func (f *File) Acquire(_ context.Context, l Lease, _ string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.held[l.Key]; ok {
		return nil
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("lock directory %s: %w", f.Dir, err)
	}
	path := f.path(l.Key)
	lock := flock.New(path)
	ok, err := lock.TryLock()
	if err != nil {
		return fmt.Errorf("lock %s (%s): %w", l.Key, path, err)
	}
	if !ok {
		e := &HeldError{Key: l.Key}
		if b, err := os.ReadFile(path); err == nil {
			holder, chain, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
			e.Holder, e.Chain = holder, chain
		}
		return e
	}
	if err := os.WriteFile(path, []byte(l.Holder+"\n"+l.Chain+"\n"), 0o600); err != nil {
		_ = lock.Unlock()
		return fmt.Errorf("lock %s (%s): %w", l.Key, path, err)
	}
	if f.held == nil {
		f.held = map[string]*flock.Flock{}
	}
	f.held[l.Key] = lock
	return nil
}

// Release unlocks key's file; a *HeldError when this File does not hold
// it.
func (f *File) Release(_ context.Context, key, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	lock, ok := f.held[key]
	if !ok {
		return &HeldError{Key: key}
	}
	delete(f.held, key)
	if err := lock.Unlock(); err != nil {
		return fmt.Errorf("unlock %s (%s): %w", key, f.path(key), err)
	}
	return nil
}
