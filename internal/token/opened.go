package token

import "sync"

// maxOpened bounds the cache of opened tokens per key-set generation.
const maxOpened = 65536

// openedCache remembers tokens this generation of the ring has already
// opened. A client signs every request of a session with the same token,
// so after the first request opening it is a map lookup instead of a base64
// decode, an AES-GCM open and a decode. Only tokens that opened are cached,
// keyed by their exact text, and the cache lives in the keySet: rotating,
// pruning or reloading the ring starts an empty one, so a token never
// outlives the key that sealed it.
type openedCache struct {
	mu sync.RWMutex
	m  map[string]*Session
}

func (c *openedCache) get(tok string) *Session {
	c.mu.RLock()
	s := c.m[tok]
	c.mu.RUnlock()
	return s
}

func (c *openedCache) put(tok string, s *Session) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxOpened {
		// Dropping everything is crude but bounded, and the hot tokens
		// come back on their next request.
		c.m = make(map[string]*Session)
	}
	c.m[tok] = s
	c.mu.Unlock()
}
