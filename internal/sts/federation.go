package sts

import (
	"context"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/token"
)

// GetFederationToken limits.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
const (
	DefaultFederationDuration = 43200
	MaxFederationDuration     = 129600
)

// FederationInput is GetFederationToken's input after parameter decoding.
type FederationInput struct {
	Name            string // the federated user's name, 2..32 characters
	DurationSeconds int    // 0: the default of 12 hours
	Policy          string
	PolicyARNs      []string
	Tags            []token.Tag
	Origin          revoke.Origin
}

// FederationOutput is GetFederationToken's result.
type FederationOutput struct {
	Credentials      Credentials
	FederatedUserARN string // arn:aws:sts::ACCT:federated-user/NAME
	FederatedUserID  string // ACCT:NAME
	PackedPolicySize int    // percent; -1 when no session policy or tags were passed
	Session          *token.Session
}

// FederatedUserARN is the ARN of a federated user of this account.
func (s *Service) FederatedUserARN(name string) string {
	return "arn:aws:sts::" + string(s.iam.Account()) + ":federated-user/" + name
}

// GetFederationToken issues a federated user session for an IAM user
// calling with its long-term key. The session has the user's permissions
// limited by the session policies, so one without a session policy can
// do nothing but GetCallerIdentity (authz enforces that).
func (s *Service) GetFederationToken(ctx context.Context, caller *principal.Caller, in FederationInput) (*FederationOutput, error) {
	if caller.Temporary || caller.Type != principal.IAMUser {
		return nil, apierr.New(apierr.AccessDenied, "Cannot call GetFederationToken with session credentials")
	}
	dur := in.DurationSeconds
	if dur == 0 {
		dur = DefaultFederationDuration
	}
	if dur < MinDuration || dur > MaxFederationDuration {
		return nil, apierr.Validation("durationSeconds", itoa(dur), "Member must have value between 900 and 129600")
	}
	packed, err := s.checkSessionPolicies(ctx, in.Policy, in.PolicyARNs, in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sess := &token.Session{
		Kind: token.Federated, Account: string(s.iam.Account()),
		PrincipalID: caller.UserID, PrincipalName: caller.UserName, PrincipalPath: caller.UserPath,
		SessionName: in.Name, IssuedAt: now, Expires: now.Add(time.Duration(dur) * time.Second),
		Policy: in.Policy, PolicyARNs: in.PolicyARNs, Tags: in.Tags, IssuerKeyID: string(caller.AccessKeyID),
	}
	creds, err := s.seal(ctx, sess, in.Origin)
	if err != nil {
		return nil, err
	}
	return &FederationOutput{
		Credentials: *creds, FederatedUserARN: s.FederatedUserARN(in.Name),
		FederatedUserID: string(s.iam.Account()) + ":" + in.Name, PackedPolicySize: packed, Session: sess,
	}, nil
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
