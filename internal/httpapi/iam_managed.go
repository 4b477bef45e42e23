package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

// Managed policies, their versions, their attachments, and users'
// permissions boundaries (roles' are in iam_roles.go).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html

func (a *iamAPI) registerManagedPolicies(m map[string]Handler) {
	m["CreatePolicy"] = a.createPolicy
	m["GetPolicy"] = a.getPolicy
	m["ListPolicies"] = a.listPolicies
	m["DeletePolicy"] = a.deletePolicy
	m["CreatePolicyVersion"] = a.createPolicyVersion
	m["GetPolicyVersion"] = a.getPolicyVersion
	m["ListPolicyVersions"] = a.listPolicyVersions
	m["DeletePolicyVersion"] = a.deletePolicyVersion
	m["SetDefaultPolicyVersion"] = a.setDefaultPolicyVersion
	m["ListEntitiesForPolicy"] = a.listEntitiesForPolicy
	for _, k := range entityKinds {
		m["Attach"+k.title+"Policy"] = a.attachPolicy(k)
		m["Detach"+k.title+"Policy"] = a.detachPolicy(k)
		m["ListAttached"+k.title+"Policies"] = a.listAttachedPolicies(k)
	}
	m["PutUserPermissionsBoundary"] = a.putUserPermissionsBoundary
	m["DeleteUserPermissionsBoundary"] = a.deleteUserPermissionsBoundary
}

