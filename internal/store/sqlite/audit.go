package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/iamd/iamd/internal/audit"
)

// AuditStore is audit.Store on its own SQLite file (DATA/audit.db), apart
// from the kv store's: the trail is written far more often than IAM state,
// and its group commits must not queue behind (or hold up) IAM writes.
// It is WAL with synchronous=FULL, so an Append that returned survives
// kill -9 and power loss. One write connection, serialized by a mutex;
// lookups, verify and export read on a pool of read-only connections.
//
// Schema (audit_schema.sql, versioned by PRAGMA user_version):
// audit_events holds each record with its lookup columns, indexed by
// (column, event_time, seq) for every LookupEvents attribute;
// audit_resources indexes resource names and types; audit_chain holds
// the anchor and the head of the hash chain.
type AuditStore struct {
	writeDB *sql.DB
	w       *sql.Conn
	wmu     sync.Mutex
	ins     map[int]*sql.Stmt // multi-row inserts by row count
	insRes  map[int]*sql.Stmt // multi-row resource inserts by row count

	readDB *sql.DB

	closeOnce sync.Once
	closeErr  error
}

var _ audit.Store = (*AuditStore)(nil)

//go:embed audit_schema.sql
var auditSchema string

// auditSchemaVersion is the user_version audit_schema.sql sets up.
const auditSchemaVersion = 1

// insertRows is how many records one INSERT statement carries.
const insertRows = 32

const auditCols = "seq, event_time, event_id, event_name, event_source, read_only, access_key_id, username, resources, body, prev_hash, hash"

// OpenAudit opens (creating if needed) the audit database at path.
func OpenAudit(ctx context.Context, path string) (*AuditStore, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	s := &AuditStore{ins: map[int]*sql.Stmt{}, insRes: map[int]*sql.Stmt{}}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	s.writeDB, err = openDB(driverName, path,
		fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS),
		// Larger pages: a batch of records is written with fewer, larger
		// writes (effective only when the file is created).
		"PRAGMA page_size = 16384",
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = FULL",
		// A bigger page cache for the indexes a batch touches, and fewer,
		// larger checkpoints.
		"PRAGMA cache_size = -65536",
		"PRAGMA wal_autocheckpoint = 2048",
	)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.writeDB.SetMaxOpenConns(1)
	if s.w, err = s.writeDB.Conn(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal", path, mode)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	for _, n := range []int{1, insertRows} {
		q := "INSERT INTO audit_events (" + auditCols + ") VALUES " + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?),", n), ",")
		if s.ins[n], err = s.w.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	for _, n := range []int{1, insertRows} {
		q := "INSERT OR IGNORE INTO audit_resources (seq, event_time, type, name) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?,?,?),", n), ",")
		if s.insRes[n], err = s.w.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	s.readDB, err = openDB(driverName, path,
		fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS),
		"PRAGMA query_only = 1",
	)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.readDB.SetMaxOpenConns(8)
	s.readDB.SetMaxIdleConns(8)
	ok = true
	return s, nil
}

func (s *AuditStore) migrate(ctx context.Context) (err error) {
	if _, err := s.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = s.w.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch {
	case v > auditSchemaVersion:
		return fmt.Errorf("audit schema version %d is newer than this build knows (%d)", v, auditSchemaVersion)
	case v < auditSchemaVersion:
		if _, err := s.w.ExecContext(ctx, auditSchema); err != nil {
			return err
		}
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", auditSchemaVersion)); err != nil {
			return err
		}
	}
	_, err = s.w.ExecContext(ctx, "COMMIT")
	return err
}

// Append writes recs in one transaction: one fsync for the batch.
func (s *AuditStore) Append(ctx context.Context, recs []*audit.Record) (err error) {
	if len(recs) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: audit begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = s.w.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var head audit.Point
	if err := s.w.QueryRowContext(ctx, "SELECT seq, hash FROM audit_chain WHERE name = 'head'").Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("sqlite: audit head: %w", err)
	}
	seq, hash := audit.Chain(head.Seq, head.Hash, recs)
	args := make([]any, 0, 12*insertRows)
	var resArgs []any
	for rest := recs; len(rest) > 0; {
		n := 1
		if len(rest) >= insertRows {
			n = insertRows
		}
		args = args[:0]
		for _, r := range rest[:n] {
			res, err := encodeResources(r.Resources)
			if err != nil {
				return err
			}
			args = append(args, r.Seq, r.Time, r.EventID, r.EventName, r.EventSource, r.ReadOnly,
				r.AccessKeyID, r.Username, res, r.Body, r.PrevHash, r.Hash)
		}
		if _, err := s.ins[n].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: audit insert: %w", err)
		}
		for _, r := range rest[:n] {
			for _, res := range r.Resources {
				resArgs = append(resArgs, r.Seq, r.Time, res.Type, res.ARN)
			}
		}
		rest = rest[n:]
	}
	for len(resArgs) > 0 {
		n := 1
		if len(resArgs) >= 4*insertRows {
			n = insertRows
		}
		if _, err := s.insRes[n].ExecContext(ctx, resArgs[:4*n]...); err != nil {
			return fmt.Errorf("sqlite: audit insert resource: %w", err)
		}
		resArgs = resArgs[4*n:]
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE audit_chain SET seq = ?, hash = ? WHERE name = 'head'", seq, hash); err != nil {
		return fmt.Errorf("sqlite: audit head: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlite: audit commit: %w", err)
	}
	return nil
}

// encodeResources is the resources column: [[type, name], …], "" for none.
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

