package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/iamd/iamd/internal/kv"
)

// scanPage is how many rows Scan reads per query. pgx cannot run a
// statement on a connection while another's rows are being read, so Scan
// reads a page, ends the query, then calls fn: fn may use the Tx.
const scanPage = 256

var (
	errReadOnly = errors.New("postgres: write in a View transaction")
	errTxDone   = errors.New("postgres: transaction used after its function returned")
)

// tx implements kv.Tx; not safe for concurrent use, like a pgx.Tx.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	done     bool
}

func (t *tx) Get(table, key string) ([]byte, error) {
	if t.done {
		return nil, errTxDone
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, "SELECT v FROM iamd_kv WHERE tbl = $1 AND k = $2", table, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get: %w", err)
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
		value = []byte{} // pgx sends a nil slice as NULL
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO iamd_kv (tbl, k, v) VALUES ($1, $2, $3)
		ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v`, table, []byte(key), value)
	if err != nil {
		return fmt.Errorf("postgres: put: %w", err)
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
	if _, err := t.tx.Exec(t.ctx, "DELETE FROM iamd_kv WHERE tbl = $1 AND k = $2", table, []byte(key)); err != nil {
		return fmt.Errorf("postgres: delete: %w", err)
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
		var rows pgx.Rows
		var err error
		// k >= prefix AND k > after: the range starts at whichever is later.
		if bounded {
			rows, err = t.tx.Query(t.ctx, `SELECT k, v FROM iamd_kv
				WHERE tbl = $1 AND k >= $2 AND k > $3 AND k < $4 ORDER BY k LIMIT $5`,
				table, []byte(prefix), []byte(after), []byte(end), n)
		} else {
			rows, err = t.tx.Query(t.ctx, `SELECT k, v FROM iamd_kv
				WHERE tbl = $1 AND k >= $2 AND k > $3 ORDER BY k LIMIT $4`,
				table, []byte(prefix), []byte(after), n)
		}
		if err != nil {
			return fmt.Errorf("postgres: scan: %w", err)
		}
		page = page[:0]
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: scan: %w", err)
			}
			if v == nil {
				v = []byte{}
			}
			page = append(page, pair{string(k), v})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: scan: %w", err)
		}
		for _, p := range page {
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
