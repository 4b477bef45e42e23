package revoke

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/token"
)

var ctx = context.Background()

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newStore(t *testing.T) kv.Store {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t *testing.T, st kv.Store, c *clock) *Service {
	t.Helper()
	s, err := New(ctx, Config{Store: st, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issue records a role session issued now and returns its caller.
func issue(t *testing.T, s *Service, c *clock, key, role, name, source string) *principal.Caller {
	t.Helper()
	now := c.now()
	ts := &token.Session{AccessKeyID: key, Account: "000000000000", Kind: token.AssumedRole, PrincipalID: "AROA" + role, PrincipalName: role,
		PrincipalPath: "/", SessionName: name, SourceIdentity: source, IssuedAt: now, Expires: now.Add(time.Hour)}
	if err := s.RecordSession(ctx, ts, Origin{SourceIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	return &principal.Caller{Type: principal.AssumedRole, Temporary: true, AccessKeyID: arn.AccessKeyID(key), RoleID: "AROA" + role,
		RoleName: role, SessionName: name, SourceIdentity: source, IssuedAt: now, Expires: ts.Expires}
}

func TestRevocationsMatchOnlyWhatTheySelect(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := newService(t, newStore(t), c)
	role := func(name string) Request {
		return Request{PrincipalType: RolePrincipal, PrincipalName: name, PrincipalID: "AROA" + name}
	}
	for _, tc := range []struct {
		name       string
		req        func(keys map[string]*principal.Caller) Request
		revoked    []string // sessions denied
		notRevoked []string
	}{
		{"an access key id revokes that one session",
			func(k map[string]*principal.Caller) Request {
				return Request{Kind: ByAccessKey, AccessKeyID: string(k["emy"].AccessKeyID)}
			},
			[]string{"emy"}, []string{"julie", "emy-again", "other"}},
		{"a session name revokes the role's earlier sessions of that name",
			func(map[string]*principal.Caller) Request {
				r := role("web")
				r.Kind, r.SessionName = BySessionName, "emy"
				return r
			},
			[]string{"emy", "emy-again"}, []string{"julie", "other"}},
		{"a source identity revokes across roles",
			func(map[string]*principal.Caller) Request {
				return Request{Kind: BySourceIdentity, SourceIdentity: "emy@example.com"}
			},
			[]string{"emy", "other"}, []string{"julie", "emy-again"}},
		{"issued-before revokes every earlier session of the role",
			func(map[string]*principal.Caller) Request { r := role("web"); r.Kind = IssuedBefore; return r },
			[]string{"emy", "julie", "emy-again"}, []string{"other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t, newStore(t), c)
			n := fmt.Sprint(time.Now().UnixNano() % 1e6)
			k := map[string]*principal.Caller{
				"emy":       issue(t, s, c, "ASIAEMY0000000"+pad(n), "web", "emy", "emy@example.com"),
				"julie":     issue(t, s, c, "ASIAJULIE00000"+pad(n), "web", "julie", ""),
				"emy-again": issue(t, s, c, "ASIAEMYAGAIN00"+pad(n), "web", "emy", ""),
				"other":     issue(t, s, c, "ASIAOTHER00000"+pad(n), "db", "x1", "emy@example.com"),
			}
			c.advance(time.Millisecond)
			if _, err := s.Revoke(ctx, tc.req(k)); err != nil {
				t.Fatal(err)
			}
			for _, who := range tc.revoked {
				if _, ok := s.Check(k[who]); !ok {
					t.Errorf("%s: not revoked, want revoked", who)
				}
			}
			for _, who := range tc.notRevoked {
				if id, ok := s.Check(k[who]); ok {
					t.Errorf("%s: revoked by %s, want not", who, id)
				}
			}
			c.advance(time.Millisecond)
			later := issue(t, s, c, "ASIALATER00000"+pad(n), "web", "emy", "emy@example.com")
			if id, ok := s.Check(later); ok {
				t.Errorf("a session issued after the revocation is revoked by %s", id)
			}
		})
	}
	_ = s
}

func pad(s string) string {
	for len(s) < 6 {
		s = "0" + s
	}
	return s[:6]
}

func TestRevokingTwiceMovesTheCutOffForwardOnly(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := newService(t, newStore(t), c)
	req := Request{Kind: IssuedBefore, PrincipalType: RolePrincipal, PrincipalName: "web", PrincipalID: "AROAweb"}
	first, err := s.Revoke(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	second, err := s.Revoke(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || !second.IssuedBefore.After(first.IssuedBefore) {
		t.Errorf("second revoke: got %s at %s, want %s moved after %s", second.ID, second.IssuedBefore, first.ID, first.IssuedBefore)
	}
	req.IssuedBefore = first.IssuedBefore.Add(-time.Second)
	third, err := s.Revoke(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !third.IssuedBefore.Equal(second.IssuedBefore) {
		t.Errorf("an earlier IssuedBefore narrowed the revocation: got %s, want %s", third.IssuedBefore, second.IssuedBefore)
	}
	if n := len(s.List("")); n != 1 {
		t.Errorf("List: %d entries, want 1", n)
	}
}

func TestEntriesExpireWithTheSessionsTheyCanMatch(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	st := newStore(t)
	s := newService(t, st, c)
	sess := issue(t, s, c, "ASIAEXPIRE00000000000"[:20], "web", "emy", "")
	byKey, err := s.Revoke(ctx, Request{Kind: ByAccessKey, AccessKeyID: string(sess.AccessKeyID)})
	if err != nil {
		t.Fatal(err)
	}
	byRole, err := s.Revoke(ctx, Request{Kind: IssuedBefore, PrincipalType: RolePrincipal, PrincipalName: "web", PrincipalID: "AROAweb"})
	if err != nil {
		t.Fatal(err)
	}
	if !byKey.Expires.Equal(sess.Expires) || !byRole.Expires.Equal(byRole.IssuedBefore.Add(MaxRoleSession)) {
		t.Errorf("expiry: by key %s (session %s), by role %s", byKey.Expires, sess.Expires, byRole.Expires)
	}
	c.advance(time.Hour)
	if err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(byKey.ID); ok {
		t.Error("the access key entry outlived its session")
	}
	if _, ok := s.Get(byRole.ID); !ok {
		t.Error("the role entry expired before a 12-hour session issued before it could have")
	}
	c.advance(MaxRoleSession)
	if err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(s.List("")); n != 0 {
		t.Errorf("after every session expired: %d entries, want 0", n)
	}
	// And from the store: a new node loads nothing.
	if n := len(newService(t, st, c).List("")); n != 0 {
		t.Errorf("reloaded: %d entries, want 0", n)
	}
	if _, err := s.Undo(ctx, byRole.ID); !apierr.Is(err, apierr.NoSuchEntity) {
		t.Errorf("undoing an expired entry: got %v, want NoSuchEntity", err)
	}
}

func TestAnotherNodeLearnsOfRevocationsOnReload(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	st := newStore(t)
	a, b := newService(t, st, c), newService(t, st, c)
	sess := issue(t, a, c, "ASIANODE000000000000", "web", "emy", "")
	e, err := a.Revoke(ctx, Request{Kind: ByAccessKey, AccessKeyID: string(sess.AccessKeyID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Check(sess); ok {
		t.Fatal("node b knew before reloading")
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Check(sess); !ok {
		t.Error("node b: not revoked after reload")
	}
	if _, err := b.Undo(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Check(sess); ok {
		t.Error("node a: still revoked after b undid it")
	}
}

func TestInventoryListsLiveSessionsWithLastUse(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := newService(t, newStore(t), c)
	s1 := issue(t, s, c, "ASIAINV1000000000000", "web", "one", "")
	c.advance(30 * time.Minute)
	issue(t, s, c, "ASIAINV2000000000000", "web", "two", "")
	s.NoteUse(string(s1.AccessKeyID), s1.Expires, c.now())
	got, err := s.Sessions(ctx, "AROAweb")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SessionName != "one" || !got[0].LastUsed.Equal(c.now()) || got[0].SourceIP != "192.0.2.1" ||
		got[0].ARN != "arn:aws:sts::000000000000:assumed-role/web/one" || got[0].PrincipalARN != "arn:aws:iam::000000000000:role/web" {
		t.Fatalf("Sessions: got %+v", got)
	}
	if err := s.FlushUse(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := s.Session(ctx, string(s1.AccessKeyID))
	if err != nil || !r.LastUsed.Equal(c.now()) {
		t.Errorf("last use after flush: got %v, %v", r, err)
	}
	c.advance(31 * time.Minute)
	if got, _ := s.Sessions(ctx, "AROAweb"); len(got) != 1 || got[0].SessionName != "two" {
		t.Errorf("after the first expired: got %d sessions", len(got))
	}
	if _, err := s.Session(ctx, "ASIANOTHERE000000000"); !apierr.Is(err, apierr.NoSuchEntity) {
		t.Errorf("unknown key: got %v, want NoSuchEntity", err)
	}
}

// BenchmarkCheck measures what the revocation check adds to a request,
// with no entries and with 100,000 active ones of every kind, for a
// session that is not revoked (the common case) and one that is.
func BenchmarkCheck(b *testing.B) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	caller := &principal.Caller{Type: principal.AssumedRole, Temporary: true, AccessKeyID: "ASIABENCH00000000000", RoleID: "AROAROLE5",
		SessionName: "worker-17", SourceIdentity: "someone@example.com", IssuerKeyID: "AKIABENCH00000000000", IssuedAt: now.Add(-time.Minute)}
	for _, n := range []int{0, 100_000} {
		s := &Service{entries: map[string]Entry{}}
		for i := range n {
			e := Entry{ID: fmt.Sprintf("rv-%016x", i), IssuedBefore: now.Add(-time.Hour), Expires: now.Add(time.Hour)}
			switch i % 5 {
			case 0:
				e.Kind, e.AccessKeyID = ByAccessKey, fmt.Sprintf("ASIA%016d", i)
			case 1:
				e.Kind, e.PrincipalID, e.SessionName = BySessionName, fmt.Sprintf("AROAROLE%d", i%1000), fmt.Sprintf("worker-%d", i)
			case 2:
				e.Kind, e.SourceIdentity = BySourceIdentity, fmt.Sprintf("user%d@example.com", i)
			case 3:
				e.Kind, e.PrincipalID = IssuedBefore, fmt.Sprintf("AROAROLE%d", 1000+i)
			case 4:
				e.Kind, e.AccessKeyID = ByIssuer, fmt.Sprintf("AKIA%016d", i)
				e.IssuerKeyIDs = []string{e.AccessKeyID, fmt.Sprintf("ASIAC%015d", i)}
			}
			s.entries[e.ID] = e
		}
		s.install()
		b.Run(fmt.Sprintf("entries=%d/not-revoked", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := s.Check(caller); ok {
					b.Fatal("revoked")
				}
			}
		})
		if n == 0 {
			continue
		}
		hit := *caller
		hit.AccessKeyID = "ASIA0000000000000400"
		b.Run(fmt.Sprintf("entries=%d/revoked-by-key", n), func(b *testing.B) {
			for b.Loop() {
				if _, ok := s.Check(&hit); !ok {
					b.Fatal("not revoked")
				}
			}
		})
		byIssuer := *caller
		byIssuer.IssuerKeyID, byIssuer.IssuedAt = "AKIA0000000000000404", now.Add(-2*time.Hour)
		b.Run(fmt.Sprintf("entries=%d/revoked-by-issuer", n), func(b *testing.B) {
			for b.Loop() {
				if _, ok := s.Check(&byIssuer); !ok {
					b.Fatal("not revoked")
				}
			}
		})
		b.Run(fmt.Sprintf("entries=%d/parallel", n), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s.Check(caller)
				}
			})
		})
	}
}
