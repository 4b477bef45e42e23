package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamd/iamd/internal/testserver"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signedGet is a GetObject request signed once with the admin key.
func signedGet(b *testing.B, url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url+"/bench/obj", nil)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(ctx,
		aws.Credentials{AccessKeyID: testserver.AdminKeyID, SecretAccessKey: testserver.AdminSecret},
		req, emptySHA256, "s3", testserver.Region, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// loadGet sends the same GET from parallel keep-alive clients and checks
// the body length.
func loadGet(b *testing.B, proto *http.Request, size int) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		for pb.Next() {
			resp, err := client.Do(proto.Clone(ctx))
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != size {
				b.Errorf("status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
}

// BenchmarkS3GetObject1KB is a signed GetObject of a 1 KiB object over
// HTTP keep-alive: SigV4 with S3's rules, authorization with the bucket
// policy lookup, the metadata read, the file, the audit record.
func BenchmarkS3GetObject1KB(b *testing.B) {
	s := testserver.Start(b)
	c := s3.NewFromConfig(s.Config(testserver.Admin()), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj"), Body: bytes.NewReader(bytes.Repeat([]byte("x"), 1024))}); err != nil {
		b.Fatal(err)
	}
	loadGet(b, signedGet(b, s.URL), 1024)
}

// BenchmarkS3BareHandler1KB is the yardstick: a net/http handler serving
// the same 1 KiB with S3-like headers and nothing else.
func BenchmarkS3BareHandler1KB(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "binary/octet-stream")
		w.Header().Set("ETag", `"0f343b0931126a20f133d67c2b018a3b"`)
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	loadGet(b, signedGet(b, "http://"+ln.Addr().String()), 1024)
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(b []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > z.n {
		b = b[:z.n]
	}
	clear(b)
	z.n -= int64(len(b))
	return len(b), nil
}

// BenchmarkS3PutObject1GiB streams a 1 GiB PutObject (UNSIGNED-PAYLOAD
// over a presigned URL, so the client holds nothing either) and reports
// the server process's peak Go heap and RSS growth while it runs.
func BenchmarkS3PutObject1GiB(b *testing.B) {
	const size = 1 << 30
	s := testserver.Start(b)
	c := s3.NewFromConfig(s.Config(testserver.Admin()), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	ps := s3.NewPresignClient(c)
	runtime.GC()
	base := heapInUse()
	baseRSS := rssBytes()
	var peak, peakRSS atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if h := int64(heapInUse()) - int64(base); h > peak.Load() {
				peak.Store(h)
			}
			if r := rssBytes() - baseRSS; r > peakRSS.Load() {
				peakRSS.Store(r)
			}
		}
	}()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("big")})
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, p.URL, &zeroReader{n: size})
		req.ContentLength = size
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, msg)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakRSS.Load())/(1<<20), "peak-RSS-growth-MB")
}

func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// rssBytes is the process's resident set size from /proc (0 elsewhere).
func rssBytes() int64 {
	b, err := readFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	var pages int64
	for _, ch := range f[1] {
		pages = pages*10 + int64(ch-'0')
	}
	return pages * 4096
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }
