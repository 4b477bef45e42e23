package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// Meta is the metadata a client sets on an object.
type Meta struct {
	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"exp,omitempty"`
	User               map[string]string `json:"user,omitempty"` // x-amz-meta-NAME, NAME lower-cased
}

// Object is an object's record.
type Object struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"` // hex MD5, or hex MD5 of part MD5s + "-N"; unquoted
	LastModified time.Time `json:"mtime"`
	Meta         Meta      `json:"meta"`
	Checksum     *Checksum `json:"checksum,omitempty"`
	Parts        int       `json:"parts,omitempty"`
	Blob         string    `json:"blob"`
}

func objectKey(bucket, key string) string { return bucket + "/" + key }

// PutInput is one object (or part) upload.
type PutInput struct {
	Bucket, Key string
	Body        io.Reader
	Size        int64  // -1 when unknown
	ContentMD5  string // base64, as sent; "" when not sent
	Checksum    *Checksum
	Meta        Meta
}

// PutObject streams the body to disk and then publishes the object. The
// body reader's errors (a bad chunk signature, a payload hash mismatch)
// are returned as they are, and nothing is published.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
func (s *Service) PutObject(ctx context.Context, in *PutInput) (*Object, error) {
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	if _, err := s.Bucket(ctx, in.Bucket); err != nil {
		return nil, err
	}
	if in.Size > MaxPutSize {
		return nil, apierr.New(CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	id, err := s.newID(16)
	if err != nil {
		return nil, err
	}
	w, err := s.writeBlob(s.blobPath(id), in.Body, in.Size, in.ContentMD5, in.Checksum)
	if err != nil {
		return nil, err
	}
	o := &Object{Key: in.Key, Size: w.size, ETag: etagOf(w.md5), LastModified: s.now().UTC(), Meta: in.Meta, Blob: id}
	if in.Checksum != nil {
		o.Checksum = &Checksum{Algorithm: strings.ToUpper(in.Checksum.Algorithm), Value: w.sum}
	}
	if err := s.publish(ctx, in.Bucket, o); err != nil {
		s.removeBlob(id)
		return nil, err
	}
	return o, nil
}

// publish commits o's record, replacing (and then removing the bytes of)
// any object with the same key.
func (s *Service) publish(ctx context.Context, bucket string, o *Object) error {
	var old string
	err := s.update(ctx, func(tx kv.Tx) error {
		old = ""
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		prev, err := getJSON[Object](tx, tObjects, objectKey(bucket, o.Key))
		switch {
		case err == nil:
			old = prev.Blob
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
		return putJSON(tx, tObjects, objectKey(bucket, o.Key), o)
	})
	if err != nil {
		return err
	}
	if old != "" && old != o.Blob {
		s.removeBlob(old)
	}
	return nil
}

// HeadObject returns an object's record: NoSuchBucket or NoSuchKey.
func (s *Service) HeadObject(ctx context.Context, bucket, key string) (*Object, error) {
	var o *Object
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		o, err = getJSON[Object](tx, tObjects, objectKey(bucket, key))
		if errors.Is(err, kv.ErrNotFound) {
			if _, berr := getBucket(tx, bucket); berr != nil {
				return berr
			}
			return errNoSuchKey()
		}
		return err
	})
	return o, err
}

// GetObject returns an object's record and its bytes, open. The caller
// closes the file. Once open, the bytes stay readable even if the object is
// replaced or deleted meanwhile.
func (s *Service) GetObject(ctx context.Context, bucket, key string) (*Object, *os.File, error) {
	for range 3 {
		o, err := s.HeadObject(ctx, bucket, key)
		if err != nil {
			return nil, nil, err
		}
		f, err := os.Open(s.blobPath(o.Blob))
		if err == nil {
			return o, f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("s3: open object: %w", err)
		}
		// Replaced between the read and the open: read the record again.
	}
	return nil, nil, apierr.Internal(errors.New("s3: object bytes keep disappearing"))
}

// DeleteObject removes an object; removing a missing key is not an error.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
func (s *Service) DeleteObject(ctx context.Context, bucket, key string) error {
	var old string
	err := s.update(ctx, func(tx kv.Tx) error {
		old = ""
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		prev, err := getJSON[Object](tx, tObjects, objectKey(bucket, key))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		old = prev.Blob
		return tx.Delete(tObjects, objectKey(bucket, key))
	})
	if err == nil {
		s.removeBlob(old)
	}
	return err
}

// CopyObject copies src to dst, with the source's metadata, or with meta
// when replace is set. Copying an object onto itself must change something.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
func (s *Service) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, meta *Meta) (*Object, error) {
	if err := ValidKey(dstKey); err != nil {
		return nil, err
	}
	if srcBucket == dstBucket && srcKey == dstKey && meta == nil {
		return nil, apierr.New(CodeInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if _, err := s.Bucket(ctx, dstBucket); err != nil {
		return nil, err
	}
	so, f, err := s.GetObject(ctx, srcBucket, srcKey)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	id, err := s.newID(16)
	if err != nil {
		return nil, err
	}
	var ck *Checksum
	if so.Checksum != nil {
		ck = &Checksum{Algorithm: so.Checksum.Algorithm}
	}
	w, err := s.writeBlob(s.blobPath(id), f, so.Size, "", ck)
	if err != nil {
		return nil, err
	}
	o := &Object{Key: dstKey, Size: w.size, ETag: so.ETag, LastModified: s.now().UTC(), Meta: so.Meta, Parts: so.Parts, Blob: id}
	if so.Parts == 0 {
		o.ETag = etagOf(w.md5)
	}
	if ck != nil && so.Parts == 0 {
		o.Checksum = &Checksum{Algorithm: ck.Algorithm, Value: w.sum}
	}
	if meta != nil {
		o.Meta = *meta
	}
	if err := s.publish(ctx, dstBucket, o); err != nil {
		s.removeBlob(id)
		return nil, err
	}
	return o, nil
}

// ListInput selects objects the way ListObjects and ListObjectsV2 do.
type ListInput struct {
	Prefix    string
	Delimiter string
	After     string // list keys (and common prefixes) strictly after this
	MaxKeys   int
}

// ListOutput is one page.
type ListOutput struct {
	Objects        []*Object
	CommonPrefixes []string
	Truncated      bool
	// Last is the last key or common prefix on the page: the marker of
	// the next page.
	Last string
}

// ListObjects lists a bucket's keys in UTF-8 binary order, rolling keys
// that contain the delimiter after the prefix into common prefixes; each
// common prefix counts once against MaxKeys.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
func (s *Service) ListObjects(ctx context.Context, bucket string, in ListInput) (*ListOutput, error) {
	var out *ListOutput
	err := s.store.View(ctx, func(tx kv.Tx) error {
		out = &ListOutput{}
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		if in.MaxKeys <= 0 {
			return nil
		}
		base := bucket + "/"
		after := ""
		if in.After != "" {
			after = base + in.After
			// A marker that is itself a common prefix skips everything under it.
			if in.Delimiter != "" && strings.HasSuffix(in.After, in.Delimiter) && strings.HasPrefix(in.After, in.Prefix) {
				after += "\xff"
			}
		}
		errStop := errors.New("stop")
		count := 0
		for {
			skipTo := ""
			err := tx.Scan(tObjects, base+in.Prefix, after, 0, func(k string, v []byte) error {
				key := k[len(base):]
				if count == in.MaxKeys {
					out.Truncated = true
					return errStop
				}
				if in.Delimiter != "" {
					rest := key[len(in.Prefix):]
					if i := strings.Index(rest, in.Delimiter); i >= 0 {
						cp := in.Prefix + rest[:i+len(in.Delimiter)]
						out.CommonPrefixes = append(out.CommonPrefixes, cp)
						out.Last = cp
						count++
						// Every key under cp sorts before cp+"\xff" (0xff never
						// occurs in UTF-8): scan on from there.
						skipTo = base + cp + "\xff"
						return errStop
					}
				}
				o := new(Object)
				if err := jsonUnmarshal(v, o); err != nil {
					return fmt.Errorf("decode object %s: %w", k, err)
				}
				out.Objects = append(out.Objects, o)
				out.Last = key
				count++
				return nil
			})
			if err != nil && err != errStop {
				return err
			}
			if skipTo == "" {
				return nil
			}
			after = skipTo
		}
	})
	return out, err
}

// Lookup returns a bucket (with its compiled policy) and one of its
// objects, read in a single transaction or, when neither has changed since,
// from memory: the hot path of GetObject and HeadObject, which need both to
// authorize and answer. The bucket is nil with NoSuchBucket; the object nil
// with NoSuchKey. The records may be shared: they must not be modified.
func (s *Service) Lookup(ctx context.Context, bucket, key string) (*Bucket, *policy.Named, *Object, error) {
	be, oe, err := s.lookup(ctx, bucket, key)
	switch {
	case err != nil:
		return nil, nil, nil, err
	case be.b == nil:
		return nil, nil, nil, errNoSuchBucket()
	case oe.o == nil:
		return be.b, be.policy, nil, errNoSuchKey()
	}
	return be.b, be.policy, oe.o, nil
}

// Open opens an object's bytes; the caller closes the file. ErrNotExist
// means the object was replaced or deleted since its record was read.
func (s *Service) Open(o *Object) (*os.File, error) { return os.Open(s.blobPath(o.Blob)) }
