// Package imds serves each running EC2 instance's metadata service on its
// own loopback port, the way the instance metadata service at
// 169.254.169.254 answers on a real instance: IMDSv2 session tokens (PUT
// /latest/api/token), IMDSv1 unless the instance requires tokens, the
// instance's identity and its role credentials in AWS's JSON shape, so an
// unmodified SDK pointed at the port with AWS_EC2_METADATA_SERVICE_ENDPOINT
// gets the instance's role session.
//
// It holds no state but the listeners and a token-signing key: instances
// and their credentials come from package ec2. It does not authenticate
// anyone — on a real instance, whoever can reach the link-local address
// gets the credentials; here, whoever can reach the loopback port.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
package imds

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/ec2"
)

// Header names of IMDSv2.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
const (
	HeaderTTL   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	HeaderToken = "X-Aws-Ec2-Metadata-Token"
	MaxTokenTTL = 21600
)

// TimeFormat is how the credential document writes times; botocore parses
// Expiration with exactly %Y-%m-%dT%H:%M:%SZ.
const TimeFormat = "2006-01-02T15:04:05Z"

// Source is where instances and their credentials come from (ec2.Service).
type Source interface {
	Instance(ctx context.Context, id string) (*ec2.Instance, error)
	CredentialsFor(ctx context.Context, in *ec2.Instance) (*ec2.RoleCredentials, error)
	Account() arn.AccountID
}

// Config wires a Server.
type Config struct {
	Source Source
	Now    func() time.Time
	Log    *slog.Logger
	// Key signs IMDSv2 tokens; nil: a random key (tokens end with the process).
	Key []byte
	// ContainerURL returns the container credentials URL of an instance,
	// served at /latest/meta-data/iamd/… (nil: not served).
	ContainerURL func(instanceID string) string
}

// Server runs the metadata endpoints.
type Server struct {
	cfg Config

	mu   sync.Mutex
	open map[string]*endpoint
}

type endpoint struct {
	srv  *http.Server
	port int
}

// New returns a Server with no endpoint open.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Key == nil {
		cfg.Key = make([]byte, 32)
		if _, err := rand.Read(cfg.Key); err != nil {
			panic("imds: crypto/rand failed: " + err.Error())
		}
	}
	return &Server{cfg: cfg, open: map[string]*endpoint{}}
}

