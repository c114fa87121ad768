package envelope

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/google/uuid"
)

// cacheKey identifies one unwrapped keyset pair: the org and a hash of the
// exact wrapped blobs. After a rotation the blobs change, so the new keyset
// is a miss and the old entry simply ages out.
type cacheKey struct {
	org  uuid.UUID
	blob [sha256.Size]byte
}

// newCacheKey hashes w unambiguously (the AEAD blob is length-prefixed).
func newCacheKey(org uuid.UUID, w Wrapped) cacheKey {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(w.AEAD)))
	h.Write(n[:])
	h.Write(w.AEAD)
	h.Write(w.PRF)
	k := cacheKey{org: org}
	h.Sum(k.blob[:0])
	return k
}

type cacheEntry struct {
	key     cacheKey
	keys    *OrgKeys
	expires time.Time
}

// keyCache is a least-recently-used cache of unwrapped org keys with a TTL
// per entry and a bound on the number of entries. The zero value is not
// usable; see newKeyCache. It is safe for concurrent use.
type keyCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recently used at the front
	items map[cacheKey]*list.Element
}

func newKeyCache(ttl time.Duration, max int, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, max: max, now: now, lru: list.New(), items: make(map[cacheKey]*list.Element)}
}

// get returns the cached keys for k, or nil if absent or expired.
func (c *keyCache) get(k cacheKey) *OrgKeys {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.lru.Remove(el)
		delete(c.items, k)
		return nil
	}
	c.lru.MoveToFront(el)
	return e.keys
}

// put stores keys under k, evicting the least recently used entry if full.
func (c *keyCache) put(k cacheKey, keys *OrgKeys) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[k]; ok {
		e := el.Value.(*cacheEntry)
		e.keys, e.expires = keys, exp
		c.lru.MoveToFront(el)
		return
	}
	for c.lru.Len() >= c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheEntry).key)
	}
	c.items[k] = c.lru.PushFront(&cacheEntry{key: k, keys: keys, expires: exp})
}

// forget drops every entry for org.
func (c *keyCache) forget(org uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if k.org == org {
			c.lru.Remove(el)
			delete(c.items, k)
		}
	}
}

// forgetAll drops every entry.
func (c *keyCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.items)
}
