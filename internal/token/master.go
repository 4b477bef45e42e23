package token

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// MasterKeySize is the size of the master key that wraps sealing keys
// (AES-256).
const MasterKeySize = 32

// ParseMasterKey decodes a master key given as text — the form an operator
// puts in an environment variable instead of a key file: 64 hex digits, or
// standard or URL-safe base64, padded or not, surrounding space ignored. It
// must decode to exactly MasterKeySize bytes. Errors never quote the text.
func ParseMasterKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if len(text) == 2*MasterKeySize {
		if k, err := hex.DecodeString(text); err == nil {
			return k, nil
		}
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := e.DecodeString(text); err == nil && len(k) == MasterKeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("token: master key must be %d bytes as hex or base64 (got %d characters)", MasterKeySize, len(text))
}

// LoadOrCreateMasterKey reads the master key file at path, creating it with
// a new random key if it does not exist.
//
// The file holds the key as one line of standard base64, so an operator can
// move it into an environment variable as is (ParseMasterKey reads it); a
// file of exactly 32 raw bytes is accepted too. It is created with mode 0600
// and, like ssh with its private keys, refused if group or others can read
// it: anyone who reads it can open every session token whose sealing keys
// they can also read from the store.
//
// Creation writes a temporary file and hard-links it into place, which fails
// if path appeared meanwhile: a concurrent start never replaces a key that
// another process may already have used, and a crash never leaves a
// half-written key at path.
func LoadOrCreateMasterKey(path string, rand io.Reader) ([]byte, error) {
	k, err := readMasterKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token: master key directory: %w", err)
	}
	key := make([]byte, MasterKeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("token: new master key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master.key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("token: create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("token: write master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readMasterKey(path) // another process won the race
		}
		return nil, fmt.Errorf("token: install master key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new directory entry durable: losing the key after sealing
		// keys were wrapped under it would lose every key in the store.
		err = d.Sync()
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("token: sync master key directory: %w", err)
		}
	}
	return key, nil
}

func readMasterKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // callers test fs.ErrNotExist
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token: master key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("token: master key %s is accessible by group or others (mode %#o); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("token: read master key: %w", err)
	}
	if len(b) == MasterKeySize {
		return b, nil
	}
	k, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("token: master key file %s: %w", path, err)
	}
	return k, nil
}
