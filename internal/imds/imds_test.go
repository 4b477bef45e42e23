package imds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/ec2"
)

type fakeSource struct {
	in    *ec2.Instance
	creds *ec2.RoleCredentials
	err   error
}

func (f *fakeSource) Instance(context.Context, string) (*ec2.Instance, error) { return f.in, nil }
func (f *fakeSource) CredentialsFor(context.Context, *ec2.Instance) (*ec2.RoleCredentials, error) {
	return f.creds, f.err
}
func (f *fakeSource) Account() arn.AccountID { return "000000000000" }

var now = time.Date(2024, 10, 10, 9, 43, 48, 85e6, time.UTC)

func newFake(tokens string, assoc bool) *fakeSource {
	in := &ec2.Instance{ID: "i-0123456789abcdef0", State: ec2.Running, Region: "us-east-1",
		Metadata: ec2.MetadataOptions{HTTPTokens: tokens, HTTPEndpoint: ec2.EndpointEnabled}}
	f := &fakeSource{in: in, err: ec2.ErrNoCredentials}
	if assoc {
		in.Association = &ec2.Association{ID: "iip-assoc-0123456789abcdef0", ProfileARN: "arn:aws:iam::000000000000:instance-profile/app", ProfileID: "AIPAEXAMPLE", Timestamp: now}
		f.err = nil
		f.creds = &ec2.RoleCredentials{RoleName: "app", AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "tok",
			Expiration: now.Add(time.Hour), LastUpdated: now}
	}
	return f
}

func do(t *testing.T, s *Server, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Handler("i-0123456789abcdef0").ServeHTTP(rec, req)
	return rec
}

func TestMetadataRequests(t *testing.T) {
	t.Parallel()
	optional := New(Config{Source: newFake(ec2.TokensOptional, true), Now: func() time.Time { return now }})
	required := New(Config{Source: newFake(ec2.TokensRequired, true), Now: func() time.Time { return now }})
	bare := New(Config{Source: newFake(ec2.TokensOptional, false), Now: func() time.Time { return now }})
	untrusted := newFake(ec2.TokensOptional, true)
	untrusted.err = &ec2.TrustError{Role: "app"}
	trust := New(Config{Source: untrusted, Now: func() time.Time { return now }})
	tok := required.newToken("i-0123456789abcdef0", now.Add(time.Minute))
	expired := required.newToken("i-0123456789abcdef0", now.Add(-time.Second))
	otherInstance := required.newToken("i-00000000000000000", now.Add(time.Minute))

	tests := []struct {
		name     string
		s        *Server
		method   string
		path     string
		hdr      map[string]string
		want     int
		contains string
	}{
		{"IMDSv1 reads the instance id when tokens are optional", optional, "GET", "/latest/meta-data/instance-id", nil, 200, "i-0123456789abcdef0"},
		{"IMDSv1 is refused when tokens are required", required, "GET", "/latest/meta-data/instance-id", nil, 401, ""},
		{"a valid token is accepted", required, "GET", "/latest/meta-data/instance-id", map[string]string{HeaderToken: tok}, 200, "i-0123456789abcdef0"},
		{"an expired token is refused", required, "GET", "/latest/meta-data/instance-id", map[string]string{HeaderToken: expired}, 401, ""},
		{"another instance's token is refused", required, "GET", "/latest/meta-data/instance-id", map[string]string{HeaderToken: otherInstance}, 401, ""},
		{"an invalid token is refused even when tokens are optional", optional, "GET", "/latest/meta-data/instance-id", map[string]string{HeaderToken: "x"}, 401, ""},
		{"the token PUT echoes the TTL", optional, "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "300"}, 200, ""},
		{"a token GET is not allowed", optional, "GET", "/latest/api/token", nil, 405, ""},
		{"the role list names the role", optional, "GET", "/latest/meta-data/iam/security-credentials/", nil, 200, "app"},
		{"the credential document carries second-precision expiry", optional, "GET", "/latest/meta-data/iam/security-credentials/app", nil, 200, `"Expiration": "2024-10-10T10:43:48Z"`},
		{"another role's document is not found", optional, "GET", "/latest/meta-data/iam/security-credentials/other", nil, 404, ""},
		{"the profile info names the profile", optional, "GET", "/latest/meta-data/iam/info", nil, 200, `"InstanceProfileId": "AIPAEXAMPLE"`},
		{"an instance without a profile has no iam tree", bare, "GET", "/latest/meta-data/iam/security-credentials/", nil, 404, ""},
		{"an untrusting role reports AssumeRoleUnauthorizedAccess", trust, "GET", "/latest/meta-data/iam/security-credentials/app", nil, 200, `"Code": "AssumeRoleUnauthorizedAccess"`},
		{"an unknown path is not found", optional, "GET", "/latest/meta-data/nope", nil, 404, ""},
		{"a POST is not allowed", optional, "POST", "/latest/meta-data/instance-id", nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, tt.s, tt.method, tt.path, tt.hdr)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tt.want, tt.contains)
			}
			if tt.method == "PUT" && rec.Header().Get(HeaderTTL) != "300" {
				t.Errorf("got TTL header %q, want 300", rec.Header().Get(HeaderTTL))
			}
		})
	}
}

func TestEndpointsOpenAndClose(t *testing.T) {
	t.Parallel()
	s := New(Config{Source: newFake(ec2.TokensOptional, true)})
	port, err := s.Open("i-0123456789abcdef0", 0)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + itoa(port) + "/latest/meta-data/instance-id"
	t.Run("an open endpoint answers over HTTP", func(t *testing.T) {
		resp, err := http.Get(url)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("opening again keeps the port", func(t *testing.T) {
		if again, _ := s.Open("i-0123456789abcdef0", 0); again != port {
			t.Errorf("got port %d, want %d", again, port)
		}
	})
	t.Run("a closed endpoint refuses connections", func(t *testing.T) {
		s.Close("i-0123456789abcdef0")
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			t.Errorf("got %d from a closed endpoint", resp.StatusCode)
		}
	})
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