// Open starts serving the instance's endpoint on 127.0.0.1:port, or on
// any free port when port is 0 or taken, and returns the port.
func (s *Server) Open(instanceID string, port int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep, ok := s.open[instanceID]; ok {
		return ep.port, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil && port != 0 {
		s.cfg.Log.Warn("metadata endpoint port taken; moving", "instance", instanceID, "port", port, "err", err)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return 0, fmt.Errorf("imds: listen for %s: %w", instanceID, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(instanceID),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
	ep := &endpoint{srv: srv, port: ln.Addr().(*net.TCPAddr).Port}
	s.open[instanceID] = ep
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Warn("metadata endpoint stopped", "instance", instanceID, "err", err)
		}
	}()
	return ep.port, nil
}

// Close stops an instance's endpoint at once, dropping its connections.
func (s *Server) Close(instanceID string) {
	s.mu.Lock()
	ep, ok := s.open[instanceID]
	delete(s.open, instanceID)
	s.mu.Unlock()
	if ok {
		ep.srv.Close()
	}
}

// CloseAll stops every endpoint (server shutdown).
func (s *Server) CloseAll() {
	s.mu.Lock()
	eps := s.open
	s.open = map[string]*endpoint{}
	s.mu.Unlock()
	for _, ep := range eps {
		ep.srv.Close()
	}
}

// Port returns the port an instance's endpoint serves on, if open.
func (s *Server) Port(instanceID string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep, ok := s.open[instanceID]
	if !ok {
		return 0, false
	}
	return ep.port, true
}

// Handler is one instance's metadata service.
func (s *Server) Handler(instanceID string) http.Handler {
	return &handler{s: s, id: instanceID}
}

type handler struct {
	s  *Server
	id string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "EC2ws")
	path := r.URL.Path
	if path == "/latest/api/token" {
		h.token(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		plain(w, http.StatusMethodNotAllowed, "")
		return
	}
	ctx := r.Context()
	in, err := h.s.cfg.Source.Instance(ctx, h.id)
	if err != nil || in.State != ec2.Running {
		plain(w, http.StatusServiceUnavailable, "")
		return
	}
	if in.Metadata.HTTPEndpoint == ec2.EndpointOff {
		plain(w, http.StatusForbidden, "")
		return
	}
	if tok := r.Header.Get(HeaderToken); tok != "" {
		if !h.s.validToken(h.id, tok) {
			plain(w, http.StatusUnauthorized, "")
			return
		}
	} else if in.Metadata.HTTPTokens == ec2.TokensRequired {
		plain(w, http.StatusUnauthorized, "")
		return
	}
	switch {
	case path == "/latest" || path == "/latest/":
		plain(w, http.StatusOK, "dynamic\nmeta-data")
	case path == "/latest/meta-data" || path == "/latest/meta-data/":
		list := "ami-id\nami-launch-index\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\nreservation-id"
		if in.Association == nil {
			list = strings.Replace(list, "iam/\n", "", 1)
		}
		plain(w, http.StatusOK, list)
	case strings.HasPrefix(path, "/latest/meta-data/iamd/"):
		h.container(w, in, strings.TrimPrefix(path, "/latest/meta-data/iamd/"))
	case strings.HasPrefix(path, "/latest/meta-data/iam"):
		h.iam(w, r, in, strings.TrimPrefix(path, "/latest/meta-data/iam"))
	case path == "/latest/dynamic/instance-identity/document":
		h.identity(w, in)
	default:
		v, ok := simpleValue(in, strings.TrimPrefix(path, "/latest/meta-data/"))
		if !ok || !strings.HasPrefix(path, "/latest/meta-data/") {
			notFound(w)
			return
		}
		plain(w, http.StatusOK, v)
	}
}

func simpleValue(in *ec2.Instance, name string) (string, bool) {
	az := in.Region + "a"
	switch name {
	case "instance-id":
		return in.ID, true
	case "ami-id":
		return in.ImageID, true
	case "ami-launch-index":
		return strconv.Itoa(in.LaunchIndex), true
	case "instance-type":
		return in.InstanceType, true
	case "reservation-id":
		return in.ReservationID, true
	case "local-ipv4":
		return "127.0.0.1", true
	case "hostname", "local-hostname":
		return "localhost", true
	case "placement", "placement/":
		return "availability-zone\nregion", true
	case "placement/availability-zone":
		return az, true
	case "placement/region":
		return in.Region, true
	}
	return "", false
}

// token answers PUT /latest/api/token.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		plain(w, http.StatusMethodNotAllowed, "")
		return
	}
	// A PUT relayed by a proxy carries X-Forwarded-For; IMDS refuses it so
	// that an SSRF through a proxy cannot mint tokens.
	if len(r.Header.Values("X-Forwarded-For")) > 0 {
		plain(w, http.StatusForbidden, "")
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(HeaderTTL))
	if err != nil || ttl < 1 || ttl > MaxTokenTTL {
		plain(w, http.StatusBadRequest, "")
		return
	}
	if in, err := h.s.cfg.Source.Instance(r.Context(), h.id); err != nil || in.State != ec2.Running {
		plain(w, http.StatusServiceUnavailable, "")
		return
	} else if in.Metadata.HTTPEndpoint == ec2.EndpointOff {
		plain(w, http.StatusForbidden, "")
		return
	}
	tok := h.s.newToken(h.id, h.s.cfg.Now().Add(time.Duration(ttl)*time.Second))
	w.Header().Set(HeaderTTL, strconv.Itoa(ttl))
	plain(w, http.StatusOK, tok)
}

