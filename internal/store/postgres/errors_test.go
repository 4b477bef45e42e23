package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgconnError makes the error a serialization failure surfaces as, wrapped
// the way fn might wrap it.
type pgconnError struct{}

func (pgconnError) make() error {
	return fmt.Errorf("postgres: get: %w", &pgconn.PgError{Code: "40001", Message: "could not serialize access"})
}
