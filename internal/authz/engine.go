// Package authz authenticates requests (SigV4 with long-term or temporary
// credentials) and authorizes them (the caller's policies through the
// policy engine, with AWS's global condition keys), producing AWS's errors:
// InvalidClientTokenId, ExpiredToken, SignatureDoesNotMatch, AccessDenied
// with a message that names principal, action, resource and the kind of
// policy that denied.
//
// It reads IAM state only through iam.Service's cached snapshots and never
// touches a store; verifying temporary credentials reads no storage at all.
package authz

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/token"
)

// Engine authenticates and authorizes requests.
type Engine struct {
	iam  *iam.Service
	ring *token.Ring
	keys *sigv4.KeyCache
	rev  *revoke.Service // nil: no per-session revocations (revoked.go)
	// stale, when set, is true while this node cannot confirm that its
	// view of a shared store is current; every request then fails closed
	// with errStale (UseFreshness).
	stale      *atomic.Bool
	staleBound time.Duration

	lastReload atomic.Int64 // unix nanoseconds of the last ring reload
}

// reloadRing re-reads the sealing keys at most once a second, so that a
// flood of forged tokens with made-up key ids cannot hammer the store.
func (e *Engine) reloadRing(ctx context.Context, now time.Time) bool {
	last := e.lastReload.Load()
	if now.UnixNano()-last < int64(time.Second) || !e.lastReload.CompareAndSwap(last, now.UnixNano()) {
		return false
	}
	return e.ring.Reload(ctx) == nil
}

// UseFreshness makes the engine refuse to authenticate or authorize while
// *stale is true, with ServiceUnavailable (HTTP 503, which AWS SDKs retry),
// rather than decide with revocations, keys and policies that may be out
// of date. bound is named in the message. Call it before serving.
func (e *Engine) UseFreshness(stale *atomic.Bool, bound time.Duration) {
	e.stale, e.staleBound = stale, bound
}

// isStale is the freshness gate on the request path: one atomic load.
func (e *Engine) isStale() bool { return e.stale != nil && e.stale.Load() }

// staleError is what a request gets while the node is stale; made afresh
// each time, since the edge may annotate the error it is given.
func (e *Engine) staleError() error {
	return apierr.New(apierr.ServiceUnavailable,
		"This iamd node could not confirm its revocation state with the shared store within %s, so it refuses to authorize requests. Retry, or use another node.", e.staleBound)
}

// New returns an Engine.
func New(svc *iam.Service, ring *token.Ring) *Engine {
	return &Engine{iam: svc, ring: ring, keys: sigv4.NewKeyCache(100_000)}
}

// Messages AWS uses for credential failures.
const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// Authenticate verifies a SigV4-signed request and returns its caller and
// the region of its credential scope. service, when not empty, is the
// signing name the request must be scoped to.
func (e *Engine) Authenticate(r *http.Request, payloadHash, service string, now time.Time) (*principal.Caller, string, error) {
	if e.isStale() {
		// Before anything else: a stale node's answer about a key (even
		// "invalid") could be wrong, and 503 sends the client to retry.
		return nil, "", e.staleError()
	}
	p, err := sigv4.Parse(r)
	if err != nil {
		return nil, "", fromSigV4(err)
	}
	if err := p.CheckTime(now); err != nil {
		return nil, "", fromSigV4(err)
	}
	opts := sigv4.Options{Service: service}
	if service == "s3" {
		opts = sigv4.S3Options()
	}
	var c *principal.Caller
	if arn.AccessKeyID(p.AccessKeyID).Temporary() {
		c, err = e.authenticateSession(r, p, payloadHash, opts, now)
	} else {
		c, err = e.authenticateKey(r, p, payloadHash, opts)
		if err == nil {
			e.iam.RecordKeyUse(p.AccessKeyID, p.Scope.Service, p.Scope.Region, now)
		}
	}
	if err != nil {
		return nil, "", err
	}
	return c, p.Scope.Region, nil
}

