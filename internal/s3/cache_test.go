package s3

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/store/sqlite"
)

var ctx = context.Background()

func newStore(t *testing.T) kv.Store {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t *testing.T, st kv.Store) *Service {
	t.Helper()
	s, err := New(Config{Store: st, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Service, bucket, key, body string) *Object {
	t.Helper()
	o, err := s.PutObject(ctx, &PutInput{Bucket: bucket, Key: key, Body: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// read is GetObject's hot path: Lookup, then the bytes.
func read(t *testing.T, s *Service, bucket, key string) (string, apierr.Code) {
	t.Helper()
	_, _, o, err := s.Lookup(ctx, bucket, key)
	if err != nil {
		e := apierr.As(err)
		if e == nil {
			t.Fatal(err)
		}
		return "", e.Code
	}
	b, err := s.ReadSmall(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), ""
}

func TestCacheSeesEveryWriteOfThisNode(t *testing.T) {
	t.Parallel()
	s := newService(t, newStore(t))
	if _, code := read(t, s, "bkt1", "k"); code != CodeNoSuchBucket {
		t.Fatalf("before CreateBucket: got %q, want NoSuchBucket", code)
	}
	if _, err := s.CreateBucket(ctx, "bkt1", ""); err != nil {
		t.Fatal(err)
	}
	if _, code := read(t, s, "bkt1", "k"); code != CodeNoSuchKey {
		t.Fatalf("before PutObject: got %q, want NoSuchKey", code)
	}
	put(t, s, "bkt1", "k", "one")
	if got, _ := read(t, s, "bkt1", "k"); got != "one" {
		t.Fatalf("after PutObject: got %q, want one", got)
	}
	put(t, s, "bkt1", "k", "two")
	if got, _ := read(t, s, "bkt1", "k"); got != "two" {
		t.Fatalf("after a replacing PutObject: got %q, want two", got)
	}
	if _, err := s.CopyObject(ctx, "bkt1", "k", "bkt1", "k2", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(t, s, "bkt1", "k2"); got != "two" {
		t.Fatalf("after CopyObject: got %q, want two", got)
	}
	for _, k := range []string{"k", "k2"} {
		if err := s.DeleteObject(ctx, "bkt1", k); err != nil {
			t.Fatal(err)
		}
	}
	if _, code := read(t, s, "bkt1", "k"); code != CodeNoSuchKey {
		t.Fatalf("after DeleteObject: got %q, want NoSuchKey", code)
	}
	if err := s.DeleteBucket(ctx, "bkt1"); err != nil {
		t.Fatal(err)
	}
	if _, code := read(t, s, "bkt1", "k"); code != CodeNoSuchBucket {
		t.Fatalf("after DeleteBucket: got %q, want NoSuchBucket", code)
	}
	if _, err := s.Bucket(ctx, "bkt1"); !apierr.Is(err, CodeNoSuchBucket) {
		t.Fatalf("Bucket after DeleteBucket: got %v, want NoSuchBucket", err)
	}
}

func TestCacheSeesBucketPolicyChanges(t *testing.T) {
	t.Parallel()
	s := newService(t, newStore(t))
	if _, err := s.CreateBucket(ctx, "bkt1", ""); err != nil {
		t.Fatal(err)
	}
	put(t, s, "bkt1", "k", "x")
	policyOf := func() string {
		t.Helper()
		_, p1, _, err := s.Lookup(ctx, "bkt1", "k")
		if err != nil {
			t.Fatal(err)
		}
		_, p2, err := s.BucketPolicy(ctx, "bkt1")
		if err != nil {
			t.Fatal(err)
		}
		if (p1 == nil) != (p2 == nil) {
			t.Fatalf("Lookup and BucketPolicy disagree: %v and %v", p1, p2)
		}
		if p1 == nil {
			return "none"
		}
		return p1.ID
	}
	if got := policyOf(); got != "none" {
		t.Fatalf("before PutBucketPolicy: got %s, want none", got)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt1/*"}]}`
	if err := s.PutBucketPolicy(ctx, "bkt1", doc); err != nil {
		t.Fatal(err)
	}
	if got := policyOf(); got != "BucketPolicy" {
		t.Fatalf("after PutBucketPolicy: got %s, want BucketPolicy", got)
	}
	if err := s.DeleteBucketPolicy(ctx, "bkt1"); err != nil {
		t.Fatal(err)
	}
	if got := policyOf(); got != "none" {
		t.Fatalf("after DeleteBucketPolicy: got %s, want none", got)
	}
}

// Two Services on one store are two nodes: one node's cache keeps what it
// read until it is told (Invalidate, from the app's generation watcher)
// that another node wrote.
func TestCacheOfAnotherNodeIsInvalidated(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	a, b := newService(t, st), newService(t, st)
	if _, err := a.CreateBucket(ctx, "shared", ""); err != nil {
		t.Fatal(err)
	}
	put(t, a, "shared", "k", "x")
	if _, _, _, err := a.Lookup(ctx, "shared", "k"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteObject(ctx, "shared", "k"); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	if err := b.PutBucketPolicy(ctx, "shared", doc); err != nil {
		t.Fatal(err)
	}
	a.Invalidate()
	_, pol, _, err := a.Lookup(ctx, "shared", "k")
	if !apierr.Is(err, CodeNoSuchKey) || pol == nil {
		t.Fatalf("after Invalidate: got %v with policy %v, want NoSuchKey and the new policy", err, pol)
	}
}

func TestSmallObjectsComeFromMemoryAndLargeOnesDoNot(t *testing.T) {
	t.Parallel()
	s := newService(t, newStore(t))
	if _, err := s.CreateBucket(ctx, "bkt1", ""); err != nil {
		t.Fatal(err)
	}
	o := put(t, s, "bkt1", "small", "tiny")
	if _, err := s.ReadSmall(o); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.blobs.get(o.Blob); !ok {
		t.Fatal("a small object read once is not in memory")
	}
	if err := s.DeleteObject(ctx, "bkt1", "small"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.blobs.get(o.Blob); ok {
		t.Fatal("a deleted object's bytes are still in memory")
	}
	big := put(t, s, "bkt1", "big", strings.Repeat("x", SmallObjectSize+1))
	if _, err := s.ReadSmall(big); err == nil {
		t.Fatal("ReadSmall of an object over SmallObjectSize: got no error")
	}
}
