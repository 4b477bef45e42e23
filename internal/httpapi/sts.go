package httpapi

import (
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

// STS's Query API.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html

type stsAPI struct {
	sts *sts.Service
	iam *iam.Service
}

// STSService returns the STS Query service.
func STSService(s *sts.Service, i *iam.Service) *Service {
	a := &stsAPI{sts: s, iam: i}
	return &Service{Name: "sts", Version: STSVersion, Namespace: STSNamespace, Actions: map[string]Handler{
		"AssumeRole":         a.assumeRole,
		"GetSessionToken":    a.getSessionToken,
		"GetCallerIdentity":  a.getCallerIdentity,
		"GetAccessKeyInfo":   a.getAccessKeyInfo,
		"GetFederationToken": a.getFederationToken,
	}}
}

// Parameter rules from the STS service model.
var (
	ruleRoleARN        = StringRule{}.Len(20, 2048)
	ruleSessionName    = Pattern(`[\w+=,.@-]*`).Len(2, 64)
	ruleSessionPolicy  = Pattern(`[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`).Len(1, 2048)
	ruleExternalID     = Pattern(`[\w+=,.@:\/-]*`).Len(2, 1224)
	ruleMFASerial      = Pattern(`[\w+=/:,.@-]*`).Len(9, 256)
	ruleTokenCode      = Pattern(`[\d]*`).Len(6, 6)
	ruleSourceIdentity = Pattern(`[\w+=,.@-]*`).Len(2, 64)
	ruleKeyID          = Pattern(`[\w]*`).Len(16, 128)
	ruleSessionTagKey  = Pattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`).Len(1, 128)
	ruleSessionTagVal  = Pattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`).Len(0, 256)
)

type xmlCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      xmlTime
}

func credentialsOf(c *sts.Credentials) xmlCredentials {
	return xmlCredentials{AccessKeyId: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: xmlTime(c.Expiration)}
}

// verifyMFA checks SerialNumber/TokenCode when sent; it reports whether
// MFA was presented and valid.
func (a *stsAPI) verifyMFA(c *Call) (bool, error) {
	serial, err := c.Params.Optional("SerialNumber", ruleMFASerial)
	if err != nil {
		return false, err
	}
	code, err := c.Params.Optional("TokenCode", ruleTokenCode)
	if err != nil {
		return false, err
	}
	if serial == "" && code == "" {
		return false, nil
	}
	if serial == "" || code == "" {
		return false, apierr.New(apierr.ValidationError, "SerialNumber and TokenCode must be passed together.")
	}
	if c.Caller.UserName == "" {
		return false, apierr.New(apierr.AccessDenied, "MultiFactorAuthentication failed with invalid MFA one time pass code.")
	}
	if err := a.iam.VerifyMFA(c.Ctx, c.Caller.UserName, serial, code, c.Env.Now); err != nil {
		return false, err
	}
	return true, nil
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func (a *stsAPI) assumeRole(c *Call) (any, error) {
	p := c.Params
	roleARN, err := p.Required("RoleArn", ruleRoleARN)
	if err != nil {
		return nil, err
	}
	name, err := p.Required("RoleSessionName", ruleSessionName)
	if err != nil {
		return nil, err
	}
	dur, err := p.Int("DurationSeconds", sts.MinDuration, sts.MaxRoleDuration, 0)
	if err != nil {
		return nil, err
	}
	doc, err := p.Optional("Policy", ruleSessionPolicy)
	if err != nil {
		return nil, err
	}
	externalID, err := p.Optional("ExternalId", ruleExternalID)
	if err != nil {
		return nil, err
	}
	sourceID, err := p.Optional("SourceIdentity", ruleSourceIdentity)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(sourceID), "aws:") {
		return nil, apierr.Validation("sourceIdentity", sourceID, "Member must not start with 'aws:'")
	}
	arnMembers, err := p.Structs("PolicyArns")
	if err != nil {
		return nil, err
	}
	var policyARNs []string
	for _, m := range arnMembers {
		policyARNs = append(policyARNs, m.Get("arn"))
	}
	sessionTags, err := stsTags(p)
	if err != nil {
		return nil, err
	}
	transitive, err := p.List("TransitiveTagKeys")
	if err != nil {
		return nil, err
	}
	if len(transitive) > 50 {
		return nil, apierr.Validation("transitiveTagKeys", "", "Member must have length less than or equal to 50")
	}

	ra, err := a.sts.ResolveRole(c.Ctx, roleARN)
	if err != nil {
		if apierr.Is(err, apierr.NoSuchEntity) {
			// AWS does not tell a caller whether a role exists.
			c.AllowWithoutPolicy()
			return nil, apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.Caller.ARN, roleARN)
		}
		return nil, err
	}
	mfa, err := a.verifyMFA(c)
	if err != nil {
		return nil, err
	}
	opts := []authz.Option{authz.WithTrustPolicy(ra.Trust), authz.WithKey("sts:RoleSessionName", name)}
	if externalID != "" {
		opts = append(opts, authz.WithKey("sts:ExternalId", externalID))
	}
	if sourceID != "" {
		opts = append(opts, authz.WithKey("sts:SourceIdentity", sourceID))
	}
	if mfa {
		opts = append(opts, authz.WithKey("aws:MultiFactorAuthPresent", "true"), authz.WithKey("aws:MultiFactorAuthAge", "0"))
	}
	var tagOpts []authz.Option
	for _, t := range sessionTags {
		tagOpts = append(tagOpts, authz.WithKey("aws:RequestTag/"+t.Key, t.Value))
	}
	if len(sessionTags) > 0 {
		keys := make([]string, len(sessionTags))
		for i, t := range sessionTags {
			keys[i] = t.Key
		}
		tagOpts = append(tagOpts, authz.WithKey("aws:TagKeys", keys...))
	}
	if len(transitive) > 0 {
		tagOpts = append(tagOpts, authz.WithKey("sts:TransitiveTagKeys", transitive...))
	}
	opts = append(opts, tagOpts...)
	if err := c.Authorize("sts:AssumeRole", ra.Role.ARN, opts...); err != nil {
		return nil, err
	}
	// Passing session tags needs sts:TagSession, a source identity needs
	// sts:SetSourceIdentity, each allowed by the trust policy.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
	if len(sessionTags) > 0 || len(transitive) > 0 {
		if err := c.Authorize("sts:TagSession", ra.Role.ARN, opts...); err != nil {
			return nil, err
		}
	}
	if sourceID != "" {
		if err := c.Authorize("sts:SetSourceIdentity", ra.Role.ARN, opts...); err != nil {
			return nil, err
		}
	}
	out, err := a.sts.AssumeRole(c.Ctx, c.Caller, ra, sts.AssumeRoleInput{
		SessionName: name, DurationSeconds: dur, Policy: doc, PolicyARNs: policyARNs,
		Tags: sessionTags, TransitiveTagKeys: transitive, SourceIdentity: sourceID, MFA: mfa,
		Origin: originOf(c),
	})
	if err != nil {
		return nil, err
	}
	type assumedRoleUser struct {
		Arn           string
		AssumedRoleId string
	}
	res := struct {
		SourceIdentity   string `xml:",omitempty"`
		AssumedRoleUser  assumedRoleUser
		Credentials      xmlCredentials
		PackedPolicySize *int `xml:",omitempty"`
	}{
		SourceIdentity:  out.SourceIdentity,
		AssumedRoleUser: assumedRoleUser{Arn: out.AssumedRoleARN, AssumedRoleId: out.AssumedRoleID},
		Credentials:     credentialsOf(&out.Credentials),
	}
	if out.PackedPolicySize >= 0 {
		res.PackedPolicySize = &out.PackedPolicySize
	}
	return res, nil
}

