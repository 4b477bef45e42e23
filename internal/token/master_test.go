package token

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLoadOrCreateMasterKey(t *testing.T) {
	t.Parallel()

	t.Run("a missing key file is created with mode 0600 and then reused", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "data", "master.key")
		k1, err := LoadOrCreateMasterKey(path, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(k1) != MasterKeySize {
			t.Fatalf("got %d bytes, want %d", len(k1), MasterKeySize)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("got mode %#o, want 0600", fi.Mode().Perm())
		}
		k2, err := LoadOrCreateMasterKey(path, rand.Reader)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Errorf("second load: got (%x, %v), want the first key", k2, err)
		}
		text, _ := os.ReadFile(path)
		if k3, err := ParseMasterKey(string(text)); err != nil || !bytes.Equal(k3, k1) {
			t.Errorf("file text through ParseMasterKey: got (%x, %v), want the key", k3, err)
		}
		tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".master.key-*"))
		if len(tmps) != 0 {
			t.Errorf("got leftover temporary files %v, want none", tmps)
		}
	})
	t.Run("a file of 32 raw bytes is accepted", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "master.key")
		want := bytes.Repeat([]byte{0xa5}, MasterKeySize)
		if err := os.WriteFile(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadOrCreateMasterKey(path, rand.Reader); err != nil || !bytes.Equal(got, want) {
			t.Errorf("got (%x, %v), want %x", got, err, want)
		}
	})
	t.Run("a key file readable by others is refused", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		path := filepath.Join(t.TempDir(), "master.key")
		if _, err := LoadOrCreateMasterKey(path, rand.Reader); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateMasterKey(path, rand.Reader); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("got %v, want an error telling to chmod 600", err)
		}
	})
	t.Run("a key file with the wrong content is refused and not replaced", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "master.key")
		if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateMasterKey(path, rand.Reader); err == nil {
			t.Error("got nil, want error")
		}
		if b, _ := os.ReadFile(path); string(b) != "not a key\n" {
			t.Errorf("got file %q, want it untouched", b)
		}
	})
	t.Run("a failing randomness source creates no file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "master.key")
		if _, err := LoadOrCreateMasterKey(path, strings.NewReader("short")); err == nil {
			t.Error("got nil, want error")
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("got %v, want no file", err)
		}
	})
}

func TestParseMasterKey(t *testing.T) {
	t.Parallel()
	key := make([]byte, MasterKeySize)
	for i := range key {
		key[i] = byte(i*7 + 0xf0) // includes bytes that encode to + / - _
	}
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"hex", hex.EncodeToString(key), true},
		{"upper-case hex", strings.ToUpper(hex.EncodeToString(key)), true},
		{"standard base64", base64.StdEncoding.EncodeToString(key), true},
		{"standard base64 with a trailing newline", base64.StdEncoding.EncodeToString(key) + "\n", true},
		{"unpadded base64", base64.RawStdEncoding.EncodeToString(key), true},
		{"URL-safe base64", base64.URLEncoding.EncodeToString(key), true},
		{"unpadded URL-safe base64", base64.RawURLEncoding.EncodeToString(key), true},
		{"empty text", "", false},
		{"a 16-byte key", hex.EncodeToString(key[:16]), false},
		{"a 33-byte key", base64.StdEncoding.EncodeToString(append(key, 1)), false},
		{"a passphrase", "correct horse battery staple", false},
	}
	for _, tt := range tests {
		verdict := "is refused"
		if tt.ok {
			verdict = "is accepted"
		}
		t.Run(tt.name+" "+verdict, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMasterKey(tt.text)
			if tt.ok && (err != nil || !bytes.Equal(got, key)) {
				t.Errorf("got (%x, %v), want %x", got, err, key)
			}
			if !tt.ok && err == nil {
				t.Errorf("got %x, want error", got)
			}
			if err != nil && tt.text != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.text)) {
				t.Errorf("got error %q quoting the key text, want it not to", err)
			}
		})
	}
}
