package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/audit/audittest"
)

// BenchmarkAuditWriterGroupCommit appends records from many goroutines
// through the Writer, each waiting for its record to be durable (fsync'd),
// as mutating calls do. Report: records/s.
//
//	go test ./internal/store/sqlite -run '^$' -bench AuditWriter -benchtime 100000x
func BenchmarkAuditWriterGroupCommit(b *testing.B) {
	st, err := OpenAudit(context.Background(), filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := audit.NewWriter(audit.WriterConfig{Store: st})
	defer w.Close()
	recs := audittest.Records(b, 0, 1000)
	b.SetParallelism(256)
	b.ResetTimer()
	start := time.Now()
	var mu sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			r := *recs[i%len(recs)]
			i++
			mu.Unlock()
			if err := w.Append(context.Background(), &r, true); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkAuditLookupByAccessKey1M looks up one access key's newest page
// (50 events) in a trail of 1,000,000 records. The trail is built once and
// kept in $TMPDIR/iamd-audit-bench-1m.db between runs. Report: p50 and p99.
//
//	go test ./internal/store/sqlite -run '^$' -bench AuditLookupByAccessKey1M -benchtime 2000x
func BenchmarkAuditLookupByAccessKey1M(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "iamd-audit-bench-1m.db")
	st, err := OpenAudit(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	_, head, err := st.Chain(ctx)
	if err != nil {
		b.Fatal(err)
	}
	const total = 1_000_000
	for n := head.Seq; n < total; n += 4096 {
		if err := st.Append(ctx, audittest.Records(b, int(n), int(min(4096, total-n)))); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := audittest.Event(i % 1000).UserIdentity.AccessKeyID
		t0 := time.Now()
		out, err := audit.Lookup(ctx, st, audit.LookupInput{Attributes: []audit.Attribute{{Key: audit.AttrAccessKeyID, Value: key}}})
		lat = append(lat, time.Since(t0))
		if err != nil || len(out.Records) != 50 {
			b.Fatalf("got %d records, %v", len(out.Records), err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAuditAppendBatched is the store's write path alone: batches of
// 4096 records, one transaction and fsync each. Report: records/s.
//
//	go test ./internal/store/sqlite -run '^$' -bench AuditAppendBatched -benchtime 100000x
func BenchmarkAuditAppendBatched(b *testing.B) {
	st, err := OpenAudit(context.Background(), filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var spent time.Duration
	for done := 0; done < b.N; done += 4096 {
		n := min(4096, b.N-done)
		recs := audittest.Records(b, done, n)
		t0 := time.Now()
		if err := st.Append(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(t0)
	}
	b.ReportMetric(float64(b.N)/spent.Seconds(), "records/s")
}
