package tiles

import (
	"container/list"
	"sync"

	"github.com/paulmach/orb"
)

// Key names one cached response: a tile of some layers, for a date and datum, in one encoding.
type Key struct {
	Layers  string // layer names joined by commas, in the order asked
	Z, X, Y uint32
	At      int64 // the date, as the Unix time of its midnight (UTC)
	CRS     string
	Gzip    bool
}

// Entry is a cached tile response.
type Entry struct {
	Data       []byte
	Gzip       bool // Data is gzip-compressed (an empty tile never is)
	ETag       string
	Features   int
	Simplified float64
	// Meta is what Options.Annotate made of the entry when it was generated (the server keeps
	// its response headers there, so that a cached tile is answered without building them).
	Meta any
}

// entryOverhead approximates the bytes an entry costs beyond its data (key, list element, map
// slot, and what the server keeps in Meta: its response headers, about 400 bytes).
const entryOverhead = 640

type cached struct {
	key    Key
	entry  Entry
	search orb.Bound // the WGS84 box the tile's features came from
}

// Cache is an LRU cache of encoded tiles bounded by bytes. Invalidate drops every tile a change
// in some boxes can alter; an epoch counter keeps a tile generated from an index older than the
// last invalidation from being stored after it. Safe for concurrent use.
type Cache struct {
	mu     sync.Mutex
	budget int64
	size   int64
	ll     *list.List // front = most recently used
	items  map[Key]*list.Element
	epoch  uint64
	stats  CacheStats
}

// CacheStats counts what the cache did.
type CacheStats struct {
	Hits, Misses, Evictions, Invalidated, Stale uint64
	Entries                                     int
	Bytes, Budget                               int64
}

// NewCache makes a cache holding at most budget bytes (0 disables caching).
func NewCache(budget int64) *Cache {
	return &Cache{budget: budget, ll: list.New(), items: map[Key]*list.Element{}}
}

// Get returns the entry for k.
func (c *Cache) Get(k Key) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		c.stats.Misses++
		return Entry{}, false
	}
	c.stats.Hits++
	c.ll.MoveToFront(el)
	return el.Value.(*cached).entry, true
}

// Epoch is the current invalidation epoch: pass it to Put with a tile generated after reading it.
func (c *Cache) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Put stores e under k unless an invalidation happened since epoch was read (the tile may then
// show data that changed) or e alone exceeds a quarter of the budget.
func (c *Cache) Put(k Key, e Entry, search orb.Bound, epoch uint64) bool {
	cost := int64(len(e.Data)) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		c.stats.Stale++
		return false
	}
	if cost > c.budget/4 {
		return false
	}
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	c.items[k] = c.ll.PushFront(&cached{key: k, entry: e, search: search})
	c.size += cost
	for c.size > c.budget {
		c.remove(c.ll.Back())
		c.stats.Evictions++
	}
	return true
}

func (c *Cache) remove(el *list.Element) {
	it := c.ll.Remove(el).(*cached)
	delete(c.items, it.key)
	c.size -= int64(len(it.entry.Data)) + entryOverhead
}

// Invalidate drops every tile whose features could come from any of the boxes (WGS84), at every
// zoom, and starts a new epoch. It returns how many tiles were dropped.
func (c *Cache) Invalidate(boxes []orb.Bound) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if len(boxes) == 0 {
		return 0
	}
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		it := el.Value.(*cached)
		for _, b := range boxes {
			if it.search.Intersects(b) {
				c.remove(el)
				n++
				break
			}
		}
		el = next
	}
	c.stats.Invalidated += uint64(n)
	return n
}

// Purge drops everything and starts a new epoch.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.stats.Invalidated += uint64(len(c.items))
	c.items = map[Key]*list.Element{}
	c.ll.Init()
	c.size = 0
}

// Stats reports the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Bytes, s.Budget = len(c.items), c.size, c.budget
	return s
}
