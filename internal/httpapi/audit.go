package httpapi

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/principal"
)

// Auditor records calls; *audit.Trail is the real one.
type Auditor interface {
	// Record appends ev; with durable it returns once ev is committed.
	Record(ctx context.Context, ev *audit.Event, durable bool) error
	// HashSecret is the keyed hash recorded instead of a secret.
	HashSecret(v string) string
}

// CallRecord is what a protocol handler knows of a finished call; Audit
// turns it into a CloudTrail record. Every protocol (Query, JSON, and
// later S3's REST and EC2's Query) fills one in and calls Server.Audit
// before it writes its response.
type CallRecord struct {
	Request   *http.Request
	Time      time.Time // when the request arrived
	RequestID string
	Service   string // signing name: "iam", "sts", "cloudtrail", "s3"
	Action    string // the event name: "CreateUser", "LookupEvents", "GetObject"
	Region    string // from the credential scope; ignored for global services
	Caller    *principal.Caller
	// Parameters is requestParameters, already free of secrets (see
	// audit.QueryParameters and audit.JSONParameters).
	Parameters any
	Output     any   // the handler's result; nil on error
	Err        error // nil on success
	// ReadOnly overrides audit.ReadOnly(Action) when not nil.
	ReadOnly *bool
	// DataEvent marks a data-plane call (S3's object-level operations):
	// eventCategory "Data", managementEvent false, as CloudTrail records
	// them. iamd records and returns them like any other event.
	DataEvent bool
	Resources []audit.Resource

	done bool
}

// globalServices record their events in us-east-1, as CloudTrail does.
var globalServices = map[string]bool{"iam": true, "sts": true}

// Audit records c. A successful call that changes something or issues
// credentials is recorded durably before Audit returns; if that fails,
// Audit returns ServiceUnavailable and the caller must answer with it
// instead of the result. Other records are written within the audit
// writer's flush interval. Calling Audit again for the same call does
// nothing.
func (s *Server) Audit(c *CallRecord) (err error) {
	if c == nil || c.done {
		return nil
	}
	defer func() { s.observe(c, err) }()
	if s.cfg.Audit == nil {
		c.done = true
		return nil
	}
	c.done = true
	ev := s.eventOf(c)
	durable := !ev.ReadOnly && c.Err == nil
	ctx := context.Background()
	if c.Request != nil {
		// The record must be written even if the client has gone.
		ctx = context.WithoutCancel(c.Request.Context())
	}
	if err := s.cfg.Audit.Record(ctx, ev, durable); err != nil {
		s.cfg.Log.Error("audit record not written", "request_id", c.RequestID, "event", c.Action, "durable", durable, "err", err)
		if durable {
			return apierr.Wrap(apierr.ServiceUnavailable, err, "The request could not be recorded in the audit trail; it may not have taken effect. Please try again.")
		}
	}
	return nil
}

