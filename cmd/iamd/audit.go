package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/cli"
	"github.com/iamd/iamd/internal/store/postgres"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/token"
)

// auditLocal lets `iamd audit verify|export|hash` read the trail and the
// master key where the server keeps them.
func auditLocal(getenv func(string) string) cli.AuditLocal {
	return cli.AuditLocal{
		Open: func(ctx context.Context, dataDir, store string) (audit.Store, error) {
			if strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://") {
				return postgres.OpenAudit(ctx, store)
			}
			path := filepath.Join(dataDir, "audit.db")
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("no audit trail at %s (is --data right?): %w", path, err)
			}
			return sqlite.OpenAudit(ctx, path)
		},
		MasterKey: func(dataDir string) ([]byte, error) {
			if k := getenv("IAMD_MASTER_KEY"); k != "" {
				return token.ParseMasterKey(k)
			}
			b, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("no master key in %s: give --data or IAMD_MASTER_KEY", dataDir)
			}
			if err != nil {
				return nil, err
			}
			if len(b) == token.MasterKeySize {
				return b, nil
			}
			return token.ParseMasterKey(string(b))
		},
	}
}
