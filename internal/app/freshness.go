package app

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultStalenessBound is how long a node sharing a store may go without
// confirming the store's generation before it stops authorizing requests
// (docs/decisions/0015-multi-node-freshness.md).
const DefaultStalenessBound = 2 * time.Second

// freshness tracks when this node last confirmed that its view of the
// shared store — IAM snapshots, revocations, sealing keys — is current,
// and fails the node closed when that is longer ago than the bound.
//
// A confirmation is a generation read from the store (a poll, timed from
// when the read began) or heard from it (a notification), after every
// cache it concerns was invalidated and the revocation set reloaded. A
// timer, not the request path, turns the absence of confirmations into
// "stale", so authz pays one atomic load per request and a node whose
// watch loop is itself stuck in a hung query still goes stale on time.
//
// It uses the monotonic clock (time.Now), never Config.Now: staleness is
// about real elapsed time since contact with the database, and a test's
// fixed or fast-forwarded clock must not make a node fresh or stale.
type freshness struct {
	bound time.Duration
	log   *slog.Logger
	stale atomic.Bool // read by authz on every request

	mu        sync.Mutex
	confirmed time.Time // monotonic; the latest confirmation
	timer     *time.Timer
	stopped   bool
}

func newFreshness(bound time.Duration, log *slog.Logger) *freshness {
	return &freshness{bound: bound, log: log, confirmed: time.Now()}
}

// start arms the staleness timer; the caches were loaded just before, so
// the node starts fresh.
func (f *freshness) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirmed = time.Now()
	f.stale.Store(false)
	f.stopped = false
	if f.timer == nil {
		f.timer = time.AfterFunc(f.bound, f.check)
	} else {
		f.timer.Reset(f.bound)
	}
}

// stop disarms the timer.
func (f *freshness) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.timer != nil {
		f.timer.Stop()
	}
}

// confirm records that the node's view was current as of t.
func (f *freshness) confirm(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.confirmed) {
		f.confirmed = t
	}
	age := time.Since(f.confirmed)
	if age >= f.bound {
		return // a confirmation that arrives too late does not make us fresh
	}
	if f.stale.Load() {
		f.stale.Store(false)
		f.log.Info("shared store confirmed again; authorizing requests", "bound", f.bound.String())
	}
	if f.timer != nil && !f.stopped {
		f.timer.Reset(f.bound - age)
	}
}

// check runs when the timer fires: stale if no confirmation came within
// the bound, else re-armed for the rest of it.
func (f *freshness) check() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	age := time.Since(f.confirmed)
	if age < f.bound {
		f.timer.Reset(f.bound - age)
		return
	}
	if !f.stale.Load() {
		f.stale.Store(true)
		f.log.Warn("cannot confirm the shared store's state; denying requests until it can", "last_confirmed_ago", age.Round(time.Millisecond).String(), "bound", f.bound.String())
	}
}

// age is how long ago the last confirmation was.
func (f *freshness) age() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Since(f.confirmed)
}
