package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/iamd/iamd/internal/kv"
)

// crashChildEnv makes the test binary act as the writer that gets killed.
const crashChildEnv = "IAMD_SQLITE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild commits Updates forever, printing each key once its Update
// has returned nil.
func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		k := fmt.Sprintf("%08d", i)
		if err := s.Update(ctx, func(tx kv.Tx) error { return tx.Put("t", k, []byte(k)) }); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(k)
	}
}

func TestKillLosesNoCommittedUpdate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "iamd.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var acked []string
	for len(acked) < 200 && lines.Scan() {
		if _, err := strconv.Atoi(lines.Text()); err != nil {
			t.Fatalf("child: %s", lines.Text())
		}
		acked = append(acked, lines.Text())
	}
	cmd.Process.Kill() // SIGKILL, mid-Update most likely
	cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("child acknowledged %d Updates before dying, want 200", len(acked))
	}

	s := openAt(t, path)
	err = s.View(t.Context(), func(tx kv.Tx) error {
		for _, k := range acked {
			if _, err := tx.Get("t", k); err != nil {
				return fmt.Errorf("acknowledged key %s: got %w, want present", k, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if g, _ := s.Generation(t.Context()); g < uint64(len(acked)) {
		t.Errorf("generation after crash: got %d, want >= %d", g, len(acked))
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	t.Run("a database from a newer iamd", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "iamd.db")
		s := openAt(t, path)
		if _, err := s.w.ExecContext(t.Context(), "UPDATE meta SET value = 999 WHERE name = 'schema_version'"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s2, err := Open(t.Context(), path); err == nil {
			s2.Close()
			t.Errorf("Open of schema version 999: got nil error, want one")
		}
	})
	t.Run("a path the drivers would misparse", func(t *testing.T) {
		if s, err := Open(t.Context(), filepath.Join(t.TempDir(), "a?mode=memory")); err == nil {
			s.Close()
			t.Errorf("got nil error, want one")
		}
	})
	t.Run("an in-memory database, which cannot use WAL", func(t *testing.T) {
		if s, err := Open(t.Context(), ":memory:"); err == nil {
			s.Close()
			t.Errorf("got nil error, want one")
		}
	})
}
