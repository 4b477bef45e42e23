package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Credentials every test sees unless it sets its own. The secret and the
// token are distinctive so that a leak is easy to find in any output.
const (
	testKeyID  = "AKIATESTCLIENTKEY01"
	testSecret = "SECRETsentinel/doNotPrint+0123456789abcd"
)

// TestMain gives the package a clean, known AWS environment: the SDK's
// config package reads the process environment, not Env, so a
// developer's own ~/.aws or AWS_* variables must not leak in, and the
// instance metadata service must never be tried. The SDK works out the
// default ~/.aws paths once, when the program starts, so setting HOME is
// not enough: the files are named through AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE, under a temporary HOME.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "iamd-cli-test-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "IAMD_ENDPOINT_URL"} {
		os.Unsetenv(k)
	}
	os.Setenv("HOME", home)
	setAWSFiles(home, os.Setenv)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	os.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// setAWSFiles names the shared config and credentials files under home.
func setAWSFiles(home string, setenv func(k, v string) error) {
	setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
}

// api is a test double for the iamd server the client talks to: it answers
// each action with a canned reply and records the requests it gets.
type api struct {
	replies map[string]reply // by action

	mu   sync.Mutex
	reqs []gotRequest
}

type reply struct {
	status int // 0: 200
	body   string
}

// gotRequest is one request as the server received it.
type gotRequest struct {
	URL    string // scheme://host/path when sent through apiTransport
	Action string
	Header http.Header
	Body   string
	Form   url.Values // nil for JSON calls
}

func newAPI(replies map[string]reply) *api { return &api{replies: replies} }

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	got := gotRequest{URL: r.URL.String(), Header: r.Header.Clone(), Body: string(b)}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		got.Action = t[strings.LastIndexByte(t, '.')+1:]
	} else {
		got.Form, _ = url.ParseQuery(string(b))
		got.Action = got.Form.Get("Action")
	}
	a.mu.Lock()
	a.reqs = append(a.reqs, got)
	a.mu.Unlock()
	rep, ok := a.replies[got.Action]
	if !ok {
		rep = reply{400, "<ErrorResponse><Error><Code>NotCanned</Code><Message>the test double has no reply for " +
			got.Action + "</Message></Error></ErrorResponse>"}
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (a *api) requests() []gotRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]gotRequest(nil), a.reqs...)
}

func (a *api) actions() []string {
	var out []string
	for _, r := range a.requests() {
		out = append(out, r.Action)
	}
	return out
}

// serve starts a real HTTP server in front of a.
func (a *api) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv.URL
}

// client sends requests to a wherever they are addressed, so that a test
// can see which endpoint the command chose.
func (a *api) client() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		a.mu.Lock()
		a.reqs[len(a.reqs)-1].URL = r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
		a.mu.Unlock()
		return rec.Result(), nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// noNetwork fails the test if anything is sent: a usage error must be
// found before the server is called.
func noNetwork(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("a request was sent to %s; want none", r.URL)
		return nil, errors.New("no network in this test")
	})}
}

// run runs an `iamd` client command with env as its IAMD_* environment.
func run(t *testing.T, hc *http.Client, env map[string]string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := Env{
		Getenv:     func(k string) string { return env[k] },
		Stdin:      strings.NewReader(""),
		Stdout:     &out,
		Stderr:     &errOut,
		HTTPClient: hc,
	}
	if name == "audit" {
		err = RunAudit(context.Background(), args, e, AuditLocal{})
	} else {
		err = Run(context.Background(), name, args, e)
	}
	return out.String(), errOut.String(), err
}

func TestBadCommandLinesAreUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cmd  string
		args []string
	}{
		{"an unknown command is refused", "frobnicate", nil},
		{"an unknown flag is refused", "sessions", []string{"--role", "app", "--bogus"}},
		{"an --output other than table or json is refused", "sessions", []string{"--role", "app", "--output", "yaml"}},
		{"a flag missing its value is refused", "sessions", []string{"--role"}},

		{"sessions needs a role or a user", "sessions", nil},
		{"sessions takes a role or a user, not both", "sessions", []string{"--role", "app", "--user", "alice"}},
		{"sessions takes no positional argument", "sessions", []string{"--role", "app", "extra"}},

		{"revoke with nothing to revoke is refused", "revoke", nil},
		{"revoke takes a role or a user, not both", "revoke", []string{"--role", "app", "--user", "alice"}},
		{"revoke takes one access key id", "revoke", []string{"ASIA1", "ASIA2"}},
		{"revoke takes the access key id once", "revoke", []string{"ASIA1", "--access-key-id", "ASIA2"}},
		{"revoke --list takes no session selector", "revoke", []string{"--list", "--access-key-id", "ASIA1"}},
		{"revoke --list does not go with --undo", "revoke", []string{"--list", "--undo"}},
		{"revoke --id needs --undo", "revoke", []string{"--id", "rv-1"}},
		{"revoke --undo --id takes nothing else", "revoke", []string{"--undo", "--id", "rv-1", "--role", "app"}},
		{"revoke --undo of a session selector needs an id", "revoke", []string{"--undo", "--access-key-id", "ASIA1"}},
		{"revoke --limit is not a flag", "revoke", []string{"--role", "app", "--limit", "3"}},

		{"whois needs an access key id", "whois", nil},
		{"whois takes one access key id", "whois", []string{"AKIA1", "AKIA2"}},
		{"whois refuses a negative limit", "whois", []string{"AKIA1", "--limit", "-1"}},
		{"whois refuses a limit that is not a number", "whois", []string{"AKIA1", "--limit", "many"}},

		{"respond needs an access key id", "respond", nil},
		{"respond takes one access key id", "respond", []string{"AKIA1", "AKIA2"}},
		{"respond refuses a negative limit", "respond", []string{"AKIA1", "--limit", "-5"}},
		{"respond refuses a --dry-run with a value it cannot read", "respond", []string{"AKIA1", "--dry-run=perhaps"}},

		{"instances refuses an unknown flag", "instances", []string{"--role", "web"}},
		{"instances refuses a bad --output", "instances", []string{"--output", "csv"}},

		{"audit needs a subcommand", "audit", nil},
		{"audit refuses an unknown subcommand", "audit", []string{"frob"}},
		{"audit lookup takes one lookup attribute", "audit", []string{"lookup", "--username", "alice", "--event-name", "GetUser"}},
		{"audit lookup refuses a time it cannot read", "audit", []string{"lookup", "--start-time", "last tuesday"}},
		{"audit export supports only jsonl", "audit", []string{"export", "--format", "csv"}},
		{"audit export refuses a --since it cannot read", "audit", []string{"export", "--since", "yesterday-ish"}},
		{"audit hash needs a value", "audit", []string{"hash"}},
		{"audit lookup refuses an unknown flag", "audit", []string{"lookup", "--bogus"}},
		{"audit verify refuses an unknown flag", "audit", []string{"verify", "--bogus"}},
		{"audit export refuses an unknown flag", "audit", []string{"export", "--bogus"}},
		{"audit hash refuses an unknown flag", "audit", []string{"hash", "VALUE", "--bogus"}},
		{"audit lookup refuses a flag missing its value", "audit", []string{"lookup", "--max-items"}},
		{"audit lookup refuses an --output other than table or json", "audit", []string{"lookup", "--output", "yaml"}},
		{"audit verify refuses an --output other than table or json", "audit", []string{"verify", "--output", "csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := run(t, noNetwork(t), nil, tt.cmd, tt.args...)
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("iamd %s %s: got error %v, want a usage error", tt.cmd, strings.Join(tt.args, " "), err)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing on a usage error", stdout)
			}
		})
	}
}

func TestUsageErrorsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cmd        string
		args       []string
		wantErr    string // in the error
		wantStderr string // in stderr
	}{
		{"an unknown flag is named on stderr", "whois", []string{"AKIA1", "--bogus"}, "bogus", "flag provided but not defined: -bogus"},
		{"revoke with nothing to do prints its usage", "revoke", nil, "nothing to revoke", "iamd revoke --role NAME | --user NAME [--undo]"},
		{"sessions shows its synopsis", "sessions", nil, "iamd sessions --role NAME | --user NAME", ""},
		{"a bad --output names the value", "whois", []string{"AKIA1", "--output", "yaml"}, `not "yaml"`, ""},
		{"audit without a subcommand prints its usage", "audit", nil, "audit needs a subcommand", "usage: iamd audit <subcommand>"},
		{"an unknown audit flag is named on stderr", "audit", []string{"lookup", "--bogus"}, "bogus", "flag provided but not defined: -bogus"},
		{"a bad audit --output names the value", "audit", []string{"verify", "--output", "yaml"}, `not "yaml"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := run(t, noNetwork(t), nil, tt.cmd, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	// cmd/iamd exits 0 on flag.ErrHelp; it must come back unwrapped from
	// usage handling so that errors.Is finds it and ErrUsage does not.
	for _, cmd := range []string{"revoke", "sessions", "whois", "respond", "instances"} {
		t.Run(cmd+" --help prints its flags and asks for no exit status", func(t *testing.T) {
			t.Parallel()
			_, stderr, err := run(t, noNetwork(t), nil, cmd, "--help")
			if !errors.Is(err, flag.ErrHelp) || errors.Is(err, ErrUsage) {
				t.Errorf("got error %v, want flag.ErrHelp", err)
			}
			if !strings.Contains(stderr, "-endpoint-url") {
				t.Errorf("stderr: got %q, want the flags listed", stderr)
			}
		})
	}
}

func TestAuditHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"lookup", "verify", "export", "hash"} {
		t.Run("audit "+sub+" --help prints its flags and asks for no exit status", func(t *testing.T) {
			t.Parallel()
			_, stderr, err := run(t, noNetwork(t), nil, "audit", sub, "--help")
			if !errors.Is(err, flag.ErrHelp) || errors.Is(err, ErrUsage) {
				t.Errorf("got error %v, want flag.ErrHelp", err)
			}
			if !strings.Contains(stderr, "Usage of audit "+sub) {
				t.Errorf("stderr: got %q, want the flags listed", stderr)
			}
		})
	}
}

func TestFlagsMayFollowPositionalArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"flags before the key", []string{"--limit", "0", "--output", "json", "AKIAEXAMPLE"}},
		{"flags after the key", []string{"AKIAEXAMPLE", "--limit", "0", "--output", "json"}},
		{"flags on both sides of the key", []string{"--limit", "0", "AKIAEXAMPLE", "--output", "json"}},
		{"the key after --", []string{"--limit", "0", "--output", "json", "--", "AKIAEXAMPLE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(whoisReplies)
			stdout, _, err := run(t, a.client(), nil, "whois", tt.args...)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			reqs := a.requests()
			if len(reqs) == 0 || reqs[0].Form.Get("AccessKeyId") != "AKIAEXAMPLE" {
				t.Fatalf("got requests %v, want GetAccessKeyDetails of AKIAEXAMPLE first", a.actions())
			}
			if !strings.HasPrefix(stdout, "{") {
				t.Errorf("stdout: got %q, want JSON", stdout)
			}
		})
	}
}
