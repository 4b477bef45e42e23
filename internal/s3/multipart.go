package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// Upload is a multipart upload in progress.
type Upload struct {
	ID        string    `json:"id"`
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Initiated time.Time `json:"initiated"`
	Meta      Meta      `json:"meta"`
	Algorithm string    `json:"alg,omitempty"` // x-amz-checksum-algorithm at creation
}

// Part is one uploaded part.
type Part struct {
	Number       int       `json:"n"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"` // hex MD5, unquoted
	LastModified time.Time `json:"mtime"`
	Checksum     *Checksum `json:"checksum,omitempty"`
	File         string    `json:"file"`
}

func partKey(uploadID string, n int) string { return fmt.Sprintf("%s/%05d", uploadID, n) }

func (s *Service) uploadDir(id string) string { return filepath.Join(s.dir, "uploads", id) }

func (s *Service) removeUploadDir(id string) {
	if err := os.RemoveAll(s.uploadDir(id)); err != nil {
		s.log.Warn("s3: remove upload", "upload", id, "err", err)
	}
}

// CreateMultipartUpload starts an upload.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
func (s *Service) CreateMultipartUpload(ctx context.Context, bucket, key string, meta Meta, algorithm string) (*Upload, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	if algorithm != "" && NewChecksumHash(algorithm) == nil {
		return nil, apierr.New(CodeInvalidRequest, "Checksum algorithm %s is not supported.", algorithm)
	}
	id, err := s.newID(24)
	if err != nil {
		return nil, err
	}
	u := &Upload{ID: id, Bucket: bucket, Key: key, Initiated: s.now().UTC(), Meta: meta, Algorithm: strings.ToUpper(algorithm)}
	if err := os.MkdirAll(s.uploadDir(id), 0o700); err != nil {
		return nil, fmt.Errorf("s3: upload dir: %w", err)
	}
	err = s.update(ctx, func(tx kv.Tx) error {
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		return putJSON(tx, tUploads, bucket+"/"+id, u)
	})
	if err != nil {
		s.removeUploadDir(id)
		return nil, err
	}
	return u, nil
}

func getUpload(tx kv.Tx, bucket, key, id string) (*Upload, error) {
	if _, err := getBucket(tx, bucket); err != nil {
		return nil, err
	}
	u, err := getJSON[Upload](tx, tUploads, bucket+"/"+id)
	if errors.Is(err, kv.ErrNotFound) || err == nil && u.Key != key {
		return nil, errNoSuchUpload()
	}
	return u, err
}

