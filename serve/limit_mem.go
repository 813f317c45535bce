package serve

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// memStore keeps the budgets in this process, in at most max entries: a
// client spraying user names (or, through a trusted proxy, addresses)
// pushes out the least recently used entries instead of growing the map.
// That can free a blocked key early, but the spray itself spends the
// sprayer's address budget, so it takes many addresses to do.
type memStore struct {
	p   Policy
	now func() time.Time
	max int

	mu      sync.Mutex
	entries map[string]*list.Element // of *memEntry
	lru     *list.List               // front: least recently used
}

type memEntry struct {
	key      string
	tat      time.Time // GCRA's theoretical arrival time
	failures int
	lastFail time.Time
	blocked  time.Time // refused until then
}

// DefaultMemEntries bounds the in-memory store: about 10 MB.
const DefaultMemEntries = 65536

func newMemStore(p Policy, max int, now func() time.Time) *memStore {
	if now == nil {
		now = time.Now
	}
	if max <= 0 {
		max = DefaultMemEntries
	}
	return &memStore{p: p, now: now, max: max, entries: map[string]*list.Element{}, lru: list.New()}
}

// get returns key's entry, made (and the oldest pushed out) if need be.
func (m *memStore) get(key string, now time.Time) *memEntry {
	if el, ok := m.entries[key]; ok {
		m.lru.MoveToBack(el)
		e := el.Value.(*memEntry)
		if e.failures > 0 && now.Sub(e.lastFail) > m.p.Forget {
			e.failures = 0
		}
		return e
	}
	for m.lru.Len() >= m.max {
		old := m.lru.Remove(m.lru.Front()).(*memEntry)
		delete(m.entries, old.key)
	}
	e := &memEntry{key: key}
	m.entries[key] = m.lru.PushBack(e)
	return e
}

func (m *memStore) Take(_ context.Context, keys []string) (time.Duration, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	es := make([]*memEntry, len(keys))
	for i, k := range keys {
		e := m.get(k, now)
		es[i] = e
		if now.Before(e.blocked) {
			return e.blocked.Sub(now), k, nil
		}
		tat := e.tat
		if tat.Before(now) {
			tat = now
		}
		if ahead := tat.Sub(now); ahead > m.p.tolerance() {
			return ahead - m.p.tolerance(), k, nil
		}
	}
	for _, e := range es {
		if e.tat.Before(now) {
			e.tat = now
		}
		e.tat = e.tat.Add(m.p.interval())
	}
	return 0, "", nil
}

func (m *memStore) Fail(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, k := range keys {
		e := m.get(k, now)
		e.failures++
		e.lastFail = now
		if d := m.p.block(k, e.failures); d > 0 {
			e.blocked = now.Add(d)
		}
	}
	return nil
}

func (m *memStore) Clear(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if el, ok := m.entries[k]; ok {
			e := el.Value.(*memEntry)
			e.failures, e.blocked = 0, time.Time{}
		}
	}
	return nil
}

func (m *memStore) Close() error { return nil }

// len is how many entries are kept (tests).
func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
