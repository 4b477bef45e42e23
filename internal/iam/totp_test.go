package iam

import (
	"testing"
	"time"
)

// RFC 6238 Appendix B, the SHA-1 rows: seed "12345678901234567890",
// 30-second steps, 8 digits.
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	t.Parallel()
	seed := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		t.Run("at "+time.Unix(tc.unix, 0).UTC().Format(time.RFC3339)+" the code is "+tc.want, func(t *testing.T) {
			t.Parallel()
			c := totpCounter(time.Unix(tc.unix, 0))
			if got := hotp(seed, c, 8); got != tc.want {
				t.Errorf("8 digits: got %s, want %s", got, tc.want)
			}
			// Six digits are the same value modulo 10^6.
			if got, want := totpCode(seed, c), tc.want[2:]; got != want {
				t.Errorf("6 digits: got %s, want %s", got, want)
			}
			if !totpMatch(seed, c, tc.want[2:]) {
				t.Errorf("totpMatch(%s) = false, want true", tc.want[2:])
			}
		})
	}
}

func TestTOTPCountsThirtySecondSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		unix int64
		want int64
	}{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}, {-5, 0}} {
		if got := totpCounter(time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("totpCounter(%d): got %d, want %d", tc.unix, got, tc.want)
		}
	}
}

func TestTOTPFindPairNeedsConsecutiveCodes(t *testing.T) {
	t.Parallel()
	seed := []byte("12345678901234567890")
	const now = 1000
	for _, tc := range []struct {
		name         string
		code1, code2 string
		wantOK       bool
		wantAt       int64
	}{
		{"two consecutive codes are found", totpCode(seed, now), totpCode(seed, now+1), true, now},
		{"consecutive codes from the recent past are found", totpCode(seed, now-3), totpCode(seed, now-2), true, now - 3},
		{"the same code twice is rejected", totpCode(seed, now), totpCode(seed, now), false, 0},
		{"codes in the wrong order are rejected", totpCode(seed, now+1), totpCode(seed, now), false, 0},
		{"codes two steps apart are rejected", totpCode(seed, now), totpCode(seed, now+2), false, 0},
		{"codes outside the window are rejected", totpCode(seed, now-20), totpCode(seed, now-19), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at, ok := totpFindPair(seed, now-5, now+4, tc.code1, tc.code2)
			if ok != tc.wantOK || ok && at != tc.wantAt {
				t.Errorf("got (%d, %v), want (%d, %v)", at, ok, tc.wantAt, tc.wantOK)
			}
		})
	}
}
