package configstore

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Memory is an in-memory Store for unit tests. It behaves as Dynamo does
// (the conformance tests run both): sorted listings, overwriting puts,
// quiet deletes, and empty keys refused. The zero value is ready to use.
type Memory struct {
	mu    sync.Mutex
	items map[string]map[string]string // account -> id -> configuration
}

var _ Store = (*Memory)(nil)

// List returns the account's items sorted by id.
func (m *Memory) List(ctx context.Context, account string) ([]Item, error) {
	if account == "" {
		return nil, errEmptyKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	items := make([]Item, 0, len(m.items[account]))
	for id, conf := range m.items[account] {
		items = append(items, Item{AccountID: account, ID: id, Configuration: conf})
	}
	// DynamoDB orders a partition by the range key's UTF-8 bytes, which is
	// Go's string order.
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.ID, b.ID) })
	return items, nil
}

// Get returns the item stored under account and id.
func (m *Memory) Get(ctx context.Context, account, id string) (Item, bool, error) {
	if account == "" || id == "" {
		return Item{}, false, errEmptyKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	conf, ok := m.items[account][id]
	if !ok {
		return Item{}, false, nil
	}
	return Item{AccountID: account, ID: id, Configuration: conf}, true, nil
}

// Put stores the item, replacing any previous one.
func (m *Memory) Put(ctx context.Context, item Item) error {
	if item.AccountID == "" || item.ID == "" {
		return errEmptyKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items == nil {
		m.items = map[string]map[string]string{}
	}
	if m.items[item.AccountID] == nil {
		m.items[item.AccountID] = map[string]string{}
	}
	m.items[item.AccountID][item.ID] = item.Configuration
	return nil
}

// Delete removes the item if it is there.
func (m *Memory) Delete(ctx context.Context, account, id string) error {
	if account == "" || id == "" {
		return errEmptyKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items[account], id)
	return nil
}
