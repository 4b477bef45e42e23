package postgres

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamd/iamd/internal/audit"
)

// AuditStore is audit.Store on PostgreSQL, in the same database as the kv
// store, so that every node of a cluster appends to one chain: Append
// locks the chain's head row (SELECT … FOR UPDATE) for its transaction,
// numbers and hashes its batch after it, and moves it. A committed Append
// is durable (synchronous_commit on, PostgreSQL's default).
type AuditStore struct {
	pool *pgxpool.Pool
}

var _ audit.Store = (*AuditStore)(nil)

//go:embed audit_schema.sql
var auditSchema string

// auditLockID serializes schema creation between nodes starting together.
const auditLockID = 0x1a3d_0a0d

const pgAuditCols = "seq, event_time, event_id, event_name, event_source, read_only, access_key_id, username, resources, body, prev_hash, hash"

// OpenAudit connects to dsn and creates the audit tables if needed.
func OpenAudit(ctx context.Context, dsn string) (*AuditStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: invalid DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &AuditStore{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: audit schema: %w", err)
	}
	return s, nil
}

func (s *AuditStore) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(auditLockID)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, auditSchema); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Append writes recs in one transaction after the locked head.
func (s *AuditStore) Append(ctx context.Context, recs []*audit.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: audit begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	var head audit.Point
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM iamd_audit_chain WHERE name = 'head' FOR UPDATE").Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	seq, hash := audit.Chain(head.Seq, head.Hash, recs)
	rows := make([][]any, len(recs))
	var resRows [][]any
	for i, r := range recs {
		res, err := encodeResources(r.Resources)
		if err != nil {
			return err
		}
		rows[i] = []any{r.Seq, r.Time, r.EventID, r.EventName, r.EventSource, r.ReadOnly, r.AccessKeyID, r.Username, res, r.Body, r.PrevHash, r.Hash}
		for _, x := range r.Resources {
			resRows = append(resRows, []any{r.Seq, r.Time, x.Type, x.ARN})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"iamd_audit_events"}, strings.Split(pgAuditCols, ", "), pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("postgres: audit insert: %w", err)
	}
	if len(resRows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"iamd_audit_resources"}, []string{"seq", "event_time", "type", "name"}, pgx.CopyFromRows(resRows)); err != nil {
			return fmt.Errorf("postgres: audit insert resources: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE iamd_audit_chain SET seq = $1, hash = $2 WHERE name = 'head'", seq, hash); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: audit commit: %w", err)
	}
	return nil
}

func encodeResources(rs []audit.Resource) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	pairs := make([][2]string, len(rs))
	for i, r := range rs {
		pairs[i] = [2]string{r.Type, r.ARN}
	}
	b, err := json.Marshal(pairs)
	return string(b), err
}

func decodeResources(s string) ([]audit.Resource, error) {
	if s == "" {
		return []audit.Resource{}, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, err
	}
	out := make([]audit.Resource, len(pairs))
	for i, p := range pairs {
		out[i] = audit.Resource{Type: p[0], ARN: p[1]}
	}
	return out, nil
}

var lookupColumn = map[string]string{
	audit.AttrEventID: "event_id", audit.AttrEventName: "event_name", audit.AttrEventSource: "event_source",
	audit.AttrAccessKeyID: "access_key_id", audit.AttrUsername: "username", audit.AttrReadOnly: "read_only",
	audit.AttrResourceName: "name", audit.AttrResourceType: "type",
}

