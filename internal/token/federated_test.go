package token

import (
	"reflect"
	"testing"
	"time"
)

func TestFederatedKind(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 3)
	fed := &Session{
		AccessKeyID: "ASIAFEDERATEDUSER001", SecretAccessKey: "secret", Account: "000000000000",
		Kind: Federated, PrincipalID: "AIDAABCDEFGHIJKLMNOPQ", PrincipalName: "broker", PrincipalPath: "/",
		SessionName: "carol", IssuedAt: t0, Expires: t0.Add(12 * time.Hour), IssuerKeyID: "AKIAIOSFODNN7EXAMPLE",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
	}
	t.Run("a federated session comes back unchanged", func(t *testing.T) {
		t.Parallel()
		got, err := r.Open(seal(t, r, fed))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !reflect.DeepEqual(got, fed) {
			t.Errorf("got %+v, want %+v", plain(*got), plain(*fed))
		}
		if got.Kind.String() != "Federated" {
			t.Errorf("got kind %s, want Federated", got.Kind)
		}
	})
	t.Run("the kinds keep their wire values", func(t *testing.T) {
		t.Parallel()
		// Tokens already issued must keep opening: the kind byte of the
		// older kinds cannot move.
		for k, want := range map[Kind]byte{AssumedRole: 1, UserSession: 2, Federated: 3} {
			if b := appendSession(nil, &Session{Kind: k}); b[0] != want {
				t.Errorf("%s encodes as %d, want %d", k, b[0], want)
			}
		}
	})
	t.Run("a kind after Federated is refused", func(t *testing.T) {
		t.Parallel()
		b := appendSession(nil, &Session{Kind: Federated})
		b[0] = byte(Federated) + 1
		if _, err := decodeSession(b); err == nil {
			t.Error("decoded a session of an unknown kind")
		}
		if _, err := r.Seal(&Session{Kind: Federated + 1}, testRand(1)); err == nil {
			t.Error("sealed a session of an unknown kind")
		}
	})
}
