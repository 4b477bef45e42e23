package iam_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/secretbox"
	"github.com/iamd/iamd/internal/store/sqlite"
)

var ctx = context.Background()

// world is an iam.Service on a real SQLite store in a temporary
// directory, with a clock the test moves.
type world struct {
	svc   *iam.Service
	store kv.Store
	dir   string
	box   iam.Sealer
	clock atomic.Int64 // unix nanoseconds
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secretbox.New(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: st, dir: dir, box: box}
	w.clock.Store(epoch.UnixNano())
	w.svc = w.service()
	return w
}

// service returns a new Service over the world's store, as a restarted
// server would have.
func (w *world) service() *iam.Service {
	return iam.New(iam.Config{Store: w.store, Account: "123456789012", Now: w.now, Rand: rand.Reader, Secrets: w.box})
}

func (w *world) now() time.Time          { return time.Unix(0, w.clock.Load()).UTC() }
func (w *world) advance(d time.Duration) { w.clock.Add(int64(d)) }
func (w *world) user(t *testing.T, name string) {
	t.Helper()
	if _, err := w.svc.CreateUser(ctx, iam.CreateUserInput{Name: name}); err != nil {
		t.Fatal(err)
	}
}

// fileBytes is everything SQLite has written: the database and its WAL.
func (w *world) fileBytes(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{"iamd.db", "iamd.db-wal"} {
		b, err := os.ReadFile(filepath.Join(w.dir, f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// wantCode fails unless err is an apierr with the code (and, if msg is
// not empty, the message).
func wantCode(t *testing.T, err error, code apierr.Code, msg string) {
	t.Helper()
	e := apierr.As(err)
	if e == nil || e.Code != code || msg != "" && e.Message != msg {
		t.Fatalf("got error %v, want %s %q", err, code, msg)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCreateAccessKey(t *testing.T) {
	t.Parallel()
	t.Run("a user gets at most two keys", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		for range 2 {
			k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
			if len(k.ID) != 20 || k.ID[:4] != "AKIA" {
				t.Errorf("got key id %q, want AKIA and 16 more characters", k.ID)
			}
			if len(k.SecretAccessKey) != 40 {
				t.Errorf("got a %d-character secret, want 40", len(k.SecretAccessKey))
			}
			if k.Status != iam.StatusActive || k.UserName != "alice" || !k.CreateDate.Equal(epoch) {
				t.Errorf("got %+v, want an Active key of alice created at %v", k.AccessKey, epoch)
			}
		}
		_, err := w.svc.CreateAccessKey(ctx, "alice")
		wantCode(t, err, apierr.LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2")
	})
	t.Run("inactive keys count towards the limit", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		if err := w.svc.UpdateAccessKey(ctx, "alice", k.ID, iam.StatusInactive); err != nil {
			t.Fatal(err)
		}
		must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		_, err := w.svc.CreateAccessKey(ctx, "alice")
		wantCode(t, err, apierr.LimitExceeded, "")
	})
	t.Run("a deleted key frees its slot", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		if err := w.svc.DeleteAccessKey(ctx, "alice", k.ID); err != nil {
			t.Fatal(err)
		}
		must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
	})
	t.Run("an unknown user has no keys", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, err := w.svc.CreateAccessKey(ctx, "nobody")
		wantCode(t, err, apierr.NoSuchEntity, "The user with name nobody cannot be found.")
	})
	t.Run("the user name is matched without regard to case and stored as created", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "Alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "ALICE"))
		if k.UserName != "Alice" {
			t.Errorf("got user %q, want Alice", k.UserName)
		}
	})
}

func TestCreateAccessKeyConcurrentlyStillAllowsTwo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	var (
		wg                 sync.WaitGroup
		ok, limited, other atomic.Int32
	)
	for range 8 {
		wg.Go(func() {
			_, err := w.svc.CreateAccessKey(ctx, "alice")
			switch {
			case err == nil:
				ok.Add(1)
			case apierr.Is(err, apierr.LimitExceeded):
				limited.Add(1)
			default:
				t.Errorf("got error %v, want nil or LimitExceeded", err)
				other.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 2 || limited.Load() != 6 {
		t.Errorf("got %d created and %d LimitExceeded, want 2 and 6", ok.Load(), limited.Load())
	}
	res := must[*iam.Paged[iam.AccessKey]](t)(w.svc.ListAccessKeys(ctx, "alice", iam.Page{}))
	if len(res.Items) != 2 {
		t.Errorf("got %d stored keys, want 2", len(res.Items))
	}
}

func TestAccessKeyStatusIsInForceImmediately(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))

	steps := []struct {
		name       string
		do         func() error
		wantActive bool
	}{
		{"a new key is active", func() error { return nil }, true},
		{"a deactivated key is inactive at once", func() error {
			return w.svc.UpdateAccessKey(ctx, "alice", k.ID, iam.StatusInactive)
		}, false},
		{"a reactivated key is active at once", func() error {
			return w.svc.UpdateAccessKey(ctx, "alice", k.ID, iam.StatusActive)
		}, true},
	}
	for _, st := range steps { // in order: each builds on the last
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		a, err := w.svc.AccessKeyAuth(ctx, k.ID)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if a.Active != st.wantActive {
			t.Errorf("%s: got Active %v, want %v", st.name, a.Active, st.wantActive)
		}
		if a.Secret != k.SecretAccessKey || a.UserName != "alice" {
			t.Errorf("%s: got secret/user %q/%q, want the created key's", st.name, a.Secret, a.UserName)
		}
	}
	if err := w.svc.DeleteAccessKey(ctx, "alice", k.ID); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.AccessKeyAuth(ctx, k.ID)
	wantCode(t, err, apierr.NoSuchEntity, "")
}

func TestAccessKeySecretIsSealedAtRest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	var secrets []string
	for range 2 {
		secrets = append(secrets, must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice")).SecretAccessKey)
	}
	raw := w.fileBytes(t)
	if len(raw) == 0 {
		t.Fatal("read no database bytes")
	}
	if !bytes.Contains(raw, []byte("alice")) {
		t.Fatal("the database bytes do not even hold the user name; the scan is not looking at the data")
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database holds the secret %q in plaintext", s)
		}
	}
	res := must[*iam.Paged[iam.AccessKey]](t)(w.svc.ListAccessKeys(ctx, "alice", iam.Page{}))
	for _, k := range res.Items {
		if k.Secret != nil {
			t.Errorf("ListAccessKeys returned key %s with its sealed secret", k.ID)
		}
	}
}

func TestListAccessKeysPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	w.user(t, "bob")
	a := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
	b := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
	must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "bob"))

	p1 := must[*iam.Paged[iam.AccessKey]](t)(w.svc.ListAccessKeys(ctx, "alice", iam.Page{MaxItems: 1}))
	if len(p1.Items) != 1 || !p1.IsTruncated || p1.Marker == "" {
		t.Fatalf("first page: got %d items, truncated %v, marker %q; want 1, true, a marker", len(p1.Items), p1.IsTruncated, p1.Marker)
	}
	p2 := must[*iam.Paged[iam.AccessKey]](t)(w.svc.ListAccessKeys(ctx, "alice", iam.Page{MaxItems: 1, Marker: p1.Marker}))
	if len(p2.Items) != 1 || p2.IsTruncated {
		t.Fatalf("second page: got %d items, truncated %v; want 1, false", len(p2.Items), p2.IsTruncated)
	}
	got := map[string]bool{p1.Items[0].ID: true, p2.Items[0].ID: true}
	if !got[a.ID] || !got[b.ID] {
		t.Errorf("got keys %v, want %s and %s", got, a.ID, b.ID)
	}
	_, err := w.svc.ListAccessKeys(ctx, "nobody", iam.Page{})
	wantCode(t, err, apierr.NoSuchEntity, "")
}

