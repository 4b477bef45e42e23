package ec2

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

// Instance role credentials. EC2 hands an instance a session of its
// profile's role, named after the instance, and makes the next one
// available at least five minutes before the current one expires; the
// sessions it serves last about six hours and rotate about hourly.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html#instance-metadata-security-credentials
//
// iamd does the same, bounded by the role's MaxSessionDuration: a session
// lasts min(6 h, MaxSessionDuration) and is replaced once half of it, at
// most an hour, has passed — so a client always receives credentials with
// at least half their lifetime (30 minutes for a one-hour role) left, more
// than the 15 minutes botocore refreshes ahead. Beyond AWS, a session that
// has been revoked (the role-wide AWSRevokeOlderSessions cut-off, or any
// per-session revocation) is replaced on the next fetch or background
// check, whichever comes first, so the instance recovers without a restart.

// Session timing.
const (
	SessionLifetime = 6 * time.Hour
	MaxRotation     = time.Hour
)

// ErrNoCredentials: the instance has no profile, or its profile no role.
var ErrNoCredentials = errors.New("ec2: no role credentials for the instance")

// ErrNotRunning: only running instances have credentials.
var ErrNotRunning = errors.New("ec2: instance is not running")

// AssumeRoleUnauthorized is the Code the metadata service reports when
// the role's trust policy does not let EC2 assume it.
const AssumeRoleUnauthorized = "AssumeRoleUnauthorizedAccess"

// TrustError says EC2 may not assume the instance's role.
type TrustError struct{ Role string }

func (e *TrustError) Error() string {
	return "EC2 cannot assume the role " + e.Role + ". Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#troubleshoot_iam-ec2_errors-info-doc."
}

// RoleCredentials are an instance's current role session.
type RoleCredentials struct {
	RoleName        string
	RoleARN         string
	ProfileARN      string
	ProfileID       string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	LastUpdated     time.Time
}

type issued struct {
	assocID   string
	roleID    string
	creds     RoleCredentials
	sess      *token.Session
	refreshAt time.Time
	gen       uint64
}

type credentialManager struct {
	mu sync.Mutex
	m  map[string]*issued
}

func (c *credentialManager) init() { c.m = map[string]*issued{} }

func (c *credentialManager) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (s *Service) generation() uint64 {
	if s.gen == nil {
		return 0
	}
	return s.gen()
}

