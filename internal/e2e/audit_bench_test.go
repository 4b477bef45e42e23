package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/testserver"
)

// BenchmarkAssumeRoleWithDurableRecord is AssumeRole over HTTP from 64
// and from 256 keep-alive clients; each call returns only after its audit
// record and its session's inventory record are fsync'd (group commit in
// both). Latency is mostly waiting for the two commits, one after the
// other, so throughput grows with the clients until the CPU is busy.
// Report: calls/s.
//
//	go test ./internal/e2e -run '^$' -bench AssumeRoleWithDurableRecord -benchtime 5s
func BenchmarkAssumeRoleWithDurableRecord(b *testing.B) {
	for _, clients := range []int{64, 256} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchAssumeRole(b, clients) })
	}
}

func benchAssumeRole(b *testing.B, clients int) {
	s := testserver.Start(b)
	admin := s.IAM(testserver.Admin())
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench"), AssumeRolePolicyDocument: aws.String(trustAccount)}); err != nil {
		b.Fatal(err)
	}
	body := "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fbench&RoleSessionName=bench"
	sum := sha256.Sum256([]byte(body))
	proto, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	proto.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testserver.AdminKeyID, SecretAccessKey: testserver.AdminSecret},
		proto, hex.EncodeToString(sum[:]), "sts", testserver.Region, time.Now()); err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := proto.Clone(ctx)
			req.Body = io.NopCloser(strings.NewReader(body))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