func (e *Engine) authenticateKey(r *http.Request, p *sigv4.Parsed, payloadHash string, opts sigv4.Options) (*principal.Caller, error) {
	ctx := r.Context()
	k, err := e.iam.AccessKeyAuth(ctx, p.AccessKeyID)
	if err != nil {
		if apierr.Is(err, apierr.NoSuchEntity) {
			return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
		}
		return nil, err
	}
	if !k.Active || p.SecurityToken != "" {
		return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
	}
	if err := p.Verify(r, e.keys.Get(k.ID, k.Secret, p.Scope), payloadHash, opts); err != nil {
		return nil, fromSigV4(err)
	}
	u, err := e.iam.UserAuth(ctx, k.UserName)
	if err != nil {
		if apierr.Is(err, apierr.NoSuchEntity) {
			return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
		}
		return nil, err
	}
	return &principal.Caller{
		Account: e.iam.Account(), Type: principal.IAMUser, ARN: u.User.ARN, UserID: u.User.ID,
		UserName: u.User.Name, UserPath: u.User.Path, AccessKeyID: arn.AccessKeyID(k.ID),
		Tags: tagsOf(u.User.Tags),
	}, nil
}

func (e *Engine) authenticateSession(r *http.Request, p *sigv4.Parsed, payloadHash string, opts sigv4.Options, now time.Time) (*principal.Caller, error) {
	if p.SecurityToken == "" {
		return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
	}
	s, err := e.ring.OpenFor(p.SecurityToken, p.AccessKeyID)
	if errors.Is(err, token.ErrUnknownKey) && e.reloadRing(r.Context(), now) {
		// Another node may have rotated the sealing key.
		s, err = e.ring.OpenFor(p.SecurityToken, p.AccessKeyID)
	}
	if err != nil || s.Account != string(e.iam.Account()) {
		return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
	}
	if err := p.Verify(r, e.keys.Get(s.AccessKeyID, s.SecretAccessKey, p.Scope), payloadHash, opts); err != nil {
		return nil, fromSigV4(err)
	}
	if !now.Before(s.Expires) {
		return nil, apierr.New(apierr.ExpiredToken, msgExpiredToken)
	}
	if e.rev != nil {
		e.rev.NoteUse(s.AccessKeyID, s.Expires, now)
	}
	c := &principal.Caller{
		Account: e.iam.Account(), AccessKeyID: arn.AccessKeyID(s.AccessKeyID), Temporary: true,
		IssuedAt: s.IssuedAt, Expires: s.Expires, MFA: s.MFA, MFAAuthTime: s.MFAAuthTime,
		SourceIdentity: s.SourceIdentity, Chained: s.Chained, SessionPolicy: s.Policy,
		SessionARNs: s.PolicyARNs, TransitiveKeys: s.TransitiveTagKeys, SessionName: s.SessionName,
		IssuerKeyID: s.IssuerKeyID,
	}
	for _, t := range s.Tags {
		c.SessionTags = append(c.SessionTags, principal.Tag(t))
	}
	ctx := r.Context()
	switch s.Kind {
	case token.AssumedRole:
		// The role must still be the one that issued the session: deleting
		// a role (or deleting and re-creating it) ends its sessions.
		ra, err := e.iam.RoleAuth(ctx, s.PrincipalName)
		if err != nil || ra.Role.ID != s.PrincipalID {
			if err == nil || apierr.Is(err, apierr.NoSuchEntity) {
				return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
			}
			return nil, err
		}
		c.Type = principal.AssumedRole
		c.RoleName, c.RoleID, c.RoleARN, c.RolePath = ra.Role.Name, ra.Role.ID, ra.Role.ARN, ra.Role.Path
		c.ARN = arn.AssumedRole(e.iam.Account(), ra.Role.Name, s.SessionName)
		c.UserID = ra.Role.ID + ":" + s.SessionName
		c.Tags = mergeSessionTags(tagsOf(ra.Role.Tags), c.SessionTags)
	case token.UserSession:
		u, err := e.iam.UserAuth(ctx, s.PrincipalName)
		if err != nil || u.User.ID != s.PrincipalID {
			if err == nil || apierr.Is(err, apierr.NoSuchEntity) {
				return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
			}
			return nil, err
		}
		c.Type = principal.IAMUser
		c.ARN, c.UserID, c.UserName, c.UserPath = u.User.ARN, u.User.ID, u.User.Name, u.User.Path
		c.Tags = tagsOf(u.User.Tags)
	case token.Federated:
		// A federated user acts with the issuing user's permissions,
		// limited by its session policies; the user must still exist.
		// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
		u, err := e.iam.UserAuth(ctx, s.PrincipalName)
		if err != nil || u.User.ID != s.PrincipalID {
			if err == nil || apierr.Is(err, apierr.NoSuchEntity) {
				return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
			}
			return nil, err
		}
		c.Type = principal.FederatedUser
		c.UserName, c.UserPath = u.User.Name, u.User.Path
		c.ARN = "arn:aws:sts::" + string(e.iam.Account()) + ":federated-user/" + s.SessionName
		c.UserID = string(e.iam.Account()) + ":" + s.SessionName
		c.IssuerUserID = u.User.ID
		c.Tags = mergeSessionTags(tagsOf(u.User.Tags), c.SessionTags)
	default:
		return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
	}
	return c, nil
}

