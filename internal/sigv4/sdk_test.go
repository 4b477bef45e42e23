package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "IQoJb3JpZ2luX2VjEAoaCXVzLWVhc3QtMSJHMEUCIQ+/token=="
)

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// verifyServer stands in for iamd's authentication step: it sees requests
// exactly as net/http's server parses them off the wire.
type verifyServer struct {
	opts Options
	now  time.Time
	keys *KeyCache
	// mutate, when set, changes the request after the client signed it,
	// as a man in the middle would.
	mutate func(*http.Request)
}

func (s *verifyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.mutate != nil {
		s.mutate(r)
	}
	err := s.check(r)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			http.Error(w, "not an *Error: "+err.Error(), 500)
			return
		}
		http.Error(w, e.Code+"|"+e.Message, 403)
		return
	}
	io.WriteString(w, "ok")
}

func (s *verifyServer) check(r *http.Request) error {
	p, err := Parse(r)
	if err != nil {
		return err
	}
	if err := p.CheckTime(s.now); err != nil {
		return err
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" && p.Presigned && s.opts.Service == "s3" {
		payloadHash = "UNSIGNED-PAYLOAD" // S3 presigned URLs never sign the body
	}
	if payloadHash == "" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		payloadHash = hashHex(body)
	}
	if p.SecurityToken != "" && p.SecurityToken != testToken {
		return &Error{Code: "InvalidClientTokenId", Message: "bad token"}
	}
	key := s.keys.Get(p.AccessKeyID, testSecret, p.Scope)
	return p.Verify(r, key, payloadHash, s.opts)
}

