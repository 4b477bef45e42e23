package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/testserver"
)

// The aws-chunked payload modes, sent as raw HTTP so that each chunk can be
// built, signed and broken by hand.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html

// chunk is one aws-chunked chunk as the test will write it.
type chunk struct {
	data []byte
	sig  string // the chunk-signature; "" for the unsigned variant
}

// splitChunks cuts data into chunks of size bytes, then the empty final
// chunk.
func splitChunks(data []byte, size int) []chunk {
	var cs []chunk
	for len(data) > 0 {
		n := min(size, len(data))
		cs = append(cs, chunk{data: data[:n]})
		data = data[n:]
	}
	return append(cs, chunk{})
}

// signChunks signs each chunk as S3 does, chained from the seed signature:
//
//	AWS4-HMAC-SHA256-PAYLOAD\n<amz-date>\n<scope>\n<previous signature>\n<hash("")>\n<hash(data)>
func signChunks(cs []chunk, key []byte, amzDate, scope, seed string) {
	prev := seed
	for i := range cs {
		sum := sha256.Sum256(cs[i].data)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:])
		cs[i].sig = sigv4.Sign(key, sts)
		prev = cs[i].sig
	}
}

// encodeChunks writes the chunks in aws-chunked framing, with trailer
// lines after the final chunk of the unsigned variant.
func encodeChunks(cs []chunk, trailer string) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "%x", len(c.data))
		if c.sig != "" {
			b.WriteString(";chunk-signature=" + c.sig)
		}
		b.WriteString("\r\n")
		b.Write(c.data)
		if len(c.data) > 0 || c.sig != "" {
			b.WriteString("\r\n")
		}
	}
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
	}
	if cs[len(cs)-1].sig == "" && len(cs[len(cs)-1].data) == 0 {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// chunkedPut is a PutObject request whose headers are signed by the SDK's
// v4 signer for the payload mode mode; it returns the request and, for the
// signed mode, the seed signature and the chunk signing inputs.
func chunkedPut(t *testing.T, s *testserver.Server, path, mode string, decoded int, extra map[string]string, now time.Time) (req *http.Request, seed, amzDate, scope string) {
	t.Helper()
	req, _ = http.NewRequest(http.MethodPut, s.URL+path, nil)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decoded))
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testserver.AdminKeyID, SecretAccessKey: testserver.AdminSecret},
		req, mode, "s3", testserver.Region, now); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	_, seed, _ = strings.Cut(auth, "Signature=")
	amzDate = req.Header.Get("X-Amz-Date")
	scope = amzDate[:8] + "/" + testserver.Region + "/s3/aws4_request"
	return req, seed, amzDate, scope
}

// send sends req with body as its bytes and returns the status and body.
func send(t *testing.T, req *http.Request, body []byte) (int, string) {
	t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkStored checks that key holds want, or does not exist when want is nil.
func checkStored(t *testing.T, c *s3.Client, bucket, key string, want []byte) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if want == nil {
		if httpStatus(err) != http.StatusNotFound {
			t.Errorf("GetObject after a rejected upload: got %v, want 404 NoSuchKey", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	got, _ := io.ReadAll(out.Body)
	if !bytes.Equal(got, want) {
		t.Errorf("got %d stored bytes, want the %d sent", len(got), len(want))
	}
}

func crc32b64(b []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)))
}

