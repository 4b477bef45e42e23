package httpapi

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/s3"
	"github.com/iamd/iamd/internal/sigv4"
)

// An S3 body arrives in one of S3's payload modes, named by
// x-amz-content-sha256: the hex SHA-256 of the body (checked as it
// streams, before anything is published), UNSIGNED-PAYLOAD (presigned URLs),
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (aws-chunked, each chunk signed) or
// STREAMING-UNSIGNED-PAYLOAD-TRAILER (aws-chunked, unsigned, with the
// checksum in a trailer: botocore ≥ 1.36 and the Go SDK over TLS).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html

const unsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

// payload is a request body ready to store.
type payload struct {
	r        io.Reader
	size     int64 // decoded length
	checksum *s3.Checksum
}

// body returns the request's payload as a verifying stream.
func (c *s3Call) body() (*payload, error) {
	r := c.r
	base := io.Reader(http.NoBody)
	if r.Body != nil {
		base = &idleReader{r: r.Body, rc: http.NewResponseController(c.w), d: s3BodyIdle}
	}
	p := &payload{size: r.ContentLength}
	chunked := strings.HasPrefix(c.hash, "STREAMING-")
	if chunked {
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return nil, apierr.New(s3.CodeMissingContentLength, "You must provide the Content-Length HTTP header.")
		}
		p.size = n
	} else if p.size < 0 {
		return nil, apierr.New(s3.CodeMissingContentLength, "You must provide the Content-Length HTTP header.")
	}
	ck, err := requestChecksum(r.Header)
	if err != nil {
		return nil, err
	}
	p.checksum = ck
	switch {
	case c.hash == "UNSIGNED-PAYLOAD":
		p.r = base
	case c.hash == sigv4.StreamingPayload:
		keyer, ok := c.srv.cfg.Authenticator.(signingKeyer)
		if !ok {
			return nil, apierr.New(s3.CodeNotImplemented, "Signed aws-chunked payloads are not supported by this server.")
		}
		key, err := keyer.SigningKey(r, c.parsed)
		if err != nil {
			return nil, s3AuthError(err, false)
		}
		p.r = sigv4Errors{sigv4.NewChunkedReader(base, key, c.parsed, c.parsed.Signature)}
	case c.hash == unsignedTrailer:
		name := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer")))
		if name != "" {
			alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
			if !ok || s3.NewChecksumHash(alg) == nil {
				return nil, apierr.New(s3.CodeInvalidRequest, "The value specified in the x-amz-trailer header is not supported")
			}
			p.checksum = &s3.Checksum{Algorithm: strings.ToUpper(alg)}
		}
		p.r = &trailerReader{r: bufio.NewReaderSize(base, 16<<10), name: name, ck: p.checksum}
	case chunked:
		return nil, apierr.New(s3.CodeNotImplemented, "Payload mode %s is not supported.", c.hash)
	default:
		p.r = &sha256Reader{r: base, want: c.hash}
	}
	return p, nil
}

// requestChecksum is the x-amz-checksum-ALG header, or the algorithm the
// SDK asked for (x-amz-sdk-checksum-algorithm) with no value yet.
func requestChecksum(h http.Header) (*s3.Checksum, error) {
	for _, alg := range []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
		if v := h.Get("X-Amz-Checksum-" + alg); v != "" {
			return &s3.Checksum{Algorithm: alg, Value: v}, nil
		}
	}
	if alg := h.Get("X-Amz-Sdk-Checksum-Algorithm"); alg != "" {
		if s3.NewChecksumHash(alg) == nil {
			return nil, apierr.New(s3.CodeInvalidRequest, "Checksum algorithm %s is not supported.", alg)
		}
		return &s3.Checksum{Algorithm: strings.ToUpper(alg)}, nil
	}
	return nil, nil
}

