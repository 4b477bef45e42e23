package httpapi

import (
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/sts"
)

// ruleFederatedName is GetFederationToken's Name (userNameType in the STS
// model: 2..32 characters).
var ruleFederatedName = Pattern(`[\w+=,.@-]*`).Len(2, 32)

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
func (a *stsAPI) getFederationToken(c *Call) (any, error) {
	p := c.Params
	name, err := p.Required("Name", ruleFederatedName)
	if err != nil {
		return nil, err
	}
	dur, err := p.Int("DurationSeconds", sts.MinDuration, sts.MaxFederationDuration, 0)
	if err != nil {
		return nil, err
	}
	doc, err := p.Optional("Policy", ruleSessionPolicy)
	if err != nil {
		return nil, err
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
	if c.Caller.Temporary || c.Caller.UserName == "" {
		c.AllowWithoutPolicy()
		return nil, apierr.New(apierr.AccessDenied, "Cannot call GetFederationToken with session credentials")
	}
	var opts []authz.Option
	if len(sessionTags) > 0 {
		keys := make([]string, len(sessionTags))
		for i, t := range sessionTags {
			keys[i] = t.Key
			opts = append(opts, authz.WithKey("aws:RequestTag/"+t.Key, t.Value))
		}
		opts = append(opts, authz.WithKey("aws:TagKeys", keys...))
	}
	resource := a.sts.FederatedUserARN(name)
	if err := c.Authorize("sts:GetFederationToken", resource, opts...); err != nil {
		return nil, err
	}
	if len(sessionTags) > 0 {
		if err := c.Authorize("sts:TagSession", resource, opts...); err != nil {
			return nil, err
		}
	}
	out, err := a.sts.GetFederationToken(c.Ctx, c.Caller, sts.FederationInput{
		Name: name, DurationSeconds: dur, Policy: doc, PolicyARNs: policyARNs, Tags: sessionTags, Origin: originOf(c),
	})
	if err != nil {
		return nil, err
	}
	type federatedUser struct {
		FederatedUserId string
		Arn             string
	}
	res := struct {
		Credentials      xmlCredentials
		FederatedUser    federatedUser
		PackedPolicySize *int `xml:",omitempty"`
	}{
		Credentials:   credentialsOf(&out.Credentials),
		FederatedUser: federatedUser{FederatedUserId: out.FederatedUserID, Arn: out.FederatedUserARN},
	}
	if out.PackedPolicySize >= 0 {
		res.PackedPolicySize = &out.PackedPolicySize
	}
	return res, nil
}
