// Package httpapi is iamd's HTTP edge: it decodes AWS's wire protocols
// (Query for IAM and STS, and later JSON 1.1 and REST-XML), routes each
// request to its action, authenticates it, lets the handler authorize and
// run it, and renders the result or the error the way AWS does, with AWS's
// HTTP statuses.
//
// It holds no state of its own and never touches a store; the domain
// packages (iam, sts) do the work and authz decides.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/s3"
)

// API versions and XML namespaces of the Query services.
const (
	IAMVersion   = "2010-05-08"
	STSVersion   = "2011-06-15"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// maxQueryBody bounds a Query request body. IAM's largest parameter (a
// policy document) is 131,072 characters; simulator calls carry several.
const maxQueryBody = 2 << 20

// defaultBodyTimeout bounds how long a client may take to send a Query body.
const defaultBodyTimeout = 30 * time.Second

// Authenticator turns a signed request into a Caller.
type Authenticator interface {
	// Authenticate returns the caller and the region named in the
	// request's credential scope. service, when not empty, is the signing
	// name the credential must be scoped to.
	Authenticate(r *http.Request, payloadHash, service string, now time.Time) (*principal.Caller, string, error)
}

// Observer counts finished calls (internal/metrics is the real one). The
// HTTP edge knows only this method, not the metrics library.
type Observer interface {
	ObserveRequest(service, action, code string, d time.Duration)
}

// Authorizer decides whether a caller may perform an action on a resource.
type Authorizer interface {
	Authorize(ctx context.Context, req *authz.Request) error
}

// Handler runs one action. It must call c.Authorize (or c.AllowWithoutPolicy
// for the few actions AWS never denies) before doing anything; the server
// fails closed if it doesn't.
type Handler func(c *Call) (any, error)

// Service is one Query service: its version string, XML namespace and actions.
type Service struct {
	Name      string // signing name and policy prefix: "iam", "sts"
	Version   string
	Namespace string
	Actions   map[string]Handler
	// Protocol renders the service's responses and errors; nil is the
	// AWS Query protocol (IAM, STS). EC2 has its own dialect.
	Protocol Protocol
}

// Protocol is how a Query-style service writes results and errors.
type Protocol interface {
	// EncodeResult renders an action's result (nil for none) in its envelope.
	EncodeResult(action, namespace, requestID string, result any) ([]byte, error)
	// WriteResult writes an encoded result.
	WriteResult(w http.ResponseWriter, body []byte, requestID string)
	// WriteError renders an error.
	WriteError(w http.ResponseWriter, namespace, requestID string, e *apierr.Error)
}

// queryProtocol is the AWS Query protocol of IAM and STS.
type queryProtocol struct{}

func (queryProtocol) EncodeResult(action, namespace, requestID string, result any) ([]byte, error) {
	return encodeQueryResult(action, namespace, requestID, result)
}

func (queryProtocol) WriteResult(w http.ResponseWriter, body []byte, requestID string) {
	writeQueryResult(w, body, requestID)
}

func (queryProtocol) WriteError(w http.ResponseWriter, namespace, requestID string, e *apierr.Error) {
	writeQueryError(w, namespace, requestID, e)
}

func protocolOf(svc *Service) Protocol {
	if svc == nil || svc.Protocol == nil {
		return queryProtocol{}
	}
	return svc.Protocol
}

// Config wires a Server.
type Config struct {
	Services      []*Service
	Authenticator Authenticator
	Authorizer    Authorizer
	Log           *slog.Logger
	Now           func() time.Time
	NewRequestID  func() string // nil: random UUIDs
	// Internal serves iamd's own endpoints under /_iamd/ (health, metrics…).
	Internal http.Handler
	// BodyTimeout bounds how long a client may take to send a request
	// body; zero means 30 seconds.
	BodyTimeout time.Duration
	// Metrics counts finished calls; nil counts nothing.
	Metrics Observer
	// JSONServices are the AWS JSON 1.1 services (CloudTrail), routed by
	// X-Amz-Target.
	JSONServices []*JSONService
	// Audit records every call (audit.go); nil records nothing.
	Audit Auditor
	// AccountID is the recipientAccountId of audit records.
	AccountID string
	// S3 is the object store behind the REST-XML S3 API; nil disables it.
	S3 *s3.Service
}

// Server is the http.Handler for every AWS protocol iamd speaks.
type Server struct {
	cfg       Config
	byVersion map[string]*Service
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.NewRequestID == nil {
		cfg.NewRequestID = NewUUID
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = defaultBodyTimeout
	}
	s := &Server{cfg: cfg, byVersion: map[string]*Service{}}
	for _, svc := range cfg.Services {
		s.byVersion[svc.Version] = svc
	}
	return s
}

// Call is one authenticated API call as a handler sees it.
type Call struct {
	Ctx       context.Context
	RequestID string
	Service   *Service
	Action    string
	Params    Params
	Caller    *principal.Caller
	Env       authz.Env

	authz      Authorizer
	authorized bool
}

// Authorize asks whether the caller may perform action on resource, with
// any request-specific condition keys. A handler calls it before acting.
func (c *Call) Authorize(action, resource string, opts ...authz.Option) error {
	c.authorized = true
	req := &authz.Request{Caller: c.Caller, Action: action, Resource: resource, Env: c.Env}
	for _, o := range opts {
		o(req)
	}
	return c.authz.Authorize(c.Ctx, req)
}

// AllowWithoutPolicy marks the call as one AWS performs for any
// authenticated caller (sts:GetCallerIdentity).
func (c *Call) AllowWithoutPolicy() { c.authorized = true }

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_iamd/") {
		if s.cfg.Internal != nil {
			s.cfg.Internal.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	if isS3Request(r) {
		s.serveS3(w, r)
		return
	}
	if r.Header.Get("X-Amz-Target") != "" {
		s.serveJSON(w, r)
		return
	}
	s.serveQuery(w, r)
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	reqID := s.cfg.NewRequestID()
	ns := IAMNamespace
	var proto Protocol = queryProtocol{}
	rec := &CallRecord{Request: r, Time: now, RequestID: reqID}
	fail := func(err error) {
		e := apierr.As(err)
		if e == nil || e.Code == apierr.InternalFailure {
			s.cfg.Log.Error("request failed", "request_id", reqID, "err", err)
			e = apierr.Internal(err)
		}
		rec.Err = e
		if aerr := s.Audit(rec); aerr != nil {
			e = apierr.As(aerr)
		}
		proto.WriteError(w, ns, reqID, e)
	}

	body, err := readBody(w, r, s.cfg.BodyTimeout)
	if err != nil {
		fail(err)
		return
	}
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost && len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			fail(apierr.New(apierr.InvalidAction, "Could not find operation for content type %q.", ct))
			return
		}
		if raw != "" {
			raw += "&"
		}
		raw += string(body)
	}
	params, err := ParseQuery(raw)
	if err != nil {
		fail(err)
		return
	}
	svc := s.byVersion[params.Get("Version")]
	if svc != nil {
		ns, proto = svc.Namespace, protocolOf(svc)
	}
	action := params.Get("Action")
	queryRecord(rec, svc, action, params)
	if action == "" {
		fail(apierr.New(apierr.MissingAction, "Missing Action"))
		return
	}

	signingName := ""
	if svc != nil {
		signingName = svc.Name
	}
	caller, region, err := s.authenticate(r, body, signingName, now, rec)
	if err != nil {
		fail(err)
		return
	}
	if svc == nil {
		fail(apierr.New(apierr.InvalidAction, "Could not find operation %s for version %s", action, params.Get("Version")))
		return
	}
	h, ok := svc.Actions[action]
	if !ok {
		fail(apierr.New(apierr.InvalidAction, "Could not find operation %s for version %s", action, svc.Version))
		return
	}
	c := &Call{
		Ctx: r.Context(), RequestID: reqID, Service: svc, Action: action, Params: params,
		Caller: caller, Env: envOf(r, now), authz: s.cfg.Authorizer,
	}
	c.Env.Region = region
	out, err := h(c)
	err = c.checkAuthorized(err)
	if err != nil {
		fail(err)
		return
	}
	b, err := proto.EncodeResult(action, ns, reqID, out)
	if err != nil {
		fail(apierr.Internal(err))
		return
	}
	rec.Output = out
	if err := s.Audit(rec); err != nil {
		fail(err)
		return
	}
	proto.WriteResult(w, b, reqID)
}

