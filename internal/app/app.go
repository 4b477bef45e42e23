// Package app assembles iamd: it opens the store, loads keys, builds the
// domain services and the HTTP edge, bootstraps the administrator, and runs
// the server until it is told to stop. It is the one place where stores,
// domain and HTTP meet (docs/decisions/0005-app-wiring.md); cmd/iamd only
// turns flags into a Config, and end-to-end tests start the same App.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/ec2"
	"github.com/iamd/iamd/internal/httpapi"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/imds"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/metrics"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/s3"
	"github.com/iamd/iamd/internal/secretbox"
	"github.com/iamd/iamd/internal/store/postgres"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

// Config is everything iamd serve is configured with.
type Config struct {
	Addr      string // listen address, default 127.0.0.1:8750
	DataDir   string // data directory, default ./iamd-data
	Store     string // "" or "sqlite" for the embedded store; postgres://… for PostgreSQL
	AccountID string // default 000000000000

	AdminAccessKeyID     string // IAMD_ADMIN_ACCESS_KEY_ID
	AdminSecretAccessKey string // IAMD_ADMIN_SECRET_ACCESS_KEY
	MasterKey            string // IAMD_MASTER_KEY (base64 or hex); default DATA/master.key

	// AuditRetention is how long audit records are kept; zero means
	// audit.DefaultRetention (90 days), negative keeps them forever.
	AuditRetention time.Duration

	// StalenessBound is how long a node on a shared store (PostgreSQL)
	// may go without confirming the store's state before it answers
	// ServiceUnavailable instead of authorizing with possibly stale
	// revocations; zero means DefaultStalenessBound, negative disables the
	// check. The embedded store is single-node and always fresh.
	StalenessBound time.Duration

	Log  *slog.Logger
	Now  func() time.Time
	Rand io.Reader
}

// App is a running iamd.
type App struct {
	cfg     Config
	store   kv.Store
	ring    *token.Ring
	IAM     *iam.Service
	STS     *sts.Service
	Authz   *authz.Engine
	S3      *s3.Service     // buckets and objects; bytes under DATA/objects
	Revoke  *revoke.Service // revocation set and session inventory
	Metrics *metrics.Metrics
	Handler http.Handler
	EC2     *ec2.Service // instances and their role sessions (instances.go)
	IMDS    *imds.Server // the instances' metadata endpoints
	// listenAddr is the address Serve listens on, for the container
	// credentials URL the metadata endpoints publish.
	listenAddr atomic.Value
	// Audit records every call; AuditStore is the trail it writes.
	Audit      *audit.Trail
	AuditStore audit.Store
	// AdminCredentialsFile is where a generated admin key was written, if one was.
	AdminCredentialsFile string
	// AdminKeyID is the administrator's key created on this start, if any.
	AdminKeyID string
	// fresh fails the node closed when it cannot confirm a shared
	// store's state (freshness.go); nil on the embedded store.
	fresh *freshness
}