// Parameter rules of managed policy actions (from the IAM service model).
var (
	rulePolicyPath      = Pattern(`((/[A-Za-z0-9\.,\+@=_-]+)*)/`).Len(1, 512) // policyPathType
	rulePolicyVersionID = Pattern(`v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	rulePolicyScope     = Pattern(`All|AWS|Local`)
	rulePolicyUsage     = Pattern(`PermissionsPolicy|PermissionsBoundary`)
	ruleEntityFilter    = Pattern(`User|Role|Group|LocalManagedPolicy|AWSManagedPolicy`)
)

// xmlPolicy is IAM's Policy structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html
type xmlPolicy struct {
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
	Tags                          *xmlTagList `xml:"Tags,omitempty"`
}

func policyOf(p *iam.ManagedPolicy) xmlPolicy {
	return xmlPolicy{
		PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.BoundaryUsage,
		IsAttachable: p.IsAttachable, Description: p.Description,
		CreateDate: xmlTime(p.CreateDate), UpdateDate: xmlTime(p.UpdateDate), Tags: xmlTags(p.Tags),
	}
}

// xmlPolicyVersion is IAM's PolicyVersion structure; Document only in
// GetPolicyVersion.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PolicyVersion.html
type xmlPolicyVersion struct {
	Document         PolicyDoc `xml:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       xmlTime
}

func versionOf(v *iam.PolicyVersion) xmlPolicyVersion {
	return xmlPolicyVersion{VersionId: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: xmlTime(v.CreateDate)}
}

// policyARNParam reads PolicyArn.
func policyARNParam(c *Call) (string, error) { return c.Params.Required("PolicyArn", ruleARN) }

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
func (a *iamAPI) createPolicy(c *Call) (any, error) {
	name, err := c.Params.Required("PolicyName", ruleAny)
	if err != nil {
		return nil, err
	}
	path, err := c.Params.Optional("Path", rulePolicyPath)
	if err != nil {
		return nil, err
	}
	doc, err := c.Params.Required("PolicyDocument", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	desc, err := c.Params.Optional("Description", ruleDescription)
	if err != nil {
		return nil, err
	}
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreatePolicy", a.resourceARN("policy", path, name), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	p, err := a.svc.CreatePolicy(c.Ctx, iam.CreatePolicyInput{Name: name, Path: path, Document: doc, Description: desc, Tags: tg})
	if err != nil {
		return nil, err
	}
	return struct{ Policy xmlPolicy }{policyOf(p)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html
func (a *iamAPI) getPolicy(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetPolicy", arn); err != nil {
		return nil, err
	}
	p, err := a.svc.GetPolicy(c.Ctx, arn)
	if err != nil {
		return nil, err
	}
	return struct{ Policy xmlPolicy }{policyOf(p)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html
func (a *iamAPI) listPolicies(c *Call) (any, error) {
	var in iam.ListPoliciesInput
	var err error
	if in.Scope, err = c.Params.Optional("Scope", rulePolicyScope); err != nil {
		return nil, err
	}
	if in.OnlyAttached, err = c.Params.Bool("OnlyAttached"); err != nil {
		return nil, err
	}
	if in.PathPrefix, err = c.Params.Optional("PathPrefix", rulePolicyPath); err != nil {
		return nil, err
	}
	if in.Usage, err = c.Params.Optional("PolicyUsageFilter", rulePolicyUsage); err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListPolicies", a.resourceARN("policy", "/", "*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListPolicies(c.Ctx, in, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies    memberList[xmlPolicy]
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, p := range res.Items {
		x := policyOf(p)
		x.Description, x.Tags = "", nil // ListPolicies returns neither
		out.Policies.Member = append(out.Policies.Member, x)
	}
	return out, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html
func (a *iamAPI) deletePolicy(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeletePolicy", arn); err != nil {
		return nil, err
	}
	return nil, a.svc.DeletePolicy(c.Ctx, arn)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html
func (a *iamAPI) createPolicyVersion(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	doc, err := c.Params.Required("PolicyDocument", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	setDefault, err := c.Params.Bool("SetAsDefault")
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreatePolicyVersion", arn); err != nil {
		return nil, err
	}
	v, err := a.svc.CreatePolicyVersion(c.Ctx, arn, doc, setDefault)
	if err != nil {
		return nil, err
	}
	return struct{ PolicyVersion xmlPolicyVersion }{versionOf(v)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html
func (a *iamAPI) getPolicyVersion(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	id, err := c.Params.Required("VersionId", rulePolicyVersionID)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetPolicyVersion", arn); err != nil {
		return nil, err
	}
	v, err := a.svc.GetPolicyVersion(c.Ctx, arn, id)
	if err != nil {
		return nil, err
	}
	x := versionOf(v)
	x.Document = PolicyDoc(v.Document)
	return struct{ PolicyVersion xmlPolicyVersion }{x}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyVersions.html
func (a *iamAPI) listPolicyVersions(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListPolicyVersions", arn); err != nil {
		return nil, err
	}
	res, err := a.svc.ListPolicyVersions(c.Ctx, arn, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		Versions    memberList[xmlPolicyVersion]
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, v := range res.Items {
		out.Versions.Member = append(out.Versions.Member, versionOf(v))
	}
	return out, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicyVersion.html
func (a *iamAPI) deletePolicyVersion(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	id, err := c.Params.Required("VersionId", rulePolicyVersionID)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeletePolicyVersion", arn); err != nil {
		return nil, err
	}
	return nil, a.svc.DeletePolicyVersion(c.Ctx, arn, id)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SetDefaultPolicyVersion.html
func (a *iamAPI) setDefaultPolicyVersion(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	id, err := c.Params.Required("VersionId", rulePolicyVersionID)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:SetDefaultPolicyVersion", arn); err != nil {
		return nil, err
	}
	return nil, a.svc.SetDefaultPolicyVersion(c.Ctx, arn, id)
}

// Attach{User,Group,Role}Policy; iam:PolicyARN is the policy's ARN.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html
func (a *iamAPI) attachPolicy(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		arn, err := policyARNParam(c)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:Attach"+k.title+"Policy", a.entityARN(c, k, entity), withKey("iam:PolicyARN", arn)); err != nil {
			return nil, err
		}
		return nil, a.svc.AttachPolicy(c.Ctx, k.kind, entity, arn)
	}
}

// Detach{User,Group,Role}Policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachRolePolicy.html
func (a *iamAPI) detachPolicy(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		arn, err := policyARNParam(c)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:Detach"+k.title+"Policy", a.entityARN(c, k, entity), withKey("iam:PolicyARN", arn)); err != nil {
			return nil, err
		}
		return nil, a.svc.DetachPolicy(c.Ctx, k.kind, entity, arn)
	}
}

// xmlAttachedPolicy is IAM's AttachedPolicy structure.
type xmlAttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

// ListAttached{User,Group,Role}Policies.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html
func (a *iamAPI) listAttachedPolicies(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		prefix, err := c.Params.Optional("PathPrefix", rulePolicyPath)
		if err != nil {
			return nil, err
		}
		pg, err := page(c.Params)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:ListAttached"+k.title+"Policies", a.entityARN(c, k, entity)); err != nil {
			return nil, err
		}
		res, err := a.svc.ListAttachedPolicies(c.Ctx, k.kind, entity, prefix, pg)
		if err != nil {
			return nil, err
		}
		out := struct {
			AttachedPolicies memberList[xmlAttachedPolicy]
			IsTruncated      bool
			Marker           string `xml:",omitempty"`
		}{IsTruncated: res.IsTruncated, Marker: res.Marker}
		for _, p := range res.Items {
			out.AttachedPolicies.Member = append(out.AttachedPolicies.Member, xmlAttachedPolicy{PolicyName: p.Name, PolicyArn: p.ARN})
		}
		return out, nil
	}
}

type xmlPolicyGroup struct {
	GroupName string
	GroupId   string
}

type xmlPolicyUser struct {
	UserName string
	UserId   string
}

type xmlPolicyRole struct {
	RoleName string
	RoleId   string
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListEntitiesForPolicy.html
func (a *iamAPI) listEntitiesForPolicy(c *Call) (any, error) {
	arn, err := policyARNParam(c)
	if err != nil {
		return nil, err
	}
	var in iam.ListEntitiesInput
	if in.Filter, err = c.Params.Optional("EntityFilter", ruleEntityFilter); err != nil {
		return nil, err
	}
	if in.PathPrefix, err = c.Params.Optional("PathPrefix", rulePath); err != nil {
		return nil, err
	}
	if in.Usage, err = c.Params.Optional("PolicyUsageFilter", rulePolicyUsage); err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListEntitiesForPolicy", arn); err != nil {
		return nil, err
	}
	res, err := a.svc.ListEntitiesForPolicy(c.Ctx, arn, in, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		PolicyGroups memberList[xmlPolicyGroup]
		PolicyUsers  memberList[xmlPolicyUser]
		PolicyRoles  memberList[xmlPolicyRole]
		IsTruncated  bool
		Marker       string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, e := range res.Items {
		switch e.Kind {
		case iam.KindGroup:
			out.PolicyGroups.Member = append(out.PolicyGroups.Member, xmlPolicyGroup{GroupName: e.Name, GroupId: e.ID})
		case iam.KindUser:
			out.PolicyUsers.Member = append(out.PolicyUsers.Member, xmlPolicyUser{UserName: e.Name, UserId: e.ID})
		case iam.KindRole:
			out.PolicyRoles.Member = append(out.PolicyRoles.Member, xmlPolicyRole{RoleName: e.Name, RoleId: e.ID})
		}
	}
	return out, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPermissionsBoundary.html
func (a *iamAPI) putUserPermissionsBoundary(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	boundary, err := c.Params.Required("PermissionsBoundary", ruleARN)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:PutUserPermissionsBoundary", a.userARN(c, name), withKey("iam:PermissionsBoundary", boundary)); err != nil {
		return nil, err
	}
	return nil, a.svc.PutUserPermissionsBoundary(c.Ctx, name, boundary)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUserPermissionsBoundary.html
func (a *iamAPI) deleteUserPermissionsBoundary(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	resource := a.resourceARN("user", "/", name)
	var opts []authzOption
	if u, err := a.svc.GetUser(c.Ctx, name); err == nil {
		resource = u.ARN
		if u.Boundary != "" {
			opts = append(opts, withKey("iam:PermissionsBoundary", u.Boundary))
		}
	}
	if err := c.Authorize("iam:DeleteUserPermissionsBoundary", resource, opts...); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteUserPermissionsBoundary(c.Ctx, name)
}