func TestAccessKeysAreScopedToTheirUser(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	w.user(t, "bob")
	k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
	notFound := "The Access Key with id " + k.ID + " cannot be found."
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"bob cannot deactivate alice's key", func() error { return w.svc.UpdateAccessKey(ctx, "bob", k.ID, iam.StatusInactive) }},
		{"bob cannot delete alice's key", func() error { return w.svc.DeleteAccessKey(ctx, "bob", k.ID) }},
		{"an unknown key cannot be deleted", func() error { return w.svc.DeleteAccessKey(ctx, "alice", "AKIAAAAAAAAAAAAAAAAA") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := notFound
			if tc.name == "an unknown key cannot be deleted" {
				want = "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found."
			}
			wantCode(t, tc.do(), apierr.NoSuchEntity, want)
		})
	}
	wantCode(t, w.svc.UpdateAccessKey(ctx, "alice", k.ID, "Expired"), apierr.InvalidInput, "")
	if a := must[*iam.KeyAuth](t)(w.svc.AccessKeyAuth(ctx, k.ID)); !a.Active {
		t.Error("alice's key was changed by failed calls")
	}
}

func TestAccessKeyLastUsed(t *testing.T) {
	t.Parallel()
	t.Run("a key never used reports N/A", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		user, used, err := w.svc.GetAccessKeyLastUsed(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := iam.LastUsed{ServiceName: "N/A", Region: "N/A"}
		if user != "alice" || used != want {
			t.Errorf("got %q %+v, want alice %+v", user, used, want)
		}
	})
	t.Run("a use is reported before it is flushed, without writing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		gen := must[uint64](t)(w.store.Generation(ctx))
		at := epoch.Add(time.Minute)
		w.svc.RecordKeyUse(k.ID, "sts", "eu-west-1", at)
		w.svc.RecordKeyUse(k.ID, "iam", "us-east-1", at.Add(-time.Second)) // older: ignored
		if got := must[uint64](t)(w.store.Generation(ctx)); got != gen {
			t.Errorf("RecordKeyUse wrote to the store: generation %d, want %d", got, gen)
		}
		_, used, err := w.svc.GetAccessKeyLastUsed(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := iam.LastUsed{Date: at, ServiceName: "sts", Region: "eu-west-1"}
		if used != want {
			t.Errorf("got %+v, want %+v", used, want)
		}
	})
	t.Run("a flush leaves the store generation and every cache alone", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		must[*iam.KeyAuth](t)(w.svc.AccessKeyAuth(ctx, k.ID)) // cached
		storeGen := must[uint64](t)(w.store.Generation(ctx))
		localGen := w.svc.Generation()
		at := epoch.Add(time.Hour)
		w.svc.RecordKeyUse(k.ID, "s3", "eu-west-1", at)
		if err := w.svc.FlushKeyUse(ctx); err != nil {
			t.Fatalf("FlushKeyUse: %v", err)
		}
		if got := must[uint64](t)(w.store.Generation(ctx)); got != storeGen {
			t.Errorf("got store generation %d after a flush, want %d (other nodes would drop their caches)", got, storeGen)
		}
		if got := w.svc.Generation(); got != localGen {
			t.Errorf("got IAM generation %d after a flush, want %d", got, localGen)
		}
		_, used, err := w.service().GetAccessKeyLastUsed(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (iam.LastUsed{Date: at, ServiceName: "s3", Region: "eu-west-1"}); used != want {
			t.Errorf("after the flush a fresh service reads %+v, want %+v", used, want)
		}
		// Deactivation still advances the generation and reaches the cache,
		// and a later flush does not bring the old status back.
		if err := w.svc.UpdateAccessKey(ctx, "alice", k.ID, iam.StatusInactive); err != nil {
			t.Fatal(err)
		}
		if got := must[uint64](t)(w.store.Generation(ctx)); got == storeGen {
			t.Errorf("UpdateAccessKey left the store generation at %d, want it advanced", got)
		}
		w.svc.RecordKeyUse(k.ID, "s3", "eu-west-1", at.Add(time.Minute))
		if err := w.svc.FlushKeyUse(ctx); err != nil {
			t.Fatalf("FlushKeyUse: %v", err)
		}
		for name, svc := range map[string]*iam.Service{"this service": w.svc, "a fresh service": w.service()} {
			if ka := must[*iam.KeyAuth](t)(svc.AccessKeyAuth(ctx, k.ID)); ka.Active {
				t.Errorf("%s: got an active key after UpdateAccessKey Inactive and a flush, want inactive", name)
			}
		}
	})
	t.Run("a flushed use survives a restart", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		gone := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		at := epoch.Add(time.Hour)
		w.svc.RecordKeyUse(k.ID, "iam", "us-east-1", at)
		w.svc.RecordKeyUse(gone.ID, "iam", "us-east-1", at)
		if err := w.svc.DeleteAccessKey(ctx, "alice", gone.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.FlushKeyUse(ctx); err != nil {
			t.Fatalf("FlushKeyUse: %v", err)
		}
		if err := w.svc.FlushKeyUse(ctx); err != nil {
			t.Fatalf("FlushKeyUse with nothing pending: %v", err)
		}
		_, used, err := w.service().GetAccessKeyLastUsed(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := iam.LastUsed{Date: at, ServiceName: "iam", Region: "us-east-1"}
		if used != want {
			t.Errorf("after restart: got %+v, want %+v", used, want)
		}
	})
	t.Run("an older use never replaces a newer flushed one", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		k := must[*iam.NewAccessKey](t)(w.svc.CreateAccessKey(ctx, "alice"))
		at := epoch.Add(time.Hour)
		w.svc.RecordKeyUse(k.ID, "iam", "us-east-1", at)
		if err := w.svc.FlushKeyUse(ctx); err != nil {
			t.Fatal(err)
		}
		// Another node (a second Service) flushes an older use.
		other := w.service()
		other.RecordKeyUse(k.ID, "sts", "eu-west-1", at.Add(-time.Minute))
		if err := other.FlushKeyUse(ctx); err != nil {
			t.Fatal(err)
		}
		_, used, _ := w.service().GetAccessKeyLastUsed(ctx, k.ID)
		if !used.Date.Equal(at) || used.ServiceName != "iam" {
			t.Errorf("got %+v, want the use at %v", used, at)
		}
	})
	t.Run("an unknown key is NoSuchEntity", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, _, err := w.svc.GetAccessKeyLastUsed(ctx, "AKIAAAAAAAAAAAAAAAAA")
		wantCode(t, err, apierr.NoSuchEntity, "")
	})
}
