package s3

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// The read path (GetObject, HeadObject, and the bucket policy every call is
// authorized with) is served from memory: buckets with their compiled
// policies and object records, each tagged with the generation it was read
// at, as package iam caches its authorization snapshots. Every write this
// Service commits advances the generation once it has committed, so no
// request that starts after a write returns can see what it replaced; on a
// store shared by several nodes, the app calls Invalidate when another node
// writes (app/background.go watchGenerations). Object bytes are immutable
// under their blob id, so a record read from the cache names bytes that are
// either still there or gone (the caller then reads again, uncached).

// maxCacheEntries bounds each map; past it the map is cleared.
const maxCacheEntries = 100_000

// bucketEntry is a bucket as authorization needs it: nil b is NoSuchBucket.
type bucketEntry struct {
	gen    uint64
	b      *Bucket
	policy *policy.Named // nil without a policy
}

// objectEntry is an object's record: nil o is NoSuchKey.
type objectEntry struct {
	gen uint64
	o   *Object
}

type objectRef struct{ bucket, key string }

type metaCache struct {
	gen atomic.Uint64

	mu      sync.RWMutex
	buckets map[string]bucketEntry
	objects map[objectRef]objectEntry
}

func (c *metaCache) bucket(name string, gen uint64) (bucketEntry, bool) {
	c.mu.RLock()
	e, ok := c.buckets[name]
	c.mu.RUnlock()
	return e, ok && e.gen == gen
}

func (c *metaCache) object(ref objectRef, gen uint64) (objectEntry, bool) {
	c.mu.RLock()
	e, ok := c.objects[ref]
	c.mu.RUnlock()
	return e, ok && e.gen == gen
}

func (c *metaCache) putBucket(name string, e bucketEntry) {
	c.mu.Lock()
	if c.buckets == nil || len(c.buckets) >= maxCacheEntries {
		c.buckets = make(map[string]bucketEntry)
	}
	c.buckets[name] = e
	c.mu.Unlock()
}

func (c *metaCache) putObject(ref objectRef, e objectEntry) {
	c.mu.Lock()
	if c.objects == nil || len(c.objects) >= maxCacheEntries {
		c.objects = make(map[objectRef]objectEntry)
	}
	c.objects[ref] = e
	c.mu.Unlock()
}

// Invalidate marks every cached bucket and object stale. The app calls it
// when another node sharing the store has written.
func (s *Service) Invalidate() { s.cache.gen.Add(1) }

// update runs fn in a write transaction and then advances the generation,
// whatever the outcome: a write that may have committed must not leave a
// cached record of what it replaced.
func (s *Service) update(ctx context.Context, fn func(kv.Tx) error) error {
	defer s.cache.gen.Add(1)
	return s.store.Update(ctx, fn)
}

// bucketEntry returns the cached bucket, reading it (and compiling its
// policy) on a miss. The generation is read before the store, so an entry
// is never tagged newer than the data it holds.
func (s *Service) bucketEntry(ctx context.Context, name string) (bucketEntry, error) {
	gen := s.cache.gen.Load()
	if e, ok := s.cache.bucket(name, gen); ok {
		return e, nil
	}
	var b *Bucket
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		b, err = getBucket(tx, name)
		return err
	})
	e := bucketEntry{gen: gen, b: b}
	if err != nil && !apierr.Is(err, CodeNoSuchBucket) {
		return e, err
	}
	if err := s.compileEntry(&e); err != nil {
		return e, err
	}
	s.cache.putBucket(name, e)
	return e, nil
}

func (s *Service) compileEntry(e *bucketEntry) error {
	if e.b == nil || e.b.Policy == "" {
		return nil
	}
	c, err := s.compile(e.b.Policy)
	if err != nil {
		// It was valid when it was put; a newer engine that rejects it
		// must not turn into an allow.
		return apierr.Internal(err)
	}
	e.policy = &policy.Named{ID: "BucketPolicy", Type: "resource", Policy: c}
	return nil
}

// lookup is Lookup's cache: the bucket and the object, each from memory
// when current, otherwise both read in one transaction.
func (s *Service) lookup(ctx context.Context, bucket, key string) (bucketEntry, objectEntry, error) {
	gen := s.cache.gen.Load()
	ref := objectRef{bucket, key}
	be, bok := s.cache.bucket(bucket, gen)
	if bok && be.b == nil {
		return be, objectEntry{}, nil
	}
	oe, ook := s.cache.object(ref, gen)
	if bok && ook {
		return be, oe, nil
	}
	be, oe = bucketEntry{gen: gen}, objectEntry{gen: gen}
	err := s.store.View(ctx, func(tx kv.Tx) error {
		be.b, oe.o = nil, nil
		var err error
		if be.b, err = getBucket(tx, bucket); err != nil {
			return err
		}
		oe.o, err = getJSON[Object](tx, tObjects, objectKey(bucket, key))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil && !apierr.Is(err, CodeNoSuchBucket) {
		return be, oe, err
	}
	if err := s.compileEntry(&be); err != nil {
		return be, oe, err
	}
	s.cache.putBucket(bucket, be)
	if be.b != nil {
		s.cache.putObject(ref, oe)
	}
	return be, oe, nil
}

// Small objects' bytes are kept in memory, by blob id, up to
// smallCacheBytes in all: a blob never changes once published (a new
// version of an object is a new blob), so a cached copy is never stale,
// and a GET of a small hot object costs no open, read and close.
const (
	// SmallObjectSize is the largest object whose bytes are cached.
	SmallObjectSize = 64 << 10
	smallCacheBytes = 32 << 20
)

type blobCache struct {
	mu    sync.RWMutex
	blobs map[string][]byte
	bytes int
}

func (c *blobCache) get(id string) ([]byte, bool) {
	c.mu.RLock()
	b, ok := c.blobs[id]
	c.mu.RUnlock()
	return b, ok
}

func (c *blobCache) put(id string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blobs == nil {
		c.blobs = make(map[string][]byte)
	}
	if _, ok := c.blobs[id]; ok {
		return
	}
	// Full: drop entries in map order, which is as good as random.
	for k, v := range c.blobs {
		if c.bytes+len(b) <= smallCacheBytes {
			break
		}
		delete(c.blobs, k)
		c.bytes -= len(v)
	}
	c.blobs[id] = b
	c.bytes += len(b)
}

func (c *blobCache) remove(id string) {
	c.mu.Lock()
	if b, ok := c.blobs[id]; ok {
		delete(c.blobs, id)
		c.bytes -= len(b)
	}
	c.mu.Unlock()
}

// ReadSmall returns the bytes of an object of at most SmallObjectSize
// bytes, from memory or from its file. The slice is shared: it must not be
// modified. An error that wraps os.ErrNotExist means the object was
// replaced or deleted since its record was read.
func (s *Service) ReadSmall(o *Object) ([]byte, error) {
	if o.Size > SmallObjectSize {
		return nil, fmt.Errorf("s3: object of %d bytes is not small", o.Size)
	}
	if b, ok := s.blobs.get(o.Blob); ok {
		return b, nil
	}
	b, err := os.ReadFile(s.blobPath(o.Blob))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != o.Size {
		return nil, apierr.Internal(fmt.Errorf("s3: blob %s has %d bytes, its record says %d", o.Blob, len(b), o.Size))
	}
	s.blobs.put(o.Blob, b)
	return b, nil
}
