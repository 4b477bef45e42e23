//go:build drivercompare

// The driver comparison behind docs/decisions/0004-sqlite-driver.md. It
// links both drivers, so it is kept out of ordinary builds:
//
//	go test -tags drivercompare -run '^$' -bench Driver ./internal/store/sqlite
package sqlite

import (
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo)
	_ "modernc.org/sqlite"          // registers "sqlite" (pure Go)

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/storetest"
)

func BenchmarkDriver(b *testing.B) {
	for _, d := range []struct{ name, driver string }{
		{"modernc", "sqlite"},
		{"mattn", "sqlite3"},
	} {
		b.Run(d.name, func(b *testing.B) {
			storetest.Benchmark(b, func(b *testing.B) kv.Store {
				s, err := open(b.Context(), filepath.Join(b.TempDir(), "iamd.db"), d.driver, "FULL")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}

// TestContractMattn runs the contract suite on the driver not chosen, so
// that switching stays a one-line change.
func TestContractMattn(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kv.Store {
		s, err := open(t.Context(), filepath.Join(t.TempDir(), "iamd.db"), "sqlite3", "FULL")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
