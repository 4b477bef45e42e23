package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Kinds of tampering Verify reports.
const (
	Changed   = "changed"
	Removed   = "removed"
	Inserted  = "inserted"
	Reordered = "reordered"
)

// Problem is the first break in the chain.
type Problem struct {
	Seq    int64  // the record where the chain breaks
	Kind   string // Changed, Removed, Inserted or Reordered
	Detail string

	hint string // check's guess, until Verify has looked for a move
}

func (p *Problem) String() string {
	return fmt.Sprintf("record %d %s: %s", p.Seq, p.Kind, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Anchor, Head Point
	Checked      int64 // records checked
	Last         Point // the last record checked
	Problem      *Problem
}

// Verify walks the trail from its anchor and reports the first record that
// was changed, removed, inserted or reordered since it was written. A nil
// Problem means every record is where it was written, as it was written,
// and the trail reaches the head the store recorded.
//
// A hash chain without a secret key detects tampering by anyone who does not
// rewrite every later record and the head as well; keep the head hash that
// Verify prints somewhere else to detect that too.
func Verify(ctx context.Context, st Store) (*Report, error) {
	anchor, head, err := st.Chain(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Anchor: anchor, Head: head, Last: anchor}
	wantSeq, prev, prevPrev := anchor.Seq+1, anchor.Hash, []byte(nil)
	stop := errors.New("stop")
	var bad *Record
	var suspect *Record // linked but not matching its hash: changed, or made up?
	var suspectProblem *Problem
	err = st.Scan(ctx, anchor.Seq+1, func(r *Record) error {
		if suspect != nil {
			// Two records chained to the same predecessor: the first was
			// inserted; otherwise it was changed in place.
			rep.Problem = suspectProblem
			if r.Seq == suspect.Seq+1 && bytes.Equal(r.PrevHash, suspect.PrevHash) {
				rep.Problem = &Problem{Seq: suspect.Seq, Kind: Inserted, Detail: "it is chained to the same record as the next one"}
			}
			return stop
		}
		if p := check(r, wantSeq, prev, prevPrev); p != nil {
			if p.Kind == Changed && p.Seq == r.Seq && bytes.Equal(r.PrevHash, prev) {
				suspect, suspectProblem = r, p
				return nil
			}
			rep.Problem, bad = p, r
			return stop
		}
		if r.Seq == head.Seq && !bytes.Equal(r.Hash, head.Hash) {
			rep.Problem = &Problem{Seq: r.Seq, Kind: Changed, Detail: "the trail's last record is not the one the head recorded"}
			return stop
		}
		rep.Checked++
		rep.Last = Point{Seq: r.Seq, Hash: r.Hash}
		wantSeq, prevPrev, prev = r.Seq+1, prev, r.Hash
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return nil, err
	}
	if rep.Problem == nil && suspect != nil {
		rep.Problem = suspectProblem
	}
	if rep.Problem == nil && rep.Last.Seq < head.Seq {
		rep.Problem = &Problem{Seq: rep.Last.Seq + 1, Kind: Removed,
			Detail: fmt.Sprintf("records %d to %d are missing from the end of the trail", rep.Last.Seq+1, head.Seq)}
	}
	if p := rep.Problem; p != nil && p.Kind == "" {
		p.Kind = p.hint
		found := false
		_ = st.Scan(ctx, anchor.Seq+1, func(r *Record) error {
			if r.Seq != bad.Seq && bytes.Equal(r.Hash, bad.PrevHash) {
				found = true
				return stop
			}
			return nil
		})
		if found {
			p.Seq, p.Kind, p.Detail = bad.Seq, Reordered, "the record was written elsewhere in the trail"
		}
	}
	return rep, nil
}

// check verifies one record against the chain so far; a Problem with an
// empty Kind asks Verify to tell a moved record from a made-up one.
func check(r *Record, wantSeq int64, prev, prevPrev []byte) *Problem {
	if r.Seq > wantSeq {
		return &Problem{Seq: wantSeq, Kind: Removed, Detail: fmt.Sprintf("records %d to %d are missing", wantSeq, r.Seq-1)}
	}
	selfOK := bytes.Equal(Link(r.PrevHash, r.Seq, r.Body), r.Hash)
	linked := bytes.Equal(r.PrevHash, prev)
	switch {
	case linked && selfOK:
		if p := checkColumns(r); p != nil {
			return p
		}
		return nil
	case linked:
		return &Problem{Seq: r.Seq, Kind: Changed, Detail: "its content does not match its hash"}
	case selfOK && prevPrev != nil && bytes.Equal(r.PrevHash, prevPrev):
		return &Problem{Seq: r.Seq - 1, Kind: Inserted, Detail: "the record before this one was not in the trail as written"}
	case selfOK:
		return &Problem{Seq: r.Seq - 1, Kind: Changed, Detail: "the record's hash is not the one the next record was chained to"}
	}
	// Moved: Verify tells a record moved within the trail (its link is
	// another kept record's hash) from one whose neighbours were removed or
	// made up, by the offset at which its own hash holds.
	for d := int64(1); d <= 8; d++ {
		if bytes.Equal(Link(r.PrevHash, r.Seq+d, r.Body), r.Hash) {
			return &Problem{Seq: r.Seq, hint: Removed, Detail: fmt.Sprintf("%d record(s) before this one were removed and the rest renumbered", d)}
		}
		if r.Seq-d > 0 && bytes.Equal(Link(r.PrevHash, r.Seq-d, r.Body), r.Hash) {
			return &Problem{Seq: r.Seq - d, hint: Inserted, Detail: fmt.Sprintf("%d record(s) were inserted before this one", d)}
		}
	}
	return &Problem{Seq: r.Seq, hint: Inserted, Detail: "the record was not written at this place in the trail"}
}

// checkColumns verifies that the lookup columns say what the hashed body
// says, so that a record cannot be hidden from (or planted in) lookups by
// editing a column.
func checkColumns(r *Record) *Problem {
	want, err := RecordFromBody(r.Body)
	if err != nil {
		return &Problem{Seq: r.Seq, Kind: Changed, Detail: "its body is not a CloudTrail record: " + err.Error()}
	}
	diff := func(col string) *Problem {
		return &Problem{Seq: r.Seq, Kind: Changed, Detail: "its " + col + " column does not match its body"}
	}
	switch {
	case want.Time != r.Time:
		return diff("event time")
	case want.EventID != r.EventID:
		return diff("event id")
	case want.EventName != r.EventName:
		return diff("event name")
	case want.EventSource != r.EventSource:
		return diff("event source")
	case want.ReadOnly != r.ReadOnly:
		return diff("read-only")
	case want.AccessKeyID != r.AccessKeyID:
		return diff("access key id")
	case want.Username != r.Username:
		return diff("user name")
	}
	if r.Resources != nil && !slices.EqualFunc(want.Resources, r.Resources, func(a, b Resource) bool { return a.ARN == b.ARN && a.Type == b.Type }) {
		return diff("resources")
	}
	return nil
}

// Export writes each record with eventTime at or after since as one line
// of JSON (JSON Lines), in the order written; progress, when not nil, is
// called every 10,000 records and at the end.
func Export(ctx context.Context, st Store, since time.Time, w io.Writer, progress func(n int64)) (int64, error) {
	var n int64
	err := st.Since(ctx, since.Unix(), func(r *Record) error {
		if _, err := w.Write(r.Body); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
		n++
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
		return nil
	})
	if progress != nil {
		progress(n)
	}
	return n, err
}

// DefaultRetention is how long records are kept: CloudTrail's 90 days of
// event history.
const DefaultRetention = 90 * 24 * time.Hour

// Prune deletes the records older than retention. The chain stays
// verifiable: the store moves its anchor to the first record kept.
func Prune(ctx context.Context, st Store, retention time.Duration, now time.Time) (int64, error) {
	if retention <= 0 {
		return 0, nil
	}
	return st.Prune(ctx, now.Add(-retention).Unix())
}
