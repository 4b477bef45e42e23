package postgres

import (
	"context"
	"testing"

	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/audit/audittest"
	"github.com/iamd/iamd/internal/store/pgtest"
)

func TestAuditStoreContract(t *testing.T) {
	t.Parallel()
	audittest.Run(t, func(t *testing.T) audit.Store {
		st, err := OpenAudit(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
