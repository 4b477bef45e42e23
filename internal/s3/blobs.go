package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/iamd/iamd/internal/apierr"
)

// Checksum is an additional checksum (x-amz-checksum-*) of an object.
type Checksum struct {
	Algorithm string `json:"alg"` // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	// Value is base64 as S3 sends it. For a trailing checksum it is only
	// known once the body has been read to its end; the HTTP edge fills it
	// in before its body reader returns io.EOF.
	Value string `json:"value"`
}

// crc64NVME is the bit-reversed CRC-64/NVME polynomial, as hash/crc64 wants it.
const crc64NVME = 0x9a6c9329ac4bc9b5

var crc64Table = crc64.MakeTable(crc64NVME)

// NewChecksumHash returns the hash for an S3 checksum algorithm, or nil
// for an unknown one.
func NewChecksumHash(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64Table)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// written is what writeBlob learned about the bytes it stored.
type written struct {
	path string
	size int64
	md5  [16]byte
	sum  string // the additional checksum, base64, when one was asked for
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writeBlob streams body into a new file under tmp/, checking its length
// (want >= 0), Content-MD5 and additional checksum, fsyncs it and renames it
// to dest. On any error the temporary file is removed and dest untouched.
func (s *Service) writeBlob(dest string, body io.Reader, want int64, contentMD5 string, ck *Checksum) (*written, error) {
	var wantMD5 []byte
	if contentMD5 != "" {
		d, err := base64.StdEncoding.DecodeString(contentMD5)
		if err != nil || len(d) != md5.Size {
			return nil, apierr.New(CodeInvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		wantMD5 = d
	}
	var extra hash.Hash
	if ck != nil {
		if extra = NewChecksumHash(ck.Algorithm); extra == nil {
			return nil, apierr.New(CodeInvalidRequest, "Checksum algorithm %s is not supported.", ck.Algorithm)
		}
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return nil, fmt.Errorf("s3: create temp: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	m := md5.New()
	var w io.Writer = io.MultiWriter(f, m)
	if extra != nil {
		w = io.MultiWriter(f, m, extra)
	}
	src := body
	if want >= 0 {
		// Read one byte more than promised, to catch a body that is too long.
		src = io.LimitReader(body, want+1)
	} else {
		src = io.LimitReader(body, MaxPutSize+1)
	}
	bp := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(w, src, *bp)
	copyBufs.Put(bp)
	if err != nil {
		if apierr.As(err) != nil {
			return nil, err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, apierr.Wrap(CodeIncompleteBody, err, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		}
		return nil, apierr.Wrap(CodeIncompleteBody, err, "The request body could not be read.")
	}
	switch {
	case want >= 0 && n < want:
		return nil, apierr.New(CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	case want >= 0 && n > want:
		return nil, apierr.New(CodeIncompleteBody, "The request body is longer than its declared length.")
	case n > MaxPutSize:
		return nil, apierr.New(CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	out := &written{path: dest, size: n}
	m.Sum(out.md5[:0])
	if wantMD5 != nil && string(wantMD5) != string(out.md5[:]) {
		return nil, apierr.New(CodeBadDigest, "The Content-MD5 you specified did not match what we received.")
	}
	if extra != nil {
		out.sum = base64.StdEncoding.EncodeToString(extra.Sum(nil))
		if ck.Value != "" && ck.Value != out.sum {
			return nil, apierr.New(CodeBadDigest, "The %s you specified did not match the calculated checksum.", strings.ToUpper(ck.Algorithm))
		}
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("s3: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("s3: close: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return nil, fmt.Errorf("s3: publish: %w", err)
	}
	syncDir(filepath.Dir(dest))
	ok = true
	return out, nil
}

// syncDir makes a rename durable; a failure only weakens durability, the
// metadata commit that follows is still atomic.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func (s *Service) blobPath(id string) string { return filepath.Join(s.dir, "blobs", id) }

func (s *Service) removeBlob(id string) {
	if id == "" {
		return
	}
	s.blobs.remove(id)
	if err := os.Remove(s.blobPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("s3: remove blob", "blob", id, "err", err)
	}
}

// etagOf is S3's ETag of a single-part object: the hex MD5 of its bytes.
func etagOf(sum [16]byte) string { return hex.EncodeToString(sum[:]) }