// Lookup runs one page of a LookupEvents query, newest first.
func (s *AuditStore) Lookup(ctx context.Context, q audit.Query) ([]*audit.Record, error) {
	from, t := "iamd_audit_events e", "e"
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.Attr != "" {
		col, ok := lookupColumn[q.Attr]
		if !ok {
			return nil, fmt.Errorf("postgres: unknown lookup attribute %q", q.Attr)
		}
		var v any = q.Value
		if q.Attr == audit.AttrReadOnly {
			v = q.Value == "true"
		}
		if q.Attr == audit.AttrResourceName || q.Attr == audit.AttrResourceType {
			from, t = "iamd_audit_resources r JOIN iamd_audit_events e ON e.seq = r.seq", "r"
		}
		where = append(where, t+"."+col+" = "+arg(v))
	}
	if q.Start != 0 {
		where = append(where, t+".event_time >= "+arg(q.Start))
	}
	if q.End != 0 {
		where = append(where, t+".event_time <= "+arg(q.End))
	}
	if q.After != nil {
		where = append(where, "("+t+".event_time, "+t+".seq) < ("+arg(q.After.Time)+", "+arg(q.After.Seq)+")")
	}
	query := "SELECT e." + strings.ReplaceAll(pgAuditCols, ", ", ", e.") + " FROM " + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY " + t + ".event_time DESC, " + t + ".seq DESC LIMIT " + arg(q.Limit)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit lookup: %w", err)
	}
	defer rows.Close()
	var out []*audit.Record
	for rows.Next() {
		r, err := scanAudit(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanAudit(rows pgx.Rows, withResources bool) (*audit.Record, error) {
	r := &audit.Record{}
	var res string
	if err := rows.Scan(&r.Seq, &r.Time, &r.EventID, &r.EventName, &r.EventSource, &r.ReadOnly,
		&r.AccessKeyID, &r.Username, &res, &r.Body, &r.PrevHash, &r.Hash); err != nil {
		return nil, fmt.Errorf("postgres: audit scan: %w", err)
	}
	if withResources || res != "" {
		var err error
		if r.Resources, err = decodeResources(res); err != nil {
			return nil, fmt.Errorf("postgres: audit record %d resources: %w", r.Seq, err)
		}
	}
	return r, nil
}

// Scan reads every record from seq on, in order, in one snapshot.
func (s *AuditStore) Scan(ctx context.Context, from int64, fn func(*audit.Record) error) error {
	return s.scan(ctx, "SELECT "+pgAuditCols+" FROM iamd_audit_events WHERE seq >= $1 ORDER BY seq", fn, from)
}

// Since reads the records from time t on, in sequence order.
func (s *AuditStore) Since(ctx context.Context, t int64, fn func(*audit.Record) error) error {
	return s.scan(ctx, "SELECT "+pgAuditCols+` FROM iamd_audit_events
		WHERE seq >= coalesce((SELECT seq FROM iamd_audit_events WHERE event_time >= $1 ORDER BY event_time, seq LIMIT 1), 4611686018427387904)
		AND event_time >= $1 ORDER BY seq`, fn, t)
}

func (s *AuditStore) scan(ctx context.Context, query string, fn func(*audit.Record) error, args ...any) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: audit scan: %w", err)
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: audit scan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows, false)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Chain returns the anchor and the head.
func (s *AuditStore) Chain(ctx context.Context) (anchor, head audit.Point, err error) {
	rows, err := s.pool.Query(ctx, "SELECT name, seq, hash FROM iamd_audit_chain")
	if err != nil {
		return anchor, head, fmt.Errorf("postgres: audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var p audit.Point
		if err := rows.Scan(&name, &p.Seq, &p.Hash); err != nil {
			return anchor, head, fmt.Errorf("postgres: audit chain: %w", err)
		}
		switch name {
		case "anchor":
			anchor = p
		case "head":
			head = p
		}
	}
	if err := rows.Err(); err != nil {
		return anchor, head, err
	}
	if anchor.Hash == nil || head.Hash == nil {
		return anchor, head, errors.New("postgres: audit chain: anchor or head missing")
	}
	return anchor, head, nil
}

// Prune deletes the chain's prefix up to the last record before before,
// moving the anchor, in chunks of 5,000 records per transaction.
func (s *AuditStore) Prune(ctx context.Context, before int64) (int64, error) {
	var upTo *int64
	if err := s.pool.QueryRow(ctx, "SELECT max(seq) FROM iamd_audit_events WHERE event_time < $1", before).Scan(&upTo); err != nil {
		return 0, fmt.Errorf("postgres: audit prune: %w", err)
	}
	if upTo == nil {
		return 0, nil
	}
	var total int64
	for {
		n, more, err := s.pruneChunk(ctx, *upTo)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *AuditStore) pruneChunk(ctx context.Context, upTo int64) (int64, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	defer tx.Rollback(context.Background())
	var anchor int64
	// Locking the head keeps appenders out while the anchor moves.
	if _, err := tx.Exec(ctx, "SELECT 1 FROM iamd_audit_chain WHERE name = 'head' FOR UPDATE"); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT seq FROM iamd_audit_chain WHERE name = 'anchor'").Scan(&anchor); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	end := min(upTo, anchor+5000)
	if end <= anchor {
		return 0, false, tx.Commit(ctx)
	}
	var last audit.Point
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM iamd_audit_events WHERE seq <= $1 ORDER BY seq DESC LIMIT 1", end).Scan(&last.Seq, &last.Hash); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	tag, err := tx.Exec(ctx, "DELETE FROM iamd_audit_events WHERE seq <= $1", end)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM iamd_audit_resources WHERE seq <= $1", end); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE iamd_audit_chain SET seq = $1, hash = $2 WHERE name = 'anchor'", last.Seq, last.Hash); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("postgres: audit prune: %w", err)
	}
	return tag.RowsAffected(), end < upTo, nil
}

// Close closes the pool.
func (s *AuditStore) Close() error {
	s.pool.Close()
	return nil
}