// readXMLBody reads a small body whole, checking its Content-MD5 and
// checksum header.
func (c *s3Call) readXMLBody() ([]byte, error) {
	p, err := c.body()
	if err != nil {
		return nil, err
	}
	if p.size > maxS3XMLBody {
		return nil, apierr.New(s3.CodeMalformedXML, "The XML you provided was too large.")
	}
	b, err := io.ReadAll(io.LimitReader(p.r, maxS3XMLBody+1))
	if err != nil {
		if apierr.As(err) != nil {
			return nil, err
		}
		return nil, apierr.Wrap(s3.CodeIncompleteBody, err, "The request body terminated unexpectedly")
	}
	if int64(len(b)) != p.size {
		return nil, apierr.New(s3.CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if v := c.r.Header.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return nil, apierr.New(s3.CodeInvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		if sum := md5.Sum(b); string(sum[:]) != string(want) {
			return nil, apierr.New(s3.CodeBadDigest, "The Content-MD5 you specified did not match what we received.")
		}
	}
	if ck := p.checksum; ck != nil && ck.Value != "" {
		h := s3.NewChecksumHash(ck.Algorithm)
		h.Write(b)
		if base64.StdEncoding.EncodeToString(h.Sum(nil)) != ck.Value {
			return nil, apierr.New(s3.CodeBadDigest, "The %s you specified did not match the calculated checksum.", ck.Algorithm)
		}
	}
	return b, nil
}

// idleReader extends the connection's read deadline before every read, so
// a body may take as long as it needs but never stall.
type idleReader struct {
	r  io.Reader
	rc *http.ResponseController
	d  time.Duration
}

func (i *idleReader) Read(b []byte) (int, error) {
	_ = i.rc.SetReadDeadline(time.Now().Add(i.d))
	n, err := i.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return n, apierr.Wrap(apierr.RequestTimeout, err, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
		}
	}
	return n, err
}

// sha256Reader checks the body against the signed x-amz-content-sha256
// when it reaches the end, before the caller publishes anything.
type sha256Reader struct {
	r    io.Reader
	want string
	h    interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (s *sha256Reader) Read(b []byte) (int, error) {
	if s.h == nil {
		s.h = sha256.New()
	}
	n, err := s.r.Read(b)
	s.h.Write(b[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(s.h.Sum(nil)) != s.want {
		return n, apierr.New(s3.CodeXAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return n, err
}

// sigv4Errors turns the chunk decoder's errors into API errors.
type sigv4Errors struct{ r io.Reader }

func (s sigv4Errors) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	var se *sigv4.Error
	if errors.As(err, &se) {
		return n, apierr.New(apierr.Code(se.Code), "%s", se.Message)
	}
	return n, err
}

// trailerReader decodes an unsigned aws-chunked body with trailers:
//
//	hex(size)\r\n<data>\r\n … 0\r\n<name>:<value>\r\n\r\n
//
// and sets the checksum named by x-amz-trailer from its trailer line.
type trailerReader struct {
	r    *bufio.Reader
	name string
	ck   *s3.Checksum
	left int64 // bytes left in the current chunk
	seen bool  // a chunk was read, so a CRLF precedes the next header
	done bool
	err  error
}

func badChunk(msg string) error { return apierr.New(s3.CodeIncompleteBody, "%s", msg) }

func (t *trailerReader) Read(b []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	for t.left == 0 {
		if t.done {
			return 0, io.EOF
		}
		if t.err = t.next(); t.err != nil {
			return 0, t.err
		}
	}
	if int64(len(b)) > t.left {
		b = b[:t.left]
	}
	n, err := t.r.Read(b)
	t.left -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = badChunk("The request body terminated unexpectedly")
		}
		t.err = err
		if n > 0 {
			return n, nil
		}
	}
	return n, t.err
}

func (t *trailerReader) line() (string, error) {
	l, err := t.r.ReadSlice('\n')
	if err != nil {
		if apierr.As(err) != nil {
			return "", err
		}
		return "", badChunk("The request body terminated unexpectedly")
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return "", badChunk("Chunk header is not terminated by CRLF")
	}
	return string(l[:len(l)-2]), nil
}

func (t *trailerReader) next() error {
	if t.seen {
		if l, err := t.line(); err != nil {
			return err
		} else if l != "" {
			return badChunk("Chunk data is not followed by CRLF")
		}
	}
	t.seen = true
	l, err := t.line()
	if err != nil {
		return err
	}
	sizeHex, _, _ := strings.Cut(l, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return badChunk("Invalid chunk size")
	}
	if size > 0 {
		t.left = size
		return nil
	}
	// The last chunk: trailers until an empty line.
	for {
		l, err := t.line()
		if err != nil {
			return err
		}
		if l == "" {
			break
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return badChunk("Malformed trailer")
		}
		if strings.EqualFold(strings.TrimSpace(k), t.name) && t.ck != nil {
			t.ck.Value = strings.TrimSpace(v)
		}
	}
	if t.ck != nil && t.name != "" && t.ck.Value == "" {
		return badChunk("The trailer " + t.name + " named in x-amz-trailer was not sent")
	}
	t.done = true
	return nil
}
