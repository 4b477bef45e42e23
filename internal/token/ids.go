package token

import (
	"io"
)

// AWS-shaped identifiers, generated from a caller-supplied source of
// randomness (crypto/rand.Reader in production, a fixed stream in tests).
// The shapes are what AWS documents and SDKs and tools pattern-match:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
//
// These functions panic if rand fails: crypto/rand.Reader never returns an
// error (since Go 1.24 it crashes the program instead), and a test stream
// that runs dry is a bug in the test.

const (
	base32Upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base64Chars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	upperAlphaNum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

func mustRead(rand io.Reader, b []byte) {
	if _, err := io.ReadFull(rand, b); err != nil {
		panic("token: reading randomness: " + err.Error())
	}
}

// fromAlphabet fills n characters from an alphabet of 32 or 64 symbols:
// masking a random byte is uniform because 256 is a multiple of both.
func fromAlphabet(prefix string, n int, alphabet string, rand io.Reader) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	r := b[len(prefix):]
	mustRead(rand, r)
	mask := byte(len(alphabet) - 1)
	for i, c := range r {
		r[i] = alphabet[c&mask]
	}
	return string(b)
}

// NewAccessKeyID returns prefix followed by 16 characters of [A-Z2-7]: with
// the prefix "AKIA" (long-term key) or "ASIA" (temporary credentials) that
// is the 20-character form AWS issues.
func NewAccessKeyID(prefix string, rand io.Reader) string {
	return fromAlphabet(prefix, 16, base32Upper, rand)
}

// NewSecretAccessKey returns 40 characters of the standard base64 alphabet
// (including + and /), like AWS's secret access keys: 240 bits of entropy.
func NewSecretAccessKey(rand io.Reader) string {
	return fromAlphabet("", 40, base64Chars, rand)
}

// NewUniqueID returns prefix followed by 17 characters of [A-Z0-9]: with a
// four-letter prefix ("AIDA" user, "AROA" role, "AGPA" group, "ANPA" policy,
// "AIPA" instance profile) that is the 21-character unique id AWS assigns.
// 36 symbols do not divide 256, so bytes ≥ 252 are drawn again rather than
// skewing the distribution.
func NewUniqueID(prefix string, rand io.Reader) string {
	const n = 17
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	var buf [32]byte
	for len(b) < cap(b) {
		mustRead(rand, buf[:])
		for _, c := range buf {
			if c >= 252 || len(b) == cap(b) {
				continue
			}
			b = append(b, upperAlphaNum[c%36])
		}
	}
	return string(b)
}
