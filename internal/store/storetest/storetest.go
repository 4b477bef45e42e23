// Package storetest is the contract suite every kv.Store implementation
// runs, in the spirit of testing/fstest: one set of tests, written against
// the documentation in package kv, so that the SQLite and PostgreSQL
// stores cannot drift apart.
//
// It checks behaviour a caller can observe through kv.Store only. It does
// not check durability against crashes or power loss, performance (see
// Benchmark), or anything specific to one backend; those tests live with
// the backend.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/kv"
)

// Option adjusts what Run tests.
type Option func(*config)

type config struct {
	reopen func(t *testing.T) func(t *testing.T) kv.Store
}

// WithReopen enables the tests that close a store and open it again.
// place is called once per such test to choose a new, empty location (a
// file, a database) and returns a function that opens the store at that
// location; the suite calls it several times, closing the previous store
// first. Stores it returns should also be closed by t.Cleanup, so Close
// must tolerate being called twice.
func WithReopen(place func(t *testing.T) func(t *testing.T) kv.Store) Option {
	return func(c *config) { c.reopen = place }
}

// Run runs the contract suite. open must return a new, empty store each
// time it is called and arrange (t.Cleanup) to close it; subtests call it
// in parallel.
func Run(t *testing.T, open func(t *testing.T) kv.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"Get of a missing key returns ErrNotFound", testGetMissing},
		{"Put then Get returns the value", testPutGet},
		{"Put replaces the previous value", testPutReplaces},
		{"Get returns a copy the caller may keep and modify", testGetCopies},
		{"Delete removes the key", testDelete},
		{"Delete of a missing key is not an error", testDeleteMissing},
		{"tables are isolated from each other", testTablesIsolated},
		{"Scan returns keys in bytewise order within prefix, after and limit", testScanCases},
		{"Scan agrees with a sorted-slice model for every prefix, after and limit", testScanModel},
		{"Scan crosses internal page boundaries without loss or repetition", testScanLarge},
		{"Scan stops and returns the error fn returns", testScanError},
		{"Scan lets fn use the transaction", testScanNested},
		{"keys with unicode, slashes and control bytes round-trip and sort bytewise", testOddKeys},
		{"1 MB values round-trip", testLargeValue},
		{"View refuses to write", testViewReadOnly},
		{"View sees only committed data", testViewCommittedOnly},
		{"View reads one consistent snapshot", testViewSnapshot},
		{"Update that returns an error writes nothing", testUpdateRollback},
		{"Update that panics writes nothing and leaves the store usable", testUpdatePanic},
		{"Update with a cancelled context writes nothing", testUpdateCancelled},
		{"a Tx used after its function returns fails", testTxAfterReturn},
		{"generation advances on each committed Update and not on failed ones", testGeneration},
		{"concurrent read-modify-write Updates lose no update and leak no retried effects", testConcurrentUpdates},
		{"UpdateUncached commits, rolls back and is seen like Update but leaves the generation alone", testUpdateUncached},
		{"concurrent UpdateUncached and Update calls all commit", testUpdateUncachedConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
	if c.reopen != nil {
		t.Run("data and generation survive close and reopen", func(t *testing.T) {
			t.Parallel()
			testReopen(t, c.reopen(t))
		})
	}
}

var errBoom = errors.New("storetest: boom")

func ctx(t *testing.T) context.Context { return t.Context() }

