package token

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// KeyStore persists sealing keys. The store only ever sees them wrapped
// under the master key, so a copy of the database alone opens no token.
// Implementations live in the store packages; store/storetest should run the
// same contract against each.
type KeyStore interface {
	// LoadSealingKeys returns every stored key, in any order.
	LoadSealingKeys(ctx context.Context) ([]WrappedKey, error)
	// SaveSealingKey inserts k, or replaces the key with the same ID (that is
	// how a key is retired: saved again with Active false and Retired set).
	SaveSealingKey(ctx context.Context, k WrappedKey) error
	// DeleteSealingKey removes the key with this ID; a missing key is not an
	// error, so two nodes may prune at once.
	DeleteSealingKey(ctx context.Context, id string) error
}

// WrappedKey is a sealing key as stored: life-cycle fields in clear (so the
// store can list and prune without the master key) and the key material
// encrypted under the master key.
type WrappedKey struct {
	ID      string
	Created time.Time
	Retired time.Time
	Active  bool
	Wrapped []byte // wrapVersion | nonce (12) | AES-256-GCM(key) (48)
}

// ErrMasterKey: a stored key does not unwrap under the given master key —
// the wrong master key, or the stored key was changed.
var ErrMasterKey = errors.New("token: sealing key does not unwrap: wrong master key or corrupted store")

const (
	wrapVersion = 1
	wrappedLen  = 1 + nonceLen + KeySize + tagLen
)

// wrapAAD binds the wrapped material to its key id, so a store that can be
// written but not read cannot swap two keys' material under their ids.
// Life-cycle fields are not bound: retiring a key rewrites them.
func wrapAAD(id string) []byte { return []byte("iamd sealing key\x00" + id) }

func masterAEAD(master []byte) (cipher.AEAD, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("token: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("token: master key: %w", err)
	}
	return cipher.NewGCM(block)
}

func wrapKey(aead cipher.AEAD, k Key, rand io.Reader) (WrappedKey, error) {
	out := make([]byte, 1+nonceLen, wrappedLen)
	out[0] = wrapVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return WrappedKey{}, fmt.Errorf("token: wrap key %s: %w", k.ID, err)
	}
	out = aead.Seal(out, out[1:], k.secret[:], wrapAAD(k.ID))
	return WrappedKey{ID: k.ID, Created: k.Created, Retired: k.Retired, Active: k.Active, Wrapped: out}, nil
}

func unwrapKey(aead cipher.AEAD, w WrappedKey) (Key, error) {
	if !validKeyID(w.ID) {
		return Key{}, fmt.Errorf("token: stored sealing key has invalid id %q", w.ID)
	}
	if len(w.Wrapped) != wrappedLen || w.Wrapped[0] != wrapVersion {
		return Key{}, fmt.Errorf("token: stored sealing key %s: %w", w.ID, ErrMasterKey)
	}
	k := Key{ID: w.ID, Created: w.Created.UTC(), Retired: w.Retired.UTC(), Active: w.Active}
	if _, err := aead.Open(k.secret[:0], w.Wrapped[1:1+nonceLen], w.Wrapped[1+nonceLen:], wrapAAD(w.ID)); err != nil {
		return Key{}, fmt.Errorf("token: stored sealing key %s: %w", w.ID, ErrMasterKey)
	}
	return k, nil
}

// backing is what a ring from LoadRing needs to keep its store in step.
type backing struct {
	store  KeyStore
	master cipher.AEAD
	now    func() time.Time
	rand   io.Reader
}

// ErrNotStored: RotateAndSave, PruneAndDelete or Reload on a ring that was
// not loaded from a KeyStore.
var ErrNotStored = errors.New("token: ring has no key store")

// LoadRing loads the sealing keys from store, unwrapping each under master
// (MasterKeySize bytes; see LoadOrCreateMasterKey). If the store holds no
// active key — first start — it creates one and saves it before returning,
// so the ring never seals with a key that a restart would lose. A key that
// does not unwrap fails the load (ErrMasterKey): starting with some keys
// missing would reject their sessions as forged.
//
// The returned ring keeps store, now and rand for RotateAndSave,
// PruneAndDelete and Reload.
func LoadRing(ctx context.Context, store KeyStore, master []byte, now func() time.Time, rand io.Reader) (*Ring, error) {
	aead, err := masterAEAD(master)
	if err != nil {
		return nil, err
	}
	r := &Ring{st: &backing{store: store, master: aead, now: now, rand: rand}}
	set, err := r.st.load(ctx)
	if errors.Is(err, ErrNoActiveKey) {
		if err := r.st.saveFirstKey(ctx); err != nil {
			return nil, err
		}
		// Read back rather than use the new key directly: if another node
		// created a first key at the same moment, both settle on one.
		set, err = r.st.load(ctx)
	}
	if err != nil {
		return nil, err
	}
	r.set.Store(set)
	return r, nil
}

