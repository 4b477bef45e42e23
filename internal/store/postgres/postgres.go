// Package postgres implements kv.Store on PostgreSQL, for running several
// iamd nodes against one shared database.
//
// Layout: iamd_kv(tbl, k bytea, v bytea) ordered by (tbl, k); a one-row
// iamd_generation table whose bigint every committed Update (not
// UpdateUncached) increments;
// iamd_meta holding schema_version. The schema is created and upgraded at
// Open by embedded migrations, serialized between nodes by an advisory
// lock.
//
// Transactions: Update runs SERIALIZABLE and first takes a SHARE ROW
// EXCLUSIVE lock on iamd_generation, which only writers take. Every Update
// writes the generation row anyway, so writers could never run in
// parallel; taking the lock before the transaction's snapshot (a LOCK
// statement does not take one) turns what would be a serialization
// failure and a wasted run of fn into a short wait. Serialization failures
// (40001) and deadlocks (40P01) can still come from elsewhere (a schema
// change, an operator's session), so Update re-runs fn on them, a bounded
// number of times. View runs REPEATABLE READ READ ONLY: one snapshot, never
// blocked by writers and never blocking them.
//
// Change notification: the Update's transaction also runs
// pg_notify('iamd_generation', <new generation>); PostgreSQL delivers it
// when, and only if, the transaction commits. Watch listens for it.
//
// What it does not do: cache (callers do, keyed by Generation), shard, or
// provide an audit log; nor does it work through a transaction-pooling
// PgBouncer for Watch (LISTEN needs a session; poll Generation instead).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamd/iamd/internal/kv"
)

// Channel is the NOTIFY channel on which each committed Update announces
// its new generation (decimal, as the payload).
const Channel = "iamd_generation"

// WatchApplicationName is the application_name of Watch's connections.
const WatchApplicationName = "iamd watch"

// maxAttempts bounds how often Update runs fn when the database reports a
// serialization failure or deadlock. Writers are serialized by the lock,
// so conflicts are rare; a persistent one is a bug to surface, not to spin
// on.
const maxAttempts = 10

// Store is a kv.Store backed by a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// listenConfig opens Watch's dedicated connections, outside the pool:
	// a LISTENing session must stay the same session.
	listenConfig *pgx.ConnConfig

	closeOnce sync.Once
}

var _ kv.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as libpq accepts) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN, password included.
		return nil, errors.New("postgres: invalid DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, listenConfig: cfg.ConnConfig.Copy()}
	// Named so an operator can tell Watch's long-lived sessions from the
	// pool's in pg_stat_activity.
	s.listenConfig.RuntimeParams["application_name"] = WatchApplicationName
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return s, nil
}

// View runs fn in a read-only transaction on one snapshot.
func (s *Store) View(ctx context.Context, fn func(kv.Tx) error) error {
	pgtx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin view: %w", err)
	}
	// Rollback after Commit is a no-op; this also covers a panic in fn,
	// which would otherwise return a connection mid-transaction.
	defer pgtx.Rollback(context.Background())
	t := &tx{ctx: ctx, tx: pgtx}
	err = fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if err := pgtx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: end view: %w", err)
	}
	return nil
}

// Update runs fn in a serializable transaction, re-running it if the
// database reports a serialization failure or deadlock, and commits it
// with the next generation if fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(kv.Tx) error) error {
	return s.retry(ctx, fn, s.update)
}

// UpdateUncached is Update without the generation: it neither takes the
// writer lock nor writes the generation row nor notifies, so it runs in
// parallel with Updates and other UpdateUncached calls; SERIALIZABLE
// still makes it atomic, and a conflict re-runs fn as in Update. Its
// tables are disjoint from the cached ones, so conflicts are rare.
func (s *Store) UpdateUncached(ctx context.Context, fn func(kv.Tx) error) error {
	return s.retry(ctx, fn, s.updateUncached)
}

func (s *Store) retry(ctx context.Context, fn func(kv.Tx) error, once func(context.Context, func(kv.Tx) error) error) error {
	for attempt := 1; ; attempt++ {
		err := once(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("postgres: update gave up after %d attempts: %w", attempt, err)
		}
		// Jittered exponential backoff, so that colliding transactions
		// do not collide again in lockstep.
		d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		select {
		case <-time.After(d/2 + rand.N(d)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(kv.Tx) error) error {
	pgtx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("postgres: begin update: %w", err)
	}
	defer pgtx.Rollback(context.Background())
	// The writer lock; see the package doc. SHARE ROW EXCLUSIVE conflicts
	// with itself but not with the plain reads of Generation and View.
	if _, err := pgtx.Exec(ctx, "LOCK TABLE iamd_generation IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("postgres: lock: %w", err)
	}
	t := &tx{ctx: ctx, tx: pgtx, writable: true}
	err = fn(t)
	t.done = true
	if err != nil {
		return err
	}
	// NOTIFY inside the transaction rather than after it: PostgreSQL sends
	// it exactly when the commit succeeds, so no crash between commit and
	// notify can leave other nodes uninformed.
	var gen int64
	err = pgtx.QueryRow(ctx, `WITH g AS (UPDATE iamd_generation SET value = value + 1 RETURNING value)
		SELECT value, pg_notify('`+Channel+`', value::text) FROM g`).Scan(&gen, nil)
	if err != nil {
		return fmt.Errorf("postgres: advance generation: %w", err)
	}
	if err := pgtx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

func (s *Store) updateUncached(ctx context.Context, fn func(kv.Tx) error) error {
	pgtx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("postgres: begin update: %w", err)
	}
	defer pgtx.Rollback(context.Background())
	t := &tx{ctx: ctx, tx: pgtx, writable: true}
	err = fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if err := pgtx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryable reports whether err means "run the transaction again".
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", // serialization_failure
		"40P01": // deadlock_detected
		return true
	}
	return false
}

// Generation returns the number of Updates ever committed to the database
// by any node.
func (s *Store) Generation(ctx context.Context) (uint64, error) {
	var g int64
	if err := s.pool.QueryRow(ctx, "SELECT value FROM iamd_generation").Scan(&g); err != nil {
		return 0, fmt.Errorf("postgres: generation: %w", err)
	}
	return uint64(g), nil
}

// Close closes the connection pool. Channels from Watch close when their
// context ends, not here. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}
