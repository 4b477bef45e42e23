package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/iamd/iamd/internal/kv"
)

// scanPage is how many rows Scan reads per query. Scan buffers a page and
// closes its cursor before calling fn, so fn may use the Tx (Get an entity
// named by an index key, Delete what it visits) without interleaving
// statements on one connection.
const scanPage = 128

var (
	errReadOnly = errors.New("sqlite: write in a View transaction")
	errTxDone   = errors.New("sqlite: transaction used after its function returned")
)

const (
	stmtGet = iota
	stmtPut
	stmtDelete
	stmtScan        // prefix with no upper bound
	stmtScanBounded // prefix with an exclusive upper bound
	numStmts
)

var stmtSQL = [numStmts]string{
	stmtGet:    `SELECT v FROM kv WHERE tbl = ? AND k = ?`,
	stmtPut:    `INSERT INTO kv (tbl, k, v) VALUES (?, ?, ?) ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v`,
	stmtDelete: `DELETE FROM kv WHERE tbl = ? AND k = ?`,
	// k >= prefix AND k > after: the range starts at whichever is later.
	stmtScan:        `SELECT k, v FROM kv WHERE tbl = ? AND k >= ? AND k > ? ORDER BY k LIMIT ?`,
	stmtScanBounded: `SELECT k, v FROM kv WHERE tbl = ? AND k >= ? AND k > ? AND k < ? ORDER BY k LIMIT ?`,
}

// stmts are prepared once per Store side; database/sql re-prepares them
// lazily on each pooled connection and keeps them.
type stmts struct {
	s    [numStmts]*sql.Stmt
	gen  *sql.Stmt
	bump *sql.Stmt
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (st *stmts) prepare(ctx context.Context, p preparer) error {
	var err error
	for i, q := range stmtSQL {
		if st.s[i], err = p.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if st.gen, err = p.PrepareContext(ctx, `SELECT value FROM meta WHERE name = 'generation'`); err != nil {
		return err
	}
	st.bump, err = p.PrepareContext(ctx, `UPDATE meta SET value = value + 1 WHERE name = 'generation'`)
	return err
}

func (st *stmts) close() {
	for _, s := range append(st.s[:], st.gen, st.bump) {
		if s != nil {
			s.Close()
		}
	}
}

// tx implements kv.Tx. It is not safe for concurrent use, like the
// transaction under it.
type tx struct {
	ctx      context.Context
	stmts    *stmts
	inTx     *sql.Tx // non-nil in View: statements must be bound to it
	bound    [numStmts]*sql.Stmt
	writable bool
	done     bool
}

func (t *tx) finish() { t.done = true }

func (t *tx) stmt(i int) *sql.Stmt {
	if t.inTx == nil {
		// Update: the statements were prepared on the write connection,
		// which is the transaction.
		return t.stmts.s[i]
	}
	if t.bound[i] == nil {
		t.bound[i] = t.inTx.StmtContext(t.ctx, t.stmts.s[i])
	}
	return t.bound[i]
}

func (t *tx) Get(table, key string) ([]byte, error) {
	if t.done {
		return nil, errTxDone
	}
	var v []byte
	err := t.stmt(stmtGet).QueryRowContext(t.ctx, table, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get: %w", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *tx) Put(table, key string, value []byte) error {
	if t.done {
		return errTxDone
	}
	if !t.writable {
		return errReadOnly
	}
	if value == nil {
		// Drivers bind a nil slice as NULL; kv has no NULL, only empty.
		value = []byte{}
	}
	if _, err := t.stmt(stmtPut).ExecContext(t.ctx, table, key, value); err != nil {
		return fmt.Errorf("sqlite: put: %w", err)
	}
	return nil
}

func (t *tx) Delete(table, key string) error {
	if t.done {
		return errTxDone
	}
	if !t.writable {
		return errReadOnly
	}
	if _, err := t.stmt(stmtDelete).ExecContext(t.ctx, table, key); err != nil {
		return fmt.Errorf("sqlite: delete: %w", err)
	}
	return nil
}

type pair struct {
	k string
	v []byte
}

func (t *tx) Scan(table, prefix, after string, limit int, fn func(key string, value []byte) error) error {
	if t.done {
		return errTxDone
	}
	end, bounded := prefixEnd(prefix)
	var page []pair
	seen := 0
	for {
		n := scanPage
		if limit > 0 && limit-seen < n {
			n = limit - seen
		}
		var rows *sql.Rows
		var err error
		if bounded {
			rows, err = t.stmt(stmtScanBounded).QueryContext(t.ctx, table, prefix, after, end, n)
		} else {
			rows, err = t.stmt(stmtScan).QueryContext(t.ctx, table, prefix, after, n)
		}
		if err != nil {
			return fmt.Errorf("sqlite: scan: %w", err)
		}
		page = page[:0]
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.k, &p.v); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: scan: %w", err)
			}
			page = append(page, p)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("sqlite: scan: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: scan: %w", err)
		}
		for _, p := range page {
			if p.v == nil {
				p.v = []byte{}
			}
			if err := fn(p.k, p.v); err != nil {
				return err
			}
		}
		seen += len(page)
		if len(page) < n || (limit > 0 && seen >= limit) {
			return nil
		}
		after = page[len(page)-1].k
	}
}

// prefixEnd returns the smallest string greater than every string that
// starts with prefix, or false if there is none (prefix is empty or all
// 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