func (b *backing) saveFirstKey(ctx context.Context) error {
	k, err := NewKey(b.now(), b.rand)
	if err != nil {
		return err
	}
	k.Active = true
	w, err := wrapKey(b.master, k, b.rand)
	if err != nil {
		return err
	}
	if err := b.store.SaveSealingKey(ctx, w); err != nil {
		return fmt.Errorf("token: save first sealing key: %w", err)
	}
	return nil
}

// load reads and unwraps every stored key and picks the active one. Two
// nodes rotating at once can leave two keys marked active; every node then
// picks the newest (ties by id) and treats the others as retired when it was
// created, so all nodes seal with the same key.
func (b *backing) load(ctx context.Context) (*keySet, error) {
	stored, err := b.store.LoadSealingKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: load sealing keys: %w", err)
	}
	keys := make([]Key, 0, len(stored))
	for _, w := range stored {
		k, err := unwrapKey(b.master, w)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	var active *Key
	sealers := make([]*sealer, 0, len(keys))
	for i := range keys {
		k := &keys[i]
		if k.Active {
			if active == nil {
				active = k
			} else {
				k.Active = false
				if k.Retired.IsZero() {
					k.Retired = active.Created
				}
			}
		}
		s, err := newSealer(*k)
		if err != nil {
			return nil, err
		}
		sealers = append(sealers, s)
	}
	if active == nil {
		return nil, ErrNoActiveKey
	}
	return newKeySet(sealers)
}

// Reload replaces the ring's keys with the store's: how a node learns that
// another node rotated or pruned. Call it on the store's change notification
// and, rate-limited, when Open reports ErrUnknownKey. On error the ring keeps
// its current keys.
func (r *Ring) Reload(ctx context.Context) error {
	if r.st == nil {
		return ErrNotStored
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set, err := r.st.load(ctx)
	if err != nil {
		return err
	}
	r.set.Store(set)
	return nil
}

// RotateAndSave rotates like Rotate and persists the change. The new key is
// saved before the ring uses it — a token sealed with a key the store does
// not hold would stop opening at the next restart. Then the previous key is
// saved as retired; if that save fails the ring has still rotated (the store
// now marks two keys active, which load resolves to the newest) and the
// error is returned with the new key.
func (r *Ring) RotateAndSave(ctx context.Context) (Key, error) {
	if r.st == nil {
		return Key{}, ErrNotStored
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.st.now()
	set, k, retired, err := rotated(r.set.Load(), now, r.st.rand)
	if err != nil {
		return Key{}, err
	}
	w, err := wrapKey(r.st.master, k, r.st.rand)
	if err != nil {
		return Key{}, err
	}
	if err := r.st.store.SaveSealingKey(ctx, w); err != nil {
		return Key{}, fmt.Errorf("token: save new sealing key: %w", err)
	}
	r.set.Store(set)
	if retired != nil {
		w, err := wrapKey(r.st.master, retired.Key, r.st.rand)
		if err == nil {
			err = r.st.store.SaveSealingKey(ctx, w)
		}
		if err != nil {
			return k, fmt.Errorf("token: save retired sealing key %s: %w", retired.ID, err)
		}
	}
	return k, nil
}

// PruneAndDelete prunes like Prune and deletes the dropped keys from the
// store. A key is dropped from the ring only once its deletion succeeded, so
// ring and store agree even after an error.
func (r *Ring) PruneAndDelete(ctx context.Context, before time.Time) error {
	if r.st == nil {
		return ErrNotStored
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.set.Load()
	_, drop := pruned(cur, before)
	var err error
	deleted := make(map[string]bool, len(drop))
	for _, k := range drop {
		if err = r.st.store.DeleteSealingKey(ctx, k.ID); err != nil {
			err = fmt.Errorf("token: delete sealing key %s: %w", k.ID, err)
			break
		}
		deleted[k.ID] = true
	}
	if len(deleted) > 0 {
		keep := make([]*sealer, 0, len(cur.keys))
		for _, k := range cur.keys {
			if !deleted[k.ID] {
				keep = append(keep, k)
			}
		}
		r.set.Store(&keySet{keys: keep, active: cur.active})
	}
	return err
}