// Lookup runs one page of a LookupEvents query on the index of its
// attribute, newest first.
func (s *AuditStore) Lookup(ctx context.Context, q audit.Query) ([]*audit.Record, error) {
	from, t := "audit_events e", "e"
	var where []string
	var args []any
	if q.Attr != "" {
		col, ok := lookupColumn[q.Attr]
		if !ok {
			return nil, fmt.Errorf("sqlite: unknown lookup attribute %q", q.Attr)
		}
		var v any = q.Value
		if q.Attr == audit.AttrReadOnly {
			v = q.Value == "true"
		}
		if q.Attr == audit.AttrResourceName || q.Attr == audit.AttrResourceType {
			from, t = "audit_resources r JOIN audit_events e ON e.seq = r.seq", "r"
			where = append(where, "r."+col+" = ?")
		} else {
			where = append(where, "e."+col+" = ?")
		}
		args = append(args, v)
	}
	if q.Start != 0 {
		where = append(where, t+".event_time >= ?")
		args = append(args, q.Start)
	}
	if q.End != 0 {
		where = append(where, t+".event_time <= ?")
		args = append(args, q.End)
	}
	if q.After != nil {
		where = append(where, "("+t+".event_time, "+t+".seq) < (?, ?)")
		args = append(args, q.After.Time, q.After.Seq)
	}
	query := "SELECT e." + strings.ReplaceAll(auditCols, ", ", ", e.") + " FROM " + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY " + t + ".event_time DESC, " + t + ".seq DESC LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit lookup: %w", err)
	}
	defer rows.Close()
	var out []*audit.Record
	for rows.Next() {
		r, err := scanRecord(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanRecord(rows *sql.Rows, withResources bool) (*audit.Record, error) {
	r := &audit.Record{}
	var res string
	if err := rows.Scan(&r.Seq, &r.Time, &r.EventID, &r.EventName, &r.EventSource, &r.ReadOnly,
		&r.AccessKeyID, &r.Username, &res, &r.Body, &r.PrevHash, &r.Hash); err != nil {
		return nil, fmt.Errorf("sqlite: audit scan: %w", err)
	}
	if withResources || res != "" {
		var err error
		if r.Resources, err = decodeResources(res); err != nil {
			return nil, fmt.Errorf("sqlite: audit record %d resources: %w", r.Seq, err)
		}
	}
	return r, nil
}

// Scan reads every record from seq on, in order, in one snapshot.
func (s *AuditStore) Scan(ctx context.Context, from int64, fn func(*audit.Record) error) error {
	return s.scan(ctx, "SELECT "+auditCols+" FROM audit_events WHERE seq >= ? ORDER BY seq", fn, from)
}

// Since reads the records from time t on, in sequence order.
func (s *AuditStore) Since(ctx context.Context, t int64, fn func(*audit.Record) error) error {
	return s.scan(ctx, "SELECT "+auditCols+` FROM audit_events
		WHERE seq >= coalesce((SELECT seq FROM audit_events WHERE event_time >= ?1 ORDER BY event_time, seq LIMIT 1), 1 << 62)
		AND event_time >= ?1 ORDER BY seq`, fn, t)
}

func (s *AuditStore) scan(ctx context.Context, query string, fn func(*audit.Record) error, args ...any) error {
	tx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: audit scan: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: audit scan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows, false)
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
	rows, err := s.readDB.QueryContext(ctx, "SELECT name, seq, hash FROM audit_chain")
	if err != nil {
		return anchor, head, fmt.Errorf("sqlite: audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var p audit.Point
		if err := rows.Scan(&name, &p.Seq, &p.Hash); err != nil {
			return anchor, head, fmt.Errorf("sqlite: audit chain: %w", err)
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
		return anchor, head, errors.New("sqlite: audit chain: anchor or head missing")
	}
	return anchor, head, nil
}

// pruneChunk bounds one prune transaction, so that the writer never waits
// long behind a prune.
const pruneChunk = 5000

// Prune deletes the chain's prefix up to the last record before before,
// a chunk per transaction, each moving the anchor.
func (s *AuditStore) Prune(ctx context.Context, before int64) (int64, error) {
	var upTo sql.NullInt64
	if err := s.readDB.QueryRowContext(ctx, "SELECT max(seq) FROM audit_events WHERE event_time < ?", before).Scan(&upTo); err != nil {
		return 0, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	if !upTo.Valid {
		return 0, nil
	}
	var total int64
	for {
		n, more, err := s.pruneChunk(ctx, upTo.Int64)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *AuditStore) pruneChunk(ctx context.Context, upTo int64) (n int64, more bool, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = s.w.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var anchor int64
	if err := s.w.QueryRowContext(ctx, "SELECT seq FROM audit_chain WHERE name = 'anchor'").Scan(&anchor); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	end := min(upTo, anchor+pruneChunk)
	if end <= anchor {
		_, err = s.w.ExecContext(ctx, "COMMIT")
		return 0, false, err
	}
	var last audit.Point
	if err := s.w.QueryRowContext(ctx, "SELECT seq, hash FROM audit_events WHERE seq <= ? ORDER BY seq DESC LIMIT 1", end).Scan(&last.Seq, &last.Hash); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM audit_events WHERE seq <= ?", end)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	n, _ = res.RowsAffected()
	if _, err := s.w.ExecContext(ctx, "DELETE FROM audit_resources WHERE seq <= ?", end); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE audit_chain SET seq = ?, hash = ? WHERE name = 'anchor'", last.Seq, last.Hash); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, false, fmt.Errorf("sqlite: audit prune: %w", err)
	}
	return n, end < upTo, nil
}

// Close closes the database; safe to call more than once.
func (s *AuditStore) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, st := range s.ins {
			st.Close()
		}
		for _, st := range s.insRes {
			st.Close()
		}
		if s.readDB != nil {
			errs = append(errs, s.readDB.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		if s.writeDB != nil {
			errs = append(errs, s.writeDB.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
