package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/pgtest"
	"github.com/iamd/iamd/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t,
		func(t *testing.T) kv.Store { return openDSN(t, pgtest.DSN(t)) },
		storetest.WithReopen(func(t *testing.T) func(t *testing.T) kv.Store {
			dsn := pgtest.DSN(t)
			return func(t *testing.T) kv.Store { return openDSN(t, dsn) }
		}),
	)
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("two nodes opening one new database at once both succeed", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				s, err := Open(t.Context(), dsn)
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("Open: %v", err)
			}
		}
	})
	t.Run("a database from a newer iamd is refused", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		s := openDSN(t, dsn)
		if _, err := s.pool.Exec(t.Context(), "UPDATE iamd_meta SET value = 999 WHERE name = 'schema_version'"); err != nil {
			t.Fatal(err)
		}
		if s2, err := Open(t.Context(), dsn); err == nil {
			s2.Close()
			t.Errorf("Open of schema version 999: got nil error, want one")
		}
	})
	t.Run("an invalid DSN is rejected without echoing it", func(t *testing.T) {
		_, err := Open(t.Context(), "postgres://u:s3cret@[::1:bad/x")
		if err == nil {
			t.Fatal("got nil error, want one")
		}
		if got := err.Error(); contains(got, "s3cret") {
			t.Errorf("error %q reveals the password", got)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestUpdateRetries forces a real serialization failure: a session outside
// the store (an operator, another tool) changes a row the Update has read,
// and the Update then writes it.
func TestUpdateRetries(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn)
	ctx := t.Context()
	if err := s.Update(ctx, func(tx kv.Tx) error { return tx.Put("t", "x", []byte("0")) }); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	g0, _ := s.Generation(ctx)

	var runs atomic.Int32
	err = s.Update(ctx, func(tx kv.Tx) error {
		n := runs.Add(1)
		v, err := tx.Get("t", "x") // takes the snapshot
		if err != nil {
			return err
		}
		if n == 1 {
			if _, err := other.Exec(ctx, `UPDATE iamd_kv SET v = 'outside' WHERE tbl = 't' AND k = 'x'`); err != nil {
				return fmt.Errorf("outside update: %w", err)
			}
			if err := tx.Put("t", "first-run-only", nil); err != nil {
				return err
			}
		}
		return tx.Put("t", "x", append(v, '+'))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("runs of fn: got %d, want 2 (one serialization failure, one retry)", got)
	}
	err = s.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get("t", "x")
		if err != nil {
			return err
		}
		if string(v) != "outside+" {
			t.Errorf("x: got %q, want %q (the retry must see the outside write)", v, "outside+")
		}
		if _, err := tx.Get("t", "first-run-only"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("key written only by the failed run: got %v, want kv.ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Generation(ctx); g != g0+1 {
		t.Errorf("generation: got %d, want %d (one commit)", g, g0+1)
	}
}

func TestUpdateGivesUp(t *testing.T) {
	t.Parallel()
	s := openDSN(t, pgtest.DSN(t))
	var runs int
	serr := &pgconnError{}
	err := s.Update(t.Context(), func(tx kv.Tx) error { runs++; return serr.make() })
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	if runs != maxAttempts {
		t.Errorf("runs of fn: got %d, want %d", runs, maxAttempts)
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	a := openDSN(t, dsn)
	b := openDSN(t, dsn) // another node
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recv := func(want uint64) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case g := <-ch:
				if g == want {
					return
				}
				if g > want {
					t.Fatalf("Watch: got generation %d, want %d", g, want)
				}
			case <-deadline:
				t.Fatalf("Watch: no generation %d within 5s", want)
			}
		}
	}
	g0, _ := b.Generation(ctx)
	t.Run("reports the current generation first", func(t *testing.T) { recv(g0) })
	t.Run("reports an Update committed by another node", func(t *testing.T) {
		if err := b.Update(ctx, func(tx kv.Tx) error { return tx.Put("t", "k", nil) }); err != nil {
			t.Fatal(err)
		}
		recv(g0 + 1)
	})
	t.Run("does not report a rolled-back Update", func(t *testing.T) {
		b.Update(ctx, func(tx kv.Tx) error { return errors.New("no") })
		if err := b.Update(ctx, func(tx kv.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		recv(g0 + 2)
	})
	t.Run("reconnects after its connection is killed", func(t *testing.T) {
		// Terminate every session LISTENing, as a failover or an
		// operator would.
		var killed int
		err := b.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, WatchApplicationName).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed != 1 {
			t.Fatalf("terminated Watch sessions: got %d, want 1", killed)
		}
		if err := b.Update(ctx, func(tx kv.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		recv(g0 + 3)
		if err := b.Update(ctx, func(tx kv.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		recv(g0 + 4)
	})
	t.Run("closes the channel when its context ends", func(t *testing.T) {
		cancel()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("channel still open 5s after cancel")
			}
		}
	})
}
