package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// memStore is the KeyStore contract at its simplest. It is this package's
// own test double; the real stores run their contract suite elsewhere.
type memStore struct {
	mu      sync.Mutex
	keys    map[string]WrappedKey
	failOn  string // "save", "delete" or "load": that call fails
	saves   int
	deletes int
}

var errStore = errors.New("store unavailable")

func newMemStore() *memStore { return &memStore{keys: map[string]WrappedKey{}} }

func (m *memStore) LoadSealingKeys(ctx context.Context) ([]WrappedKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failOn == "load" {
		return nil, errStore
	}
	var out []WrappedKey
	for _, k := range m.keys {
		k.Wrapped = bytes.Clone(k.Wrapped)
		out = append(out, k)
	}
	return out, nil
}

func (m *memStore) SaveSealingKey(ctx context.Context, k WrappedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failOn == "save" {
		return errStore
	}
	m.saves++
	k.Wrapped = bytes.Clone(k.Wrapped)
	m.keys[k.ID] = k
	return nil
}

func (m *memStore) DeleteSealingKey(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failOn == "delete" {
		return errStore
	}
	m.deletes++
	delete(m.keys, id)
	return nil
}

func (m *memStore) set(f func(*memStore)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

// clock is a settable now func.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testMaster(seed byte) []byte { return bytes.Repeat([]byte{seed}, MasterKeySize) }

func loadRing(t *testing.T, st KeyStore, master []byte, c *clock) *Ring {
	t.Helper()
	r, err := LoadRing(context.Background(), st, master, c.now, rand.Reader)
	if err != nil {
		t.Fatalf("LoadRing: %v", err)
	}
	return r
}

func TestLoadRing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("an empty store gets a first active key, saved before use", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		k, ok := r.Active()
		if !ok || len(st.keys) != 1 || !st.keys[k.ID].Active {
			t.Fatalf("got active %v (%v), stored %v, want one stored active key", k, ok, st.keys)
		}
		if !k.Created.Equal(t0) {
			t.Errorf("got created %v, want %v", k.Created, t0)
		}
	})

	t.Run("a second load opens the tokens of the first", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		tok := seal(t, loadRing(t, st, testMaster(1), c), fullSession())
		r2 := loadRing(t, st, testMaster(1), c)
		if _, err := r2.Open(tok); err != nil {
			t.Errorf("got %v, want nil", err)
		}
		if st.saves != 1 {
			t.Errorf("got %d saves, want 1 (the second load creates nothing)", st.saves)
		}
	})

	t.Run("the stored form does not contain the key material", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		set := r.set.Load()
		for _, w := range st.keys {
			if bytes.Contains(w.Wrapped, set.active.secret[:]) || bytes.Contains(w.Wrapped, set.active.secret[:8]) {
				t.Errorf("got wrapped key containing the key material")
			}
		}
	})

	t.Run("a wrong master key fails to load", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		loadRing(t, st, testMaster(1), c)
		r, err := LoadRing(ctx, st, testMaster(2), c.now, rand.Reader)
		if !errors.Is(err, ErrMasterKey) || r != nil {
			t.Errorf("got (%v, %v), want ErrMasterKey", r, err)
		}
	})

	t.Run("a master key of the wrong size is refused", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		if _, err := LoadRing(ctx, st, make([]byte, 16), c.now, rand.Reader); err == nil {
			t.Error("got nil, want error")
		}
		if len(st.keys) != 0 {
			t.Errorf("got %d stored keys, want 0", len(st.keys))
		}
	})

	t.Run("key material swapped between two ids fails to load", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		if _, err := r.RotateAndSave(ctx); err != nil {
			t.Fatal(err)
		}
		ids := slices.Collect(func(yield func(string) bool) {
			for id := range st.keys {
				yield(id)
			}
		})
		a, b := st.keys[ids[0]], st.keys[ids[1]]
		a.Wrapped, b.Wrapped = b.Wrapped, a.Wrapped
		st.keys[a.ID], st.keys[b.ID] = a, b
		if _, err := LoadRing(ctx, st, testMaster(1), c.now, rand.Reader); !errors.Is(err, ErrMasterKey) {
			t.Errorf("got %v, want ErrMasterKey", err)
		}
	})

	t.Run("a store that cannot save fails the first load", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		st.failOn = "save"
		if _, err := LoadRing(ctx, st, testMaster(1), c.now, rand.Reader); !errors.Is(err, errStore) {
			t.Errorf("got %v, want %v", err, errStore)
		}
	})

	t.Run("two keys marked active resolve to the newest on every node", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		aead, _ := masterAEAD(testMaster(1))
		var want string
		for i, created := range []time.Time{t0, t0.Add(time.Minute)} {
			k, _ := NewKey(created, testRand(uint64(i)))
			k.Active = true
			w, _ := wrapKey(aead, k, rand.Reader)
			st.keys[k.ID] = w
			want = k.ID
		}
		for range 2 {
			r := loadRing(t, st, testMaster(1), c)
			got, _ := r.Active()
			if got.ID != want {
				t.Errorf("got active %s, want %s", got.ID, want)
			}
			if keys := r.Keys(); !keys[1].Retired.Equal(t0.Add(time.Minute)) {
				t.Errorf("got loser retired %v, want %v", keys[1].Retired, t0.Add(time.Minute))
			}
		}
	})
}

func TestStoredRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, c := newMemStore(), &clock{t: t0}
	r := loadRing(t, st, testMaster(1), c)
	first, _ := r.Active()
	old := seal(t, r, fullSession())

	c.add(24 * time.Hour)
	k, err := r.RotateAndSave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("rotation saves the new key active and the old one retired", func(t *testing.T) {
		if w := st.keys[k.ID]; !w.Active || !w.Retired.IsZero() {
			t.Errorf("got new key stored as %+v, want active", w)
		}
		if w := st.keys[first.ID]; w.Active || !w.Retired.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("got old key stored active=%v retired=%v, want retired at %v", w.Active, w.Retired, t0.Add(24*time.Hour))
		}
	})
	t.Run("another node reloads and opens tokens of both keys", func(t *testing.T) {
		r2 := loadRing(t, st, testMaster(1), c)
		for _, tok := range []string{old, seal(t, r, fullSession())} {
			if _, err := r2.Open(tok); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		}
		if got, _ := r2.Active(); got.ID != k.ID {
			t.Errorf("got active %s, want %s", got.ID, k.ID)
		}
	})
	t.Run("a node that has not reloaded reports an unknown key, and Reload fixes it", func(t *testing.T) {
		stale := loadRing(t, st, testMaster(1), c)
		c.add(time.Hour)
		if _, err := r.RotateAndSave(ctx); err != nil {
			t.Fatal(err)
		}
		tok := seal(t, r, fullSession())
		if _, err := stale.Open(tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("got %v, want ErrUnknownKey", err)
		}
		if err := stale.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := stale.Open(tok); err != nil {
			t.Errorf("after Reload: got %v, want nil", err)
		}
	})
	t.Run("prune deletes the keys retired before the cut-off, and only those", func(t *testing.T) {
		// now t0+60.5h, cut-off t0+24.5h: the first key (retired t0+24h)
		// goes, the second (retired t0+25h) and the active one stay.
		c.add(35*time.Hour + 30*time.Minute)
		if err := r.PruneAndDelete(ctx, c.now().Add(-36*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, ok := st.keys[first.ID]; ok {
			t.Errorf("got key %s still stored, want deleted", first.ID)
		}
		if _, err := r.Open(old); !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
		if got := len(r.Keys()); got != 2 {
			t.Errorf("got %d keys, want 2", got)
		}
	})
}

func TestStoreFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a failed save leaves the ring unrotated", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		before, _ := r.Active()
		st.set(func(m *memStore) { m.failOn = "save" })
		if _, err := r.RotateAndSave(ctx); !errors.Is(err, errStore) {
			t.Fatalf("got %v, want %v", err, errStore)
		}
		if got, _ := r.Active(); got.ID != before.ID || len(r.Keys()) != 1 {
			t.Errorf("got active %s and %d keys, want %s and 1", got.ID, len(r.Keys()), before.ID)
		}
	})
	t.Run("a failed delete keeps the key in the ring", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		if _, err := r.RotateAndSave(ctx); err != nil {
			t.Fatal(err)
		}
		st.set(func(m *memStore) { m.failOn = "delete" })
		if err := r.PruneAndDelete(ctx, t0.Add(time.Hour)); !errors.Is(err, errStore) {
			t.Fatalf("got %v, want %v", err, errStore)
		}
		if got := len(r.Keys()); got != 2 {
			t.Errorf("got %d keys, want 2", got)
		}
	})
	t.Run("a failed reload keeps the current keys", func(t *testing.T) {
		t.Parallel()
		st, c := newMemStore(), &clock{t: t0}
		r := loadRing(t, st, testMaster(1), c)
		tok := seal(t, r, fullSession())
		st.set(func(m *memStore) { m.failOn = "load" })
		if err := r.Reload(ctx); !errors.Is(err, errStore) {
			t.Fatalf("got %v, want %v", err, errStore)
		}
		if _, err := r.Open(tok); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("store operations on an in-memory ring are refused", func(t *testing.T) {
		t.Parallel()
		r := newTestRing(t, 1)
		if _, err := r.RotateAndSave(ctx); !errors.Is(err, ErrNotStored) {
			t.Errorf("RotateAndSave: got %v, want ErrNotStored", err)
		}
		if err := r.PruneAndDelete(ctx, t0); !errors.Is(err, ErrNotStored) {
			t.Errorf("PruneAndDelete: got %v, want ErrNotStored", err)
		}
		if err := r.Reload(ctx); !errors.Is(err, ErrNotStored) {
			t.Errorf("Reload: got %v, want ErrNotStored", err)
		}
	})
}

func TestNewRingRejects(t *testing.T) {
	t.Parallel()
	a, _ := NewKey(t0, testRand(1))
	b, _ := NewKey(t0, testRand(2))
	active := func(k Key) Key { k.Active = true; return k }
	badID := active(a)
	badID.ID = "NOT-AN-ID"
	tests := []struct {
		name string
		keys []Key
	}{
		{"no keys", nil},
		{"no active key", []Key{a, b}},
		{"two active keys", []Key{active(a), active(b)}},
		{"the same id twice", []Key{active(a), a}},
		{"an id outside the alphabet", []Key{badID}},
	}
	for _, tt := range tests {
		t.Run("a ring with "+tt.name+" is refused", func(t *testing.T) {
			t.Parallel()
			if r, err := NewRing(tt.keys...); err == nil {
				t.Errorf("got ring %v, want error", r.Keys())
			}
		})
	}
}
