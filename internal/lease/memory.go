package lease

import (
	"context"
	"sync"
	"time"
)

// Memory is a Store in memory for unit tests, with Dynamo's conditions
// (the same tests run on both). The zero value is ready to use; it is safe
// for concurrent use.
type Memory struct {
	mu     sync.Mutex
	leases map[string]Lease
}

var _ Store = (*Memory)(nil)

// Acquire takes the lease as Store says.
func (m *Memory) Acquire(_ context.Context, l Lease, from string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, held := m.leases[l.Key]
	if held && expiresAt(cur.Expires) >= now.Unix() && cur.Holder != l.Holder && (from == "" || cur.Holder != from) {
		return &HeldError{Key: l.Key, Holder: cur.Holder, Chain: cur.Chain, Expires: time.Unix(expiresAt(cur.Expires), 0).UTC()}
	}
	if m.leases == nil {
		m.leases = map[string]Lease{}
	}
	m.leases[l.Key] = l
	return nil
}

// Release gives the lease up as Store says.
func (m *Memory) Release(_ context.Context, key, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, held := m.leases[key]; !held || cur.Holder != holder {
		return &HeldError{Key: key, Holder: cur.Holder, Chain: cur.Chain}
	}
	delete(m.leases, key)
	return nil
}
