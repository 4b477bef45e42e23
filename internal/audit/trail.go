package audit

import (
	"context"
)

// Trail is what the HTTP edge records calls with: the Writer, and the
// Hasher for the secrets a record carries only as keyed hashes.
type Trail struct {
	Writer *Writer
	Hasher *Hasher
}

// Record encodes ev and appends it; with durable, it returns once the
// record is committed.
func (t *Trail) Record(ctx context.Context, ev *Event, durable bool) error {
	rec, err := NewRecord(ev)
	if err != nil {
		return err
	}
	return t.Writer.Append(ctx, rec, durable)
}

// HashSecret is the keyed hash recorded in place of a secret.
func (t *Trail) HashSecret(v string) string { return t.Hasher.Hash(v) }
