// Package s3 is iamd's object store, the thing the credentials protect: S3
// buckets and objects with AWS's names, limits, ETags and errors. Bucket and
// object metadata, multipart uploads and bucket policies live in kv tables;
// object and part bytes live as files under the data directory, streamed in
// and out (never a whole object in memory) and published atomically: a file
// is written under tmp/, fsynced and renamed into blobs/ before the metadata
// that names it commits, so a crashed upload leaves no partial object.
//
// It imports neither net/http nor a store, and it does not authorize: the
// HTTP edge asks authz first, using BucketPolicy for the resource policy.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// S3's error codes (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
// The HTTP edge maps them to S3's statuses.
const (
	CodeAccessDenied              apierr.Code = "AccessDenied"
	CodeBucketAlreadyOwnedByYou   apierr.Code = "BucketAlreadyOwnedByYou"
	CodeBucketNotEmpty            apierr.Code = "BucketNotEmpty"
	CodeInvalidBucketName         apierr.Code = "InvalidBucketName"
	CodeNoSuchBucket              apierr.Code = "NoSuchBucket"
	CodeNoSuchKey                 apierr.Code = "NoSuchKey"
	CodeNoSuchUpload              apierr.Code = "NoSuchUpload"
	CodeNoSuchBucketPolicy        apierr.Code = "NoSuchBucketPolicy"
	CodeKeyTooLong                apierr.Code = "KeyTooLongError"
	CodeBadDigest                 apierr.Code = "BadDigest"
	CodeInvalidDigest             apierr.Code = "InvalidDigest"
	CodeIncompleteBody            apierr.Code = "IncompleteBody"
	CodeInvalidRange              apierr.Code = "InvalidRange"
	CodeInvalidPart               apierr.Code = "InvalidPart"
	CodeInvalidPartOrder          apierr.Code = "InvalidPartOrder"
	CodeEntityTooSmall            apierr.Code = "EntityTooSmall"
	CodeEntityTooLarge            apierr.Code = "EntityTooLarge"
	CodeMalformedXML              apierr.Code = "MalformedXML"
	CodeMalformedPolicy           apierr.Code = "MalformedPolicy"
	CodeInvalidArgument           apierr.Code = "InvalidArgument"
	CodeInvalidRequest            apierr.Code = "InvalidRequest"
	CodeMethodNotAllowed          apierr.Code = "MethodNotAllowed"
	CodeNotImplemented            apierr.Code = "NotImplemented"
	CodeInternalError             apierr.Code = "InternalError"
	CodePreconditionFailed        apierr.Code = "PreconditionFailed"
	CodeNotModified               apierr.Code = "NotModified"
	CodeInvalidLocationConstraint apierr.Code = "InvalidLocationConstraint"
	CodeXAmzContentSHA256Mismatch apierr.Code = "XAmzContentSHA256Mismatch"
	CodeMissingContentLength      apierr.Code = "MissingContentLength"

	// Authentication, as S3 names it (IAM and STS say InvalidClientTokenId).
	CodeInvalidAccessKeyID                apierr.Code = "InvalidAccessKeyId"
	CodeRequestTimeTooSkewed              apierr.Code = "RequestTimeTooSkewed"
	CodeAuthorizationHeaderMalformed      apierr.Code = "AuthorizationHeaderMalformed"
	CodeAuthorizationQueryParametersError apierr.Code = "AuthorizationQueryParametersError"
	CodeInvalidToken                      apierr.Code = "InvalidToken"
)

// Limits S3 documents (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const (
	MaxKeyLength    = 1024
	MaxObjectSize   = 5 << 40 // 5 TiB
	MaxPutSize      = 5 << 30 // 5 GiB in one PutObject or UploadPart
	MinPartSize     = 5 << 20 // every part but the last
	MaxPartNumber   = 10000
	MaxPolicyLength = 20 << 10
)

// Tables in the kv store.
const (
	tBuckets = "s3.buckets" // bucket → Bucket
	tObjects = "s3.objects" // bucket/key → Object
	tUploads = "s3.uploads" // bucket/uploadID → Upload
	tParts   = "s3.parts"   // uploadID/%05d → Part
)

// Config wires a Service.
type Config struct {
	Store kv.Store
	// Dir holds the object bytes: blobs/, uploads/ and tmp/ beneath it.
	Dir  string
	Now  func() time.Time
	Rand io.Reader
	Log  *slog.Logger
}

// Service is the object store.
type Service struct {
	store kv.Store
	dir   string
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger

	policies sync.Map // policy document → *policy.Compiled
	cache    metaCache
	blobs    blobCache
}

// New returns a Service, creating its directories and removing what a
// crash left behind: stale temporary files and unreferenced blobs (gc.go).
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: cfg.Store, dir: cfg.Dir, now: cfg.Now, rand: cfg.Rand, log: cfg.Log}
	for _, d := range []string{"blobs", "uploads", "tmp"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
	}
	s.collectGarbage(context.Background())
	return s, nil
}

