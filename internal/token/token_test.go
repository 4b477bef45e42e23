package token

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_897_000, time.UTC)

// testRand is a deterministic randomness source, so failures reproduce.
func testRand(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return mrand.NewChaCha8(s)
}

func fullSession() *Session {
	return &Session{
		AccessKeyID:       "ASIAQWERTYUIOPASDFGH",
		SecretAccessKey:   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Account:           "000000000000",
		Kind:              AssumedRole,
		PrincipalID:       "AROAABCDEFGHIJKLMNOPQ",
		PrincipalName:     "deploy",
		PrincipalPath:     "/ci/",
		SessionName:       "build-4711",
		IssuedAt:          t0,
		Expires:           t0.Add(time.Hour),
		MFA:               true,
		MFAAuthTime:       t0.Add(-5 * time.Minute),
		SourceIdentity:    "alice@example.com",
		Tags:              []Tag{{"project", "iamd"}, {"cost-center", "1234"}, {"empty", ""}},
		TransitiveTagKeys: []string{"project"},
		Policy:            `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		PolicyARNs:        []string{"arn:aws:iam::000000000000:policy/ReadOnly", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"},
		Chained:           true,
		IssuerKeyID:       "AKIAIOSFODNN7EXAMPLE",
	}
}

func newTestRing(t testing.TB, seed uint64) *Ring {
	t.Helper()
	k, err := NewKey(t0, testRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	k.Active = true
	r, err := NewRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func seal(t testing.TB, r *Ring, s *Session) string {
	t.Helper()
	tok, err := r.Seal(s, rand.Reader)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return tok
}

// plain drops Session's String method so failures print every field.
type plain Session

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	tests := []struct {
		name string
		s    *Session
	}{
		{"a session with every field set comes back unchanged", fullSession()},
		{"a session with only a kind comes back unchanged", &Session{Kind: UserSession}},
		{"a user session without MFA or tags comes back unchanged", &Session{
			AccessKeyID: "ASIAAAAAAAAAAAAAAAAA", SecretAccessKey: strings.Repeat("x", 40), Account: "000000000000",
			Kind: UserSession, PrincipalID: "AIDAABCDEFGHIJKLMNOPQ", PrincipalName: "bob", PrincipalPath: "/",
			IssuedAt: t0, Expires: t0.Add(12 * time.Hour), IssuerKeyID: "AKIAIOSFODNN7EXAMPLE",
		}},
		{"strings with non-ASCII and NUL bytes come back unchanged", &Session{
			Kind: AssumedRole, SessionName: "sess\x00ion", Tags: []Tag{{"ключ", "値\u2028"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := seal(t, r, tt.s)
			got, err := r.Open(tok)
			if err != nil {
				t.Fatalf("Open: got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tt.s) {
				t.Errorf("Open:\ngot  %+v\nwant %+v", plain(*got), plain(*tt.s))
			}
		})
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	local := time.FixedZone("CEST", 2*60*60)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"millisecond precision is kept exactly", t0, t0},
		{"microseconds are kept and nanoseconds dropped", time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123_456_000, time.UTC)},
		{"a time in another zone comes back as the same instant in UTC", time.Date(2026, 1, 2, 5, 4, 5, 0, local), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"the zero time stays zero", time.Time{}, time.Time{}},
		{"a time before 1970 survives", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{"a monotonic clock reading is dropped", time.Now().Truncate(time.Microsecond), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			if want.IsZero() && !tt.in.IsZero() {
				want = tt.in.Round(0).UTC()
			}
			s := &Session{Kind: AssumedRole, IssuedAt: tt.in, Expires: tt.in, MFAAuthTime: tt.in}
			got, err := r.Open(seal(t, r, s))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []time.Time{got.IssuedAt, got.Expires, got.MFAAuthTime} {
				if g != want {
					t.Errorf("got %v, want %v", g, want)
				}
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	first, _ := r.Active()
	old := seal(t, r, fullSession())

	k, err := r.Rotate(t0.Add(24*time.Hour), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the new key is active and the old one retired at the rotation time", func(t *testing.T) {
		keys := r.Keys()
		if len(keys) != 2 {
			t.Fatalf("got %d keys, want 2", len(keys))
		}
		if keys[0].ID != k.ID || !keys[0].Active {
			t.Errorf("got newest key %v, want active %s", keys[0], k.ID)
		}
		if keys[1].ID != first.ID || keys[1].Active || !keys[1].Retired.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("got old key %v retired %v, want %s retired %v", keys[1], keys[1].Retired, first.ID, t0.Add(24*time.Hour))
		}
	})
	t.Run("a token sealed before rotation still opens", func(t *testing.T) {
		if _, err := r.Open(old); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("a token sealed after rotation uses the new key", func(t *testing.T) {
		tok := seal(t, r, fullSession())
		raw, _ := enc.DecodeString(tok)
		if got := string(raw[1:headerLen]); got != k.ID {
			t.Errorf("got key id %q, want %q", got, k.ID)
		}
	})

	r.Prune(t0.Add(24 * time.Hour)) // retired exactly then: not before, kept
	t.Run("prune keeps a key retired exactly at the cut-off", func(t *testing.T) {
		if _, err := r.Open(old); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	r.Prune(t0.Add(24*time.Hour + 36*time.Hour + time.Second))
	t.Run("after pruning, a token of the dropped key is invalid", func(t *testing.T) {
		if _, err := r.Open(old); !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrUnknownKey) {
			t.Errorf("got %v, want ErrUnknownKey (an ErrInvalid)", err)
		}
	})
	t.Run("prune never drops the active key", func(t *testing.T) {
		r.Prune(t0.Add(1000 * time.Hour))
		if _, err := r.Open(seal(t, r, fullSession())); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

func TestTamperedTokensAreInvalid(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	tok := seal(t, r, fullSession())

	t.Run("changing any character of the text fails", func(t *testing.T) {
		t.Parallel()
		for i := range len(tok) {
			for _, c := range []byte{'A', 'B', 'g', '-', '_', '+', '/', '=', ' ', 0x80} {
				if c == tok[i] {
					continue
				}
				b := []byte(tok)
				b[i] = c
				if s, err := r.Open(string(b)); !errors.Is(err, ErrInvalid) {
					t.Fatalf("char %d set to %q: got (%v, %v), want ErrInvalid", i, c, s, err)
				}
			}
		}
	})
	t.Run("flipping any bit of the sealed bytes fails", func(t *testing.T) {
		t.Parallel()
		raw, err := enc.DecodeString(tok)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			for bit := range 8 {
				b := bytes.Clone(raw)
				b[i] ^= 1 << bit
				if s, err := r.Open(enc.EncodeToString(b)); !errors.Is(err, ErrInvalid) {
					t.Fatalf("byte %d bit %d: got (%v, %v), want ErrInvalid", i, bit, s, err)
				}
			}
		}
	})
	t.Run("truncating the text at every length fails", func(t *testing.T) {
		t.Parallel()
		for n := range len(tok) {
			if s, err := r.Open(tok[:n]); !errors.Is(err, ErrInvalid) {
				t.Fatalf("length %d: got (%v, %v), want ErrInvalid", n, s, err)
			}
		}
	})
	t.Run("truncating the sealed bytes at every length fails", func(t *testing.T) {
		t.Parallel()
		raw, _ := enc.DecodeString(tok)
		for n := range len(raw) {
			if s, err := r.Open(enc.EncodeToString(raw[:n])); !errors.Is(err, ErrInvalid) {
				t.Fatalf("length %d: got (%v, %v), want ErrInvalid", n, s, err)
			}
		}
	})
	t.Run("appending to the text fails", func(t *testing.T) {
		t.Parallel()
		for _, suffix := range []string{"A", "AA", "AAAA", "=", "\n", "\r\n", " "} {
			if _, err := r.Open(tok + suffix); !errors.Is(err, ErrInvalid) {
				t.Errorf("suffix %q: got %v, want ErrInvalid", suffix, err)
			}
		}
	})
	t.Run("a line break inside the text fails", func(t *testing.T) {
		t.Parallel()
		if _, err := r.Open(tok[:40] + "\n" + tok[40:]); !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}

func TestForeignAndGarbageTokensAreInvalid(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	other := newTestRing(t, 2)
	// Same key id as r's key, different key material: only the AEAD can tell.
	k, _ := r.Active()
	impostor, err := NewKey(t0, testRand(3))
	if err != nil {
		t.Fatal(err)
	}
	impostor.ID, impostor.Active = k.ID, true
	sameID, err := NewRing(impostor)
	if err != nil {
		t.Fatal(err)
	}
	valid := seal(t, r, fullSession())
	raw, _ := enc.DecodeString(valid)
	v2 := bytes.Clone(raw)
	v2[0] = 2

	tests := []struct {
		name string
		tok  string
	}{
		{"a token from another ring", seal(t, other, fullSession())},
		{"a token from another ring with the same key id", seal(t, sameID, fullSession())},
		{"the empty string", ""},
		{"one character", "A"},
		{"base64 of a header only", enc.EncodeToString(raw[:headerLen+nonceLen])},
		{"a valid token with padding", valid + strings.Repeat("=", (4-len(valid)%4)%4) + "="},
		{"a valid token in standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+"},
		{"a token of an unknown version", enc.EncodeToString(v2)},
		{"an AWS-looking token", "FwoGZXIvYXdzEBYaDHqa0AP1/hvaa5FTFiKvAXpGaNd2Ch++0a5YwS2zkJw=="},
		{"text longer than MaxTokenLen", strings.Repeat("A", MaxTokenLen+1)},
		{"MaxTokenLen characters of base64", strings.Repeat("A", MaxTokenLen)},
		{"non-ASCII text", strings.Repeat("ü", 100)},
		{"a token with a NUL", valid[:50] + "\x00" + valid[51:]},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is invalid", func(t *testing.T) {
			t.Parallel()
			s, err := r.Open(tt.tok)
			if !errors.Is(err, ErrInvalid) || s != nil {
				t.Errorf("got (%v, %v), want (nil, ErrInvalid)", s, err)
			}
		})
	}
	t.Run("a zero Ring rejects every token", func(t *testing.T) {
		t.Parallel()
		var zero Ring
		if _, err := zero.Open(valid); !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}

func TestOpenFor(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	tok := seal(t, r, fullSession())
	tests := []struct {
		name    string
		akid    string
		wantErr error
	}{
		{"the token's own access key id opens it", "ASIAQWERTYUIOPASDFGH", nil},
		{"another access key id is invalid", "ASIAQWERTYUIOPASDFGX", ErrInvalid},
		{"an empty access key id is invalid", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.OpenFor(tok, tt.akid)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTokenSurvivesTransport(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	// Several tokens, so that every base64 character is likely to appear.
	for i := range 20 {
		s := fullSession()
		s.SessionName = fmt.Sprint("s", i)
		tok := seal(t, r, s)
		if got := url.QueryEscape(tok); got != tok {
			t.Fatalf("QueryEscape changed the token: got %q, want %q", got, tok)
		}
		form := url.Values{"X-Amz-Security-Token": {tok}}.Encode()
		back, err := url.ParseQuery(form)
		if err != nil || back.Get("X-Amz-Security-Token") != tok {
			t.Fatalf("form round trip: got %q (%v), want %q", back.Get("X-Amz-Security-Token"), err, tok)
		}
		h := http.Header{}
		h.Set("X-Amz-Security-Token", tok)
		if got := h.Get("X-Amz-Security-Token"); got != tok {
			t.Fatalf("header round trip: got %q, want %q", got, tok)
		}
		if _, err := r.Open(back.Get("X-Amz-Security-Token")); err != nil {
			t.Fatalf("Open after form transport: %v", err)
		}
	}
}

func TestSealRejects(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	many := make([]Tag, maxItems+1)
	tests := []struct {
		name    string
		r       *Ring
		s       *Session
		wantErr error
	}{
		{"a zero ring cannot seal", new(Ring), fullSession(), ErrNoActiveKey},
		{"a session policy too large for a token", r, &Session{Kind: AssumedRole, Policy: strings.Repeat("x", MaxTokenLen)}, ErrTooLarge},
		{"more tags than a token holds", r, &Session{Kind: AssumedRole, Tags: many}, ErrTooLarge},
		{"a session without a kind", r, &Session{}, nil},
		{"a session of an unknown kind", r, &Session{Kind: 9}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tt.r.Seal(tt.s, rand.Reader)
			if err == nil || tok != "" || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("got (%q, %v), want error %v", tok, err, tt.wantErr)
			}
		})
	}
	t.Run("a failing randomness source fails the seal", func(t *testing.T) {
		t.Parallel()
		if _, err := r.Seal(fullSession(), strings.NewReader("short")); err == nil {
			t.Error("got nil, want error")
		}
	})
	t.Run("the largest session that fits still opens", func(t *testing.T) {
		t.Parallel()
		s := &Session{Kind: AssumedRole}
		lo, hi := 0, MaxTokenLen
		for lo < hi { // largest policy length that seals
			mid := (lo + hi + 1) / 2
			s.Policy = strings.Repeat("p", mid)
			if _, err := r.Seal(s, rand.Reader); err == nil {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		s.Policy = strings.Repeat("p", lo)
		tok := seal(t, r, s)
		if len(tok) > MaxTokenLen {
			t.Fatalf("got token of %d chars, want at most %d", len(tok), MaxTokenLen)
		}
		if got, err := r.Open(tok); err != nil || got.Policy != s.Policy {
			t.Errorf("got error %v, want the session back", err)
		}
	})
}

func TestSecretsStayOutOfText(t *testing.T) {
	t.Parallel()
	s := fullSession()
	k, _ := NewKey(t0, testRand(1))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "session", *s, "sessionptr", s, "key", k)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", *s),
		"%+v":    fmt.Sprintf("%+v", s),
		"%#v":    fmt.Sprintf("%#v", *s),
		"key %v": fmt.Sprintf("%v %+v %#v", k, k, k),
		"slog":   logged.String(),
	}
	for name, out := range outputs {
		t.Run("formatting with "+name+" hides the secret", func(t *testing.T) {
			t.Parallel()
			if strings.Contains(out, s.SecretAccessKey) || strings.Contains(out, "secret") {
				t.Errorf("got %q, want no secret", out)
			}
			if !strings.Contains(out, s.AccessKeyID) && !strings.Contains(out, k.ID) {
				t.Errorf("got %q, want the access key id or key id", out)
			}
		})
	}
}

func TestConcurrentOpenDuringRotation(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	tok := seal(t, r, fullSession())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := r.Open(tok); err != nil {
					t.Errorf("Open during rotation: got %v, want nil", err)
					return
				}
				if _, err := r.Seal(fullSession(), rand.Reader); err != nil {
					t.Errorf("Seal during rotation: got %v, want nil", err)
					return
				}
			}
		})
	}
	for i := range 50 {
		if _, err := r.Rotate(t0.Add(time.Duration(i)*time.Minute), rand.Reader); err != nil {
			t.Fatal(err)
		}
		r.Prune(t0.Add(-time.Hour)) // prunes nothing: every key retired after
	}
	close(stop)
	wg.Wait()
	if got := len(r.Keys()); got != 51 {
		t.Errorf("got %d keys, want 51 (no rotation lost)", got)
	}
}

func TestACachedTokenDoesNotOutliveItsKey(t *testing.T) {
	t.Parallel()
	r := newTestRing(t, 1)
	tok := seal(t, r, benchSession())
	for range 2 { // the second open is served from the cache
		if _, err := r.Open(tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rotate(t0, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open(tok); err != nil {
		t.Fatalf("after a rotation the old key still opens its tokens: %v", err)
	}
	r.Prune(t0.Add(time.Hour))
	if _, err := r.Open(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("after its key was pruned: got %v, want ErrInvalid", err)
	}
}
