package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerRoles(m map[string]Handler) {
	m["CreateRole"] = a.createRole
	m["GetRole"] = a.getRole
	m["ListRoles"] = a.listRoles
	m["UpdateRole"] = a.updateRole
	m["UpdateRoleDescription"] = a.updateRoleDescription
	m["UpdateAssumeRolePolicy"] = a.updateAssumeRolePolicy
	m["DeleteRole"] = a.deleteRole
	m["PutRolePermissionsBoundary"] = a.putRolePermissionsBoundary
	m["DeleteRolePermissionsBoundary"] = a.deleteRolePermissionsBoundary
}

// memberList is an IAM list that is always rendered, empty or not
// (<Roles/>), as AWS does for lists the model marks required: botocore
// only sets the key when the element is there.
type memberList[T any] struct {
	Member []T `xml:"member"`
}

// xmlRole is IAM's Role structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
type xmlRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               xmlTime
	AssumeRolePolicyDocument PolicyDoc `xml:",omitempty"`
	Description              string    `xml:",omitempty"`
	MaxSessionDuration       int       `xml:",omitempty"`
	PermissionsBoundary      *xmlBoundary
	Tags                     *xmlTagList      `xml:"Tags,omitempty"`
	RoleLastUsed             *xmlRoleLastUsed `xml:",omitempty"`
}

// xmlRoleLastUsed is IAM's RoleLastUsed; empty when the role was never used.
type xmlRoleLastUsed struct {
	LastUsedDate *xmlTime `xml:",omitempty"`
	Region       string   `xml:",omitempty"`
}

// roleOf renders a role in full, as GetRole does.
func roleOf(r *iam.Role) xmlRole {
	x := roleSummary(r)
	x.PermissionsBoundary = boundaryOf(r.Boundary)
	x.Tags = xmlTags(r.Tags)
	x.RoleLastUsed = &xmlRoleLastUsed{}
	if r.LastUsed != nil {
		t := xmlTime(r.LastUsed.Date)
		x.RoleLastUsed = &xmlRoleLastUsed{LastUsedDate: &t, Region: r.LastUsed.Region}
	}
	return x
}

// roleSummary is a role as the list actions render it: without
// PermissionsBoundary, Tags and RoleLastUsed (see API_ListRoles).
func roleSummary(r *iam.Role) xmlRole {
	return xmlRole{
		Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: xmlTime(r.CreateDate),
		AssumeRolePolicyDocument: PolicyDoc(r.TrustPolicy), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration,
	}
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
func (a *iamAPI) createRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleAny)
	if err != nil {
		return nil, err
	}
	path := c.Params.Get("Path")
	doc, err := c.Params.Required("AssumeRolePolicyDocument", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	desc := c.Params.Get("Description")
	maxSession, err := c.Params.Int("MaxSessionDuration", iam.MinMaxSessionDuration, iam.MaxMaxSessionDuration, iam.DefaultMaxSessionDuration)
	if err != nil {
		return nil, err
	}
	boundary, err := c.Params.Optional("PermissionsBoundary", ruleARN)
	if err != nil {
		return nil, err
	}
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	var opts []authzOption
	if boundary != "" {
		opts = append(opts, withKey("iam:PermissionsBoundary", boundary))
	}
	opts = append(opts, requestTagKeys(tg)...)
	if err := c.Authorize("iam:CreateRole", a.resourceARN("role", path, name), opts...); err != nil {
		return nil, err
	}
	r, err := a.svc.CreateRole(c.Ctx, iam.CreateRoleInput{
		Name: name, Path: path, TrustPolicy: doc, Description: desc,
		MaxSessionDuration: maxSession, Boundary: boundary, Tags: tg,
	})
	if err != nil {
		return nil, err
	}
	x := roleOf(r)
	x.RoleLastUsed = nil
	return struct{ Role xmlRole }{x}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
func (a *iamAPI) getRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetRole", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	r, err := a.svc.GetRole(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return struct{ Role xmlRole }{roleOf(r)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
func (a *iamAPI) listRoles(c *Call) (any, error) {
	prefix, err := c.Params.Optional("PathPrefix", rulePathPrefix)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListRoles", a.resourceARN("role", "/", "*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListRoles(c.Ctx, prefix, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       memberList[xmlRole]
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, r := range res.Items {
		out.Roles.Member = append(out.Roles.Member, roleSummary(r))
	}
	return out, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html
func (a *iamAPI) updateRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	in := iam.UpdateRoleInput{Name: name}
	if c.Params.Has("Description") {
		d := c.Params.Get("Description")
		in.Description = &d
	}
	if c.Params.Has("MaxSessionDuration") {
		n, err := c.Params.Int("MaxSessionDuration", iam.MinMaxSessionDuration, iam.MaxMaxSessionDuration, 0)
		if err != nil {
			return nil, err
		}
		in.MaxSessionDuration = &n
	}
	if err := c.Authorize("iam:UpdateRole", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	if _, err := a.svc.UpdateRole(c.Ctx, in); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRoleDescription.html
func (a *iamAPI) updateRoleDescription(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	desc, err := c.Params.Required("Description", ruleAny)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:UpdateRoleDescription", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	r, err := a.svc.UpdateRoleDescription(c.Ctx, name, desc)
	if err != nil {
		return nil, err
	}
	return struct{ Role xmlRole }{roleOf(r)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
func (a *iamAPI) updateAssumeRolePolicy(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	doc, err := c.Params.Required("PolicyDocument", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:UpdateAssumeRolePolicy", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateAssumeRolePolicy(c.Ctx, name, doc)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
func (a *iamAPI) deleteRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteRole", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteRole(c.Ctx, name)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html
func (a *iamAPI) putRolePermissionsBoundary(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	boundary, err := c.Params.Required("PermissionsBoundary", ruleARN)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:PutRolePermissionsBoundary", a.roleARN(c, name), withKey("iam:PermissionsBoundary", boundary)); err != nil {
		return nil, err
	}
	return nil, a.svc.PutRolePermissionsBoundary(c.Ctx, name, boundary)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePermissionsBoundary.html
func (a *iamAPI) deleteRolePermissionsBoundary(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	resource := a.resourceARN("role", "/", name)
	var opts []authzOption
	if r, err := a.svc.GetRole(c.Ctx, name); err == nil {
		resource = r.ARN
		if r.Boundary != "" {
			opts = append(opts, withKey("iam:PermissionsBoundary", r.Boundary))
		}
	}
	if err := c.Authorize("iam:DeleteRolePermissionsBoundary", resource, opts...); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteRolePermissionsBoundary(c.Ctx, name)
}