// Bucket is a bucket's record.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Region  string    `json:"region,omitempty"`
	Policy  string    `json:"policy,omitempty"`
}

func errNoSuchBucket() error {
	return apierr.New(CodeNoSuchBucket, "The specified bucket does not exist")
}

func errNoSuchKey() error { return apierr.New(CodeNoSuchKey, "The specified key does not exist.") }

func errNoSuchUpload() error {
	return apierr.New(CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

// ValidBucketName applies S3's general purpose bucket naming rules:
// 3–63 characters of lowercase letters, digits, dots and hyphens, starting
// and ending with a letter or digit, no "..", not an IP address, none of the
// reserved prefixes and suffixes.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func ValidBucketName(name string) error {
	bad := apierr.New(CodeInvalidBucketName, "The specified bucket is not valid.")
	if len(name) < 3 || len(name) > 63 {
		return bad
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) || strings.Contains(name, "..") ||
		strings.Contains(name, ".-") || strings.Contains(name, "-.") || looksLikeIP(name) {
		return bad
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad
		}
	}
	for _, p := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, p) {
			return bad
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func looksLikeIP(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ValidKey checks an object key: not empty, at most 1024 bytes of UTF-8.
func ValidKey(key string) error {
	if len(key) > MaxKeyLength {
		return apierr.New(CodeKeyTooLong, "Your key is too long")
	}
	if key == "" {
		return apierr.New(CodeInvalidArgument, "Object key must not be empty.")
	}
	return nil
}

// CreateBucket creates a bucket. In a single-account store every existing
// bucket is the caller's own: BucketAlreadyOwnedByYou.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
func (s *Service) CreateBucket(ctx context.Context, name, region string) (*Bucket, error) {
	if err := ValidBucketName(name); err != nil {
		return nil, err
	}
	b := &Bucket{Name: name, Created: s.now().UTC().Truncate(time.Millisecond), Region: region}
	err := s.update(ctx, func(tx kv.Tx) error {
		if _, err := tx.Get(tBuckets, name); err == nil {
			return apierr.New(CodeBucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		return putJSON(tx, tBuckets, name, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Bucket returns a bucket's record, or NoSuchBucket. The record may be
// shared with other callers: it must not be modified.
func (s *Service) Bucket(ctx context.Context, name string) (*Bucket, error) {
	e, err := s.bucketEntry(ctx, name)
	if err != nil {
		return nil, err
	}
	if e.b == nil {
		return nil, errNoSuchBucket()
	}
	return e.b, nil
}

func getBucket(tx kv.Tx, name string) (*Bucket, error) {
	b, err := getJSON[Bucket](tx, tBuckets, name)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errNoSuchBucket()
	}
	return b, err
}

// ListBuckets returns every bucket in name order.
func (s *Service) ListBuckets(ctx context.Context) ([]*Bucket, error) {
	var out []*Bucket
	err := s.store.View(ctx, func(tx kv.Tx) error {
		out = out[:0]
		return tx.Scan(tBuckets, "", "", 0, func(k string, v []byte) error {
			b := new(Bucket)
			if err := json.Unmarshal(v, b); err != nil {
				return fmt.Errorf("decode bucket %s: %w", k, err)
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

// DeleteBucket deletes an empty bucket (BucketNotEmpty otherwise) and
// aborts its multipart uploads in progress.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	var uploads []string
	err := s.update(ctx, func(tx kv.Tx) error {
		uploads = uploads[:0]
		if _, err := getBucket(tx, name); err != nil {
			return err
		}
		empty := true
		err := tx.Scan(tObjects, name+"/", "", 1, func(string, []byte) error { empty = false; return nil })
		if err != nil {
			return err
		}
		if !empty {
			return apierr.New(CodeBucketNotEmpty, "The bucket you tried to delete is not empty")
		}
		err = tx.Scan(tUploads, name+"/", "", 0, func(k string, _ []byte) error {
			uploads = append(uploads, strings.TrimPrefix(k, name+"/"))
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range uploads {
			if err := deleteUploadRecords(tx, name, id); err != nil {
				return err
			}
		}
		return tx.Delete(tBuckets, name)
	})
	if err != nil {
		return err
	}
	for _, id := range uploads {
		s.removeUploadDir(id)
	}
	return nil
}

// newID returns n random bytes in hex.
func (s *Service) newID(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("s3: random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func getJSON[T any](tx kv.Tx, table, key string) (*T, error) {
	b, err := tx.Get(table, key)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", table, key, err)
	}
	return v, nil
}

func putJSON(tx kv.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", table, key, err)
	}
	return tx.Put(table, key, b)
}

// Compiled policy documents are cached by their text: a bucket policy is
// compiled once, not on every request.
func (s *Service) compile(doc string) (*policy.Compiled, error) {
	if c, ok := s.policies.Load(doc); ok {
		return c.(*policy.Compiled), nil
	}
	c, err := policy.ParseCompile(doc, policy.Resource)
	if err != nil {
		return nil, err
	}
	s.policies.Store(doc, c)
	return c, nil
}

var jsonUnmarshal = json.Unmarshal