func (s *Server) eventOf(c *CallRecord) *audit.Event {
	if c.Service == "" && c.Request != nil {
		c.Service = requestSigningService(c.Request)
	}
	if c.Service == "" {
		c.Service = "iam"
	}
	ev := &audit.Event{
		EventVersion:       audit.EventVersion,
		EventTime:          audit.FormatTime(c.Time),
		EventSource:        c.Service + ".amazonaws.com",
		EventName:          c.Action,
		AWSRegion:          c.Region,
		RequestParameters:  c.Parameters,
		RequestID:          c.RequestID,
		EventID:            NewUUID(),
		ReadOnly:           audit.ReadOnly(c.Action),
		Resources:          c.Resources,
		EventType:          audit.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: s.cfg.AccountID,
		EventCategory:      audit.CategoryManagement,
	}
	if c.ReadOnly != nil {
		ev.ReadOnly = *c.ReadOnly
	}
	if c.DataEvent {
		ev.ManagementEvent, ev.EventCategory = false, audit.CategoryData
	}
	if globalServices[c.Service] || ev.AWSRegion == "" {
		ev.AWSRegion = audit.GlobalRegion
	}
	if c.Caller != nil {
		ev.UserIdentity = audit.Identity(c.Caller)
		if ev.RecipientAccountID == "" {
			ev.RecipientAccountID = string(c.Caller.Account)
		}
	} else {
		ev.UserIdentity = audit.UnknownIdentity(requestAccessKeyID(c.Request))
	}
	if r := c.Request; r != nil {
		ev.UserAgent = truncate(r.UserAgent(), 1024)
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ev.SourceIPAddress = ap.Addr().Unmap().String()
		}
		if r.TLS != nil {
			ev.TLSDetails = &audit.TLSDetails{TLSVersion: tlsVersion(r.TLS.Version),
				CipherSuite: tls.CipherSuiteName(r.TLS.CipherSuite), ClientProvidedHostHeader: r.Host}
		}
	}
	if c.Err != nil {
		e := apierr.As(c.Err)
		if e == nil {
			e = apierr.Internal(c.Err)
		}
		ev.ErrorCode, ev.ErrorMessage = string(e.Code), truncate(e.Message, 1024)
	} else if !ev.ReadOnly {
		ev.ResponseElements = audit.ResponseElements(c.Output, s.cfg.Audit.HashSecret)
	}
	if c.Service == "ec2" {
		s.ec2Event(ev, c) // EC2's error codes and response shapes (ec2_audit.go)
	}
	return ev
}

// queryRecord fills in a CallRecord for the Query protocol.
func queryRecord(c *CallRecord, svc *Service, action string, params Params) {
	c.Action = action
	if svc != nil {
		c.Service = svc.Name
	}
	c.Parameters = audit.QueryParameters(params.Values())
	if svc != nil && svc.Name == "ec2" {
		c.Parameters = ec2RequestParameters(action, params)
	}
	if svc != nil && svc.Name == "sts" && c.Action == "AssumeRole" {
		if role := params.Get("RoleArn"); role != "" {
			acct := ""
			if parts := strings.SplitN(role, ":", 6); len(parts) == 6 {
				acct = parts[4]
			}
			c.Resources = []audit.Resource{{AccountID: acct, Type: "AWS::IAM::Role", ARN: role}}
		}
	}
}

// requestAccessKeyID is the access key id a request claims, from its
// Authorization header or X-Amz-Credential, "" if there is none; for the
// record of a call that failed to authenticate.
func requestAccessKeyID(r *http.Request) string {
	if r == nil {
		return ""
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		if _, after, ok := strings.Cut(h, "Credential="); ok {
			cred = after
		}
	}
	id, _, _ := strings.Cut(cred, "/")
	if len(id) < 16 || len(id) > 128 {
		return ""
	}
	for _, ch := range id {
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z') {
			return ""
		}
	}
	return id
}

// requestSigningService is the service named in a request's credential
// scope, for requests that fail before their service is known.
func requestSigningService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		if _, after, ok := strings.Cut(h, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 {
		return parts[3]
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return tls.VersionName(v)
}

// observe counts the finished call in the metrics. The action label is
// only taken from requests that authenticated and named a real action, so
// that unauthenticated clients cannot mint label values.
func (s *Server) observe(c *CallRecord, auditErr error) {
	if s.cfg.Metrics == nil {
		return
	}
	code := "OK"
	err := c.Err
	if err == nil {
		err = auditErr
	}
	if err != nil {
		code = string(apierr.InternalFailure)
		if e := apierr.As(err); e != nil {
			code = string(e.Code)
		}
	}
	action := c.Action
	if c.Caller == nil || code == string(apierr.InvalidAction) || code == string(apierr.MissingAction) || action == "" {
		action = "Unknown"
	}
	service := c.Service
	if service == "" {
		service = "unknown"
	}
	s.cfg.Metrics.ObserveRequest(service, action, code, s.cfg.Now().Sub(c.Time))
}