// Credentials returns the running instance's current role credentials,
// issuing a new session first when there is none, when it is due for
// rotation, when the association or the profile's role changed, or when
// the current session has been revoked.
func (s *Service) Credentials(ctx context.Context, instanceID string) (*RoleCredentials, error) {
	in, err := s.Instance(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	return s.credentialsOf(ctx, in)
}

// CredentialsFor is Credentials for an instance record just read, which
// saves the metadata endpoint a second read per fetch.
func (s *Service) CredentialsFor(ctx context.Context, in *Instance) (*RoleCredentials, error) {
	return s.credentialsOf(ctx, in)
}

func (s *Service) credentialsOf(ctx context.Context, in *Instance) (*RoleCredentials, error) {
	if in.State != Running {
		return nil, ErrNotRunning
	}
	if in.Association == nil {
		return nil, ErrNoCredentials
	}
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	now := s.now()
	gen := s.generation()
	cur := s.creds.m[in.ID]
	if cur != nil && cur.assocID == in.Association.ID && now.Before(cur.refreshAt) {
		fresh := cur.gen == gen
		if !fresh {
			// IAM changed: the profile may hold another role now.
			_, role, err := s.iam.InstanceProfileRole(ctx, in.Association.ProfileARN)
			fresh = err == nil && role != nil && role.ID == cur.roleID
			if fresh {
				cur.gen = gen
			}
		}
		if fresh && !s.revoked(ctx, cur.sess) {
			c := cur.creds
			return &c, nil
		}
		if fresh {
			s.log.Info("instance session revoked; issuing a new one", "instance", in.ID, "role", cur.creds.RoleName, "access_key_id", cur.creds.AccessKeyID)
		}
	}
	is, err := s.issue(ctx, in, gen)
	if err != nil {
		delete(s.creds.m, in.ID)
		return nil, err
	}
	s.creds.m[in.ID] = is
	c := is.creds
	return &c, nil
}

// issue starts a new session of the instance's role.
func (s *Service) issue(ctx context.Context, in *Instance, gen uint64) (*issued, error) {
	prof, role, err := s.iam.InstanceProfileRole(ctx, in.Association.ProfileARN)
	if apierr.Is(err, apierr.NoSuchEntity) || (err == nil && role == nil) {
		return nil, ErrNoCredentials
	}
	if err != nil {
		return nil, err
	}
	ra, err := s.iam.RoleAuth(ctx, role.Name)
	if apierr.Is(err, apierr.NoSuchEntity) {
		return nil, ErrNoCredentials
	}
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if !s.trusts(ra.Trust, ra.Role.ARN, in.Region, now) {
		return nil, &TrustError{Role: ra.Role.Name}
	}
	dur := min(ra.Role.MaxSessionDuration, int(SessionLifetime/time.Second))
	out, err := s.sts.AssumeRole(ctx, nil, ra, sts.AssumeRoleInput{
		SessionName: in.ID, DurationSeconds: dur, Origin: revoke.Origin{UserAgent: ServicePrincipal},
	})
	if err != nil {
		return nil, err
	}
	life := out.Session.Expires.Sub(out.Session.IssuedAt)
	return &issued{
		assocID: in.Association.ID, roleID: ra.Role.ID, sess: out.Session, gen: gen,
		refreshAt: out.Session.IssuedAt.Add(min(MaxRotation, life/2)),
		creds: RoleCredentials{
			RoleName: ra.Role.Name, RoleARN: ra.Role.ARN, ProfileARN: prof.ARN, ProfileID: prof.ID,
			AccessKeyID: out.Credentials.AccessKeyID, SecretAccessKey: out.Credentials.SecretAccessKey,
			SessionToken: out.Credentials.SessionToken, Expiration: out.Credentials.Expiration,
			LastUpdated: out.Session.IssuedAt,
		},
	}, nil
}

// trusts reports whether the role's trust policy lets the EC2 service
// principal assume it.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
func (s *Service) trusts(trust *policy.Compiled, roleARN, region string, now time.Time) bool {
	if trust == nil {
		return false
	}
	pc := policy.NewContext()
	pc.SetString("aws:CurrentTime", now.Format(time.RFC3339))
	pc.SetString("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	pc.SetString("aws:PrincipalServiceName", ServicePrincipal)
	pc.SetString("aws:SourceAccount", string(s.account))
	if region != "" {
		pc.SetString("aws:RequestedRegion", region)
	}
	d := policy.Evaluate(
		&policy.Set{Resource: &policy.Named{ID: "TrustPolicy", Type: "resource", Policy: trust}, ResourceIsTrust: true},
		&policy.Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: policy.Principal{Service: ServicePrincipal}, Context: pc},
	)
	return d.Result == policy.Allowed
}

// Maintain rotates sessions that are due and replaces revoked ones, for
// every instance that has fetched credentials; the server runs it every
// second. Instances whose role is untouched keep their session.
func (s *Service) Maintain(ctx context.Context) {
	s.creds.mu.Lock()
	ids := make([]string, 0, len(s.creds.m))
	for id := range s.creds.m {
		ids = append(ids, id)
	}
	s.creds.mu.Unlock()
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		in, err := s.Instance(ctx, id)
		if err != nil || in.State != Running || in.Association == nil {
			s.creds.forget(id)
			continue
		}
		if _, err := s.credentialsOf(ctx, in); err != nil && !errors.Is(err, ErrNoCredentials) {
			var te *TrustError
			if !errors.As(err, &te) && ctx.Err() == nil {
				s.log.Warn("refresh instance credentials", "instance", id, "err", err)
			}
		}
	}
}

// CurrentSession is the session the instance's endpoint serves now, if
// any (for tests and the CLI).
func (s *Service) CurrentSession(id string) (*token.Session, bool) {
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	cur, ok := s.creds.m[id]
	if !ok {
		return nil, false
	}
	return cur.sess, true
}
