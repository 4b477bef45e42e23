// Package sts issues temporary credentials: AssumeRole and GetSessionToken,
// with AWS's rules for durations, role chaining, session names, session
// policies, tags and source identity. Credentials are stateless: the
// session is sealed into the session token (package token).
//
// It does not authorize: the HTTP layer asks authz (with the role's trust
// policy) before it calls AssumeRole here.
// https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html
package sts

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/token"
)

// Config wires a Service.
type Config struct {
	IAM  *iam.Service
	Ring *token.Ring
	Now  func() time.Time
	Rand io.Reader
	// Inventory, when set, records every issued session before its
	// credentials are handed out (iamd sessions, iamd whois).
	Inventory Inventory
}

// Inventory is the session inventory (package revoke).
type Inventory interface {
	RecordSession(ctx context.Context, s *token.Session, o revoke.Origin) error
}

// Service is STS.
type Service struct {
	iam  *iam.Service
	ring *token.Ring
	now  func() time.Time
	rand io.Reader
	inv  Inventory
}

// New returns a Service.
func New(cfg Config) *Service {
	return &Service{iam: cfg.IAM, ring: cfg.Ring, now: cfg.Now, rand: cfg.Rand, inv: cfg.Inventory}
}

// Session limits.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html
const (
	MinDuration             = 900
	DefaultRoleDuration     = 3600
	ChainedMaxDuration      = 3600
	MaxRoleDuration         = 43200
	DefaultSessionDuration  = 43200
	MaxSessionTokenDuration = 129600
	maxSessionPolicyLen     = 2048
	maxPolicyARNs           = 10
	maxSessionTags          = 50
	// packedLimit approximates AWS's packed (compressed) budget for session
	// policies and tags, for PackedPolicySize and PackedPolicyTooLarge.
	packedLimit = 2048
)

// Credentials are what STS hands out.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// AssumeRoleInput is AssumeRole's input after parameter decoding.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
type AssumeRoleInput struct {
	SessionName       string
	DurationSeconds   int // 0: the default
	Policy            string
	PolicyARNs        []string
	Tags              []token.Tag
	TransitiveTagKeys []string
	SourceIdentity    string
	MFA               bool // the caller passed a valid SerialNumber/TokenCode
	Origin            revoke.Origin
}

// AssumeRoleOutput is AssumeRole's result.
type AssumeRoleOutput struct {
	Credentials      Credentials
	AssumedRoleARN   string
	AssumedRoleID    string
	PackedPolicySize int // percent; -1 when no session policy or tags were passed
	SourceIdentity   string
	Session          *token.Session
}

// ResolveRole finds the role a RoleArn names (any path) in this account.
func (s *Service) ResolveRole(ctx context.Context, roleARN string) (*iam.RoleAuth, error) {
	a, err := arn.Parse(roleARN)
	typ, _, name := arn.SplitPathName(a.Resource)
	if err != nil || a.Service != "iam" || typ != "role" || name == "" {
		return nil, apierr.New(apierr.ValidationError, "%s is invalid", roleARN)
	}
	if a.AccountID != string(s.iam.Account()) {
		return nil, apierr.New(apierr.AccessDenied, "Account %s is not known to this service.", a.AccountID)
	}
	ra, err := s.iam.RoleAuth(ctx, name)
	if err != nil {
		return nil, err
	}
	if ra.Role.ARN != roleARN {
		return nil, apierr.NoEntity("role", name)
	}
	return ra, nil
}

