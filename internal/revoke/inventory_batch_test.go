package revoke

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// countingStore counts the transactions the inventory writes and can be
// told to fail them.
type countingStore struct {
	kv.Store
	uncached atomic.Int64
	fail     atomic.Bool
	panics   atomic.Bool
	slow     time.Duration
}

var errDiskFull = errors.New("disk full")

func (s *countingStore) UpdateUncached(ctx context.Context, fn func(kv.Tx) error) error {
	s.uncached.Add(1)
	time.Sleep(s.slow) // an fsync, during which callers queue up
	if s.fail.Load() {
		return errDiskFull
	}
	if s.panics.CompareAndSwap(true, false) {
		panic("store bug")
	}
	return s.Store.UpdateUncached(ctx, fn)
}

func session(key, role string, now time.Time) *token.Session {
	return &token.Session{AccessKeyID: key, Account: "000000000000", Kind: token.AssumedRole, PrincipalID: "AROA" + role,
		PrincipalName: role, PrincipalPath: "/", SessionName: "s", IssuedAt: now, Expires: now.Add(time.Hour)}
}

func TestConcurrentSessionsShareTransactionsAndAllLand(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.advance(time.Hour)
	st := &countingStore{Store: newStore(t), slow: 2 * time.Millisecond}
	s := newService(t, st, c)
	g0, err := st.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.RecordSession(ctx, session(fmt.Sprintf("ASIA%016d", i), "r", c.now()), Origin{})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("RecordSession: %v", err)
		}
	}
	for i := range n {
		if _, err := s.Session(ctx, fmt.Sprintf("ASIA%016d", i)); err != nil {
			t.Fatalf("session %d after RecordSession returned: %v", i, err)
		}
	}
	got, err := s.Sessions(ctx, "AROAr")
	if err != nil || len(got) != n {
		t.Fatalf("Sessions: got %d, %v; want %d", len(got), err, n)
	}
	if tx := st.uncached.Load(); tx >= n/2 {
		t.Errorf("transactions for %d concurrent sessions: got %d, want far fewer", n, tx)
	}
	if g, err := st.Generation(ctx); err != nil || g != g0 {
		t.Errorf("generation after recording sessions: got %d, %v; want %d (other nodes' caches stay warm)", g, err, g0)
	}
}

func TestSessionThatCannotBeRecordedFailsItsCall(t *testing.T) {
	t.Parallel()
	c := &clock{}
	st := &countingStore{Store: newStore(t), slow: time.Millisecond}
	s := newService(t, st, c)
	st.fail.Store(true)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.RecordSession(ctx, session(fmt.Sprintf("ASIA%016d", i), "r", c.now()), Origin{}); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 20 {
		t.Fatalf("calls that failed while the store fails: got %d, want 20", failed.Load())
	}
	st.fail.Store(false)
	if err := s.RecordSession(ctx, session("ASIAAFTERWARDS00001", "r", c.now()), Origin{}); err != nil {
		t.Fatalf("RecordSession once the store works again: %v", err)
	}
}

func TestCallerThatGivesUpDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	c := &clock{}
	st := &countingStore{Store: newStore(t), slow: 20 * time.Millisecond}
	s := newService(t, st, c)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.RecordSession(cctx, session("ASIAGIVESUP00000001", "r", c.now()), Origin{}) }()
	time.Sleep(5 * time.Millisecond) // it is writing, or about to
	cancel()
	if err := s.RecordSession(ctx, session("ASIAWAITS0000000001", "r", c.now()), Origin{}); err != nil {
		t.Fatalf("RecordSession beside a caller that gave up: %v", err)
	}
	<-done
	if _, err := s.Session(ctx, "ASIAWAITS0000000001"); err != nil {
		t.Fatalf("session of the caller that waited: %v", err)
	}
}

func TestPanickingWriteFailsItsBatchAndFreesTheNext(t *testing.T) {
	t.Parallel()
	c := &clock{}
	st := &countingStore{Store: newStore(t)}
	s := newService(t, st, c)
	st.panics.Store(true)
	func() {
		defer func() {
			if r := recover(); r != "store bug" {
				t.Errorf("recovered %v, want the store's panic", r)
			}
		}()
		s.RecordSession(ctx, session("ASIAPANICS000000001", "r", c.now()), Origin{})
	}()
	if _, err := s.Session(ctx, "ASIAPANICS000000001"); err == nil {
		t.Errorf("session whose write panicked: found, want absent")
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.RecordSession(tctx, session("ASIAAFTERPANIC00001", "r", c.now()), Origin{}); err != nil {
		t.Fatalf("RecordSession after a panicking write: %v", err)
	}
}
