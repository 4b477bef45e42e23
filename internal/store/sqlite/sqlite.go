// Package sqlite implements kv.Store on a single SQLite file: iamd's
// embedded default, with nothing else to install.
//
// Layout: one WITHOUT ROWID table kv(tbl, k, v) ordered by (tbl, k), and a
// meta table holding schema_version and the generation counter that every
// committed Update (not UpdateUncached) increments in the same transaction. The schema is
// created and upgraded at Open by migrations embedded in the binary.
//
// Concurrency: one writer, many readers. Update holds the only write
// connection, serialized by a lock that honours the context, and opens its
// transaction with BEGIN IMMEDIATE, so a writer never fails half-way on a
// lock upgrade and Update never needs to re-run fn. View runs on a pool of
// read-only connections; WAL lets them read a consistent snapshot while the
// writer commits.
//
// Durability: WAL with synchronous=FULL, so an Update that returned nil
// survives kill -9 and power loss (see Open for why not NORMAL).
//
// What it does not do: share the file between hosts (use package postgres
// for several nodes), notify other processes of changes (they can poll
// Generation), or run on network file systems, where SQLite's locking is
// unreliable.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/iamd/iamd/internal/kv"
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// process using the same file (another iamd, the sqlite3 shell, a backup)
// before giving up. Within one Store the writer lock makes waits rare.
const busyTimeoutMS = 5000

// Store is a kv.Store backed by one SQLite database file.
type Store struct {
	writeDB *sql.DB
	w       *sql.Conn // the single write connection, held for the Store's life
	wStmts  stmts     // prepared once on w
	wlock   chan struct{}

	readDB *sql.DB
	rStmts stmts // prepared on readDB; re-used per connection by database/sql

	closeOnce sync.Once
	closeErr  error
}

var _ kv.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
//
// synchronous=FULL, not NORMAL: in WAL mode NORMAL already survives a
// process crash (kill -9) — committed frames are in the OS page cache —
// but can lose the last commits on power loss or a kernel crash. iamd's
// writes are rare and some are security decisions (a revoked session, a
// deactivated key) whose silent loss would re-enable leaked credentials,
// so we pay one fsync of the WAL per Update; see
// docs/decisions/0004-sqlite-driver.md for the measured cost.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, driverName, "FULL")
}

func open(ctx context.Context, path, driverName, synchronous string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		// Drivers treat '?' as the start of connection parameters.
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	s := &Store{wlock: make(chan struct{}, 1)}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	var err error
	s.writeDB, err = openDB(driverName, path,
		fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS),
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = "+synchronous,
	)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.writeDB.SetMaxOpenConns(1)
	s.w, err = s.writeDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		// In-memory databases and some file systems refuse WAL; without it
		// readers would block the writer.
		return nil, fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	if err := s.wStmts.prepare(ctx, s.w); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}

	s.readDB, err = openDB(driverName, path,
		fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS),
		// A bug that writes through View fails loudly instead of
		// bypassing the writer lock and the generation counter.
		"PRAGMA query_only = 1",
	)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.readDB.SetMaxOpenConns(n)
	s.readDB.SetMaxIdleConns(n)
	if err := s.rStmts.prepare(ctx, s.readDB); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	ok = true
	return s, nil
}

// View runs fn in a read transaction on a snapshot taken at its first read.
func (s *Store) View(ctx context.Context, fn func(kv.Tx) error) error {
	sqlTx, err := s.readDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin view: %w", err)
	}
	// A read transaction has nothing to commit; rolling back just ends it.
	defer sqlTx.Rollback()
	t := &tx{ctx: ctx, stmts: &s.rStmts, inTx: sqlTx}
	defer t.finish()
	return fn(t)
}

// Update runs fn in a write transaction and commits it, with the
// generation increment, if fn returns nil. fn runs exactly once: the
// write lock plus BEGIN IMMEDIATE leave nothing to conflict with.
func (s *Store) Update(ctx context.Context, fn func(kv.Tx) error) error {
	return s.update(ctx, fn, true)
}

// UpdateUncached is Update without the generation increment.
func (s *Store) UpdateUncached(ctx context.Context, fn func(kv.Tx) error) error {
	return s.update(ctx, fn, false)
}

func (s *Store) update(ctx context.Context, fn func(kv.Tx) error, advance bool) (err error) {
	// Checked first because select picks at random among ready cases, and
	// not every driver checks the context before running a statement.
	if err := ctx.Err(); err != nil {
		return err
	}
	// A one-slot channel rather than sync.Mutex so that a caller whose
	// context ends while waiting for the writer gives up.
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wlock }()

	if _, err := s.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin update: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Background: the rollback must happen even when ctx is what
			// ended the transaction, or the connection stays inside it.
			_, _ = s.w.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	t := &tx{ctx: ctx, stmts: &s.wStmts, writable: true}
	err = fn(t)
	t.finish()
	if err != nil {
		return err
	}
	if advance {
		if _, err := s.wStmts.bump.ExecContext(ctx); err != nil {
			return fmt.Errorf("sqlite: advance generation: %w", err)
		}
	}
	if _, err := s.w.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	return nil
}

// Generation returns the number of Updates ever committed to the file.
func (s *Store) Generation(ctx context.Context) (uint64, error) {
	var g int64
	if err := s.rStmts.gen.QueryRowContext(ctx).Scan(&g); err != nil {
		return 0, fmt.Errorf("sqlite: generation: %w", err)
	}
	return uint64(g), nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		s.rStmts.close()
		s.wStmts.close()
		if s.readDB != nil {
			errs = append(errs, s.readDB.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		if s.writeDB != nil {
			errs = append(errs, s.writeDB.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// openDB opens a pool whose every new connection first runs pragmas.
// Pragmas are per connection, and running them from a connector works the
// same for every driver, where DSN parameters differ from driver to driver.
func openDB(driverName, path string, pragmas ...string) (*sql.DB, error) {
	probe, err := sql.Open(driverName, "")
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	probe.Close()
	return sql.OpenDB(&connector{drv: d, dsn: path, pragmas: pragmas}), nil
}

type connector struct {
	drv     driver.Driver
	dsn     string
	pragmas []string
}

func (c *connector) Driver() driver.Driver { return c.drv }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("driver %T cannot exec", conn)
	}
	for _, p := range c.pragmas {
		if _, err := ex.ExecContext(ctx, p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return conn, nil
}
