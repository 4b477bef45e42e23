package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order of their numeric prefix
// (0001_name.sql, …), each once. Never edit a released one.
//
//go:embed migrations/*.sql
var migrationsFS embed.FS

// migrateLockID is the advisory lock that keeps nodes starting together
// from migrating at the same time. Arbitrary, fixed forever.
const migrateLockID = 0x1a3d_0001

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

// migrate applies pending migrations in one transaction (PostgreSQL's DDL
// is transactional: a failed migration leaves the schema as it was).
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations(migrationsFS)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLockID)); err != nil {
			return err
		}
		// iamd_meta holds schema_version itself, so it is created here
		// rather than by a migration.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS iamd_meta (
			name  text PRIMARY KEY,
			value bigint NOT NULL
		)`); err != nil {
			return err
		}
		var current int
		err := tx.QueryRow(ctx, "SELECT value FROM iamd_meta WHERE name = 'schema_version'").Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, "INSERT INTO iamd_meta (name, value) VALUES ('schema_version', 0)")
		}
		if err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("schema version %d is newer than this build knows (%d)", current, len(ms))
		}
		for _, m := range ms[current:] {
			// No arguments: pgx uses the simple protocol, which runs a
			// file of several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "UPDATE iamd_meta SET value = $1 WHERE name = 'schema_version'", m.version); err != nil {
				return err
			}
		}
		return nil
	})
}
