package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultFlushInterval bounds how long a record appended without waiting
// (a read-only call's) stays in memory before it is written: well under
// the one second within which LookupEvents must see it.
const DefaultFlushInterval = 100 * time.Millisecond

// maxBatch bounds one transaction; a bigger backlog is written as several.
const maxBatch = 4096

// maxPending bounds the records waiting in memory; appenders wait beyond it.
const maxPending = 65536

// Writer appends records with group commit: the records of concurrent calls
// are written together in one transaction (one fsync), so a durable append
// costs a share of an fsync rather than one of its own. Durable appends
// (mutating calls, issued credentials) return once their transaction has
// committed; others return at once and are written within FlushInterval.
type Writer struct {
	store    Store
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	space   *sync.Cond // signalled when pending shrinks
	pending []entry
	closed  bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

type entry struct {
	rec  *Record
	done chan error // nil when nobody waits
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	Store         Store
	Log           *slog.Logger
	FlushInterval time.Duration // zero: DefaultFlushInterval
}

// NewWriter starts a Writer; Close stops it.
func NewWriter(cfg WriterConfig) *Writer {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{store: cfg.Store, log: cfg.Log, interval: cfg.FlushInterval,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.space = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Append queues rec. With durable, it returns only when rec is committed
// (or with the error that kept it from being committed); without, it
// returns at once.
func (w *Writer) Append(ctx context.Context, rec *Record, durable bool) error {
	var done chan error
	if durable {
		done = make(chan error, 1)
	}
	w.mu.Lock()
	for len(w.pending) >= maxPending && !w.closed {
		w.space.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.pending = append(w.pending, entry{rec: rec, done: done})
	w.mu.Unlock()
	if !durable {
		return nil
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit: waiting for the record to be written: %w", ctx.Err())
	}
}

// Flush writes every record queued before it was called.
func (w *Writer) Flush(ctx context.Context) error {
	return w.Append(ctx, nil, true)
}

// Close writes what is queued and stops the Writer. It does not close
// the store.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.space.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-w.kick:
		case <-t.C:
		case <-w.stop:
			for w.flush() > 0 {
			}
			return
		}
		for w.flush() >= maxBatch {
			// A backlog: keep writing without waiting for a tick.
		}
	}
}

// flush writes one batch and reports how many entries it took.
func (w *Writer) flush() int {
	w.mu.Lock()
	n := min(len(w.pending), maxBatch)
	if n == 0 {
		w.mu.Unlock()
		return 0
	}
	batch := make([]entry, n)
	copy(batch, w.pending[:n])
	rest := copy(w.pending, w.pending[n:])
	clear(w.pending[rest:])
	w.pending = w.pending[:rest]
	w.space.Broadcast()
	w.mu.Unlock()

	recs := make([]*Record, 0, n)
	for _, e := range batch {
		if e.rec != nil {
			recs = append(recs, e.rec)
		}
	}
	var err error
	if len(recs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = w.store.Append(ctx, recs)
		cancel()
	}
	if err != nil {
		w.log.Error("audit: write records", "records", len(recs), "err", err)
		// Durable waiters see the failure and fail their calls; records
		// nobody waits for are queued again, ahead of newer ones.
		var retry []entry
		for _, e := range batch {
			if e.done == nil && e.rec != nil {
				e.rec.Seq, e.rec.PrevHash, e.rec.Hash = 0, nil, nil
				retry = append(retry, e)
			}
		}
		if len(retry) > 0 {
			w.mu.Lock()
			if !w.closed {
				w.pending = append(retry, w.pending...)
			}
			w.mu.Unlock()
		}
	}
	for _, e := range batch {
		if e.done != nil {
			e.done <- err
		}
	}
	if err != nil {
		return 0
	}
	return n
}
