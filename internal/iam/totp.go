package iam

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"time"
)

// TOTP as virtual MFA devices (and every authenticator app) compute it:
// RFC 6238 over HMAC-SHA-1, 30-second steps counted from the Unix epoch,
// six decimal digits.
// https://www.rfc-editor.org/rfc/rfc6238 and https://www.rfc-editor.org/rfc/rfc4226
const (
	totpStep   = 30 // seconds
	totpDigits = 6
)

// totpCounter is the time step that t falls in.
func totpCounter(t time.Time) int64 {
	u := t.Unix()
	if u < 0 {
		return 0
	}
	return u / totpStep
}

// hotp is RFC 4226's HOTP value of counter under key, as a zero-padded
// string of digits decimal digits (6 to 8).
func hotp(key []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	v := bin % mod
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}

// totpCode is the six-digit code of a time step.
func totpCode(seed []byte, counter int64) string { return hotp(seed, counter, totpDigits) }

// totpMatch reports whether code is the code of counter, in constant time
// so that response timing says nothing about how close a guess was.
func totpMatch(seed []byte, counter int64, code string) bool {
	if counter < 0 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(totpCode(seed, counter)), []byte(code)) == 1
}

// totpFindPair returns the step c in [lo, hi] such that code1 is c's code
// and code2 is c+1's: the two consecutive codes EnableMFADevice and
// ResyncMFADevice take.
func totpFindPair(seed []byte, lo, hi int64, code1, code2 string) (int64, bool) {
	found, at := false, int64(0)
	for c := lo; c <= hi; c++ {
		// Check every step of the window, even after a match, so the time
		// taken does not depend on where the match is.
		if totpMatch(seed, c, code1) && totpMatch(seed, c+1, code2) && !found {
			found, at = true, c
		}
	}
	return at, found
}
