package revoke

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/kv"
)

// maxSessionBatch bounds the sessions one inventory transaction writes; a
// bigger backlog is written as several.
const maxSessionBatch = 1024

// sessionWriteTimeout bounds one inventory transaction. The batch is
// written with a context detached from any one caller's, so a client that
// hangs up does not fail the calls batched with it.
const sessionWriteTimeout = 30 * time.Second

// sessionBatch writes inventory records with group commit: the records of
// concurrent RecordSession calls are written in one UpdateUncached (one
// fsync), and each call returns once the transaction holding its record
// has committed, or with the error that kept it from committing.
//
// There is no background goroutine: the first caller to find nobody
// writing becomes the writer, takes everything queued (its own record
// included) and writes it; callers that arrive meanwhile queue up for the
// next transaction, which one of them writes. A lone caller pays one
// transaction, as before; under load a transaction carries every record
// that arrived during the previous one, so the inventory costs a share of
// an fsync per session instead of a whole, serialized one.
type sessionBatch struct {
	store kv.Store

	mu    sync.Mutex
	queue []*pendingSession

	turn chan struct{} // one slot, held by the caller that is writing
}

type pendingSession struct {
	rec  *Session
	val  []byte        // rec, encoded
	done chan struct{} // closed once err is set
	err  error
}

func newSessionBatch(store kv.Store) *sessionBatch {
	return &sessionBatch{store: store, turn: make(chan struct{}, 1)}
}

// write queues p and returns once it is committed (nil) or has failed.
// A caller whose ctx ends stops waiting and gets ctx's error; its record
// may still be written, which is harmless: the session it describes is
// never handed out.
func (b *sessionBatch) write(ctx context.Context, p *pendingSession) error {
	p.done = make(chan struct{})
	b.mu.Lock()
	b.queue = append(b.queue, p)
	b.mu.Unlock()
	for {
		select {
		case <-p.done:
			return p.err
		case <-ctx.Done():
			return fmt.Errorf("waiting for the session record to be written: %w", ctx.Err())
		case b.turn <- struct{}{}:
		}
		// This caller writes. Its record may have been committed by the
		// writer before it; the queue is then someone else's to write.
		select {
		case <-p.done:
			<-b.turn
			return p.err
		default:
		}
		func() {
			defer func() { <-b.turn }()
			b.flush(ctx)
		}()
		// The queue is first in, first out and p was in it, so flush took
		// p unless more than maxSessionBatch records were ahead of it.
	}
}

// flush writes up to maxSessionBatch queued records in one transaction and
// reports the outcome to each of their callers. Only the turn holder
// calls it.
func (b *sessionBatch) flush(ctx context.Context) {
	b.mu.Lock()
	n := min(len(b.queue), maxSessionBatch)
	batch := make([]*pendingSession, n)
	copy(batch, b.queue)
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	b.mu.Unlock()
	if n == 0 {
		return
	}
	// Every caller in the batch hears how it ended, even if the write
	// panics: none may wait forever, nor be told its record was written.
	err := errUnfinished
	defer func() {
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sessionWriteTimeout)
	defer cancel()
	err = b.store.UpdateUncached(wctx, func(tx kv.Tx) error {
		for _, p := range batch {
			if err := tx.Put(tSessions, p.rec.AccessKeyID, p.val); err != nil {
				return err
			}
			if err := tx.Put(tPrincipal, principalKey(p.rec), nil); err != nil {
				return err
			}
			if p.rec.IssuerKeyID != "" {
				if err := tx.Put(tIssuer, issuerKey(p.rec), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

var errUnfinished = errors.New("the session write did not finish")
