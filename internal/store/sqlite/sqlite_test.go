package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/storetest"
)

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t,
		func(t *testing.T) kv.Store { return openAt(t, filepath.Join(t.TempDir(), "iamd.db")) },
		storetest.WithReopen(func(t *testing.T) func(t *testing.T) kv.Store {
			path := filepath.Join(t.TempDir(), "iamd.db")
			return func(t *testing.T) kv.Store { return openAt(t, path) }
		}),
	)
}
