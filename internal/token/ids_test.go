package token

import (
	"crypto/rand"
	"regexp"
	"testing"
)

func TestIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func() string
		re   string
	}{
		{"a long-term access key id is AKIA and 16 base32 characters", func() string { return NewAccessKeyID("AKIA", rand.Reader) }, `^AKIA[A-Z2-7]{16}$`},
		{"a temporary access key id is ASIA and 16 base32 characters", func() string { return NewAccessKeyID("ASIA", rand.Reader) }, `^ASIA[A-Z2-7]{16}$`},
		{"a secret access key is 40 base64 characters", func() string { return NewSecretAccessKey(rand.Reader) }, `^[A-Za-z0-9+/]{40}$`},
		{"a user id is AIDA and 17 upper-case alphanumerics", func() string { return NewUniqueID("AIDA", rand.Reader) }, `^AIDA[A-Z0-9]{17}$`},
		{"a role id is AROA and 17 upper-case alphanumerics", func() string { return NewUniqueID("AROA", rand.Reader) }, `^AROA[A-Z0-9]{17}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			for range 1000 {
				id := tt.gen()
				if !re.MatchString(id) {
					t.Fatalf("got %q, want it to match %s", id, tt.re)
				}
				if seen[id] {
					t.Fatalf("got %q twice in 1000, want unique ids", id)
				}
				seen[id] = true
			}
		})
	}
	t.Run("the same randomness gives the same ids", func(t *testing.T) {
		t.Parallel()
		a, b := testRand(7), testRand(7)
		for range 10 {
			if x, y := NewUniqueID("AROA", a), NewUniqueID("AROA", b); x != y {
				t.Fatalf("got %q and %q, want equal", x, y)
			}
		}
	})
	t.Run("every symbol of the unique-id alphabet occurs", func(t *testing.T) {
		t.Parallel()
		counts := map[rune]int{}
		r := testRand(1)
		for range 2000 {
			for _, c := range NewUniqueID("", r) {
				counts[c]++
			}
		}
		// 34000 symbols over 36: about 944 each; a bias from a skewed
		// modulo or a missing symbol shows far outside these bounds.
		for _, c := range upperAlphaNum {
			if n := counts[c]; n < 800 || n > 1100 {
				t.Errorf("symbol %q: got %d occurrences, want about 944", c, n)
			}
		}
	})
}
