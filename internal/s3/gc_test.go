package s3

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// touch writes a file and sets its modification time to age ago.
func touch(t *testing.T, path string, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestStartRemovesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	s, err := New(Config{Store: st, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBucket(ctx, "bkt", ""); err != nil {
		t.Fatal(err)
	}
	live := put(t, s, "bkt", "k", "hello")
	// The live object's blob is old too: age alone must not remove it.
	if err := os.Chtimes(s.blobPath(live.Blob), time.Now().Add(-48*time.Hour), time.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	blobs, tmp := filepath.Join(dir, "blobs"), filepath.Join(dir, "tmp")
	touch(t, filepath.Join(blobs, "orphan-old"), 2*time.Hour)   // a crash between rename and commit
	touch(t, filepath.Join(blobs, "orphan-young"), time.Minute) // may be another process's upload in flight
	touch(t, filepath.Join(tmp, "put-old"), 2*time.Hour)
	touch(t, filepath.Join(tmp, "put-young"), time.Minute)

	if _, err := New(Config{Store: st, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		s.blobPath(live.Blob):                true,
		filepath.Join(blobs, "orphan-old"):   false,
		filepath.Join(blobs, "orphan-young"): true,
		filepath.Join(tmp, "put-old"):        false,
		filepath.Join(tmp, "put-young"):      true,
	} {
		if got := exists(t, path); got != want {
			t.Errorf("%s: got exists %v after a restart, want %v", filepath.Base(path), got, want)
		}
	}
	if got, code := read(t, s, "bkt", "k"); got != "hello" || code != "" {
		t.Errorf("got %q %s for the live object, want hello", got, code)
	}
}

func TestStartRemovesNoBlobWhenRecordsCannotBeRead(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	if _, err := New(Config{Store: st, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, "blobs", "maybe-referenced")
	touch(t, orphan, 2*time.Hour)
	st.Close()
	if _, err := New(Config{Store: st, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if !exists(t, orphan) {
		t.Errorf("a blob was removed although the object records could not be read")
	}
}
