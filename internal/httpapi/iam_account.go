package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerAccount(m map[string]Handler) {
	m["CreateAccountAlias"] = a.createAccountAlias
	m["DeleteAccountAlias"] = a.deleteAccountAlias
	m["ListAccountAliases"] = a.listAccountAliases
	m["GetAccountSummary"] = a.getAccountSummary
	m["GetAccountAuthorizationDetails"] = a.getAccountAuthorizationDetails
}

// ruleAlias is accountAliasType's length; its pattern (with a lookahead
// Go's regexp lacks) is checked in package iam.
var ruleAlias = StringRule{}.Len(3, 63)

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccountAlias.html
func (a *iamAPI) createAccountAlias(c *Call) (any, error) {
	alias, err := c.Params.Required("AccountAlias", ruleAlias)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreateAccountAlias", "*"); err != nil {
		return nil, err
	}
	return nil, a.svc.CreateAccountAlias(c.Ctx, alias)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccountAlias.html
func (a *iamAPI) deleteAccountAlias(c *Call) (any, error) {
	alias, err := c.Params.Required("AccountAlias", ruleAlias)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteAccountAlias", "*"); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteAccountAlias(c.Ctx, alias)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccountAliases.html
func (a *iamAPI) listAccountAliases(c *Call) (any, error) {
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListAccountAliases", "*"); err != nil {
		return nil, err
	}
	res, err := a.svc.ListAccountAliases(c.Ctx, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccountAliases memberList[string]
		IsTruncated    bool
		Marker         string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, s := range res.Items {
		out.AccountAliases.Member = append(out.AccountAliases.Member, *s)
	}
	return out, nil
}

// xmlEntry is one entry of a Query map (<entry><key/><value/></entry>).
type xmlEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
func (a *iamAPI) getAccountSummary(c *Call) (any, error) {
	if err := c.Authorize("iam:GetAccountSummary", "*"); err != nil {
		return nil, err
	}
	entries, err := a.svc.GetAccountSummary(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := struct {
		SummaryMap []xmlEntry `xml:"SummaryMap>entry"`
	}{}
	for _, e := range entries {
		out.SummaryMap = append(out.SummaryMap, xmlEntry(e))
	}
	return out, nil
}

// Structures of GetAccountAuthorizationDetails.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
type (
	xmlPolicyDetail struct {
		PolicyName     string
		PolicyDocument PolicyDoc
	}
	xmlUserDetail struct {
		Path                    string
		UserName                string
		UserId                  string
		Arn                     string
		CreateDate              xmlTime
		UserPolicyList          memberList[xmlPolicyDetail]
		GroupList               memberList[string]
		AttachedManagedPolicies memberList[xmlAttachedPolicy]
		PermissionsBoundary     *xmlBoundary `xml:",omitempty"`
		Tags                    *xmlTagList  `xml:"Tags,omitempty"`
	}
	xmlGroupDetail struct {
		Path                    string
		GroupName               string
		GroupId                 string
		Arn                     string
		CreateDate              xmlTime
		GroupPolicyList         memberList[xmlPolicyDetail]
		AttachedManagedPolicies memberList[xmlAttachedPolicy]
	}
	xmlRoleDetail struct {
		Path                     string
		RoleName                 string
		RoleId                   string
		Arn                      string
		CreateDate               xmlTime
		AssumeRolePolicyDocument PolicyDoc
		InstanceProfileList      memberList[xmlInstanceProfile]
		RolePolicyList           memberList[xmlPolicyDetail]
		AttachedManagedPolicies  memberList[xmlAttachedPolicy]
		PermissionsBoundary      *xmlBoundary     `xml:",omitempty"`
		Tags                     *xmlTagList      `xml:"Tags,omitempty"`
		RoleLastUsed             *xmlRoleLastUsed `xml:",omitempty"`
	}
	xmlPolicyVersionDetail struct {
		Document         PolicyDoc
		VersionId        string
		IsDefaultVersion bool
		CreateDate       xmlTime
	}
	xmlManagedPolicyDetail struct {
		PolicyName                    string
		PolicyId                      string
		Arn                           string
		Path                          string
		DefaultVersionId              string
		AttachmentCount               int
		PermissionsBoundaryUsageCount int
		IsAttachable                  bool
		Description                   string `xml:",omitempty"`
		CreateDate                    xmlTime
		UpdateDate                    xmlTime
		PolicyVersionList             memberList[xmlPolicyVersionDetail]
	}
)

func policyDetails(ps []*iam.InlinePolicy) memberList[xmlPolicyDetail] {
	var out memberList[xmlPolicyDetail]
	for _, p := range ps {
		out.Member = append(out.Member, xmlPolicyDetail{PolicyName: p.Name, PolicyDocument: PolicyDoc(p.Document)})
	}
	return out
}

func attachedDetails(ps []iam.AttachedPolicy) memberList[xmlAttachedPolicy] {
	var out memberList[xmlAttachedPolicy]
	for _, p := range ps {
		out.Member = append(out.Member, xmlAttachedPolicy{PolicyName: p.Name, PolicyArn: p.ARN})
	}
	return out
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
func (a *iamAPI) getAccountAuthorizationDetails(c *Call) (any, error) {
	filter, err := c.Params.List("Filter")
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetAccountAuthorizationDetails", "*"); err != nil {
		return nil, err
	}
	res, err := a.svc.GetAccountAuthorizationDetails(c.Ctx, filter, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		UserDetailList  memberList[xmlUserDetail]
		GroupDetailList memberList[xmlGroupDetail]
		RoleDetailList  memberList[xmlRoleDetail]
		Policies        memberList[xmlManagedPolicyDetail]
		IsTruncated     bool
		Marker          string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, d := range res.Users {
		u := d.User
		x := xmlUserDetail{
			Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN, CreateDate: xmlTime(u.CreateDate),
			UserPolicyList: policyDetails(d.Inline), AttachedManagedPolicies: attachedDetails(d.Attached),
			PermissionsBoundary: boundaryOf(u.Boundary), Tags: xmlTags(u.Tags),
		}
		x.GroupList.Member = d.Groups
		out.UserDetailList.Member = append(out.UserDetailList.Member, x)
	}
	for _, d := range res.Groups {
		g := d.Group
		out.GroupDetailList.Member = append(out.GroupDetailList.Member, xmlGroupDetail{
			Path: g.Path, GroupName: g.Name, GroupId: g.ID, Arn: g.ARN, CreateDate: xmlTime(g.CreateDate),
			GroupPolicyList: policyDetails(d.Inline), AttachedManagedPolicies: attachedDetails(d.Attached),
		})
	}
	for _, d := range res.Roles {
		r := d.Role
		full := roleOf(r)
		x := xmlRoleDetail{
			Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: xmlTime(r.CreateDate),
			AssumeRolePolicyDocument: PolicyDoc(r.TrustPolicy),
			RolePolicyList:           policyDetails(d.Inline), AttachedManagedPolicies: attachedDetails(d.Attached),
			PermissionsBoundary: full.PermissionsBoundary, Tags: full.Tags, RoleLastUsed: full.RoleLastUsed,
		}
		for _, p := range d.Profiles {
			x.InstanceProfileList.Member = append(x.InstanceProfileList.Member, profileOf(p, false))
		}
		out.RoleDetailList.Member = append(out.RoleDetailList.Member, x)
	}
	for _, d := range res.Policies {
		p := d.Policy
		x := xmlManagedPolicyDetail{
			PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersionID,
			AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.BoundaryUsage, IsAttachable: p.IsAttachable,
			Description: p.Description, CreateDate: xmlTime(p.CreateDate), UpdateDate: xmlTime(p.UpdateDate),
		}
		for _, v := range d.Versions {
			x.PolicyVersionList.Member = append(x.PolicyVersionList.Member, xmlPolicyVersionDetail{
				Document: PolicyDoc(v.Document), VersionId: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: xmlTime(v.CreateDate),
			})
		}
		out.Policies.Member = append(out.Policies.Member, x)
	}
	return out, nil
}
