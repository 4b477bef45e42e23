package secretbox

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func newBox(t *testing.T) *Box {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	b, err := New(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrips(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	for _, msg := range [][]byte{nil, []byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")} {
		sealed, err := b.Seal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) > 0 && bytes.Contains(sealed, msg) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := b.Open(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("got %q, want %q", got, msg)
		}
	}
}

func TestOpenRejectsTamperingAndForeignKeys(t *testing.T) {
	t.Parallel()
	b, other := newBox(t), newBox(t)
	sealed, _ := b.Seal([]byte("secret"))
	for i := range sealed {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		if _, err := b.Open(c); err == nil {
			t.Errorf("flipping byte %d: Open succeeded, want error", i)
		}
	}
	if _, err := other.Open(sealed); err == nil {
		t.Error("a box with another key opened the value")
	}
	if _, err := b.Open(sealed[:5]); err == nil {
		t.Error("a truncated value opened")
	}
}

func TestNewRejectsShortKeys(t *testing.T) {
	t.Parallel()
	if _, err := New(make([]byte, 16), rand.Reader); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}