func TestSDKSignedRequests(t *testing.T) {
	t.Parallel()
	signTime := time.Date(2024, 5, 17, 10, 20, 30, 0, time.UTC)
	type tc struct {
		name        string
		service     string
		opts        Options
		method      string
		path        string
		query       string
		body        string
		token       string
		unsigned    bool // X-Amz-Content-Sha256: UNSIGNED-PAYLOAD
		presign     bool
		s3          bool
		now         time.Time
		mutate      func(*http.Request)
		wantCode    string // "" for success
		wantMessage string // substring
	}
	form := "Action=GetCallerIdentity&Version=2011-06-15"
	cases := []tc{
		{name: "STS POST verifies", service: "sts", method: "POST", path: "/", body: form},
		{name: "STS POST with a session token verifies", service: "sts", method: "POST", path: "/", body: form, token: testToken},
		{name: "UNSIGNED-PAYLOAD verifies", service: "sts", method: "POST", path: "/", body: form, unsigned: true},
		{name: "IAM GET with a query verifies", service: "iam", method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa+b%2F&Marker=x~y"},
		{name: "a path with escapes verifies double-encoded", service: "execute-api", method: "GET", path: "/a b/c%2Fd/é"},
		{name: "S3 path with escapes verifies single-encoded", service: "s3", opts: S3Options(), s3: true, method: "PUT", path: "/bucket/a b/c%2Fd/é!", body: "hello", unsigned: true},
		{name: "presigned GetCallerIdentity verifies", service: "sts", method: "GET", path: "/", query: form, presign: true},
		{name: "presigned with a session token verifies", service: "sts", method: "GET", path: "/", query: form, presign: true, token: testToken},
		{name: "presigned S3 GET verifies", service: "s3", opts: S3Options(), s3: true, method: "GET", path: "/bucket/key with space", presign: true, unsigned: true},

		{name: "a changed signed header fails", service: "sts", method: "POST", path: "/", body: form,
			mutate:   func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
			wantCode: CodeSignatureDoesNotMatch, wantMessage: "The request signature we calculated does not match"},
		{name: "a changed body fails", service: "sts", method: "POST", path: "/", body: form,
			mutate:   func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(form + "&x=1")) },
			wantCode: CodeSignatureDoesNotMatch},
		{name: "a changed query fails", service: "iam", method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
			mutate:   func(r *http.Request) { r.URL.RawQuery += "&MaxItems=1" },
			wantCode: CodeSignatureDoesNotMatch},
		{name: "a changed presigned query fails", service: "sts", method: "GET", path: "/", query: form, presign: true,
			mutate: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "GetCallerIdentity", "GetSessionToken", 1)
			},
			wantCode: CodeSignatureDoesNotMatch},
		{name: "a changed path fails", service: "sts", method: "POST", path: "/", body: form,
			mutate:   func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/x", "" },
			wantCode: CodeSignatureDoesNotMatch},
		{name: "a changed session token fails", service: "sts", method: "POST", path: "/", body: form, token: testToken,
			mutate:   func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", testToken+"x") },
			wantCode: "InvalidClientTokenId"},
		{name: "a request 16 minutes old is expired", service: "sts", method: "POST", path: "/", body: form,
			now:      signTime.Add(16 * time.Minute),
			wantCode: CodeSignatureDoesNotMatch, wantMessage: "Signature expired: 20240517T102030Z is now earlier than 20240517T102130Z (20240517T103630Z - 15 min.)"},
		{name: "a request 16 minutes early is not yet current", service: "sts", method: "POST", path: "/", body: form,
			now:      signTime.Add(-16 * time.Minute),
			wantCode: CodeSignatureDoesNotMatch, wantMessage: "Signature not yet current: 20240517T102030Z is still later than 20240517T101930Z (20240517T100430Z + 15 min.)"},
		{name: "a presigned URL past its expiry is expired", service: "sts", method: "GET", path: "/", query: form, presign: true,
			now:      signTime.Add(time.Hour + time.Second),
			wantCode: CodeRequestExpired},
		{name: "a credential for another service fails", service: "iam", opts: Options{Service: "sts"}, method: "POST", path: "/", body: form,
			wantCode: CodeSignatureDoesNotMatch, wantMessage: "Credential should be scoped to correct service: 'sts'. "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			now := c.now
			if now.IsZero() {
				now = signTime.Add(30 * time.Second)
			}
			srv := httptest.NewServer(&verifyServer{opts: c.opts, now: now, keys: NewKeyCache(16), mutate: c.mutate})
			defer srv.Close()

			u := srv.URL + (&url.URL{Path: c.path}).EscapedPath()
			if strings.Contains(c.path, "%") {
				u = srv.URL + c.path // already escaped by the test
			}
			q := c.query
			if c.presign && !strings.Contains(q, "X-Amz-Expires") {
				// PresignHTTP leaves X-Amz-Expires to the caller, as the
				// SDK's presign middleware does.
				q = strings.TrimPrefix(q+"&X-Amz-Expires=3600", "&")
			}
			if q != "" {
				u += "?" + q
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, u, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" && !c.s3 {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}
			payloadHash := hashHex([]byte(c.body))
			if c.unsigned {
				payloadHash = "UNSIGNED-PAYLOAD"
				if !c.presign {
					req.Header.Set("X-Amz-Content-Sha256", payloadHash)
				}
			}
			creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: c.token}
			signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = c.s3 })
			// Headers the SDK adds after signing must not matter.
			defer req.Header.Set("Amz-Sdk-Invocation-Id", "c3e4a1c0-0000-4000-8000-000000000000")
			if c.presign {
				signed, hdr, err := signer.PresignHTTP(context.Background(), creds, req, payloadHash, c.service, "eu-west-3", signTime)
				if err != nil {
					t.Fatal(err)
				}
				req, err = http.NewRequest(c.method, signed, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range hdr {
					if k != "Host" {
						req.Header[k] = v
					}
				}
			} else if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, c.service, "eu-west-3", signTime); err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", "aws-sdk-go-v2/test")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if c.wantCode == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("got %d %s, want 200 ok", resp.StatusCode, got)
				}
				return
			}
			code, msg, _ := strings.Cut(strings.TrimSuffix(string(got), "\n"), "|")
			if code != c.wantCode || !strings.Contains(msg, c.wantMessage) {
				t.Errorf("got %s: %s, want %s containing %q", code, msg, c.wantCode, c.wantMessage)
			}
		})
	}
}