// A token is base64url(expiry || HMAC-SHA256(key, instance id || expiry)[:24]):
// bound to one instance, checked without state, useless after expiry.
func (s *Server) newToken(instanceID string, exp time.Time) string {
	var b [8 + 24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(exp.Unix()))
	copy(b[8:], s.mac(instanceID, b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) mac(instanceID string, exp []byte) []byte {
	m := hmac.New(sha256.New, s.cfg.Key)
	m.Write([]byte(instanceID))
	m.Write([]byte{0})
	m.Write(exp)
	return m.Sum(nil)[:24]
}

func (s *Server) validToken(instanceID, tok string) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 32 {
		return false
	}
	if !hmac.Equal(b[8:], s.mac(instanceID, b[:8])) {
		return false
	}
	return s.cfg.Now().Unix() < int64(binary.BigEndian.Uint64(b[:8]))
}

// iam serves /latest/meta-data/iam…
func (h *handler) iam(w http.ResponseWriter, r *http.Request, in *ec2.Instance, rest string) {
	if in.Association == nil {
		notFound(w)
		return
	}
	switch rest {
	case "", "/":
		plain(w, http.StatusOK, "info\nsecurity-credentials/")
		return
	case "/info":
		writeJSON(w, infoDoc{
			Code: "Success", LastUpdated: in.Association.Timestamp.UTC().Format(TimeFormat),
			InstanceProfileArn: in.Association.ProfileARN, InstanceProfileId: in.Association.ProfileID,
		})
		return
	}
	role, ok := strings.CutPrefix(rest, "/security-credentials")
	if !ok {
		notFound(w)
		return
	}
	c, err := h.s.cfg.Source.CredentialsFor(r.Context(), in)
	var te *ec2.TrustError
	switch {
	case errors.As(err, &te):
		if role == "" || role == "/" {
			plain(w, http.StatusOK, te.Role)
			return
		}
		if role[1:] != te.Role {
			notFound(w)
			return
		}
		writeJSON(w, errorDoc{Code: ec2.AssumeRoleUnauthorized, Message: te.Error(), LastUpdated: h.s.cfg.Now().UTC().Format(TimeFormat)})
		return
	case errors.Is(err, ec2.ErrNoCredentials), errors.Is(err, ec2.ErrNotRunning), apierr.Is(err, ec2.InvalidInstanceIDNotFound):
		notFound(w)
		return
	case err != nil:
		h.s.cfg.Log.Error("instance credentials", "instance", in.ID, "err", err)
		plain(w, http.StatusInternalServerError, "")
		return
	}
	if role == "" || role == "/" {
		plain(w, http.StatusOK, c.RoleName)
		return
	}
	if role[1:] != c.RoleName {
		notFound(w)
		return
	}
	writeJSON(w, CredentialsDoc(c))
}

// credentialsDoc is AWS's security-credentials document.
type credentialsDoc struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
}

// CredentialsDoc renders an instance's role credentials as IMDS does.
func CredentialsDoc(c *ec2.RoleCredentials) any {
	return credentialsDoc{
		Code: "Success", LastUpdated: c.LastUpdated.UTC().Format(TimeFormat), Type: "AWS-HMAC",
		AccessKeyId: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(TimeFormat),
	}
}

type infoDoc struct {
	Code               string
	LastUpdated        string
	InstanceProfileArn string
	InstanceProfileId  string
}

type errorDoc struct {
	Code        string
	Message     string
	LastUpdated string
}

// identity serves the instance identity document (unsigned).
func (h *handler) identity(w http.ResponseWriter, in *ec2.Instance) {
	writeJSON(w, map[string]any{
		"accountId": string(h.s.cfg.Source.Account()), "architecture": "x86_64", "availabilityZone": in.Region + "a",
		"imageId": in.ImageID, "instanceId": in.ID, "instanceType": in.InstanceType,
		"pendingTime": in.LaunchTime.UTC().Format(TimeFormat), "privateIp": "127.0.0.1",
		"region": in.Region, "version": "2017-09-30",
	})
}

// container serves iamd's own paths: where the container credentials
// endpoint for this instance is and the token it wants.
func (h *handler) container(w http.ResponseWriter, in *ec2.Instance, name string) {
	if h.s.cfg.ContainerURL == nil {
		notFound(w)
		return
	}
	switch name {
	case "container-credentials-full-uri":
		plain(w, http.StatusOK, h.s.cfg.ContainerURL(in.ID))
	case "container-authorization-token":
		plain(w, http.StatusOK, in.ContainerToken)
	default:
		notFound(w)
	}
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const notFoundBody = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>
`

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(notFoundBody)))
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, notFoundBody)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		plain(w, http.StatusInternalServerError, "")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
