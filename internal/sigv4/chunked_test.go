package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The example in https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html:
// a 66560-byte object of 'a' sent as a 65536-byte and a 1024-byte chunk.
const (
	s3ExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	s3ExampleSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var s3ExampleChunks = []struct {
	size int
	sig  string
}{
	{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
	{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
	{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
}

func s3ExampleBody() []byte {
	var b bytes.Buffer
	for _, c := range s3ExampleChunks {
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n%s\r\n", c.size, c.sig, strings.Repeat("a", c.size))
	}
	return b.Bytes()
}

func s3ExampleRequest(t *testing.T) (*Parsed, []byte) {
	t.Helper()
	r := &http.Request{Method: "PUT", Host: "s3.amazonaws.com", URL: &url.URL{Path: "/examplebucket/chunkObject.txt"}, Header: http.Header{}}
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+s3ExampleSeed)
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	p, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	key := DeriveKey(s3ExampleSecret, "20130524", "us-east-1", "s3")
	if err := p.Verify(r, key, StreamingPayload, S3Options()); err != nil {
		t.Fatalf("seed request: %v", err)
	}
	return p, key
}

func TestChunkedReaderS3Example(t *testing.T) {
	t.Parallel()
	p, key := s3ExampleRequest(t)
	got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(s3ExampleBody()), key, p, p.Signature))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", 66560); string(got) != want {
		t.Errorf("decoded %d bytes, want %d", len(got), len(want))
	}
}

func TestChunkedReaderErrors(t *testing.T) {
	t.Parallel()
	p, key := s3ExampleRequest(t)
	body := s3ExampleBody()
	tampered := bytes.Clone(body)
	tampered[len("10000;chunk-signature=")+64+2+100] = 'b'
	cases := []struct {
		name string
		body []byte
		seed string
		code string
	}{
		{"a changed data byte fails", tampered, s3ExampleSeed, CodeSignatureDoesNotMatch},
		{"a wrong seed signature fails", body, strings.Repeat("0", 64), CodeSignatureDoesNotMatch},
		{"a dropped final chunk is incomplete", body[:bytes.LastIndex(body, []byte("0;chunk"))], s3ExampleSeed, CodeIncompleteBody},
		{"a truncated chunk is incomplete", body[:1000], s3ExampleSeed, CodeIncompleteBody},
		{"a header without a signature is malformed", []byte("5\r\nhello\r\n"), s3ExampleSeed, CodeIncompleteBody},
		{"a chunk bigger than the limit is refused", []byte("ffffffff;chunk-signature=" + strings.Repeat("0", 64) + "\r\n"), s3ExampleSeed, CodeIncompleteBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := io.ReadAll(NewChunkedReader(bytes.NewReader(c.body), key, p, c.seed))
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Errorf("got %v, want %s", err, c.code)
			}
		})
	}
}