// UploadPart streams one part to disk and records it, replacing a part
// with the same number.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
func (s *Service) UploadPart(ctx context.Context, uploadID string, number int, in *PutInput) (*Part, error) {
	if number < 1 || number > MaxPartNumber {
		return nil, apierr.New(CodeInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	if !validUploadID(uploadID) {
		return nil, errNoSuchUpload()
	}
	if in.Size > MaxPutSize {
		return nil, apierr.New(CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	if err := s.store.View(ctx, func(tx kv.Tx) error { _, err := getUpload(tx, in.Bucket, in.Key, uploadID); return err }); err != nil {
		return nil, err
	}
	file, err := s.newID(8)
	if err != nil {
		return nil, err
	}
	file = strconv.Itoa(number) + "-" + file
	dest := filepath.Join(s.uploadDir(uploadID), file)
	w, err := s.writeBlob(dest, in.Body, in.Size, in.ContentMD5, in.Checksum)
	if err != nil {
		return nil, err
	}
	p := &Part{Number: number, Size: w.size, ETag: etagOf(w.md5), LastModified: s.now().UTC(), File: file}
	if in.Checksum != nil {
		p.Checksum = &Checksum{Algorithm: strings.ToUpper(in.Checksum.Algorithm), Value: w.sum}
	}
	var old string
	err = s.update(ctx, func(tx kv.Tx) error {
		old = ""
		if _, err := getUpload(tx, in.Bucket, in.Key, uploadID); err != nil {
			return err
		}
		prev, err := getJSON[Part](tx, tParts, partKey(uploadID, number))
		if err == nil {
			old = prev.File
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		return putJSON(tx, tParts, partKey(uploadID, number), p)
	})
	if err != nil {
		os.Remove(dest)
		return nil, err
	}
	if old != "" {
		os.Remove(filepath.Join(s.uploadDir(uploadID), old))
	}
	return p, nil
}

// validUploadID keeps an upload id from naming a path outside uploads/.
func validUploadID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// CompletedPart is a part named in CompleteMultipartUpload.
type CompletedPart struct {
	Number int
	ETag   string // quoted or not
}

// CompleteMultipartUpload checks the named parts (ascending, existing,
// matching ETags, all but the last at least 5 MiB), concatenates them into
// one file, publishes the object with S3's multipart ETag — the hex MD5 of
// the concatenated binary part MD5s, "-" and the number of parts — and ends
// the upload.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
func (s *Service) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletedPart) (*Object, error) {
	if !validUploadID(uploadID) {
		return nil, errNoSuchUpload()
	}
	if len(parts) == 0 {
		return nil, apierr.New(CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	var u *Upload
	stored := map[int]*Part{}
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		if u, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		clear(stored)
		return tx.Scan(tParts, uploadID+"/", "", 0, func(k string, v []byte) error {
			p := new(Part)
			if err := jsonUnmarshal(v, p); err != nil {
				return fmt.Errorf("decode part %s: %w", k, err)
			}
			stored[p.Number] = p
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	chosen := make([]*Part, len(parts))
	for i, cp := range parts {
		if i > 0 && cp.Number <= parts[i-1].Number {
			return nil, apierr.New(CodeInvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		p := stored[cp.Number]
		if p == nil || strings.Trim(cp.ETag, `"`) != p.ETag {
			return nil, apierr.New(CodeInvalidPart, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.")
		}
		chosen[i] = p
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < MinPartSize {
			return nil, apierr.New(CodeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.")
		}
	}
	// The object's ETag, from the part MD5s.
	m := md5.New()
	for _, p := range chosen {
		b, err := hex.DecodeString(p.ETag)
		if err != nil {
			return nil, fmt.Errorf("s3: part etag: %w", err)
		}
		m.Write(b)
	}
	etag := hex.EncodeToString(m.Sum(nil)) + "-" + strconv.Itoa(len(chosen))

	id, err := s.newID(16)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		for _, p := range chosen {
			f, err := os.Open(filepath.Join(s.uploadDir(uploadID), p.File))
			if err != nil {
				pw.CloseWithError(fmt.Errorf("s3: open part: %w", err))
				return
			}
			_, err = io.Copy(pw, f)
			f.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	var size int64
	for _, p := range chosen {
		size += p.Size
	}
	w, err := s.writeBlobLarge(s.blobPath(id), pr, size)
	pr.Close()
	if err != nil {
		return nil, err
	}
	o := &Object{Key: key, Size: w.size, ETag: etag, LastModified: s.now().UTC(), Meta: u.Meta, Parts: len(chosen), Blob: id}
	var old string
	err = s.update(ctx, func(tx kv.Tx) error {
		old = ""
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		prev, err := getJSON[Object](tx, tObjects, objectKey(bucket, key))
		if err == nil {
			old = prev.Blob
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if err := putJSON(tx, tObjects, objectKey(bucket, key), o); err != nil {
			return err
		}
		return deleteUploadRecords(tx, bucket, uploadID)
	})
	if err != nil {
		s.removeBlob(id)
		return nil, err
	}
	if old != "" {
		s.removeBlob(old)
	}
	s.removeUploadDir(uploadID)
	return o, nil
}

// writeBlobLarge is writeBlob for a concatenation of parts, which may be
// larger than one PutObject.
func (s *Service) writeBlobLarge(dest string, r io.Reader, size int64) (*written, error) {
	if size > MaxObjectSize {
		return nil, apierr.New(CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	return s.writeBlob(dest, r, size, "", nil)
}

func deleteUploadRecords(tx kv.Tx, bucket, id string) error {
	var keys []string
	err := tx.Scan(tParts, id+"/", "", 0, func(k string, _ []byte) error { keys = append(keys, k); return nil })
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(tParts, k); err != nil {
			return err
		}
	}
	return tx.Delete(tUploads, bucket+"/"+id)
}

// AbortMultipartUpload ends an upload and removes its parts.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
func (s *Service) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if !validUploadID(uploadID) {
		return errNoSuchUpload()
	}
	err := s.update(ctx, func(tx kv.Tx) error {
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		return deleteUploadRecords(tx, bucket, uploadID)
	})
	if err != nil {
		return err
	}
	s.removeUploadDir(uploadID)
	return nil
}

// ListPartsOutput is a page of ListParts.
type ListPartsOutput struct {
	Upload    *Upload
	Parts     []*Part
	Truncated bool
	Next      int
}

// ListParts lists an upload's parts after marker, at most max.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
func (s *Service) ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (*ListPartsOutput, error) {
	if !validUploadID(uploadID) {
		return nil, errNoSuchUpload()
	}
	out := &ListPartsOutput{}
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		if out.Upload, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		out.Parts, out.Truncated = nil, false
		after := ""
		if marker > 0 {
			after = partKey(uploadID, marker)
		}
		return tx.Scan(tParts, uploadID+"/", after, max+1, func(k string, v []byte) error {
			if len(out.Parts) == max {
				out.Truncated = true
				return nil
			}
			p := new(Part)
			if err := jsonUnmarshal(v, p); err != nil {
				return fmt.Errorf("decode part %s: %w", k, err)
			}
			out.Parts = append(out.Parts, p)
			out.Next = p.Number
			return nil
		})
	})
	return out, err
}

// ListMultipartUploads lists a bucket's uploads in progress (first 1000).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
func (s *Service) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]*Upload, error) {
	var out []*Upload
	err := s.store.View(ctx, func(tx kv.Tx) error {
		out = nil
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		return tx.Scan(tUploads, bucket+"/", "", 0, func(k string, v []byte) error {
			u := new(Upload)
			if err := jsonUnmarshal(v, u); err != nil {
				return fmt.Errorf("decode upload %s: %w", k, err)
			}
			if strings.HasPrefix(u.Key, prefix) && len(out) < 1000 {
				out = append(out, u)
			}
			return nil
		})
	})
	return out, err
}
