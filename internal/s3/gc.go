package s3

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/iamd/iamd/internal/kv"
)

// Garbage from crashes (decision 0012): a PUT, copy or Complete publishes
// its blob by rename and then commits the record that names it, so a crash
// between the two leaves a blob no record references, and a crash while
// streaming leaves a file in tmp/. New removes both.
//
// Only files older than staleAfter are touched: a file that young may be
// an upload still in flight in another process using the same directory,
// about to be committed. The rename-then-commit window is milliseconds, so
// an hour-old unreferenced blob is garbage; a young one waits for the next
// start. Nothing is removed when the records cannot be read.
const staleAfter = time.Hour

// collectGarbage removes stale temporary files and stale blobs that no
// object record references. It runs at start, before the service serves.
func (s *Service) collectGarbage(ctx context.Context) {
	cutoff := s.now().Add(-staleAfter)
	stale := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			s.log.Warn("s3: list for garbage collection", "dir", dir, "err", err)
			return nil
		}
		var out []string
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
				out = append(out, e.Name())
			}
		}
		return out
	}
	tmp := filepath.Join(s.dir, "tmp")
	for _, name := range stale(tmp) {
		if err := os.Remove(filepath.Join(tmp, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("s3: remove stale temporary file", "file", name, "err", err)
		}
	}
	candidates := map[string]bool{}
	for _, id := range stale(filepath.Join(s.dir, "blobs")) {
		candidates[id] = true
	}
	if len(candidates) == 0 {
		return
	}
	err := s.store.View(ctx, func(tx kv.Tx) error {
		return tx.Scan(tObjects, "", "", 0, func(_ string, v []byte) error {
			var o struct {
				Blob string `json:"blob"`
			}
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			delete(candidates, o.Blob)
			return nil
		})
	})
	if err != nil {
		s.log.Warn("s3: read object records for garbage collection; no blob removed", "err", err)
		return
	}
	removed := 0
	for id := range candidates {
		if err := os.Remove(s.blobPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("s3: remove unreferenced blob", "blob", id, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		s.log.Info("s3: removed unreferenced blobs left by a crash", "count", removed)
	}
}
