package app

import (
	"context"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/audit"
)

// Intervals of the server's background work.
const (
	keyUseFlushInterval = 5 * time.Second
	// revocationExpiryInterval is how often revocations whose sessions
	// have all expired are dropped, and sessionPruneInterval how often
	// old inventory records are.
	revocationExpiryInterval = time.Minute
	sessionPruneInterval     = time.Hour
	ringCheckInterval        = time.Hour
	// sealingKeyLifetime is how long a session-token key seals before a
	// new one takes over.
	sealingKeyLifetime = 24 * time.Hour
	// maxSessionLifetime is the longest a session token can live
	// (GetSessionToken's 36 hours); retired keys are kept that long.
	maxSessionLifetime = 36 * time.Hour
	// generationPollInterval bounds how long a node sharing a store can
	// miss another node's change if a notification is lost.
	generationPollInterval = time.Second
)

// watcher is what a shared store offers to learn of other nodes' writes.
type watcher interface {
	Watch(ctx context.Context) (<-chan uint64, error)
}

// startBackground runs the periodic work until ctx is done; the returned
// func waits for it to stop and does the final flush.
func (a *App) startBackground(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	every := func(d time.Duration, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					fn()
				}
			}
		}()
	}
	every(keyUseFlushInterval, func() {
		if err := a.IAM.FlushKeyUse(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Warn("flush access key last use", "err", err)
		}
	})
	every(keyUseFlushInterval, func() {
		if err := a.Revoke.FlushUse(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Warn("flush session last use", "err", err)
		}
	})
	every(revocationExpiryInterval, func() {
		if err := a.Revoke.Expire(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Warn("expire revocations", "err", err)
		}
	})
	every(sessionPruneInterval, func() {
		if err := a.Revoke.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Warn("prune session inventory", "err", err)
		}
	})
	a.maintainRing(ctx)
	a.pruneAudit(ctx)
	every(auditPruneInterval, func() { a.pruneAudit(ctx) })
	every(ringCheckInterval, func() { a.maintainRing(ctx) })
	a.runInstances(ctx, &wg)
	if w, ok := a.store.(watcher); ok {
		a.watchGenerations(ctx, w, &wg)
	}
	return func() {
		wg.Wait()
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.IAM.FlushKeyUse(fctx); err != nil {
			a.cfg.Log.Warn("flush access key last use", "err", err)
		}
		if err := a.Revoke.FlushUse(fctx); err != nil {
			a.cfg.Log.Warn("flush session last use", "err", err)
		}
	}
}

// auditPruneInterval is how often records past the retention are deleted.
const auditPruneInterval = time.Hour

// pruneAudit deletes audit records older than the retention.
func (a *App) pruneAudit(ctx context.Context) {
	retention := a.cfg.AuditRetention
	if retention == 0 {
		retention = audit.DefaultRetention
	}
	n, err := audit.Prune(ctx, a.AuditStore, retention, a.cfg.Now())
	if err != nil && ctx.Err() == nil {
		a.cfg.Log.Warn("prune audit records", "err", err)
	} else if n > 0 {
		a.cfg.Log.Info("audit records pruned", "records", n, "retention", retention.String())
	}
}

// maintainRing rotates the session-token sealing key once a day and drops
// keys no unexpired token can need.
func (a *App) maintainRing(ctx context.Context) {
	now := a.cfg.Now()
	if k, ok := a.ring.Active(); ok && now.Sub(k.Created) >= sealingKeyLifetime {
		if _, err := a.ring.RotateAndSave(ctx); err != nil {
			a.cfg.Log.Warn("rotate session token key", "err", err)
			return
		}
		a.cfg.Log.Info("session token key rotated")
	}
	if err := a.ring.PruneAndDelete(ctx, now.Add(-maxSessionLifetime-time.Hour)); err != nil {
		a.cfg.Log.Warn("prune session token keys", "err", err)
	}
}

// watchGenerations invalidates this node's caches when another node
// writes, by notification and, as a fallback, by polling the generation,
// and confirms freshness (freshness.go) after each generation it has fully
// taken in.
//
// On a notification the IAM and S3 caches are invalidated first (an
// atomic add each, so the next request re-reads the store) and the
// revocation set is reloaded next, before anything else: that is the
// propagation path whose delay docs/benchmarks.md measures. A generation
// whose revocations could not be reloaded is not taken as seen, so the
// next poll tries again, and it confirms nothing.
func (a *App) watchGenerations(ctx context.Context, w watcher, wg *sync.WaitGroup) {
	var last uint64
	haveLast := false
	// Bounded so that a hung database cannot hold the loop past the
	// staleness bound; the freshness timer fires regardless.
	opTimeout := a.pollInterval() * 2
	if a.fresh != nil {
		opTimeout = max(opTimeout, a.fresh.bound)
	}
	seen := func(g uint64, at time.Time) {
		if !haveLast || g != last {
			a.IAM.Invalidate()
			if a.S3 != nil {
				a.S3.Invalidate() // buckets, bucket policies, object records
			}
			rctx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			if err := a.Revoke.Reload(rctx); err != nil {
				if ctx.Err() == nil {
					a.cfg.Log.Warn("reload revocations", "err", err)
				}
				return
			}
			if err := a.ring.Reload(rctx); err != nil && ctx.Err() == nil {
				// Not fatal to freshness: a token sealed by a key this
				// node has not loaded fails closed, and authz reloads
				// the ring when it meets an unknown key id.
				a.cfg.Log.Warn("reload session token keys", "err", err)
			}
			last, haveLast = g, true
		}
		if a.fresh != nil {
			a.fresh.confirm(at)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if a.fresh != nil {
			a.fresh.start()
			defer a.fresh.stop()
		}
		ch, err := w.Watch(ctx)
		if err != nil {
			a.cfg.Log.Warn("watch store changes; polling only", "err", err)
		}
		t := time.NewTicker(a.pollInterval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case g, ok := <-ch:
				if !ok {
					ch = nil
					continue
				}
				seen(g, time.Now())
			case <-t.C:
				at := time.Now()
				pctx, cancel := context.WithTimeout(ctx, opTimeout)
				g, err := a.store.Generation(pctx)
				cancel()
				if err == nil {
					seen(g, at)
				} else if ctx.Err() == nil {
					a.cfg.Log.Warn("poll store generation", "err", err)
				}
			}
		}
	}()
}

// pollInterval is how often the generation is polled: often enough that
// a few slow or lost polls do not make a healthy node stale.
func (a *App) pollInterval() time.Duration {
	if a.fresh == nil {
		return generationPollInterval
	}
	return min(generationPollInterval, max(a.fresh.bound/4, 10*time.Millisecond))
}