func TestS3SignedChunkedPayload(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s3Client(s, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("chunked")}))
	data := bytes.Repeat([]byte("0123456789abcdef"), 1300) // 20800 bytes: 8 KiB, 8 KiB, the rest

	tests := []struct {
		name string
		// mangle changes the signed chunks and returns the body to send.
		mangle func(cs []chunk) []byte
		status int
		code   string
	}{
		{
			name:   "a correctly signed body is stored",
			mangle: func(cs []chunk) []byte { return encodeChunks(cs, "") },
			status: http.StatusOK,
		},
		{
			name: "a chunk whose data was changed fails its signature",
			mangle: func(cs []chunk) []byte {
				d := bytes.Clone(cs[1].data)
				d[0] ^= 1
				cs[1].data = d
				return encodeChunks(cs, "")
			},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch",
		},
		{
			name: "chunks in the wrong order fail the signature chain",
			mangle: func(cs []chunk) []byte {
				cs[0], cs[1] = cs[1], cs[0]
				return encodeChunks(cs, "")
			},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch",
		},
		{
			name: "a final chunk with a wrong signature is rejected",
			mangle: func(cs []chunk) []byte {
				cs[len(cs)-1].sig = strings.Repeat("0", 64)
				return encodeChunks(cs, "")
			},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch",
		},
		{
			name: "a body cut off inside a chunk is IncompleteBody",
			mangle: func(cs []chunk) []byte {
				b := encodeChunks(cs, "")
				return b[:len(b)/2]
			},
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a body without its final chunk is IncompleteBody",
			mangle: func(cs []chunk) []byte {
				return encodeChunks(cs[:len(cs)-1], "")
			},
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a chunk-size line that is not hex is IncompleteBody",
			mangle: func(cs []chunk) []byte {
				b := encodeChunks(cs, "")
				return append([]byte("zz"), b[len("2000"):]...)
			},
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a chunk-size line without a signature is IncompleteBody",
			mangle: func(cs []chunk) []byte {
				cs[0].sig = ""
				return encodeChunks(cs, "")
			},
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a chunk size larger than its data is IncompleteBody",
			mangle: func(cs []chunk) []byte {
				b := encodeChunks(cs, "")
				return append([]byte("2001"), b[len("2000"):]...)
			},
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "obj" + strconv.Itoa(i)
			req, seed, amzDate, scope := chunkedPut(t, s, "/chunked/"+key, sigv4.StreamingPayload, len(data), nil, time.Now())
			cs := splitChunks(data, 8192)
			signChunks(cs, sigv4.DeriveKey(testserver.AdminSecret, amzDate[:8], testserver.Region, "s3"), amzDate, scope, seed)
			status, body := send(t, req, tt.mangle(cs))
			if status != tt.status || (tt.code != "" && !strings.Contains(body, "<Code>"+tt.code+"</Code>")) {
				t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			if tt.code == "" {
				checkStored(t, c, "chunked", key, data)
			} else {
				checkStored(t, c, "chunked", key, nil)
			}
		})
	}
}

func TestS3UnsignedChunkedPayloadWithTrailer(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s3Client(s, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trailer")}))
	data := bytes.Repeat([]byte("the quick brown fox "), 1000) // 20000 bytes
	good := "x-amz-checksum-crc32:" + crc32b64(data)
	trailerHeader := map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm": "CRC32"}

	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		status  int
		code    string
	}{
		{
			name: "a body with the right checksum trailer is stored", headers: trailerHeader,
			body: encodeChunks(splitChunks(data, 8192), good), status: http.StatusOK,
		},
		{
			name: "the trailer name matches in any case", headers: trailerHeader,
			body: encodeChunks(splitChunks(data, 8192), "X-Amz-Checksum-Crc32:"+crc32b64(data)), status: http.StatusOK,
		},
		{
			name: "a body without a trailer header is stored",
			body: encodeChunks(splitChunks(data, 65536), ""), status: http.StatusOK,
		},
		{
			name: "a wrong checksum in the trailer is BadDigest", headers: trailerHeader,
			body:   encodeChunks(splitChunks(data, 8192), "x-amz-checksum-crc32:"+crc32b64([]byte("something else"))),
			status: http.StatusBadRequest, code: "BadDigest",
		},
		{
			name: "a trailer named in x-amz-trailer but not sent is rejected", headers: trailerHeader,
			body:   encodeChunks(splitChunks(data, 8192), ""),
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a body without its final chunk is IncompleteBody", headers: trailerHeader,
			body: func() []byte {
				cs := splitChunks(data, 8192)
				return encodeChunks(cs[:len(cs)-1], "")
			}(),
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "a chunk-size line that is not hex is IncompleteBody", headers: trailerHeader,
			body:   append([]byte("zz"), encodeChunks(splitChunks(data, 8192), good)[len("2000"):]...),
			status: http.StatusBadRequest, code: "IncompleteBody",
		},
		{
			name: "an unsupported trailer is InvalidRequest", headers: map[string]string{"X-Amz-Trailer": "x-amz-meta-foo"},
			body:   encodeChunks(splitChunks(data, 8192), "x-amz-meta-foo:bar"),
			status: http.StatusBadRequest, code: "InvalidRequest",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "obj" + strconv.Itoa(i)
			req, _, _, _ := chunkedPut(t, s, "/trailer/"+key, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data), tt.headers, time.Now())
			status, body := send(t, req, tt.body)
			if status != tt.status || (tt.code != "" && !strings.Contains(body, "<Code>"+tt.code+"</Code>")) {
				t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			if tt.code == "" {
				checkStored(t, c, "trailer", key, data)
			} else {
				checkStored(t, c, "trailer", key, nil)
			}
		})
	}
}
