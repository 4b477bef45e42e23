// Package audittest is the contract every audit.Store must meet, run by
// the SQLite and the PostgreSQL store tests alike, and helpers that make
// records for tests and benchmarks.
package audittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/audit"
)

// Base is the event time of the first test record.
var Base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Event returns a plausible record of call i: an IAM or STS call by one of
// a few users with one of a few keys, one second after the previous.
func Event(i int) *audit.Event {
	users := []string{"alice", "bob", "carol"}
	names := []string{"GetUser", "CreateUser", "AssumeRole", "ListRoles", "PutUserPolicy"}
	u := users[i%len(users)]
	name := names[i%len(names)]
	src := "iam.amazonaws.com"
	var res []audit.Resource
	var resp any
	params := map[string]any{"userName": fmt.Sprintf("user%d", i)}
	if name == "AssumeRole" {
		src = "sts.amazonaws.com"
		params = map[string]any{"roleArn": "arn:aws:iam::000000000000:role/ops", "roleSessionName": u, "durationSeconds": 3600}
		res = []audit.Resource{{AccountID: "000000000000", Type: "AWS::IAM::Role", ARN: "arn:aws:iam::000000000000:role/ops"}}
		resp = map[string]any{"credentials": map[string]any{"accessKeyId": fmt.Sprintf("ASIATEST%012d", i), "sessionToken": "hmac-sha256:00", "expiration": "Mar 1, 2025, 1:00:00 PM"}}
	}
	return &audit.Event{
		EventVersion: audit.EventVersion,
		UserIdentity: audit.UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + u, ARN: "arn:aws:iam::000000000000:user/" + u,
			AccountID: "000000000000", AccessKeyID: fmt.Sprintf("AKIATEST%08d", i%1000), UserName: u},
		EventTime:          audit.FormatTime(Base.Add(time.Duration(i) * time.Second)),
		EventSource:        src,
		EventName:          name,
		AWSRegion:          audit.GlobalRegion,
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          "aws-sdk-go-v2/1.0 audittest",
		RequestParameters:  params,
		ResponseElements:   resp,
		RequestID:          fmt.Sprintf("req-%d", i),
		EventID:            fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		ReadOnly:           audit.ReadOnly(name),
		Resources:          res,
		EventType:          audit.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: "000000000000",
		EventCategory:      audit.CategoryManagement,
	}
}

