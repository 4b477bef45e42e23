package token

import (
	"crypto/rand"
	"testing"
	"time"
)

// A typical AssumeRole session: no session policy, a couple of tags.
func benchSession() *Session {
	s := fullSession()
	s.Policy, s.PolicyARNs, s.TransitiveTagKeys = "", nil, nil
	s.Tags = s.Tags[:2]
	return s
}

func BenchmarkOpen(b *testing.B) {
	for _, bc := range []struct {
		name string
		s    *Session
	}{
		{"typical", benchSession()},
		{"full", fullSession()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := newTestRing(b, 1)
			// A few retired keys, as after a day and a half of rotations.
			for range 3 {
				if _, err := r.Rotate(t0, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
			tok := seal(b, r, bc.s)
			b.SetBytes(int64(len(tok)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := r.Open(tok); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkOpenCold opens a token the ring has not opened before: the cost
// of a session's first request (base64, AES-GCM, decode).
func BenchmarkOpenCold(b *testing.B) {
	r := newTestRing(b, 1)
	tok := seal(b, r, benchSession())
	set := r.set.Load()
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := r.open(tok, set); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

func BenchmarkOpenParallel(b *testing.B) {
	r := newTestRing(b, 1)
	tok := seal(b, r, benchSession())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Open(tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	r := newTestRing(b, 1)
	s := benchSession()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := r.Seal(s, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU adds cpu-ns/op: process CPU time (including GC) per operation,
// which unlike ns/op does not grow when the machine is shared.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
