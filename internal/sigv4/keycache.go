package sigv4

import (
	"hash/maphash"
	"strings"
	"sync"
)

// KeyCache caches derived signing keys per (access key id, date, region,
// service). Deriving a key costs four HMACs, more than the rest of a
// verification; a key is valid for a whole day, so almost every request hits.
//
// Each entry remembers a fingerprint of the secret it was derived from, so a
// rotated or changed secret for the same access key id never reuses a stale
// key. The fingerprint is a per-process randomly seeded 64-bit hash
// ([maphash]); the cache never stores the secret itself.
//
// A KeyCache is safe for concurrent use. It holds at most max entries; when
// full it evicts an arbitrary entry (keys roll over daily, so an LRU buys
// little). A hit does not allocate.
type KeyCache struct {
	mu   sync.RWMutex
	max  int
	seed maphash.Seed
	m    map[cacheKey]cacheEntry
}

type cacheKey struct {
	accessKeyID, date, region, service string
}

type cacheEntry struct {
	secretFP uint64
	key      []byte
}

// NewKeyCache returns a cache holding at most max keys (at least 1).
func NewKeyCache(max int) *KeyCache {
	if max < 1 {
		max = 1
	}
	return &KeyCache{max: max, seed: maphash.MakeSeed(), m: make(map[cacheKey]cacheEntry)}
}

// Get returns the signing key for secret and scope, deriving and caching it
// on a miss. The returned slice is shared: callers must not modify it.
func (c *KeyCache) Get(accessKeyID, secret string, scope Scope) []byte {
	k := cacheKey{accessKeyID, scope.Date, scope.Region, scope.Service}
	fp := maphash.String(c.seed, secret)
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok && e.secretFP == fp {
		return e.key
	}
	key := DeriveKey(secret, scope.Date, scope.Region, scope.Service)
	// The scope's strings usually point into the Authorization header;
	// clone them so the cache does not keep whole requests alive.
	k = cacheKey{strings.Clone(accessKeyID), strings.Clone(scope.Date), strings.Clone(scope.Region), strings.Clone(scope.Service)}
	c.mu.Lock()
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		for old := range c.m { // map iteration order is random
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cacheEntry{secretFP: fp, key: key}
	c.mu.Unlock()
	return key
}

// Len returns the number of cached keys.
func (c *KeyCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
