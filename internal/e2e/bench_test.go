package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamd/iamd/internal/testserver"
)

const callerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15"

// signedCallerIdentity returns a GetCallerIdentity request signed once with
// the admin key; replaying it within the skew window is valid SigV4.
func signedCallerIdentity(b *testing.B, url string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(callerIdentityBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(callerIdentityBody))
	err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testserver.AdminKeyID, SecretAccessKey: testserver.AdminSecret},
		req, hex.EncodeToString(sum[:]), "sts", testserver.Region, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// load sends the same request from parallel keep-alive clients.
func load(b *testing.B, proto *http.Request) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := proto.Clone(ctx)
			req.Body = io.NopCloser(strings.NewReader(callerIdentityBody))
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
}

// BenchmarkGetCallerIdentityHTTP is an authenticated, authorized STS call
// over HTTP keep-alive on loopback: SigV4 verification, key lookup (cached),
// routing, XML encoding.
func BenchmarkGetCallerIdentityHTTP(b *testing.B) {
	s := testserver.Start(b)
	load(b, signedCallerIdentity(b, s.URL))
}

// BenchmarkBareHandlerHTTP is the yardstick: a net/http handler that reads
// the body and writes a response of the same size, with nothing else.
func BenchmarkBareHandlerHTTP(b *testing.B) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>AIDAAAAAAAAAAAAAAAAAA</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:user/admin</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	load(b, signedCallerIdentity(b, "http://"+ln.Addr().String()))
}
