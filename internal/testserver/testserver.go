// Package testserver starts a real iamd — the same app.App that `iamd
// serve` runs, on SQLite in a temporary directory, over real HTTP on
// 127.0.0.1:0 (or on a given PostgreSQL, WithStore) — for end-to-end tests, and hands out aws-sdk-go-v2 clients
// pointed at it. Nothing in it is a mock.
package testserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/app"
)

// Admin credentials every test server starts with.
const (
	AdminKeyID  = "AKIAIOSFODNN7EXAMPLE"
	AdminSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	Region      = "us-east-1"
)

// Server is a running iamd.
type Server struct {
	URL  string
	App  *app.App
	Dir  string
	cfg  app.Config
	ln   net.Listener
	stop context.CancelFunc
	done chan error
}

// Option adjusts the server's configuration.
type Option func(*app.Config)

// WithNow fixes the server's clock.
func WithNow(now func() time.Time) Option { return func(c *app.Config) { c.Now = now } }

// WithDir uses dir as the data directory (to restart on the same data).
func WithDir(dir string) Option { return func(c *app.Config) { c.DataDir = dir } }

// WithStore uses the store at dsn (a postgres:// URL) instead of SQLite in
// the data directory. Two servers given the same dsn and WithMasterKey
// are two nodes of one deployment.
func WithStore(dsn string) Option { return func(c *app.Config) { c.Store = dsn } }

// WithMasterKey sets the master key (base64 or hex, as IAMD_MASTER_KEY);
// nodes sharing a store need the same one.
func WithMasterKey(key string) Option { return func(c *app.Config) { c.MasterKey = key } }

// WithStalenessBound sets how long a node on a shared store may go
// without confirming its state before it fails closed.
func WithStalenessBound(d time.Duration) Option {
	return func(c *app.Config) { c.StalenessBound = d }
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := app.Config{
		DataDir:              t.TempDir(),
		AdminAccessKeyID:     AdminKeyID,
		AdminSecretAccessKey: AdminSecret,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, Dir: cfg.DataDir}
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	a, err := app.New(context.Background(), s.cfg)
	if err != nil {
		t.Fatalf("start iamd: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.App, s.ln, s.stop, s.done = a, ln, cancel, make(chan error, 1)
	s.URL = "http://" + ln.Addr().String()
	go func() { s.done <- a.Serve(ctx, ln) }()
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	if err := <-s.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	s.stop = nil
}

// Restart stops the server and starts it again on the same data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// Creds are static credentials.
type Creds struct{ KeyID, Secret, Token string }

// Admin returns the administrator's credentials.
func Admin() Creds { return Creds{KeyID: AdminKeyID, Secret: AdminSecret} }

// Config is an aws.Config for these credentials pointed at the server.
func (s *Server) Config(c Creds) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.KeyID, c.Secret, c.Token),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   http.DefaultClient,
		// Tests want the first answer, not the SDK's retries of it.
		RetryMaxAttempts: 1,
	}
}

// IAM returns an IAM client.
func (s *Server) IAM(c Creds) *iam.Client { return iam.NewFromConfig(s.Config(c)) }

// STS returns an STS client.
func (s *Server) STS(c Creds) *sts.Client { return sts.NewFromConfig(s.Config(c)) }
