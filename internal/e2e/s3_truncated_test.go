package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamd/iamd/internal/testserver"
)

// TestATruncatedUploadLeavesNoObject sends a signed PutObject that promises
// 100 bytes, delivers 40 and hangs up: S3 answers IncompleteBody and no
// object, not even a partial one, appears.
func TestATruncatedUploadLeavesNoObject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s3Client(s, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trunc")}))

	req, _ := http.NewRequest(http.MethodPut, s.URL+"/trunc/half.bin", nil)
	req.ContentLength = 100
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testserver.AdminKeyID, SecretAccessKey: testserver.AdminSecret},
		req, "UNSIGNED-PAYLOAD", "s3", testserver.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	head.WriteString("PUT /trunc/half.bin HTTP/1.1\r\nHost: " + req.Host + "\r\nContent-Length: 100\r\n")
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		head.WriteString(h + ": " + req.Header.Get(h) + "\r\n")
	}
	head.WriteString("\r\n" + strings.Repeat("x", 40))
	io.WriteString(conn, head.String())
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>IncompleteBody</Code>") {
			t.Errorf("got %d %s, want 400 IncompleteBody", resp.StatusCode, body)
		}
	} // a server that just closes the connection is acceptable too; what matters is below

	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("trunc"), Key: aws.String("half.bin")})
	if httpStatus(err) != http.StatusNotFound {
		t.Errorf("HeadObject after a truncated upload: got %v, want 404", err)
	}
	list := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("trunc")}))
	if len(list.Contents) != 0 {
		t.Errorf("the bucket lists %d objects after a truncated upload, want 0", len(list.Contents))
	}
}