// AssumeRole issues a role session for caller. The caller must already
// have been authorized (trust policy and identity policy).
func (s *Service) AssumeRole(ctx context.Context, caller *principal.Caller, ra *iam.RoleAuth, in AssumeRoleInput) (*AssumeRoleOutput, error) {
	now := s.now().UTC()
	if err := checkDuration(in.DurationSeconds, MaxRoleDuration); err != nil {
		return nil, err
	}
	if err := checkSourceIdentity(in.SourceIdentity); err != nil {
		return nil, err
	}
	dur := in.DurationSeconds
	chained := caller != nil && caller.Temporary
	switch {
	case dur == 0 && chained:
		dur = ChainedMaxDuration
	case dur == 0:
		dur = DefaultRoleDuration
	case chained && dur > ChainedMaxDuration:
		return nil, apierr.New(apierr.ValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case dur > ra.Role.MaxSessionDuration:
		return nil, apierr.New(apierr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if dur > ra.Role.MaxSessionDuration {
		dur = ra.Role.MaxSessionDuration
	}
	packed, err := s.checkSessionPolicies(ctx, in.Policy, in.PolicyARNs, in.Tags)
	if err != nil {
		return nil, err
	}
	sess := &token.Session{
		Kind: token.AssumedRole, Account: string(s.iam.Account()),
		PrincipalID: ra.Role.ID, PrincipalName: ra.Role.Name, PrincipalPath: ra.Role.Path,
		SessionName: in.SessionName, IssuedAt: now, Expires: now.Add(time.Duration(dur) * time.Second),
		SourceIdentity: in.SourceIdentity, Policy: in.Policy, PolicyARNs: in.PolicyARNs,
		Tags: in.Tags, TransitiveTagKeys: in.TransitiveTagKeys, Chained: chained,
	}
	if caller != nil {
		sess.IssuerKeyID = string(caller.AccessKeyID)
		// Source identity and transitive tags carry along a role chain.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
		if caller.SourceIdentity != "" {
			if in.SourceIdentity != "" && in.SourceIdentity != caller.SourceIdentity {
				return nil, apierr.New(apierr.AccessDenied, "SourceIdentity cannot be changed once it is set on a role session.")
			}
			sess.SourceIdentity = caller.SourceIdentity
		}
		for _, k := range caller.TransitiveKeys {
			for _, t := range caller.SessionTags {
				if strings.EqualFold(t.Key, k) {
					for _, nt := range in.Tags {
						if strings.EqualFold(nt.Key, k) {
							return nil, apierr.New(apierr.InvalidParameterValue, "One or more session tags conflict with transitive tags inherited from the calling session.")
						}
					}
					sess.Tags = append(sess.Tags, token.Tag{Key: t.Key, Value: t.Value})
					sess.TransitiveTagKeys = append(sess.TransitiveTagKeys, t.Key)
				}
			}
		}
		if in.MFA {
			sess.MFA, sess.MFAAuthTime = true, now
		} else if caller.MFA {
			sess.MFA, sess.MFAAuthTime = true, caller.MFAAuthTime
		}
	} else if in.MFA {
		sess.MFA, sess.MFAAuthTime = true, now
	}
	creds, err := s.seal(ctx, sess, in.Origin)
	if err != nil {
		return nil, err
	}
	return &AssumeRoleOutput{
		Credentials: *creds, AssumedRoleARN: arn.AssumedRole(s.iam.Account(), ra.Role.Name, in.SessionName),
		AssumedRoleID: ra.Role.ID + ":" + in.SessionName, PackedPolicySize: packed,
		SourceIdentity: sess.SourceIdentity, Session: sess,
	}, nil
}

// GetSessionToken issues a session for an IAM user calling with its
// long-term key.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
func (s *Service) GetSessionToken(ctx context.Context, caller *principal.Caller, durationSeconds int, mfa bool, origin revoke.Origin) (*Credentials, *token.Session, error) {
	if caller.Temporary || caller.Type != principal.IAMUser {
		return nil, nil, apierr.New(apierr.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	if err := checkDuration(durationSeconds, MaxSessionTokenDuration); err != nil {
		return nil, nil, err
	}
	if durationSeconds == 0 {
		durationSeconds = DefaultSessionDuration
	}
	now := s.now().UTC()
	sess := &token.Session{
		Kind: token.UserSession, Account: string(s.iam.Account()),
		PrincipalID: caller.UserID, PrincipalName: caller.UserName, PrincipalPath: caller.UserPath,
		IssuedAt: now, Expires: now.Add(time.Duration(durationSeconds) * time.Second),
		IssuerKeyID: string(caller.AccessKeyID),
	}
	if mfa {
		sess.MFA, sess.MFAAuthTime = true, now
	}
	creds, err := s.seal(ctx, sess, origin)
	if err != nil {
		return nil, nil, err
	}
	return creds, sess, nil
}

// checkDuration enforces DurationSeconds' range, MinDuration..max, with 0
// meaning the default. The HTTP layer checks the same range while
// decoding; this keeps the rule true for every caller of the domain.
func checkDuration(dur, max int) error {
	switch {
	case dur == 0:
		return nil
	case dur < MinDuration:
		return apierr.Validation("durationSeconds", strconv.Itoa(dur), "Member must have value greater than or equal to "+strconv.Itoa(MinDuration))
	case dur > max:
		return apierr.Validation("durationSeconds", strconv.Itoa(dur), "Member must have value less than or equal to "+strconv.Itoa(max))
	}
	return nil
}

// checkSourceIdentity rejects a source identity in AWS's reserved
// namespace.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
func checkSourceIdentity(id string) error {
	if strings.HasPrefix(strings.ToLower(id), "aws:") {
		return apierr.Validation("sourceIdentity", id, "Member must not start with 'aws:'")
	}
	return nil
}

// seal mints the key pair, seals the session into its token and records
// it in the inventory; a session that cannot be recorded is not handed out.
func (s *Service) seal(ctx context.Context, sess *token.Session, origin revoke.Origin) (*Credentials, error) {
	sess.AccessKeyID = token.NewAccessKeyID(arn.PrefixTemporaryKey, s.rand)
	sess.SecretAccessKey = token.NewSecretAccessKey(s.rand)
	tok, err := s.ring.Seal(sess, s.rand)
	if errors.Is(err, token.ErrTooLarge) {
		return nil, apierr.New(apierr.PackedPolicyTooLarge, "%s", "Packed policy consumes more than 100% of allotted space. Please use smaller policy for your request.")
	}
	if err != nil {
		return nil, apierr.Internal(err)
	}
	if s.inv != nil {
		if err := s.inv.RecordSession(ctx, sess, origin); err != nil {
			return nil, err
		}
	}
	return &Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: tok, Expiration: sess.Expires}, nil
}

// checkSessionPolicies validates the session policy, policy ARNs and tags
// and returns PackedPolicySize (-1 when none were passed).
func (s *Service) checkSessionPolicies(ctx context.Context, doc string, arns []string, tags []token.Tag) (int, error) {
	if doc == "" && len(arns) == 0 && len(tags) == 0 {
		return -1, nil
	}
	size := len(doc)
	if doc != "" {
		if _, err := policy.Parse(doc, policy.Identity); err != nil {
			return 0, apierr.New(apierr.MalformedPolicyDocument, "%s", err.Error())
		}
	}
	if len(arns) > maxPolicyARNs {
		return 0, apierr.Validation("policyArns", strconv.Itoa(len(arns))+" items", "Member must have length less than or equal to 10")
	}
	for _, a := range arns {
		size += len(a)
	}
	if doc != "" && size > maxSessionPolicyLen {
		return 0, apierr.New(apierr.PackedPolicyTooLarge, "Packed policy consumes %d%% of allotted space. Please use smaller policy for your request.", size*100/packedLimit)
	}
	if len(arns) > 0 {
		if _, err := s.iam.ManagedPolicies(ctx, arns); err != nil {
			if apierr.Is(err, apierr.NoSuchEntity) {
				return 0, apierr.New(apierr.InvalidParameterValue, "%s", apierr.As(err).Message)
			}
			return 0, err
		}
	}
	for _, t := range tags {
		size += len(t.Key) + len(t.Value)
	}
	pct := size * 100 / packedLimit
	if pct > 100 {
		return 0, apierr.New(apierr.PackedPolicyTooLarge, "Packed policy consumes %d%% of allotted space. Please use smaller policy for your request.", pct)
	}
	return pct, nil
}
