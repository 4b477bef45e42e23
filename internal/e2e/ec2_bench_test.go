package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// BenchmarkMetadataCredentialFetch measures an instance's credential fetch
// from its metadata endpoint over HTTP: the credential document alone
// (keep-alive, IMDSv2 token), and the whole exchange aws-sdk-go-v2's
// ec2rolecreds makes on each refresh (token PUT, role list, document).
// The goal is ≤ 1 ms (docs/benchmarks.md).
func BenchmarkMetadataCredentialFetch(b *testing.B) {
	w := newInstanceWorld(b)
	w.role(b, "app", ec2Trust)
	ep := endpointOf(b, w.run(b, "app", "required"))
	tok := tokenFor(b, ep)

	b.Run("document", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		req, _ := http.NewRequest(http.MethodGet, ep+"/latest/meta-data/iam/security-credentials/app", nil)
		req.Header.Set("X-aws-ec2-metadata-token", tok)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.Run("sdk-refresh", func(b *testing.B) {
		p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
			o.Client = imds.New(imds.Options{Endpoint: ep, Retryer: aws.NopRetryer{}})
		})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Retrieve(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
