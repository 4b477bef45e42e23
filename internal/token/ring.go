package token

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeySize is the size of a sealing key (AES-256).
const KeySize = 32

// Key is a sealing key and its life cycle. The key material is unexported:
// other packages can hold and persist a Key (through WrappedKey) but cannot
// read it, and String keeps it out of logs.
type Key struct {
	ID      string    // 8 chars [a-z2-7]; appears in clear in token headers
	Created time.Time // when it was generated
	Retired time.Time // when a newer key replaced it for sealing; zero while active
	Active  bool      // the key Seal uses; exactly one per ring
	secret  [KeySize]byte
}

// String identifies the key without its material.
func (k Key) String() string {
	state := "retired " + k.Retired.UTC().Format(time.RFC3339)
	if k.Active {
		state = "active"
	}
	return "sealing key " + k.ID + " (" + state + ")"
}

// GoString keeps %#v from printing the key material.
func (k Key) GoString() string { return "token.Key{" + k.String() + "}" }

// keyIDAlphabet is lower-case base32: key ids cannot be mistaken for AWS ids
// (upper case) and need no escaping anywhere.
const keyIDAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewKey generates a sealing key created at now. It is not active until a
// ring makes it so.
func NewKey(now time.Time, rand io.Reader) (Key, error) {
	var k Key
	var id [keyIDLen]byte
	if _, err := io.ReadFull(rand, id[:]); err != nil {
		return Key{}, fmt.Errorf("token: new key id: %w", err)
	}
	for i, b := range id {
		id[i] = keyIDAlphabet[b&31] // 256 is a multiple of 32: uniform
	}
	if _, err := io.ReadFull(rand, k.secret[:]); err != nil {
		return Key{}, fmt.Errorf("token: new key: %w", err)
	}
	k.ID = string(id[:])
	k.Created = now.UTC()
	return k, nil
}

func validKeyID(id string) bool {
	if len(id) != keyIDLen {
		return false
	}
	for i := range len(id) {
		if strings.IndexByte(keyIDAlphabet, id[i]) < 0 {
			return false
		}
	}
	return true
}

// sealer is a Key with its AEAD built once: aes.NewCipher and cipher.NewGCM
// cost more than sealing a token, and a cipher.AEAD is safe for concurrent
// use.
type sealer struct {
	Key
	aead cipher.AEAD
}

func newSealer(k Key) (*sealer, error) {
	block, err := aes.NewCipher(k.secret[:])
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", k.ID, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", k.ID, err)
	}
	return &sealer{Key: k, aead: aead}, nil
}

// keySet is one immutable generation of a ring. Open loads the current one
// with a single atomic read and never takes a lock; writers build a new set
// and swap it in.
type keySet struct {
	keys   []*sealer // newest first
	active *sealer
	opened openedCache
}

// find looks the key id up by linear scan: a ring holds a handful of keys
// (one per rotation within the longest session lifetime), where comparing
// 8-byte strings beats hashing.
func (s *keySet) find(id []byte) *sealer {
	for _, k := range s.keys {
		if k.ID == string(id) {
			return k
		}
	}
	return nil
}

// newKeySet checks the invariants every ring generation keeps: unique valid
// ids and exactly one active key.
func newKeySet(keys []*sealer) (*keySet, error) {
	set := &keySet{keys: slices.Clone(keys)}
	slices.SortFunc(set.keys, func(a, b *sealer) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	for i, k := range set.keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("token: invalid key id %q", k.ID)
		}
		if i > 0 && slices.ContainsFunc(set.keys[:i], func(o *sealer) bool { return o.ID == k.ID }) {
			return nil, fmt.Errorf("token: duplicate key id %q", k.ID)
		}
		if k.Active {
			if set.active != nil {
				return nil, fmt.Errorf("token: two active keys %s and %s", set.active.ID, k.ID)
			}
			set.active = k
		}
	}
	if set.active == nil {
		return nil, ErrNoActiveKey
	}
	return set, nil
}

// Ring holds the sealing keys: one active key that seals, and older keys
// kept to open the tokens they sealed until those tokens can no longer be
// valid. It is safe for concurrent use; Seal and Open never block on
// Rotate, Prune or Reload. The zero Ring holds no keys: Seal fails and Open
// rejects everything.
type Ring struct {
	set atomic.Pointer[keySet]
	mu  sync.Mutex // serialises writers, so no rotation is lost
	st  *backing   // nil for a ring not loaded from a KeyStore
}

// NewRing builds an in-memory ring from keys, exactly one of which must be
// Active. Rings that persist their keys come from LoadRing.
func NewRing(keys ...Key) (*Ring, error) {
	sealers := make([]*sealer, 0, len(keys))
	for _, k := range keys {
		s, err := newSealer(k)
		if err != nil {
			return nil, err
		}
		sealers = append(sealers, s)
	}
	set, err := newKeySet(sealers)
	if err != nil {
		return nil, err
	}
	r := new(Ring)
	r.set.Store(set)
	return r, nil
}

// Keys returns the ring's keys, newest first.
func (r *Ring) Keys() []Key {
	set := r.set.Load()
	if set == nil {
		return nil
	}
	keys := make([]Key, len(set.keys))
	for i, k := range set.keys {
		keys[i] = k.Key
	}
	return keys
}

// Active returns the key that seals new tokens.
func (r *Ring) Active() (Key, bool) {
	set := r.set.Load()
	if set == nil || set.active == nil {
		return Key{}, false
	}
	return set.active.Key, true
}

// Rotate makes a new key active and retires the previous one at now; the
// retired key still opens its tokens until Prune drops it. It changes only
// this ring in memory: a ring from LoadRing rotates with RotateAndSave so the
// new key is durable before it seals anything.
func (r *Ring) Rotate(now time.Time, rand io.Reader) (Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set, k, _, err := rotated(r.set.Load(), now, rand)
	if err != nil {
		return Key{}, err
	}
	r.set.Store(set)
	return k, nil
}

// rotated computes the next generation: a fresh active key and the old
// active key retired at now. It returns the new key and the retired one
// (nil if the ring was empty).
func rotated(cur *keySet, now time.Time, rand io.Reader) (*keySet, Key, *sealer, error) {
	var old []*sealer
	if cur != nil {
		old = cur.keys
	}
	var k Key
	for attempt := 0; ; attempt++ {
		var err error
		if k, err = NewKey(now, rand); err != nil {
			return nil, Key{}, nil, err
		}
		// 40-bit ids among a handful of keys collide essentially never, but a
		// collision would make a key's tokens unopenable; draw again.
		if !slices.ContainsFunc(old, func(s *sealer) bool { return s.ID == k.ID }) {
			break
		}
		if attempt == 3 {
			return nil, Key{}, nil, errors.New("token: rotate: key id collisions; is rand random?")
		}
	}
	k.Active = true
	next := make([]*sealer, 0, len(old)+1)
	ns, err := newSealer(k)
	if err != nil {
		return nil, Key{}, nil, err
	}
	next = append(next, ns)
	var retired *sealer
	for _, s := range old {
		if s.Active {
			c := *s
			c.Active = false
			c.Retired = now.UTC()
			retired = &c
			s = &c
		}
		next = append(next, s)
	}
	set, err := newKeySet(next)
	if err != nil {
		return nil, Key{}, nil, err
	}
	return set, k, retired, nil
}

// Prune drops keys retired before before. The caller passes now minus the
// longest session lifetime (36 h): a key retired earlier than that sealed no
// token that can still be valid. The active key is never dropped, nor is a
// key that was never retired.
func (r *Ring) Prune(before time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set, _ := pruned(r.set.Load(), before)
	if set != nil {
		r.set.Store(set)
	}
}

func prunable(k *sealer, before time.Time) bool {
	return !k.Active && !k.Retired.IsZero() && k.Retired.Before(before)
}

// pruned returns the next generation without the prunable keys, and those
// keys; nil if there is nothing to prune.
func pruned(cur *keySet, before time.Time) (*keySet, []*sealer) {
	if cur == nil || !slices.ContainsFunc(cur.keys, func(k *sealer) bool { return prunable(k, before) }) {
		return nil, nil
	}
	var keep, drop []*sealer
	for _, k := range cur.keys {
		if prunable(k, before) {
			drop = append(drop, k)
		} else {
			keep = append(keep, k)
		}
	}
	return &keySet{keys: keep, active: cur.active}, drop
}
