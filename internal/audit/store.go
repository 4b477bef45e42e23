package audit

import (
	"context"
	"errors"
)

// Store keeps the trail. Both implementations (store/sqlite, store/postgres)
// run the contract suite in package audittest.
type Store interface {
	// Append writes recs in one transaction that is durable (fsync'd or
	// committed with synchronous_commit) when Append returns nil. The store
	// reads its chain head inside the transaction, assigns sequence numbers
	// and hashes with Chain, and moves the head, so that several writers
	// (nodes sharing PostgreSQL) extend one chain.
	Append(ctx context.Context, recs []*Record) error
	// Lookup returns up to q.Limit records matching q, newest first
	// (eventTime, then seq, descending).
	Lookup(ctx context.Context, q Query) ([]*Record, error)
	// Scan calls fn for every record with Seq >= from, in sequence order,
	// in one consistent snapshot. Resources are not filled in.
	Scan(ctx context.Context, from int64, fn func(*Record) error) error
	// Since calls fn for every record with Time >= t, in sequence order.
	Since(ctx context.Context, t int64, fn func(*Record) error) error
	// Chain returns the anchor (where the kept trail starts) and the head
	// (the last record written).
	Chain(ctx context.Context) (anchor, head Point, err error)
	// Prune deletes the prefix of the chain up to the last record whose
	// Time is before before (unix seconds) and moves the anchor to the
	// point just before the first record kept, in one transaction. It
	// returns how many records it deleted.
	Prune(ctx context.Context, before int64) (int64, error)
	Close() error
}

// Point is a place in the chain: a sequence number and the hash of the
// record there. The anchor is the point just before the first kept record:
// Seq 0 and Genesis until a prune.
type Point struct {
	Seq  int64
	Hash []byte
}

// Attribute keys LookupEvents filters by.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupAttribute.html
const (
	AttrEventID      = "EventId"
	AttrEventName    = "EventName"
	AttrReadOnly     = "ReadOnly"
	AttrUsername     = "Username"
	AttrResourceType = "ResourceType"
	AttrResourceName = "ResourceName"
	AttrEventSource  = "EventSource"
	AttrAccessKeyID  = "AccessKeyId"
)

// Query is one page of a lookup. A zero Start or End is unbounded.
type Query struct {
	Attr, Value string // "" for no filter; ReadOnly's value is "true" or "false"
	Start, End  int64  // unix seconds, inclusive; End 0 means no bound
	Limit       int
	// After continues after this record: only records older in
	// (Time, Seq) order.
	After *Cursor
}

// Cursor is where a page ended.
type Cursor struct {
	Time int64
	Seq  int64
}

// ErrClosed is returned by a closed Writer.
var ErrClosed = errors.New("audit: writer closed")
