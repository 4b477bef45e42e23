// Package kv is the storage contract iamd's domain packages are written
// against: an ordered, transactional key-value store with named tables.
//
// The IAM model (users, roles, policies, keys, …) is small, read mostly
// through in-memory caches, and needs atomic read-check-write (at most two
// access keys, DeleteConflict while policies are attached, names unique
// without regard to case). A serializable transaction over ordered keys
// gives all of that with one small contract that SQLite and PostgreSQL both
// satisfy and one contract suite can test; see
// docs/decisions/0001-kv-store-contract.md. Append-heavy, query-heavy data
// (the audit trail) has its own interface in its own package. Frequently
// written records nobody caches (the session inventory) go through
// UpdateUncached, which leaves the generation, and so every node's caches,
// alone; see docs/decisions/0013-session-inventory-group-commit.md.
//
// This package holds only interfaces and sentinel errors; no I/O.
package kv

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Tx.Get for a key that is not there.
var ErrNotFound = errors.New("kv: not found")

// Store runs transactions.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serializable read-write transaction and commits
	// it if fn returns nil. Update may run fn more than once when a
	// concurrent transaction conflicts, so fn must not have side effects
	// outside tx. A successful Update advances the store's generation.
	Update(ctx context.Context, fn func(Tx) error) error
	// UpdateUncached is Update for tables no cache is built from: records
	// kept for people, such as the session inventory and last-use times,
	// written far more often than the IAM model. It has Update's
	// atomicity, isolation and durability (committed when it returns nil;
	// fn may run more than once), but it does not advance the generation,
	// so other nodes do not drop their caches for it. What UpdateUncached
	// changes must therefore never be cached by Generation, and what is
	// cached by Generation must only be changed with Update. A cached
	// record may be rewritten by UpdateUncached only when every field a
	// cache holds is written back unchanged (iam's access-key last use).
	UpdateUncached(ctx context.Context, fn func(Tx) error) error
	// Generation returns a number that every committed Update (not
	// UpdateUncached) advances, on any node sharing the store; caches
	// compare it to know they are stale.
	Generation(ctx context.Context) (uint64, error)
	// Close releases the store's resources.
	Close() error
}

// Tx is a transaction. Keys are ordered bytewise within a table. A Tx
// must not be used after the function it was passed to returns.
type Tx interface {
	// Get returns the value at (table, key) or ErrNotFound.
	Get(table, key string) ([]byte, error)
	// Put inserts or replaces the value at (table, key).
	Put(table, key string, value []byte) error
	// Delete removes (table, key); deleting a missing key is not an error.
	Delete(table, key string) error
	// Scan calls fn for each key in table that starts with prefix and sorts
	// strictly after `after` ("" for the beginning), in ascending key
	// order, stopping after limit calls (limit <= 0: no limit) or when fn
	// returns an error, which Scan returns. The value passed to fn is only
	// valid during the call.
	Scan(table, prefix, after string, limit int, fn func(key string, value []byte) error) error
}
