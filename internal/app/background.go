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
// writes, by notification and, as a fallback, by polling the generation.
func (a *App) watchGenerations(ctx context.Context, w watcher, wg *sync.WaitGroup) {
	var last uint64
	seen := func(g uint64) {
		if g != last {
			last = g
			a.IAM.Invalidate()
			if a.S3 != nil {
				a.S3.Invalidate() // buckets, bucket policies, object records
			}
			if err := a.Revoke.Reload(ctx); err != nil && ctx.Err() == nil {
				a.cfg.Log.Warn("reload revocations", "err", err)
			}
			if err := a.ring.Reload(ctx); err != nil && ctx.Err() == nil {
				a.cfg.Log.Warn("reload session token keys", "err", err)
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ch, err := w.Watch(ctx)
		if err != nil {
			a.cfg.Log.Warn("watch store changes; polling only", "err", err)
		}
		t := time.NewTicker(generationPollInterval)
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
				seen(g)
			case <-t.C:
				if g, err := a.store.Generation(ctx); err == nil {
					seen(g)
				} else if ctx.Err() == nil {
					a.cfg.Log.Warn("poll store generation", "err", err)
				}
			}
		}
	}()
}
