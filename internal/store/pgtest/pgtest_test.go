package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestDSN(t *testing.T) {
	t.Run("gives a fresh database that accepts queries", func(t *testing.T) {
		dsn := DSN(t)
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("tables in a fresh database: got %d, want 0", n)
		}
	})
	t.Run("gives each caller its own database", func(t *testing.T) {
		if a, b := DSN(t), DSN(t); a == b {
			t.Errorf("two DSN calls: got the same DSN %s twice, want different databases", a)
		}
	})
}

func TestStopLeavesNothing(t *testing.T) {
	if _, err := FindBinDir(); err != nil {
		t.Skip(err)
	}
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := srv.Pid(), srv.dir
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !srv.Stopped() {
		t.Errorf("Stopped after Stop: got false, want true")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("signal 0 to the stopped postmaster %d: got %v, want ESRCH", pid, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("data directory after Stop: got %v, want it removed", err)
	}
}