func tagsOf(ts []iam.Tag) []principal.Tag {
	out := make([]principal.Tag, len(ts))
	for i, t := range ts {
		out[i] = principal.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// mergeSessionTags: a session tag overrides a role tag with the same key
// (keys compared without regard to case).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
func mergeSessionTags(own, session []principal.Tag) []principal.Tag {
	if len(session) == 0 {
		return own
	}
	out := append([]principal.Tag(nil), session...)
	for _, t := range own {
		dup := false
		for _, s := range session {
			if strings.EqualFold(s.Key, t.Key) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// fromSigV4 maps a sigv4 error to the API error with the same code.
func fromSigV4(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &apierr.Error{Code: apierr.Code(se.Code), Message: se.Message}
	}
	return apierr.Internal(err)
}

// Authorize decides req and returns nil or AccessDenied.
func (e *Engine) Authorize(ctx context.Context, req *Request) error {
	d, err := e.Decide(ctx, req)
	if err != nil {
		return err
	}
	if d.Result == policy.Allowed {
		return nil
	}
	return apierr.New(apierr.AccessDenied, "%s", DeniedMessage(req, d))
}

// Decide evaluates req and returns the decision with its reasons.
func (e *Engine) Decide(ctx context.Context, req *Request) (policy.Decision, error) {
	if e.isStale() {
		return policy.Decision{}, e.staleError()
	}
	c := req.Caller
	if d, revoked := e.revoked(c); revoked {
		return d, nil
	}
	set := &policy.Set{}
	switch c.Type {
	case principal.AssumedRole:
		ra, err := e.iam.RoleAuth(ctx, c.RoleName)
		if err != nil {
			return policy.Decision{}, err
		}
		set.Identity, set.Boundary = ra.Identity, ra.Boundary
	case principal.IAMUser:
		if c.Temporary && !sessionTokenMayCall(c, req.Action) {
			return policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.BySession}, nil
		}
		ua, err := e.iam.UserAuth(ctx, c.UserName)
		if err != nil {
			return policy.Decision{}, err
		}
		set.Identity, set.Boundary = ua.Identity, ua.Boundary
	case principal.FederatedUser:
		// No IAM at all, of STS only GetCallerIdentity, and nothing
		// without a session policy: the session's permissions are the
		// intersection of the user's and the session policies.
		if !federatedMayCall(req.Action) || c.SessionPolicy == "" && len(c.SessionARNs) == 0 {
			return policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.BySession}, nil
		}
		ua, err := e.iam.UserAuth(ctx, c.UserName)
		if err != nil {
			return policy.Decision{}, err
		}
		set.Identity, set.Boundary = ua.Identity, ua.Boundary
	default:
		return policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.ByIdentity}, nil
	}
	if c.SessionPolicy != "" || len(c.SessionARNs) > 0 {
		set.Session = make([]policy.Named, 0, 1+len(c.SessionARNs))
		if c.SessionPolicy != "" {
			sp, err := e.iam.CompileSessionPolicy(c.SessionPolicy)
			if err != nil {
				return policy.Decision{}, apierr.Internal(err)
			}
			set.Session = append(set.Session, policy.Named{ID: "SessionPolicy", Type: "session", Policy: sp})
		}
		if len(c.SessionARNs) > 0 {
			mp, err := e.iam.ManagedPolicies(ctx, c.SessionARNs)
			if err != nil && !apierr.Is(err, apierr.NoSuchEntity) {
				return policy.Decision{}, err
			}
			set.Session = append(set.Session, mp...)
		}
	}
	if req.ResourcePolicy != nil {
		set.Resource = req.ResourcePolicy
		set.ResourceIsTrust = req.Trust
	}
	pr := &policy.Request{
		Action: req.Action, Resource: req.Resource, Context: BuildContext(req),
		Principal: policy.Principal{Account: string(c.Account), ARN: c.ARN},
	}
	if c.Type == principal.AssumedRole {
		pr.Principal.RoleARN = c.RoleARN
	}
	return policy.Evaluate(set, pr), nil
}

// sessionTokenMayCall applies GetSessionToken's restrictions: without MFA
// no IAM API; of STS only AssumeRole and GetCallerIdentity.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
func sessionTokenMayCall(c *principal.Caller, action string) bool {
	svc, name, _ := strings.Cut(strings.ToLower(action), ":")
	switch svc {
	case "iam":
		return c.MFA
	case "sts":
		return name == "assumerole" || name == "getcalleridentity"
	}
	return true
}

// federatedMayCall applies GetFederationToken's restrictions: no IAM API;
// of STS only GetCallerIdentity.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
func federatedMayCall(action string) bool {
	svc, name, _ := strings.Cut(strings.ToLower(action), ":")
	switch svc {
	case "iam":
		return false
	case "sts":
		return name == "getcalleridentity"
	}
	return true
}

// BuildContext sets AWS's global condition keys for the request.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
func BuildContext(req *Request) *policy.Context {
	c, env := req.Caller, req.Env
	ctx := policy.NewContext()
	now := env.Now.UTC()
	ctx.SetString("aws:CurrentTime", now.Format(time.RFC3339))
	ctx.SetString("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ctx.SetString("aws:SecureTransport", strconv.FormatBool(env.Secure))
	if env.SourceIP.IsValid() {
		ctx.SetString("aws:SourceIp", env.SourceIP.String())
	}
	region := env.Region
	if region == "" || strings.HasPrefix(strings.ToLower(req.Action), "iam:") {
		// IAM is global; its calls evaluate as us-east-1.
		region = "us-east-1"
	}
	ctx.SetString("aws:RequestedRegion", region)
	ctx.SetString("aws:PrincipalArn", c.PrincipalARN())
	ctx.SetString("aws:PrincipalAccount", string(c.Account))
	ctx.SetString("aws:userid", c.UserID)
	switch c.Type {
	case principal.AssumedRole:
		ctx.SetString("aws:PrincipalType", "AssumedRole")
	case principal.IAMUser:
		ctx.SetString("aws:PrincipalType", "User")
		ctx.SetString("aws:username", c.UserName)
	case principal.Root:
		ctx.SetString("aws:PrincipalType", "Account")
	case principal.FederatedUser:
		ctx.SetString("aws:PrincipalType", "FederatedUser")
	}
	if c.Temporary {
		ctx.SetString("aws:TokenIssueTime", c.IssuedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
		ctx.SetString("aws:MultiFactorAuthPresent", strconv.FormatBool(c.MFA))
		if c.MFA && !c.MFAAuthTime.IsZero() {
			ctx.SetString("aws:MultiFactorAuthAge", strconv.FormatInt(int64(now.Sub(c.MFAAuthTime)/time.Second), 10))
		}
	}
	if c.SourceIdentity != "" {
		ctx.SetString("aws:SourceIdentity", c.SourceIdentity)
	}
	for _, t := range c.Tags {
		ctx.SetString("aws:PrincipalTag/"+t.Key, t.Value)
	}
	for _, k := range req.Keys {
		ctx.Set(k.Name, k.Values...)
	}
	return ctx
}

// DeniedMessage words an AccessDenied the way AWS does:
// "User: ARN is not authorized to perform: ACTION on resource: RES because
// no identity-based policy allows the ACTION action".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
func DeniedMessage(req *Request, d policy.Decision) string {
	msg := "User: " + req.Caller.ARN + " is not authorized to perform: " + req.Action + " on resource: " + req.Resource
	if d.DeniedBy == ByRevocation {
		return revokedMessage(msg, d)
	}
	if req.Trust {
		return msg
	}
	kind := d.DeniedBy
	if kind == "" {
		kind = policy.ByIdentity
	}
	if d.Result == policy.ExplicitDeny {
		article := "a"
		if kind == policy.ByIdentity {
			article = "an"
		}
		noun := kind + " policy"
		if kind == policy.ByBoundary {
			noun = kind
		}
		return msg + " with an explicit deny in " + article + " " + noun
	}
	noun := kind + " policy"
	if kind == policy.ByBoundary {
		noun = kind
	}
	return msg + " because no " + noun + " allows the " + req.Action + " action"
}
