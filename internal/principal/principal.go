// Package principal defines who is behind an authenticated request: the
// Caller, with its identity, credential and session attributes. It is
// shared vocabulary for authz, sts and the HTTP edge, and knows nothing of
// how a caller was authenticated.
package principal

import (
	"time"

	"github.com/iamd/iamd/internal/arn"
)

// PrincipalType is the kind of identity behind a request, as CloudTrail's
// userIdentity.type names it.
type PrincipalType string

const (
	IAMUser     PrincipalType = "IAMUser"
	AssumedRole PrincipalType = "AssumedRole"
	Root        PrincipalType = "Root"
	// FederatedUser is a GetFederationToken session: UserName is the IAM
	// user that issued it, SessionName the federated user's name.
	FederatedUser PrincipalType = "FederatedUser"
)

// Tag is a principal or session tag.
type Tag struct{ Key, Value string }

// Caller is an authenticated principal: who signed the request and with
// what credential.
type Caller struct {
	Account     arn.AccountID
	Type        PrincipalType
	ARN         string // user ARN, or arn:aws:sts::A:assumed-role/R/S
	UserID      string // aws:userid: AIDA… for users, AROA…:session for role sessions
	UserName    string // the IAM user's name (users and their GetSessionToken sessions)
	UserPath    string
	RoleName    string // role sessions
	RoleID      string
	RoleARN     string
	RolePath    string
	SessionName string
	AccessKeyID arn.AccessKeyID

	// Temporary credentials only.
	Temporary      bool
	IssuedAt       time.Time
	Expires        time.Time
	MFA            bool
	MFAAuthTime    time.Time
	SourceIdentity string
	Chained        bool // a role session obtained with temporary credentials
	// IssuerKeyID is the access key that called AssumeRole,
	// GetSessionToken or GetFederationToken for this session (AKIA… or,
	// for a chained session, ASIA…), as the token carries it.
	IssuerKeyID string
	// IssuerUserID is, for a FederatedUser, the id (AIDA…) of the IAM user
	// that called GetFederationToken: the user its session belongs to.
	IssuerUserID   string
	SessionPolicy  string   // inline session policy
	SessionARNs    []string // session managed policies
	SessionTags    []Tag
	TransitiveKeys []string

	Tags []Tag // the principal's tags: the user's or role's, overridden by session tags
}

// PrincipalARN is aws:PrincipalArn: the role's ARN for role sessions, the
// user's otherwise.
func (c *Caller) PrincipalARN() string {
	if c.Type == AssumedRole {
		return c.RoleARN
	}
	return c.ARN
}
