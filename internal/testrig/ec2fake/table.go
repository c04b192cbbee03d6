package ec2fake

import (
	"sort"
	"strconv"
)

// table holds one kind of resource in insertion order. Every row gets a
// sequence number that only grows, and a page token is the sequence number
// of the last row returned: deleting or adding rows between two pages
// neither skips nor repeats the rows that remain, as with EC2's tokens.
type table[T any] struct {
	rows []row[T]
	pos  map[string]int // id → index in rows
	seq  uint64
	dead int // removed rows still in rows, compacted in bulk
}

type row[T any] struct {
	seq  uint64
	id   string
	v    T
	gone bool
}

// put inserts v, or replaces the row with the same id in place.
func (t *table[T]) put(id string, v T) {
	if t.pos == nil {
		t.pos = map[string]int{}
	}
	if i, ok := t.pos[id]; ok {
		t.rows[i].v = v
		return
	}
	t.seq++
	t.pos[id] = len(t.rows)
	t.rows = append(t.rows, row[T]{seq: t.seq, id: id, v: v})
}

func (t *table[T]) get(id string) (T, bool) {
	i, ok := t.pos[id]
	if !ok {
		var zero T
		return zero, false
	}
	return t.rows[i].v, true
}

func (t *table[T]) remove(id string) bool {
	i, ok := t.pos[id]
	if !ok {
		return false
	}
	delete(t.pos, id)
	t.rows[i] = row[T]{seq: t.rows[i].seq, gone: true}
	t.dead++
	// Compacting only when most rows are dead keeps a delete O(1) amortised
	// in fleet-sized benchmarks.
	if t.dead > 64 && t.dead > len(t.rows)/2 {
		t.compact()
	}
	return true
}

func (t *table[T]) compact() {
	live := t.rows[:0]
	for _, r := range t.rows {
		if !r.gone {
			t.pos[r.id] = len(live)
			live = append(live, r)
		}
	}
	clear(t.rows[len(live):])
	t.rows, t.dead = live, 0
}

func (t *table[T]) all() []T {
	out := make([]T, 0, len(t.pos))
	for _, r := range t.rows {
		if !r.gone {
			out = append(out, r.v)
		}
	}
	return out
}

// page returns the rows kept by keep after token, at most limit of them
// (all of them when limit is 0), and the token of the next page, which is
// empty when no kept row follows: the last page never points at an empty
// one.
func (t *table[T]) page(token string, limit int, keep func(T) bool) ([]T, string, bool) {
	var after uint64
	if token != "" {
		n, err := strconv.ParseUint(token, 10, 64)
		if err != nil {
			return nil, "", false
		}
		after = n
	}
	start := sort.Search(len(t.rows), func(i int) bool { return t.rows[i].seq > after })
	var out []T
	var last uint64
	for _, r := range t.rows[start:] {
		if r.gone || !keep(r.v) {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, strconv.FormatUint(last, 10), true
		}
		out = append(out, r.v)
		last = r.seq
	}
	return out, "", true
}
