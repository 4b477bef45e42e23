package app

import (
	"log/slog"
	"testing"
	"time"
)

// TestFreshness: a node goes stale a bound after its last confirmation,
// by its timer alone, and a timely confirmation makes it fresh again; a
// confirmation of a moment already past the bound does not.
func TestFreshness(t *testing.T) {
	const bound = 200 * time.Millisecond
	f := newFreshness(bound, slog.New(slog.DiscardHandler))
	f.start()
	defer f.stop()
	if f.stale.Load() {
		t.Fatal("stale at start, want fresh")
	}
	for range 4 { // confirmations within the bound keep it fresh
		time.Sleep(bound / 8)
		f.confirm(time.Now())
	}
	if f.stale.Load() {
		t.Fatal("stale while confirmed every eighth of the bound, want fresh")
	}
	waitFor(t, func() bool { return f.stale.Load() }, "stale after a bound without confirmation")

	f.confirm(time.Now().Add(-2 * bound))
	if !f.stale.Load() {
		t.Error("fresh after a confirmation older than the bound, want stale")
	}
	f.confirm(time.Now())
	if f.stale.Load() {
		t.Error("stale after a fresh confirmation, want fresh")
	}
	waitFor(t, func() bool { return f.stale.Load() }, "stale again after another bound")
}

func TestFreshnessStopped(t *testing.T) {
	f := newFreshness(10*time.Millisecond, slog.New(slog.DiscardHandler))
	f.start()
	f.stop()
	time.Sleep(30 * time.Millisecond)
	if f.stale.Load() {
		t.Error("a stopped tracker went stale")
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 5s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