// authenticate verifies the request's signature over body for the signing
// name ("" when the service is unknown) and records the caller and region
// in rec. The Query and JSON protocols share it.
func (s *Server) authenticate(r *http.Request, body []byte, signing string, now time.Time, rec *CallRecord) (*principal.Caller, string, error) {
	hash, err := payloadHash(r, body)
	if err != nil {
		return nil, "", err
	}
	caller, region, err := s.cfg.Authenticator.Authenticate(r, hash, signing, now)
	if err != nil {
		return nil, "", err
	}
	rec.Caller, rec.Region = caller, region
	return caller, region, nil
}

// checkAuthorized turns a handler's success into InternalFailure when it
// never called Authorize: no action may run unauthorized, whichever
// protocol carried it.
func (c *Call) checkAuthorized(err error) error {
	if err == nil && !c.authorized {
		return apierr.Internal(fmt.Errorf("handler %s:%s returned without authorizing", c.Service.Name, c.Action))
	}
	return err
}

// readBody reads a bounded request body within a deadline, so that neither
// a huge nor a trickling body can hold a connection or memory.
func readBody(w http.ResponseWriter, r *http.Request, timeout time.Duration) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > maxQueryBody {
		// Do not read a body we will refuse; close the connection instead.
		w.Header().Set("Connection", "close")
		return nil, apierr.New(apierr.RequestEntityTooLarge, "Request body must be at most %d bytes.", maxQueryBody)
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxQueryBody))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	} else {
		// The rest of the body is not worth waiting for: answer and close,
		// keeping the deadline so nothing blocks draining it.
		w.Header().Set("Connection", "close")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apierr.New(apierr.RequestEntityTooLarge, "Request body must be at most %d bytes.", maxQueryBody)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, apierr.Wrap(apierr.RequestTimeout, err, "Your socket connection to the server was not read from or written to within the timeout period.")
		}
		return nil, apierr.Wrap(apierr.IncompleteSignature, err, "The request body could not be read.")
	}
	return body, nil
}

// payloadHash is the value SigV4 signs for the body: the client's
// x-amz-content-sha256 when it sent one (after checking that a hex digest
// really is the body's), else the hex SHA-256 of the body.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	h := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case h == "":
		return actual, nil
	case h == "UNSIGNED-PAYLOAD":
		return h, nil
	case h != actual:
		return "", apierr.New(apierr.SignatureDoesNotMatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return h, nil
}

func envOf(r *http.Request, now time.Time) authz.Env {
	env := authz.Env{Secure: r.TLS != nil, UserAgent: r.UserAgent(), Now: now}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		env.SourceIP = ap.Addr().Unmap()
	}
	return env
}

// NewUUID returns a random RFC 4122 version 4 UUID, the shape of AWS request ids.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// authzOption, withKey and requestTagKeys keep handler files short.
type authzOption = authz.Option

var withKey = authz.WithKey

// newValidation is a ValidationError with a free-form message.
func newValidation(msg string) error { return apierr.New(apierr.ValidationError, "%s", msg) }