// stsTags reads Tags.member.N.Key/Value for a session.
func stsTags(p Params) ([]token.Tag, error) {
	ms, err := p.Structs("Tags")
	if err != nil {
		return nil, err
	}
	if len(ms) > 50 {
		return nil, apierr.Validation("tags", "", "Member must have length less than or equal to 50")
	}
	seen := map[string]bool{}
	out := make([]token.Tag, 0, len(ms))
	for i, m := range ms {
		k, v := m.Get("Key"), m.Get("Value")
		f := "tags." + itoaSmall(i+1) + ".member"
		if err := ruleSessionTagKey.Check(f+".key", k); err != nil {
			return nil, err
		}
		if err := ruleSessionTagVal.Check(f+".value", v); err != nil {
			return nil, err
		}
		if seen[strings.ToLower(k)] {
			return nil, apierr.New(apierr.InvalidParameterValue, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		out = append(out, token.Tag{Key: k, Value: v})
	}
	return out, nil
}

// originOf is where the issuing request came from, for the session
// inventory.
func originOf(c *Call) revoke.Origin {
	o := revoke.Origin{UserAgent: c.Env.UserAgent}
	if c.Env.SourceIP.IsValid() {
		o.SourceIP = c.Env.SourceIP.String()
	}
	return o
}

func itoaSmall(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoaSmall(n/10) + string(rune('0'+n%10))
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
func (a *stsAPI) getSessionToken(c *Call) (any, error) {
	dur, err := c.Params.Int("DurationSeconds", sts.MinDuration, sts.MaxSessionTokenDuration, 0)
	if err != nil {
		return nil, err
	}
	// No policy can restrict GetSessionToken; only who may call it.
	c.AllowWithoutPolicy()
	if c.Caller.Temporary {
		return nil, apierr.New(apierr.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	mfa, err := a.verifyMFA(c)
	if err != nil {
		return nil, err
	}
	creds, _, err := a.sts.GetSessionToken(c.Ctx, c.Caller, dur, mfa, originOf(c))
	if err != nil {
		return nil, err
	}
	return struct{ Credentials xmlCredentials }{credentialsOf(creds)}, nil
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
// No permission is needed, and an explicit deny does not block it.
func (a *stsAPI) getCallerIdentity(c *Call) (any, error) {
	c.AllowWithoutPolicy()
	return struct {
		UserId  string
		Account string
		Arn     string
	}{UserId: c.Caller.UserID, Account: string(c.Caller.Account), Arn: c.Caller.ARN}, nil
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html
func (a *stsAPI) getAccessKeyInfo(c *Call) (any, error) {
	id, err := c.Params.Required("AccessKeyId", ruleKeyID)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("sts:GetAccessKeyInfo", "*"); err != nil {
		return nil, err
	}
	k := arn.AccessKeyID(id)
	known := k.Temporary() && len(id) == 20
	if !known && strings.HasPrefix(id, arn.PrefixLongTermKey) {
		if _, err := a.iam.AccessKeyAuth(c.Ctx, id); err == nil {
			known = true
		}
	}
	if !known {
		return nil, apierr.New(apierr.InvalidParameterValue, "The access key %s is not known to this account.", id)
	}
	return struct{ Account string }{string(a.iam.Account())}, nil
}
