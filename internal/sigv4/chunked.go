package sigv4

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
)

// StreamingPayload is the X-Amz-Content-SHA256 value of an aws-chunked body
// whose chunks are each signed. The "-TRAILER" variant is not supported yet.
const StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

// MaxChunkSize bounds the size of one aws-chunked chunk that
// [NewChunkedReader] buffers. SDKs send 64 KiB chunks; S3 needs at least 8 KiB.
const MaxChunkSize = 16 << 20

// emptyHashHex is hex(SHA256("")), a fixed line of every chunk string to sign.
const emptyHashHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// NewChunkedReader decodes an aws-chunked body signed chunk by chunk
// (X-Amz-Content-SHA256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and verifies
// each chunk's signature before yielding its bytes:
//
//	hex(size);chunk-signature=<sig>\r\n <data>\r\n … 0;chunk-signature=<sig>\r\n\r\n
//
// Each chunk signs "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<previous
// signature>\n<hash of empty>\n<hash of data>", chained from seedSignature,
// the request's own signature (verify the request with payload hash
// [StreamingPayload] first). See
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
//
// A chunk is buffered whole (at most [MaxChunkSize]) so that no unverified
// byte reaches the caller. Errors are [*Error]: SignatureDoesNotMatch for a
// bad chunk signature, IncompleteBody for a truncated or malformed body.
func NewChunkedReader(body io.Reader, signingKey []byte, p *Parsed, seedSignature string) io.Reader {
	return &chunkedReader{
		r:    bufio.NewReader(body),
		key:  signingKey,
		prev: seedSignature,
		// The fixed head of each chunk's string to sign.
		head: "AWS4-HMAC-SHA256-PAYLOAD\n" + p.amzDate + "\n" + p.scope + "\n",
	}
}

type chunkedReader struct {
	r    *bufio.Reader
	key  []byte
	prev string
	head string
	buf  []byte // verified bytes not yet returned
	mem  []byte // backing store reused for every chunk
	done bool
	err  error
}

func (c *chunkedReader) Read(b []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.done {
			return 0, io.EOF
		}
		c.err = c.next()
	}
	n := copy(b, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func incompleteBody(msg string) *Error {
	return &Error{Code: CodeIncompleteBody, Message: msg}
}

// next reads, verifies and buffers one chunk.
func (c *chunkedReader) next() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	sizeHex, ext, ok := strings.Cut(line, ";")
	sig, hasSig := strings.CutPrefix(ext, "chunk-signature=")
	if !ok || !hasSig || len(sig) != 64 {
		return incompleteBody("Invalid chunk header: missing chunk-signature")
	}
	size, err := strconv.ParseUint(sizeHex, 16, 32)
	if err != nil || size > MaxChunkSize {
		return incompleteBody("Invalid chunk size")
	}
	if cap(c.mem) < int(size)+2 {
		c.mem = make([]byte, size+2)
	}
	data := c.mem[:size+2]
	if _, err := io.ReadFull(c.r, data); err != nil {
		return incompleteBody("The request body terminated unexpectedly")
	}
	if data[size] != '\r' || data[size+1] != '\n' {
		return incompleteBody("Chunk data is not followed by CRLF")
	}
	data = data[:size]

	sum := sha256.Sum256(data)
	sts := make([]byte, 0, len(c.head)+64+1+64+1+64)
	sts = append(sts, c.head...)
	sts = append(sts, c.prev...)
	sts = append(sts, '\n')
	sts = append(sts, emptyHashHex...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, sum[:])
	mac := hmacSHA256(c.key, sts)
	var got [32]byte
	if _, err := hex.Decode(got[:], []byte(sig)); err != nil || subtle.ConstantTimeCompare(mac[:], got[:]) != 1 {
		return &Error{Code: CodeSignatureDoesNotMatch, Message: msgSignatureDoesNotMatch}
	}
	c.prev = sig
	if size == 0 {
		c.done = true
		return nil
	}
	c.buf = data
	return nil
}

// readLine reads one CRLF-terminated chunk header of bounded length.
func (c *chunkedReader) readLine() (string, error) {
	line, err := c.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", incompleteBody("Chunk header too long")
	case err != nil:
		return "", incompleteBody("The request body terminated unexpectedly")
	case len(line) < 2 || line[len(line)-2] != '\r':
		return "", incompleteBody("Chunk header is not terminated by CRLF")
	}
	return string(line[:len(line)-2]), nil
}
