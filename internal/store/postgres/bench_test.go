package postgres

import (
	"testing"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/pgtest"
	"github.com/iamd/iamd/internal/store/storetest"
)

// go test -run '^$' -bench . ./internal/store/postgres
//
// Against pgtest's server, which runs with fsync=off: Put figures leave
// out the WAL flush a production server pays on commit.
func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) kv.Store { return openDSN(b, pgtest.DSN(b)) })
}
