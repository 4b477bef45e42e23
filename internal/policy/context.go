package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Context holds the condition keys of one request. Key lookup is
// case-insensitive, as AWS's is, including the tag-key part of keys such as
// aws:PrincipalTag/Team.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
//
// It is built once per request, so it is designed to be cheap: NewContext is
// one allocation for up to 16 keys, SetString never allocates, and lookup
// compares precomputed case-folded hashes before comparing text. A Context
// is not safe for concurrent mutation; concurrent evaluation of a Context
// that is no longer being changed is safe.
type Context struct {
	entries []entry
	inline  [16]entry
}

type entry struct {
	key   string // as set
	hash  uint64
	multi bool
	one   [1]string
	vals  []string
}

// values returns the values without allocating: a single value is served
// from the entry itself.
func (e *entry) values() []string {
	if e.multi {
		return e.vals
	}
	return e.one[:]
}

// NewContext returns an empty context.
func NewContext() *Context {
	c := &Context{}
	c.entries = c.inline[:0]
	return c
}

// SetString sets key to the single value v, replacing any previous values.
func (c *Context) SetString(key, v string) {
	e := c.slot(key)
	e.multi, e.vals = false, nil
	e.one[0] = v
}

// Set sets key to values, replacing any previous values. Set(key) with no
// values records a key that is present with an empty value list (an empty
// tag list, say), which ForAllValues and ForAnyValue treat differently from
// a missing key. The slice is retained, not copied.
func (c *Context) Set(key string, values ...string) {
	if len(values) == 1 {
		c.SetString(key, values[0])
		return
	}
	e := c.slot(key)
	if values == nil {
		values = []string{}
	}
	e.multi, e.vals = true, values
	e.one[0] = ""
}

// SetMulti is Set for a slice the caller already has.
func (c *Context) SetMulti(key string, values []string) { c.Set(key, values...) }

// Add appends v to the values of key (creating it if needed).
func (c *Context) Add(key, v string) {
	if e := c.find(key, foldHash(key)); e != nil {
		vals := append([]string(nil), e.values()...)
		e.multi, e.vals = true, append(vals, v)
		return
	}
	c.SetString(key, v)
}

// Delete removes key.
func (c *Context) Delete(key string) {
	h := foldHash(key)
	for i := range c.entries {
		if e := &c.entries[i]; e.hash == h && strings.EqualFold(e.key, key) {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			return
		}
	}
}

// Get returns the values of key and whether it is present.
func (c *Context) Get(key string) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	if e := c.find(key, foldHash(key)); e != nil {
		return e.values(), true
	}
	return nil, false
}

// Len returns the number of keys.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Keys returns the keys as they were set, in the order they were first set.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, len(c.entries))
	for i := range c.entries {
		out[i] = c.entries[i].key
	}
	return out
}

func (c *Context) slot(key string) *entry {
	h := foldHash(key)
	if e := c.find(key, h); e != nil {
		return e
	}
	if c.entries == nil {
		c.entries = c.inline[:0]
	}
	c.entries = append(c.entries, entry{key: key, hash: h})
	return &c.entries[len(c.entries)-1]
}

func (c *Context) find(key string, h uint64) *entry {
	for i := range c.entries {
		if e := &c.entries[i]; e.hash == h && strings.EqualFold(e.key, key) {
			return e
		}
	}
	return nil
}

// lookup finds a key whose name and hash were computed at compile time.
func (c *Context) lookup(k keyRef) *entry {
	if c == nil {
		return nil
	}
	return c.find(k.name, k.hash)
}

// keyRef is a condition key or variable name as written in a policy, with
// its case-folded hash computed once at compile time.
type keyRef struct {
	name string
	hash uint64
}

func newKeyRef(name string) keyRef { return keyRef{name: name, hash: foldHash(name)} }

// foldHash is FNV-1a over the lower-cased text, so that keys equal under
// strings.EqualFold (nearly always) hash alike; EqualFold then confirms.
func foldHash(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * prime
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		r = unicode.ToLower(r)
		h = (h ^ uint64(r)) * prime
		i += n
	}
	return h
}
