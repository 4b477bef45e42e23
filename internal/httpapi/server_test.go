package httpapi

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/principal"
)

// These tests exercise the protocol edge on its own. The authenticator
// below admits every request as one fixed user: the real one (authz) is
// exercised end to end in internal/e2e.
type anyone struct{}

func (anyone) Authenticate(*http.Request, string, string, time.Time) (*principal.Caller, string, error) {
	return &principal.Caller{Account: "000000000000", Type: principal.IAMUser, ARN: "arn:aws:iam::000000000000:user/t", UserName: "t"}, "us-east-1", nil
}

func (anyone) Authorize(context.Context, *authz.Request) error { return nil }

func testServer(t *testing.T, actions map[string]Handler) *httptest.Server {
	t.Helper()
	srv := New(Config{
		Services:      []*Service{{Name: "iam", Version: IAMVersion, Namespace: IAMNamespace, Actions: actions}},
		Authenticator: anyone{}, Authorizer: anyone{}, Now: time.Now, BodyTimeout: 200 * time.Millisecond,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

func TestAHandlerThatForgetsToAuthorizeFailsClosed(t *testing.T) {
	t.Parallel()
	ts := testServer(t, map[string]Handler{"Leaky": func(c *Call) (any, error) { return struct{ Secret string }{"x"}, nil }})
	status, body := post(t, ts.URL, form, "Action=Leaky&Version="+IAMVersion)
	if status != http.StatusInternalServerError || !strings.Contains(body, "<Code>InternalFailure</Code>") || strings.Contains(body, "Secret") {
		t.Errorf("got %d %s, want 500 InternalFailure without the handler's output", status, body)
	}
}

func TestBadRequestsGetAWSErrors(t *testing.T) {
	t.Parallel()
	ts := testServer(t, map[string]Handler{"Ok": func(c *Call) (any, error) { c.AllowWithoutPolicy(); return nil, nil }})
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"an unknown action is InvalidAction", form, "Action=Nope&Version=" + IAMVersion, 400, "InvalidAction"},
		{"an unknown version is InvalidAction", form, "Action=Ok&Version=1999-01-01", 400, "InvalidAction"},
		{"no action is MissingAction", form, "Version=" + IAMVersion, 400, "MissingAction"},
		{"a broken escape is MalformedQueryString", form, "Action=Ok&Version=" + IAMVersion + "&X=%zz", 404, "MalformedQueryString"},
		{"a JSON body is not a Query request", "application/json", `{"Action":"Ok"}`, 400, "InvalidAction"},
		{"a body over the limit is RequestEntityTooLarge", form, "Action=Ok&Version=" + IAMVersion + "&Pad=" + strings.Repeat("a", maxQueryBody), 413, "RequestEntityTooLarge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, ts.URL, tc.contentType, tc.body)
			if status != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
				t.Errorf("got %d %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

func TestASlowBodyTimesOut(t *testing.T) {
	t.Parallel()
	ts := testServer(t, map[string]Handler{"Ok": func(c *Call) (any, error) { c.AllowWithoutPolicy(); return nil, nil }})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "+form+"\r\nContent-Length: 100\r\n\r\nAction=Ok")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "RequestTimeout") {
		t.Errorf("got %d %s, want 408 RequestTimeout", resp.StatusCode, b)
	}
}

func TestAForgedContentHashIsRejected(t *testing.T) {
	t.Parallel()
	ts := testServer(t, map[string]Handler{"Ok": func(c *Call) (any, error) { c.AllowWithoutPolicy(); return nil, nil }})
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader("Action=Ok&Version="+IAMVersion))
	req.Header.Set("Content-Type", form)
	req.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d, want 403 SignatureDoesNotMatch", resp.StatusCode)
	}
}
