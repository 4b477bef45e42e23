package revoke

import (
	"testing"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/token"
)

// record records a session of kind issued now by issuer and returns its
// caller, as authz builds it from the token.
func record(t *testing.T, s *Service, c *clock, kind token.Kind, key, issuer string) *principal.Caller {
	t.Helper()
	now := c.now()
	ts := &token.Session{AccessKeyID: key, Account: "000000000000", Kind: kind, IssuerKeyID: issuer,
		IssuedAt: now, Expires: now.Add(time.Hour), PrincipalPath: "/"}
	caller := &principal.Caller{Temporary: true, AccessKeyID: arn.AccessKeyID(key), IssuerKeyID: issuer, IssuedAt: now, Expires: ts.Expires}
	switch kind {
	case token.AssumedRole:
		ts.PrincipalID, ts.PrincipalName, ts.SessionName = "AROAweb", "web", "s-"+key
		caller.Type, caller.RoleID, caller.RoleName, caller.SessionName = principal.AssumedRole, "AROAweb", "web", "s-"+key
	case token.UserSession:
		ts.PrincipalID, ts.PrincipalName = "AIDAbob", "bob"
		caller.Type, caller.UserID, caller.UserName = principal.IAMUser, "AIDAbob", "bob"
	case token.Federated:
		ts.PrincipalID, ts.PrincipalName, ts.SessionName = "AIDAbob", "bob", "carol-"+key
		caller.Type, caller.UserName, caller.SessionName = principal.FederatedUser, "bob", "carol-"+key
		caller.UserID, caller.IssuerUserID = "000000000000:carol-"+key, "AIDAbob"
	}
	if err := s.RecordSession(ctx, ts, Origin{SourceIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	return caller
}

func TestRevokingByIssuerStopsEverySessionTheKeyMinted(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := newService(t, newStore(t), c)
	const leaked, other = "AKIALEAKED0000000001", "AKIAOTHER00000000002"
	minted := map[string]*principal.Caller{
		"a role session":      record(t, s, c, token.AssumedRole, "ASIAROLE000000000001", leaked),
		"a GetSessionToken":   record(t, s, c, token.UserSession, "ASIAUSER000000000001", leaked),
		"a federated session": record(t, s, c, token.Federated, "ASIAFED0000000000001", leaked),
	}
	// A role session chained from one the leaked key minted.
	minted["a chained session"] = record(t, s, c, token.AssumedRole, "ASIACHAIN00000000001", "ASIAUSER000000000001")
	untouched := map[string]*principal.Caller{
		"another key's session": record(t, s, c, token.AssumedRole, "ASIAROLE000000000002", other),
		"another key's chain":   record(t, s, c, token.AssumedRole, "ASIACHAIN00000000002", "ASIAROLE000000000002"),
	}
	c.advance(time.Millisecond)
	e, err := s.Revoke(ctx, Request{Kind: ByIssuer, AccessKeyID: leaked, PrincipalType: UserPrincipal, PrincipalName: "bob", PrincipalID: "AIDAbob"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(e.IssuerKeyIDs), 5; got != want {
		t.Errorf("the entry names %d keys (%v), want %d: the key and the four sessions issued from it", got, e.IssuerKeyIDs, want)
	}
	if got, want := e.Expires, e.IssuedBefore.Add(MaxUserSession); !got.Equal(want) {
		t.Errorf("expires %s, want %s (36 h after the cut-off: GetSessionToken's longest)", got, want)
	}
	for name, caller := range minted {
		if id, ok := s.Check(caller); !ok || id != e.ID {
			t.Errorf("%s issued by the leaked key: got (%q, %v), want (%q, true)", name, id, ok, e.ID)
		}
		rec, err := s.Session(ctx, string(caller.AccessKeyID))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Matches(rec); !ok {
			t.Errorf("%s: the inventory record is not shown as revoked", name)
		}
	}
	for name, caller := range untouched {
		if id, ok := s.Check(caller); ok {
			t.Errorf("%s: revoked by %s, want untouched", name, id)
		}
	}
	// A session the key mints after the cut-off works: the entry only
	// covers sessions already issued, so that it can expire.
	c.advance(time.Second)
	later := record(t, s, c, token.UserSession, "ASIAUSER000000000003", leaked)
	if id, ok := s.Check(later); ok {
		t.Errorf("a session issued after the revocation is revoked by %s", id)
	}

	t.Run("revoking again keeps the keys and moves the cut-off", func(t *testing.T) {
		c.advance(time.Millisecond)
		e2, err := s.Revoke(ctx, Request{Kind: ByIssuer, AccessKeyID: leaked, PrincipalType: UserPrincipal, PrincipalName: "bob", PrincipalID: "AIDAbob"})
		if err != nil {
			t.Fatal(err)
		}
		if e2.ID != e.ID || len(e2.IssuerKeyIDs) != 6 || !e2.IssuedBefore.After(e.IssuedBefore) {
			t.Errorf("got %s with %d keys before %s, want %s with 6 keys after %s", e2.ID, len(e2.IssuerKeyIDs), e2.IssuedBefore, e.ID, e.IssuedBefore)
		}
		if _, ok := s.Check(later); !ok {
			t.Error("the session issued before the second revocation is not revoked")
		}
		if got := len(s.List("AIDAbob")); got != 1 {
			t.Errorf("ListRevocations for bob: %d entries, want 1", got)
		}
	})
	t.Run("the entry expires once every session it can match has", func(t *testing.T) {
		c.advance(MaxUserSession + time.Second)
		if err := s.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(s.List("")); got != 0 {
			t.Errorf("%d entries after 36 h, want 0", got)
		}
	})
}

func TestFederatedSessions(t *testing.T) {
	t.Parallel()
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	s := newService(t, newStore(t), c)
	fed := record(t, s, c, token.Federated, "ASIAFED0000000000001", "AKIABOB0000000000001")
	own := record(t, s, c, token.UserSession, "ASIAUSER000000000001", "AKIABOB0000000000001")

	t.Run("the inventory records the federated user's ARN and kind", func(t *testing.T) {
		r, err := s.Session(ctx, "ASIAFED0000000000001")
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "Federated" || r.ARN != "arn:aws:sts::000000000000:federated-user/carol-ASIAFED0000000000001" ||
			r.PrincipalARN != "arn:aws:iam::000000000000:user/bob" || r.PrincipalType() != UserPrincipal {
			t.Errorf("got kind %s, arn %s, principal %s (%s)", r.Kind, r.ARN, r.PrincipalARN, r.PrincipalType())
		}
		ss, err := s.Sessions(ctx, "AIDAbob")
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 2 {
			t.Errorf("bob's sessions: got %d, want 2 (its own and its federated user's)", len(ss))
		}
	})
	t.Run("revoking the issuing user's sessions ends its federated sessions", func(t *testing.T) {
		c.advance(time.Millisecond)
		e, err := s.Revoke(ctx, Request{Kind: IssuedBefore, PrincipalType: UserPrincipal, PrincipalName: "bob", PrincipalID: "AIDAbob"})
		if err != nil {
			t.Fatal(err)
		}
		for _, caller := range []*principal.Caller{fed, own} {
			if id, ok := s.Check(caller); !ok || id != e.ID {
				t.Errorf("%s (%s): got (%q, %v), want (%q, true)", caller.AccessKeyID, caller.Type, id, ok, e.ID)
			}
		}
	})
}
