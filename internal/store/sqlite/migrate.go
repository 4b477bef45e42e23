package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// migrations are applied in order of their numeric prefix
// (0001_name.sql, 0002_name.sql, …). A migration is never edited once
// released: a database records only the number it has reached.
//
//go:embed migrations/*.sql
var migrationsFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d (versions must be 1, 2, 3, … without gaps)", ms[i].name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date in one IMMEDIATE transaction, so
// two processes opening the same new file cannot both apply a migration,
// and a failed migration leaves the file as it was (SQLite's DDL is
// transactional).
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	ms, err := loadMigrations(migrationsFS)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	// meta holds schema_version itself, so it is created here rather than
	// by a migration.
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS meta (
		name  TEXT PRIMARY KEY,
		value INTEGER NOT NULL
	) WITHOUT ROWID`); err != nil {
		return err
	}
	var current int
	err = conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'schema_version'`).Scan(&current)
	switch {
	case err == sql.ErrNoRows:
		if _, err := conn.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('schema_version', 0)`); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if current > len(ms) {
		// A newer iamd wrote this file; running old code against it could
		// silently misread data.
		return fmt.Errorf("schema version %d is newer than this build knows (%d)", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := conn.ExecContext(ctx, `UPDATE meta SET value = ? WHERE name = 'schema_version'`, m.version); err != nil {
			return err
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
