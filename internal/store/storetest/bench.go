package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/iamd/iamd/internal/kv"
)

// benchKeys is the size of the table the benchmarks read: a small IAM
// deployment's worth of entities.
const benchKeys = 1000

// Benchmark measures the operations the domain performs most: one Get in a
// View (a cache miss), one Put in an Update (a write through the API),
// and a Scan of 100 keys (a List call's page). open must return a new,
// empty store.
func Benchmark(b *testing.B, open func(b *testing.B) kv.Store) {
	value := make([]byte, 200) // about one serialized IAM entity
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	key := func(i int) string { return fmt.Sprintf("user/%06d", i) }
	fill := func(b *testing.B) kv.Store {
		s := open(b)
		err := s.Update(b.Context(), func(tx kv.Tx) error {
			for i := range benchKeys {
				if err := tx.Put("users", key(i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}

	b.Run("Get", func(b *testing.B) {
		s := fill(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			err := s.View(b.Context(), func(tx kv.Tx) error {
				_, err := tx.Get("users", key(i*7919%benchKeys))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		s := fill(b)
		b.ReportAllocs()
		b.ResetTimer() // RunParallel does not reset it the way b.Loop does
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				err := s.View(b.Context(), func(tx kv.Tx) error {
					_, err := tx.Get("users", key(rand.IntN(benchKeys)))
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Put", func(b *testing.B) {
		s := fill(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			err := s.Update(b.Context(), func(tx kv.Tx) error {
				return tx.Put("users", key(i*7919%benchKeys), value)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Scan100", func(b *testing.B) {
		s := fill(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			n := 0
			err := s.View(b.Context(), func(tx kv.Tx) error {
				return tx.Scan("users", "user/", key(i*7919%(benchKeys-100)), 100, func(string, []byte) error {
					n++
					return nil
				})
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != 100 {
				b.Fatalf("Scan: got %d keys, want 100", n)
			}
		}
	})
}
