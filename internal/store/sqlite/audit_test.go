package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/audit/audittest"
)

func openAuditTest(t *testing.T) *AuditStore {
	t.Helper()
	st, err := OpenAudit(context.Background(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestAuditStoreContract(t *testing.T) {
	t.Parallel()
	audittest.Run(t, func(t *testing.T) audit.Store { return openAuditTest(t) })
}

// TestVerifyFindsTampering edits audit.db behind the store's back, as an
// intruder with the file would, and checks that Verify names the record.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sql  []string
		seq  int64
		kind string
	}{
		{"an untouched trail verifies", nil, 0, ""},
		{"a changed body is reported as changed", []string{`UPDATE audit_events SET body = replace(body, 'alice', 'mallory') WHERE seq = 7`}, 7, audit.Changed},
		{"a changed lookup column is reported as changed", []string{`UPDATE audit_events SET access_key_id = 'AKIAOTHER' WHERE seq = 9`}, 9, audit.Changed},
		{"a removed record is reported as removed", []string{`DELETE FROM audit_events WHERE seq = 5`}, 5, audit.Removed},
		{"a removed last record is reported as removed", []string{`DELETE FROM audit_events WHERE seq = 20`}, 20, audit.Removed},
		{"a removed record with the rest renumbered is reported as removed", []string{
			`DELETE FROM audit_events WHERE seq = 5`, `UPDATE audit_events SET seq = -seq WHERE seq > 5`, `UPDATE audit_events SET seq = -seq - 1 WHERE seq < 0`,
		}, 5, audit.Removed},
		{"swapped records are reported as reordered", []string{
			`UPDATE audit_events SET seq = -1 WHERE seq = 5`, `UPDATE audit_events SET seq = 5 WHERE seq = 6`, `UPDATE audit_events SET seq = 6 WHERE seq = -1`,
		}, 5, audit.Reordered},
		{"a record inserted with the rest renumbered is reported as inserted", []string{
			`UPDATE audit_events SET seq = -seq WHERE seq >= 8`, `UPDATE audit_events SET seq = -seq + 1 WHERE seq < 0`,
			`INSERT INTO audit_events SELECT 8, event_time, 'forged', event_name, event_source, read_only, access_key_id, username, resources, body, prev_hash, randomblob(32) FROM audit_events WHERE seq = 9`,
		}, 8, audit.Inserted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "audit.db")
			st, err := OpenAudit(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Append(ctx, audittest.Records(t, 0, 20)); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open(driverName, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range tc.sql {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := audit.Verify(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if rep.Problem != nil {
					t.Fatalf("got %v, want no problem", rep.Problem)
				}
				return
			}
			if rep.Problem == nil || rep.Problem.Seq != tc.seq || rep.Problem.Kind != tc.kind {
				t.Fatalf("got %v, want record %d %s", rep.Problem, tc.seq, tc.kind)
			}
		})
	}
}
