package token

import (
	"reflect"
	"testing"
)

// FuzzOpen feeds Open arbitrary text. It must never panic, and whatever it
// accepts must be a session that seals and opens back to itself.
func FuzzOpen(f *testing.F) {
	r := newTestRing(f, 1)
	for _, s := range []*Session{fullSession(), {Kind: UserSession}} {
		tok := seal(f, r, s)
		f.Add(tok)
		f.Add(tok[:len(tok)/2])
	}
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := r.Open(tok)
		if err != nil {
			if s != nil {
				t.Fatalf("got session %v with error %v", s, err)
			}
			return
		}
		again, err := r.Open(seal(t, r, s))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("reseal: got (%+v, %v), want %+v", again, err, plain(*s))
		}
	})
}

// FuzzDecodeSession reaches the payload decoder directly: through Open only
// authenticated (so well-formed) payloads get that far, and the decoder must
// still never panic or over-allocate if that ever stops being true.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range []*Session{fullSession(), {Kind: UserSession}} {
		f.Add(appendSession(nil, s))
	}
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := decodeSession(p)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes (minimally, so no longer) to a payload
		// that decodes to the same session.
		re := appendSession(nil, s)
		if len(re) > len(p) || len(re) != payloadSize(s) {
			t.Fatalf("re-encoding: got %d bytes (size says %d), want at most %d", len(re), payloadSize(s), len(p))
		}
		again, err := decodeSession(re)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip: got (%+v, %v), want %+v", again, err, plain(*s))
		}
	})
}
