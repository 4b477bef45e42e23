// Package secretbox encrypts small secrets at rest (access key secrets,
// MFA seeds) with AES-256-GCM under the server's master key.
//
// It does not manage keys: the caller loads the master key (see
// token.LoadOrCreateMasterKey) and passes it in.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// version prefixes every sealed value so the format can change later.
const version = 1

// ErrOpen is returned for a value that was not sealed with this key.
var ErrOpen = errors.New("secretbox: cannot open")

// Box seals and opens values. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	rand io.Reader
}

// New returns a Box for a 32-byte master key, drawing nonces from rand.
func New(master []byte, rand io.Reader) (*Box, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("secretbox: master key must be 32 bytes, got %d", len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead, rand: rand}, nil
}

// Seal encrypts plaintext: version | nonce | ciphertext.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = version
	if _, err := io.ReadFull(b.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealed[:1])
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