// put writes key/value pairs (k1, v1, k2, v2, …) to table in one Update.
func put(t *testing.T, s kv.Store, table string, kvs ...string) {
	t.Helper()
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Put(table, kvs[i], []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// get reads one key in a View; found is false for ErrNotFound.
func get(t *testing.T, s kv.Store, table, key string) (v []byte, found bool) {
	t.Helper()
	err := s.View(ctx(t), func(tx kv.Tx) error {
		var err error
		v, err = tx.Get(table, key)
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("View Get(%q, %q): %v", table, key, err)
	}
	return v, true
}

func scanKeys(t *testing.T, s kv.Store, table, prefix, after string, limit int) []string {
	t.Helper()
	keys := []string{}
	err := s.View(ctx(t), func(tx kv.Tx) error {
		return tx.Scan(table, prefix, after, limit, func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q, %q, %d): %v", table, prefix, after, limit, err)
	}
	return keys
}

func generation(t *testing.T, s kv.Store) uint64 {
	t.Helper()
	g, err := s.Generation(ctx(t))
	if err != nil {
		t.Fatalf("Generation: %v", err)
	}
	return g
}

func testGetMissing(t *testing.T, s kv.Store) {
	err := s.View(ctx(t), func(tx kv.Tx) error {
		_, err := tx.Get("users", "nobody")
		return err
	})
	if !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get of missing key: got error %v, want kv.ErrNotFound", err)
	}
	// Inside Update too, and the Update still commits what fn chose to.
	err = s.Update(ctx(t), func(tx kv.Tx) error {
		if _, err := tx.Get("users", "nobody"); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("got error %v, want kv.ErrNotFound", err)
		}
		return tx.Put("users", "alice", []byte("1"))
	})
	if err != nil {
		t.Errorf("Update with Get of missing key: %v", err)
	}
	if _, ok := get(t, s, "users", "alice"); !ok {
		t.Errorf("after Update that handled ErrNotFound: alice missing, want present")
	}
}

func testPutGet(t *testing.T, s kv.Store) {
	tests := []struct {
		name  string
		key   string
		value []byte
	}{
		{"a short value", "alice", []byte(`{"name":"alice"}`)},
		{"an empty value", "empty", []byte{}},
		{"a nil value reads back as empty", "nil", nil},
		{"binary bytes including zero", "bin", []byte{0, 1, 2, 0xff, 0, 0xfe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(ctx(t), func(tx kv.Tx) error {
				if err := tx.Put("t", tt.key, tt.value); err != nil {
					return err
				}
				// Read-your-writes inside the transaction.
				got, err := tx.Get("t", tt.key)
				if err != nil {
					return fmt.Errorf("Get in same Update: %w", err)
				}
				if !bytes.Equal(got, tt.value) {
					return fmt.Errorf("Get in same Update: got %q, want %q", got, tt.value)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := get(t, s, "t", tt.key)
			if !ok {
				t.Fatalf("Get(%q): not found, want %q", tt.key, tt.value)
			}
			if !bytes.Equal(got, tt.value) {
				t.Errorf("Get(%q): got %q, want %q", tt.key, got, tt.value)
			}
		})
	}
}

func testPutReplaces(t *testing.T, s kv.Store) {
	put(t, s, "t", "k", "one")
	put(t, s, "t", "k", "two")
	if got, _ := get(t, s, "t", "k"); string(got) != "two" {
		t.Errorf("got %q, want %q", got, "two")
	}
	if got := scanKeys(t, s, "t", "", "", 0); len(got) != 1 {
		t.Errorf("Scan after replacing: got keys %q, want one key", got)
	}
}

func testGetCopies(t *testing.T, s kv.Store) {
	put(t, s, "t", "k", "value")
	got, _ := get(t, s, "t", "k")
	copy(got, "XXXXX")
	if again, _ := get(t, s, "t", "k"); string(again) != "value" {
		t.Errorf("after modifying a returned value: got %q, want %q", again, "value")
	}
}

func testDelete(t *testing.T, s kv.Store) {
	put(t, s, "t", "a", "1", "b", "2")
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		if err := tx.Delete("t", "a"); err != nil {
			return err
		}
		if _, err := tx.Get("t", "a"); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("Get after Delete in same Update: got %v, want kv.ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := get(t, s, "t", "a"); ok {
		t.Errorf("Get(a) after Delete: found, want ErrNotFound")
	}
	if _, ok := get(t, s, "t", "b"); !ok {
		t.Errorf("Get(b) after deleting a: not found, want present")
	}
}

func testDeleteMissing(t *testing.T, s kv.Store) {
	err := s.Update(ctx(t), func(tx kv.Tx) error { return tx.Delete("t", "never-there") })
	if err != nil {
		t.Errorf("Delete of missing key: got %v, want nil", err)
	}
}

func testTablesIsolated(t *testing.T, s kv.Store) {
	// "user" is a prefix of "users": a store that concatenated table and
	// key would mix them up.
	put(t, s, "user", "s/x", "from user")
	put(t, s, "users", "x", "from users")
	put(t, s, "roles", "x", "from roles")

	if got, _ := get(t, s, "users", "x"); string(got) != "from users" {
		t.Errorf("Get(users, x): got %q, want %q", got, "from users")
	}
	if _, ok := get(t, s, "user", "x"); ok {
		t.Errorf("Get(user, x): found, want ErrNotFound")
	}
	if got := scanKeys(t, s, "users", "", "", 0); !equal(got, []string{"x"}) {
		t.Errorf("Scan(users): got %q, want [x]", got)
	}
	if got := scanKeys(t, s, "user", "", "", 0); !equal(got, []string{"s/x"}) {
		t.Errorf("Scan(user): got %q, want [s/x]", got)
	}
	if got := scanKeys(t, s, "groups", "", "", 0); len(got) != 0 {
		t.Errorf("Scan(groups) of an unused table: got %q, want none", got)
	}
	err := s.Update(ctx(t), func(tx kv.Tx) error { return tx.Delete("roles", "x") })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := get(t, s, "users", "x"); !ok {
		t.Errorf("Get(users, x) after Delete(roles, x): not found, want present")
	}
}

var scanData = []string{"a", "a/1", "a/10", "a/2", "ab", "b", "b/x", "bb", "c\xff", "c\xff\xff", "d"}

func testScanCases(t *testing.T, s kv.Store) {
	kvs := make([]string, 0, 2*len(scanData))
	for _, k := range scanData {
		kvs = append(kvs, k, "v:"+k)
	}
	put(t, s, "t", kvs...)
	put(t, s, "other", "a/1", "x", "a/3", "x") // must never show up

	tests := []struct {
		name          string
		prefix, after string
		limit         int
		want          []string
	}{
		{"no prefix returns every key in bytewise order", "", "", 0,
			[]string{"a", "a/1", "a/10", "a/2", "ab", "b", "b/x", "bb", "c\xff", "c\xff\xff", "d"}},
		{"a prefix returns only keys that start with it", "a/", "", 0, []string{"a/1", "a/10", "a/2"}},
		{"the prefix itself is included when it is a key", "a", "", 0, []string{"a", "a/1", "a/10", "a/2", "ab"}},
		{"after is exclusive", "a/", "a/1", 0, []string{"a/10", "a/2"}},
		{"after need not be a key", "", "a/15", 0, []string{"a/2", "ab", "b", "b/x", "bb", "c\xff", "c\xff\xff", "d"}},
		{"after before the prefix starts at the prefix", "b", "a", 0, []string{"b", "b/x", "bb"}},
		{"after past the prefix returns nothing", "a/", "b", 0, []string{}},
		{"limit stops early", "", "", 3, []string{"a", "a/1", "a/10"}},
		{"limit with after pages on", "", "a/10", 3, []string{"a/2", "ab", "b"}},
		{"limit larger than the result returns all", "b", "", 100, []string{"b", "b/x", "bb"}},
		{"negative limit means no limit", "a/", "", -1, []string{"a/1", "a/10", "a/2"}},
		{"a prefix ending in 0xff bytes has no upper bound problem", "c\xff", "", 0, []string{"c\xff", "c\xff\xff"}},
		{"a prefix that matches nothing returns nothing", "zz", "", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanKeys(t, s, "t", tt.prefix, tt.after, tt.limit)
			if !equal(got, tt.want) {
				t.Errorf("Scan(%q, after %q, limit %d): got %q, want %q", tt.prefix, tt.after, tt.limit, got, tt.want)
			}
		})
	}

	t.Run("values come with their keys", func(t *testing.T) {
		err := s.View(ctx(t), func(tx kv.Tx) error {
			return tx.Scan("t", "", "", 0, func(k string, v []byte) error {
				if string(v) != "v:"+k {
					t.Errorf("Scan value for %q: got %q, want %q", k, v, "v:"+k)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// testScanModel compares Scan to a sorted slice for many combinations.
func testScanModel(t *testing.T, s kv.Store) {
	keys := []string{"", "a", "a\x01", "a/", "a/b", "a/b/c", "a0", "ab", "b", "é", "日", "日本", "\x7f", "\xff"}
	kvs := []string{}
	for _, k := range keys {
		kvs = append(kvs, k, k)
	}
	put(t, s, "m", kvs...)
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted) // bytewise, like the contract
	probes := append([]string{"a/a", "zz", "a/b/", "\x00"}, keys...)
	for _, prefix := range probes {
		for _, after := range probes {
			for _, limit := range []int{0, 1, 2, 5} {
				want := []string{}
				for _, k := range sorted {
					if strings.HasPrefix(k, prefix) && k > after && (limit <= 0 || len(want) < limit) {
						want = append(want, k)
					}
				}
				got := scanKeys(t, s, "m", prefix, after, limit)
				if !equal(got, want) {
					t.Errorf("Scan(prefix %q, after %q, limit %d): got %q, want %q", prefix, after, limit, got, want)
				}
			}
		}
	}
}

func testScanLarge(t *testing.T, s kv.Store) {
	const n = 1000
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		for i := range n {
			if err := tx.Put("t", fmt.Sprintf("k%05d", i), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		after       string
		limit       int
		first, want int
	}{
		{"everything", "", 0, 0, n},
		{"a limit beyond any page size", "", 700, 0, 700},
		{"from the middle to the end", "k00499", 0, 500, 500},
		{"from the middle with a limit", "k00499", 301, 500, 301},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanKeys(t, s, "t", "k", tt.after, tt.limit)
			if len(got) != tt.want {
				t.Fatalf("got %d keys, want %d", len(got), tt.want)
			}
			for i, k := range got {
				if want := fmt.Sprintf("k%05d", tt.first+i); k != want {
					t.Fatalf("key %d: got %q, want %q", i, k, want)
				}
			}
		})
	}
}

func testScanError(t *testing.T, s kv.Store) {
	put(t, s, "t", "a", "", "b", "", "c", "", "d", "")
	var calls []string
	err := s.View(ctx(t), func(tx kv.Tx) error {
		return tx.Scan("t", "", "", 0, func(k string, _ []byte) error {
			calls = append(calls, k)
			if k == "b" {
				return fmt.Errorf("stop at %s: %w", k, errBoom)
			}
			return nil
		})
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Scan error: got %v, want one wrapping %v", err, errBoom)
	}
	if !equal(calls, []string{"a", "b"}) {
		t.Errorf("fn calls: got %q, want [a b]", calls)
	}
	// In an Update the error also rolls back.
	g := generation(t, s)
	err = s.Update(ctx(t), func(tx kv.Tx) error {
		if err := tx.Put("t", "new", nil); err != nil {
			return err
		}
		return tx.Scan("t", "", "", 0, func(string, []byte) error { return errBoom })
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Update with failing Scan: got %v, want %v", err, errBoom)
	}
	if _, ok := get(t, s, "t", "new"); ok {
		t.Errorf("Put before a failing Scan: found, want rolled back")
	}
	if got := generation(t, s); got != g {
		t.Errorf("generation after failed Update: got %d, want %d", got, g)
	}
}

// testScanNested is how the domain reads through a secondary index: scan
// index keys, Get the entity each names, sometimes delete as it goes.
func testScanNested(t *testing.T, s kv.Store) {
	var kvs []string
	for i := range 300 {
		kvs = append(kvs, fmt.Sprintf("idx/%03d", i), fmt.Sprintf("e%03d", i))
	}
	put(t, s, "t", kvs...)
	for i := range 300 {
		put(t, s, "entities", fmt.Sprintf("e%03d", i), fmt.Sprintf("entity e%03d", i))
	}
	var n int
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		return tx.Scan("t", "idx/", "", 0, func(k string, v []byte) error {
			e, err := tx.Get("entities", string(v))
			if err != nil {
				return fmt.Errorf("Get(%s) inside Scan: %w", v, err)
			}
			if want := "entity " + string(v); string(e) != want {
				return fmt.Errorf("Get(%s) inside Scan: got %q, want %q", v, e, want)
			}
			n++
			if err := tx.Delete("t", k); err != nil {
				return err
			}
			// A key written behind the cursor must not be visited again.
			return tx.Put("t", "done/"+k, nil)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 300 {
		t.Errorf("fn calls: got %d, want 300", n)
	}
	if got := scanKeys(t, s, "t", "idx/", "", 0); len(got) != 0 {
		t.Errorf("index keys after deleting each during Scan: got %d, want 0", len(got))
	}
	if got := scanKeys(t, s, "t", "done/", "", 0); len(got) != 300 {
		t.Errorf("keys written during Scan: got %d, want 300", len(got))
	}
}

func testOddKeys(t *testing.T, s kv.Store) {
	keys := []string{
		"arn:aws:iam::000000000000:user/division_abc/subdivision_xyz/alice",
		"/", "//", "a/b", "a//b", "with space", "tab\there", "new\nline",
		"\x01\x02\x1f", "\x7f", "quote'\"`", "percent%_*?",
		"Ünïcödé", "日本語/ロール", "emoji 😀", "\u00e9", "e\u0301", // é precomposed and decomposed are different keys
		"ALICE", "alice", // case matters; case-insensitive names are the domain's job
		"\xff\xfe", "\xc3", // not UTF-8
	}
	kvs := []string{}
	for _, k := range keys {
		kvs = append(kvs, k, "v:"+k)
	}
	put(t, s, "odd", kvs...)
	for _, k := range keys {
		got, ok := get(t, s, "odd", k)
		if !ok || string(got) != "v:"+k {
			t.Errorf("Get(%q): got %q (found %v), want %q", k, got, ok, "v:"+k)
		}
	}
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if got := scanKeys(t, s, "odd", "", "", 0); !equal(got, want) {
		t.Errorf("Scan order:\n got %q\nwant %q", got, want)
	}
	if got := scanKeys(t, s, "odd", "日本語/", "", 0); !equal(got, []string{"日本語/ロール"}) {
		t.Errorf("Scan with a unicode prefix: got %q, want [日本語/ロール]", got)
	}
}

func testLargeValue(t *testing.T, s kv.Store) {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8) // not compressible to nothing, not all zero
	}
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		if err := tx.Put("blobs", "one", big); err != nil {
			return err
		}
		return tx.Put("blobs", "two", big[:len(big)-1])
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, s, "blobs", "one")
	if !bytes.Equal(got, big) {
		t.Errorf("Get of 1 MB value: got %d bytes (equal %v), want %d identical bytes", len(got), bytes.Equal(got, big), len(big))
	}
	var sizes []int
	err = s.View(ctx(t), func(tx kv.Tx) error {
		return tx.Scan("blobs", "", "", 0, func(_ string, v []byte) error {
			sizes = append(sizes, len(v))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[0] != 1<<20 || sizes[1] != 1<<20-1 {
		t.Errorf("Scan value sizes: got %v, want [%d %d]", sizes, 1<<20, 1<<20-1)
	}
}

func testViewReadOnly(t *testing.T, s kv.Store) {
	put(t, s, "t", "k", "v")
	g := generation(t, s)
	err := s.View(ctx(t), func(tx kv.Tx) error {
		if err := tx.Put("t", "new", []byte("x")); err == nil {
			t.Errorf("Put in View: got nil error, want one")
		}
		if err := tx.Delete("t", "k"); err == nil {
			t.Errorf("Delete in View: got nil error, want one")
		}
		return nil
	})
	if err != nil {
		// Some stores fail the whole View once a statement failed; that is fine.
		t.Logf("View after refused writes: %v", err)
	}
	if _, ok := get(t, s, "t", "new"); ok {
		t.Errorf("key Put in View: found, want absent")
	}
	if _, ok := get(t, s, "t", "k"); !ok {
		t.Errorf("key Deleted in View: absent, want present")
	}
	if got := generation(t, s); got != g {
		t.Errorf("generation after View: got %d, want %d", got, g)
	}
}

func testViewCommittedOnly(t *testing.T, s kv.Store) {
	written := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx(t), func(tx kv.Tx) error {
			if err := tx.Put("t", "pending", []byte("x")); err != nil {
				return err
			}
			close(written)
			<-release
			return nil
		})
	}()
	select {
	case <-written:
	case err := <-done:
		t.Fatalf("Update ended early: %v", err)
	}
	if _, ok := get(t, s, "t", "pending"); ok {
		t.Errorf("View during an uncommitted Update: found the pending key, want absent")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, ok := get(t, s, "t", "pending"); !ok {
		t.Errorf("View after commit: pending key absent, want present")
	}
}

func testViewSnapshot(t *testing.T, s kv.Store) {
	put(t, s, "t", "a", "1", "b", "1")
	var a, b []byte
	err := s.View(ctx(t), func(tx kv.Tx) error {
		var err error
		if a, err = tx.Get("t", "a"); err != nil {
			return err
		}
		// Another transaction commits between our two reads.
		put(t, s, "t", "a", "2", "b", "2")
		b, err = tx.Get("t", "b")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != "1" || string(b) != "1" {
		t.Errorf("reads in one View across a commit: got a=%s b=%s, want a=1 b=1", a, b)
	}
	if got, _ := get(t, s, "t", "b"); string(got) != "2" {
		t.Errorf("View after the commit: got b=%s, want 2", got)
	}
}

func testUpdateRollback(t *testing.T, s kv.Store) {
	put(t, s, "t", "keep", "old", "doomed", "here")
	g := generation(t, s)
	err := s.Update(ctx(t), func(tx kv.Tx) error {
		for _, op := range []error{
			tx.Put("t", "keep", []byte("new")),
			tx.Put("t", "added", []byte("x")),
			tx.Put("other", "added", []byte("x")),
			tx.Delete("t", "doomed"),
		} {
			if op != nil {
				return op
			}
		}
		return fmt.Errorf("check failed: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update: got %v, want the error fn returned", err)
	}
	if got, _ := get(t, s, "t", "keep"); string(got) != "old" {
		t.Errorf("replaced key: got %q, want %q", got, "old")
	}
	if _, ok := get(t, s, "t", "added"); ok {
		t.Errorf("added key: found, want absent")
	}
	if _, ok := get(t, s, "other", "added"); ok {
		t.Errorf("added key in another table: found, want absent")
	}
	if _, ok := get(t, s, "t", "doomed"); !ok {
		t.Errorf("deleted key: absent, want present")
	}
	if got := generation(t, s); got != g {
		t.Errorf("generation: got %d, want %d", got, g)
	}
}

func testUpdatePanic(t *testing.T, s kv.Store) {
	func() {
		defer func() {
			if r := recover(); r != "storetest panic" {
				t.Errorf("recovered %v, want the panic from fn", r)
			}
		}()
		s.Update(ctx(t), func(tx kv.Tx) error {
			if err := tx.Put("t", "half", []byte("x")); err != nil {
				return err
			}
			panic("storetest panic")
		})
	}()
	if _, ok := get(t, s, "t", "half"); ok {
		t.Errorf("key Put before the panic: found, want absent")
	}
	c, cancel := context.WithTimeout(ctx(t), 10*time.Second)
	defer cancel()
	if err := s.Update(c, func(tx kv.Tx) error { return tx.Put("t", "after", nil) }); err != nil {
		t.Errorf("Update after a panicking Update: %v", err)
	}
}

func testUpdateCancelled(t *testing.T, s kv.Store) {
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	err := s.Update(c, func(tx kv.Tx) error { return tx.Put("t", "k", nil) })
	if err == nil {
		t.Errorf("Update with a cancelled context: got nil error, want one")
	}
	if _, ok := get(t, s, "t", "k"); ok {
		t.Errorf("key: found, want absent")
	}
}

func testTxAfterReturn(t *testing.T, s kv.Store) {
	var leaked kv.Tx
	if err := s.Update(ctx(t), func(tx kv.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := leaked.Put("t", "late", nil); err == nil {
		t.Errorf("Put on a finished Tx: got nil error, want one")
	}
	if _, ok := get(t, s, "t", "late"); ok {
		t.Errorf("key Put on a finished Tx: found, want absent")
	}
	if err := s.View(ctx(t), func(tx kv.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := leaked.Get("t", "late"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get on a finished View Tx: got %v, want a usage error", err)
	}
}

func testGeneration(t *testing.T, s kv.Store) {
	g0 := generation(t, s)
	prev := g0
	for i := range 3 {
		put(t, s, "t", fmt.Sprint(i), "x")
		g := generation(t, s)
		if g <= prev {
			t.Errorf("after committed Update %d: got generation %d, want > %d", i, g, prev)
		}
		prev = g
	}
	// An Update that writes nothing still commits, so it still advances:
	// the contract says every successful Update does.
	if err := s.Update(ctx(t), func(kv.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if g := generation(t, s); g <= prev {
		t.Errorf("after an empty Update: got generation %d, want > %d", g, prev)
	} else {
		prev = g
	}
	s.Update(ctx(t), func(tx kv.Tx) error { tx.Put("t", "x", nil); return errBoom })
	if g := generation(t, s); g != prev {
		t.Errorf("after a failed Update: got generation %d, want %d", g, prev)
	}
	if err := s.View(ctx(t), func(tx kv.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if g := generation(t, s); g != prev {
		t.Errorf("after a View: got generation %d, want %d", g, prev)
	}
}

// testConcurrentUpdates is the lost-update check: every fn reads a counter
// and writes it back plus one. It also records each run of fn under a key
// of its own; a store that re-runs fn after a conflict must discard the
// earlier runs' writes, so exactly one record per successful Update must
// remain, however many times fn ran.
func testConcurrentUpdates(t *testing.T, s kv.Store) {
	const workers, each = 8, 100
	var attempts atomic.Int64
	g0 := generation(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.Update(ctx(t), func(tx kv.Tx) error {
					n := attempts.Add(1)
					var c int
					v, err := tx.Get("t", "counter")
					switch {
					case errors.Is(err, kv.ErrNotFound):
					case err != nil:
						return err
					default:
						if _, err := fmt.Sscan(string(v), &c); err != nil {
							return err
						}
					}
					if err := tx.Put("t", "counter", []byte(fmt.Sprint(c+1))); err != nil {
						return err
					}
					return tx.Put("runs", fmt.Sprintf("%08d", n), []byte(fmt.Sprintf("w%d/i%d", w, i)))
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d, update %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if got, _ := get(t, s, "t", "counter"); string(got) != fmt.Sprint(workers*each) {
		t.Errorf("counter: got %s, want %d", got, workers*each)
	}
	runs := scanKeys(t, s, "runs", "", "", 0)
	if len(runs) != workers*each {
		t.Errorf("recorded runs of fn: got %d, want %d (fn ran %d times)", len(runs), workers*each, attempts.Load())
	}
	if g := generation(t, s); g-g0 != workers*each {
		// Exactly: generation counts commits, and each node here is the
		// only writer.
		t.Errorf("generation advanced by %d, want %d", g-g0, workers*each)
	}
	t.Logf("fn ran %d times for %d Updates", attempts.Load(), workers*each)
}

func testReopen(t *testing.T, open func(t *testing.T) kv.Store) {
	s := open(t)
	put(t, s, "t", "a", "1", "b", "2")
	put(t, s, "u", "x", "y")
	err := s.Update(ctx(t), func(tx kv.Tx) error { tx.Put("t", "rolled back", nil); return errBoom })
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update: got %v, want %v", err, errBoom)
	}
	g := generation(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := []string{"a", "b"}
	for round, add := range []string{"c", "d"} {
		s = open(t)
		if got := scanKeys(t, s, "t", "", "", 0); !equal(got, want) {
			t.Errorf("reopen %d: Scan(t): got %q, want %q", round, got, want)
		}
		if got, _ := get(t, s, "u", "x"); string(got) != "y" {
			t.Errorf("reopen %d: Get(u, x): got %q, want y", round, got)
		}
		if got := generation(t, s); got != g {
			t.Errorf("reopen %d: generation: got %d, want %d", round, got, g)
		}
		put(t, s, "t", add, "")
		want = append(want, add)
		if got := generation(t, s); got <= g {
			t.Errorf("reopen %d: generation after Update: got %d, want > %d", round, got, g)
		}
		g = generation(t, s)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testUpdateUncached(t *testing.T, s kv.Store) {
	put(t, s, "cached", "k", "v")
	g := generation(t, s)
	err := s.UpdateUncached(ctx(t), func(tx kv.Tx) error {
		if v, err := tx.Get("cached", "k"); err != nil || string(v) != "v" {
			return fmt.Errorf("Get inside UpdateUncached: got %q, %v; want v", v, err)
		}
		if err := tx.Put("records", "a", []byte("1")); err != nil {
			return err
		}
		return tx.Put("records", "b", []byte("2"))
	})
	if err != nil {
		t.Fatalf("UpdateUncached: %v", err)
	}
	if got := scanKeys(t, s, "records", "", "", 0); strings.Join(got, ",") != "a,b" {
		t.Errorf("keys after UpdateUncached: got %v, want [a b]", got)
	}
	if got := generation(t, s); got != g {
		t.Errorf("generation after UpdateUncached: got %d, want %d", got, g)
	}

	err = s.UpdateUncached(ctx(t), func(tx kv.Tx) error {
		if err := tx.Put("records", "c", nil); err != nil {
			return err
		}
		if err := tx.Delete("records", "a"); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("failing UpdateUncached: got %v, want the error fn returned", err)
	}
	if got := scanKeys(t, s, "records", "", "", 0); strings.Join(got, ",") != "a,b" {
		t.Errorf("keys after a failed UpdateUncached: got %v, want [a b]", got)
	}

	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := s.UpdateUncached(c, func(tx kv.Tx) error { return tx.Put("records", "z", nil) }); err == nil {
		t.Errorf("UpdateUncached with a cancelled context: got nil error, want one")
	}
	if _, ok := get(t, s, "records", "z"); ok {
		t.Errorf("key written with a cancelled context: found, want absent")
	}
	if err := s.View(ctx(t), func(tx kv.Tx) error { return tx.Put("records", "v", nil) }); err == nil {
		t.Errorf("View after UpdateUncached wrote: got nil error, want one")
	}

	put(t, s, "cached", "k", "w")
	if got := generation(t, s); got <= g {
		t.Errorf("generation after an Update following UpdateUncached: got %d, want > %d", got, g)
	}
}

// testUpdateUncachedConcurrent runs blind UpdateUncached writers (the
// session inventory's shape) beside read-modify-write Updates: every
// write lands, the counter loses nothing, and the generation counts the
// Updates alone.
func testUpdateUncachedConcurrent(t *testing.T, s kv.Store) {
	const workers, each = 4, 25
	g0 := generation(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.UpdateUncached(ctx(t), func(tx kv.Tx) error {
					return tx.Put("records", fmt.Sprintf("%d/%03d", w, i), []byte("x"))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				err := s.Update(ctx(t), func(tx kv.Tx) error {
					n := 0
					if v, err := tx.Get("counter", "n"); err == nil {
						fmt.Sscan(string(v), &n)
					} else if !errors.Is(err, kv.ErrNotFound) {
						return err
					}
					return tx.Put("counter", "n", []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(scanKeys(t, s, "records", "", "", 0)); got != workers*each {
		t.Errorf("records: got %d, want %d", got, workers*each)
	}
	if v, _ := get(t, s, "counter", "n"); string(v) != fmt.Sprint(workers*each) {
		t.Errorf("counter: got %s, want %d", v, workers*each)
	}
	if g := generation(t, s); g-g0 != workers*each {
		t.Errorf("generation advanced by %d, want %d (the Updates only)", g-g0, workers*each)
	}
}
