package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/storetest"
)

// go test -run '^$' -bench . ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) kv.Store {
		return openAt(b, filepath.Join(b.TempDir(), "iamd.db"))
	})
}

// BenchmarkSynchronousNormal is the same store with synchronous=NORMAL,
// to show what FULL costs (see Open and docs/decisions/0004-sqlite-driver.md).
func BenchmarkSynchronousNormal(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) kv.Store {
		s, err := open(b.Context(), filepath.Join(b.TempDir(), "iamd.db"), driverName, "NORMAL")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