// New opens the store and builds every service.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8750"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "iamd-data"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if !validAccount(cfg.AccountID) {
		return nil, fmt.Errorf("account id %q: must be 12 digits", cfg.AccountID)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if (cfg.AdminAccessKeyID == "") != (cfg.AdminSecretAccessKey == "") {
		return nil, errors.New("IAMD_ADMIN_ACCESS_KEY_ID and IAMD_ADMIN_SECRET_ACCESS_KEY must be set together")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	a := &App{cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	switch {
	case cfg.Store == "" || cfg.Store == "sqlite":
		a.store, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "iamd.db"))
	case strings.HasPrefix(cfg.Store, "postgres://") || strings.HasPrefix(cfg.Store, "postgresql://"):
		a.store, err = postgres.Open(ctx, cfg.Store)
	default:
		return nil, fmt.Errorf("store %q: want sqlite or a postgres:// URL", cfg.Store)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}

	var master []byte
	if cfg.MasterKey != "" {
		master, err = token.ParseMasterKey(cfg.MasterKey)
	} else {
		master, err = token.LoadOrCreateMasterKey(filepath.Join(cfg.DataDir, "master.key"), cfg.Rand)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	box, err := secretbox.New(master, cfg.Rand)
	if err != nil {
		return nil, err
	}
	a.ring, err = token.LoadRing(ctx, kvKeyStore{a.store}, master, cfg.Now, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("session token keys: %w", err)
	}

	account := arn.AccountID(cfg.AccountID)
	a.IAM = iam.New(iam.Config{Store: a.store, Account: account, Now: cfg.Now, Rand: cfg.Rand, Secrets: box, Log: cfg.Log})
	if err := a.IAM.EnsureAWSManagedPolicies(ctx); err != nil {
		return nil, fmt.Errorf("aws managed policies: %w", err)
	}
	if err := a.bootstrapAdmin(ctx); err != nil {
		return nil, fmt.Errorf("bootstrap admin: %w", err)
	}
	a.Revoke, err = revoke.New(ctx, revoke.Config{Store: a.store, Now: cfg.Now, Log: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("revocations: %w", err)
	}
	a.STS = sts.New(sts.Config{IAM: a.IAM, Ring: a.ring, Now: cfg.Now, Rand: cfg.Rand, Inventory: a.Revoke})
	a.Authz = authz.New(a.IAM, a.ring)
	a.S3, err = s3.New(s3.Config{Store: a.store, Dir: filepath.Join(cfg.DataDir, "objects"), Now: cfg.Now, Rand: cfg.Rand, Log: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	a.Authz.UseRevocations(a.Revoke)
	if _, shared := a.store.(watcher); shared && cfg.StalenessBound >= 0 {
		bound := cfg.StalenessBound
		if bound == 0 {
			bound = DefaultStalenessBound
		}
		a.fresh = newFreshness(bound, cfg.Log)
		a.Authz.UseFreshness(&a.fresh.stale, bound)
	}
	iamService := httpapi.IAMService(a.IAM, a.Revoke)
	if err := a.openAudit(ctx, master); err != nil {
		return nil, err
	}
	a.buildEC2()
	a.Metrics = metrics.New()
	a.Handler = httpapi.New(httpapi.Config{
		Services:      []*httpapi.Service{iamService, httpapi.STSService(a.STS, a.IAM), httpapi.EC2Service(a.EC2)},
		Authenticator: a.Authz,
		Authorizer:    a.Authz,
		Log:           cfg.Log,
		Now:           cfg.Now,
		Internal:      a.internalHandler(),
		Metrics:       a.Metrics,
		JSONServices:  []*httpapi.JSONService{httpapi.CloudTrailService(a.AuditStore)},
		Audit:         a.Audit,
		AccountID:     cfg.AccountID,
		S3:            a.S3,
	})
	ok = true
	return a, nil
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// bootstrapAdmin creates the admin user on first start. Without configured
// credentials it writes the generated key once to DATA/admin.credentials.
func (a *App) bootstrapAdmin(ctx context.Context) error {
	id, secret, err := a.IAM.EnsureAdmin(ctx, a.cfg.AdminAccessKeyID, a.cfg.AdminSecretAccessKey)
	if err != nil || id == "" {
		return err
	}
	a.AdminKeyID = id
	if a.cfg.AdminAccessKeyID != "" {
		a.cfg.Log.Info("administrator access key from the environment installed", "user", iam.AdminUserName, "access_key_id", id)
		return nil
	}
	path := filepath.Join(a.cfg.DataDir, "admin.credentials")
	body := fmt.Sprintf("[iamd]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write admin credentials: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("write admin credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write admin credentials: %w", err)
	}
	a.AdminCredentialsFile = path
	a.cfg.Log.Info("administrator credentials written", "file", path, "profile", "iamd", "access_key_id", id)
	return nil
}

func (a *App) internalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(httpapi.ContainerCredentialsPath, httpapi.ContainerCredentials(a.EC2, a.cfg.Log))
	mux.Handle("GET /_iamd/metrics", a.Metrics.Handler())
	mux.HandleFunc("GET /_iamd/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if a.fresh != nil && a.fresh.stale.Load() {
			// Not ready: a load balancer should send requests elsewhere.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"stale","reason":"shared store state not confirmed for %dms (bound %dms)"}`+"\n",
				a.fresh.age().Milliseconds(), a.fresh.bound.Milliseconds())
			return
		}
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	return mux
}

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// in-flight requests finish (up to 10 s), then the store is closed.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.cfg.Log.Handler(), slog.LevelWarn),
	}
	a.listenAddr.Store(ln.Addr().String())
	bctx, stopBackground := context.WithCancel(ctx)
	waitBackground := a.startBackground(bctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopBackground()
		waitBackground()
		a.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	stopBackground()
	waitBackground()
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close writes the audit records still queued and releases the stores.
func (a *App) Close() error {
	var errs []error
	if a.Audit != nil {
		errs = append(errs, a.Audit.Writer.Close())
		a.Audit = nil
	}
	if a.AuditStore != nil {
		errs = append(errs, a.AuditStore.Close())
		a.AuditStore = nil
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
		a.store = nil
	}
	return errors.Join(errs...)
}

// openAudit opens the audit trail: DATA/audit.db beside the kv store, or
// the same PostgreSQL database (docs/decisions/0009-audit-trail.md).
func (a *App) openAudit(ctx context.Context, master []byte) error {
	var err error
	if strings.HasPrefix(a.cfg.Store, "postgres://") || strings.HasPrefix(a.cfg.Store, "postgresql://") {
		a.AuditStore, err = postgres.OpenAudit(ctx, a.cfg.Store)
	} else {
		a.AuditStore, err = sqlite.OpenAudit(ctx, filepath.Join(a.cfg.DataDir, "audit.db"))
	}
	if err != nil {
		return fmt.Errorf("open audit trail: %w", err)
	}
	a.Audit = &audit.Trail{
		Writer: audit.NewWriter(audit.WriterConfig{Store: a.AuditStore, Log: a.cfg.Log}),
		Hasher: audit.NewHasher(master),
	}
	return nil
}