// Records returns NewRecord(Event(i)) for i in [from, from+n).
func Records(tb testing.TB, from, n int) []*audit.Record {
	tb.Helper()
	out := make([]*audit.Record, n)
	for i := range out {
		r, err := audit.NewRecord(Event(from + i))
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// Run runs the contract on stores made by open, each empty.
func Run(t *testing.T, open func(t *testing.T) audit.Store) {
	ctx := context.Background()
	seqs := func(rs []*audit.Record) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.Seq
		}
		return out
	}

	t.Run("an empty trail has the genesis anchor and head and verifies", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		a, h, err := st.Chain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a.Seq != 0 || h.Seq != 0 || !cmp.Equal(a.Hash, audit.Genesis) || !cmp.Equal(h.Hash, audit.Genesis) {
			t.Fatalf("got anchor %v head %v, want both at 0 with the zero hash", a, h)
		}
		rep, err := audit.Verify(ctx, st)
		if err != nil || rep.Problem != nil {
			t.Fatalf("got %v, %v; want a clean report", rep.Problem, err)
		}
	})

	t.Run("appended records are numbered, chained and read back as written", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		recs := Records(t, 0, 70)
		if err := st.Append(ctx, recs[:33]); err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, recs[33:]); err != nil {
			t.Fatal(err)
		}
		var got []*audit.Record
		if err := st.Scan(ctx, 1, func(r *audit.Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 70 {
			t.Fatalf("got %d records, want 70", len(got))
		}
		for i, r := range got {
			w := recs[i]
			if r.Seq != int64(i+1) || string(r.Body) != string(w.Body) || !cmp.Equal(r.Hash, w.Hash) || !cmp.Equal(r.PrevHash, w.PrevHash) ||
				r.Time != w.Time || r.EventID != w.EventID || r.AccessKeyID != w.AccessKeyID || r.Username != w.Username || r.ReadOnly != w.ReadOnly {
				t.Fatalf("record %d: got seq %d %+v, want %+v", i, r.Seq, r, w)
			}
		}
		_, h, err := st.Chain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Seq != 70 || !cmp.Equal(h.Hash, got[69].Hash) {
			t.Fatalf("got head %d, want 70 with the last record's hash", h.Seq)
		}
		rep, err := audit.Verify(ctx, st)
		if err != nil || rep.Problem != nil || rep.Checked != 70 {
			t.Fatalf("got %v (%d checked), %v; want 70 clean", rep.Problem, rep.Checked, err)
		}
	})

	t.Run("lookups by each attribute return the matching records newest first", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		recs := Records(t, 0, 60)
		if err := st.Append(ctx, recs); err != nil {
			t.Fatal(err)
		}
		match := func(f func(e *audit.Event) bool) []int64 {
			var out []int64
			for i := 59; i >= 0; i-- {
				if f(Event(i)) {
					out = append(out, int64(i+1))
				}
			}
			return out
		}
		for _, tc := range []struct {
			attr, value string
			want        func(e *audit.Event) bool
		}{
			{"", "", func(*audit.Event) bool { return true }},
			{audit.AttrAccessKeyID, "AKIATEST00000007", func(e *audit.Event) bool { return e.UserIdentity.AccessKeyID == "AKIATEST00000007" }},
			{audit.AttrEventName, "AssumeRole", func(e *audit.Event) bool { return e.EventName == "AssumeRole" }},
			{audit.AttrUsername, "bob", func(e *audit.Event) bool { return e.UserIdentity.UserName == "bob" }},
			{audit.AttrEventSource, "sts.amazonaws.com", func(e *audit.Event) bool { return e.EventSource == "sts.amazonaws.com" }},
			{audit.AttrReadOnly, "true", func(e *audit.Event) bool { return e.ReadOnly }},
			{audit.AttrReadOnly, "false", func(e *audit.Event) bool { return !e.ReadOnly }},
			{audit.AttrEventID, "00000000-0000-4000-8000-000000000011", func(e *audit.Event) bool { return e.EventID == "00000000-0000-4000-8000-000000000011" }},
			{audit.AttrResourceType, "AWS::IAM::Role", func(e *audit.Event) bool { return e.EventName == "AssumeRole" }},
			{audit.AttrResourceName, "user11", func(e *audit.Event) bool { return e.RequestID == "req-11" }},
			{audit.AttrResourceName, "ASIATEST000000000002", func(e *audit.Event) bool { return e.RequestID == "req-2" }},
		} {
			got, err := st.Lookup(ctx, audit.Query{Attr: tc.attr, Value: tc.value, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(match(tc.want), seqs(got)); diff != "" {
				t.Errorf("lookup %s=%s (-want +got):\n%s", tc.attr, tc.value, diff)
			}
		}
	})

	t.Run("a lookup honours the inclusive time range, the limit and the cursor", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		if err := st.Append(ctx, Records(t, 0, 30)); err != nil {
			t.Fatal(err)
		}
		start, end := Base.Add(5*time.Second).Unix(), Base.Add(14*time.Second).Unix()
		got, err := st.Lookup(ctx, audit.Query{Start: start, End: end, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{15, 14, 13, 12}, seqs(got)); diff != "" {
			t.Fatalf("first page (-want +got):\n%s", diff)
		}
		last := got[len(got)-1]
		got, err = st.Lookup(ctx, audit.Query{Start: start, End: end, Limit: 10, After: &audit.Cursor{Time: last.Time, Seq: last.Seq}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{11, 10, 9, 8, 7, 6}, seqs(got)); diff != "" {
			t.Fatalf("second page (-want +got):\n%s", diff)
		}
	})

	t.Run("a lookup returns each record's resources", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		if err := st.Append(ctx, Records(t, 2, 1)); err != nil {
			t.Fatal(err)
		}
		got, err := st.Lookup(ctx, audit.Query{Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("got %d records, %v", len(got), err)
		}
		want := audit.LookupResources(Event(2))
		if diff := cmp.Diff(want, got[0].Resources); diff != "" {
			t.Fatalf("resources (-want +got):\n%s", diff)
		}
	})

	t.Run("since reads the records from a time on in order", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		if err := st.Append(ctx, Records(t, 0, 20)); err != nil {
			t.Fatal(err)
		}
		var got []int64
		if err := st.Since(ctx, Base.Add(15*time.Second).Unix(), func(r *audit.Record) error { got = append(got, r.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{16, 17, 18, 19, 20}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})

	t.Run("pruning keeps the newer records and a verifiable chain", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		if err := st.Append(ctx, Records(t, 0, 40)); err != nil {
			t.Fatal(err)
		}
		n, err := st.Prune(ctx, Base.Add(25*time.Second).Unix())
		if err != nil || n != 25 {
			t.Fatalf("got %d pruned, %v; want 25", n, err)
		}
		a, _, err := st.Chain(ctx)
		if err != nil || a.Seq != 25 {
			t.Fatalf("got anchor %d, %v; want 25", a.Seq, err)
		}
		if err := st.Append(ctx, Records(t, 40, 5)); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, st)
		if err != nil || rep.Problem != nil || rep.Checked != 20 {
			t.Fatalf("got %v (%d checked), %v; want 20 clean", rep.Problem, rep.Checked, err)
		}
		got, err := st.Lookup(ctx, audit.Query{Attr: audit.AttrResourceType, Value: "AWS::IAM::Role", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if r.Seq <= 25 {
				t.Fatalf("lookup found pruned record %d", r.Seq)
			}
		}
	})

	t.Run("concurrent appends extend one chain", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range 5 {
					if err := st.Append(ctx, Records(t, g*1000+b*10, 10)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		rep, err := audit.Verify(ctx, st)
		if err != nil || rep.Problem != nil || rep.Checked != 200 {
			t.Fatalf("got %v (%d checked), %v; want 200 clean", rep.Problem, rep.Checked, err)
		}
	})
}
