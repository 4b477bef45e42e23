package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

// Instance profiles.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html

func (a *iamAPI) registerInstanceProfiles(m map[string]Handler) {
	m["CreateInstanceProfile"] = a.createInstanceProfile
	m["GetInstanceProfile"] = a.getInstanceProfile
	m["ListInstanceProfiles"] = a.listInstanceProfiles
	m["ListInstanceProfilesForRole"] = a.listInstanceProfilesForRole
	m["AddRoleToInstanceProfile"] = a.addRoleToInstanceProfile
	m["RemoveRoleFromInstanceProfile"] = a.removeRoleFromInstanceProfile
	m["DeleteInstanceProfile"] = a.deleteInstanceProfile
}

var ruleInstanceProfileName = Pattern(`[\w+=,.@-]+`).Len(1, 128)

// xmlInstanceProfile is IAM's InstanceProfile structure; Roles are full
// Role structures.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_InstanceProfile.html
type xmlInstanceProfile struct {
	Path                string
	InstanceProfileName string
	InstanceProfileId   string
	Arn                 string
	CreateDate          xmlTime
	Roles               memberList[xmlRole]
	Tags                *xmlTagList `xml:"Tags,omitempty"`
}

func profileOf(p *iam.ProfileWithRoles, withTags bool) xmlInstanceProfile {
	x := xmlInstanceProfile{
		Path: p.Path, InstanceProfileName: p.Name, InstanceProfileId: p.ID, Arn: p.ARN,
		CreateDate: xmlTime(p.CreateDate),
	}
	if withTags {
		x.Tags = xmlTags(p.Tags)
	}
	for _, r := range p.RoleList {
		x.Roles.Member = append(x.Roles.Member, roleSummary(r))
	}
	return x
}

func (a *iamAPI) profileARN(c *Call, name string) string {
	if p, err := a.svc.GetInstanceProfile(c.Ctx, name); err == nil {
		return p.ARN
	}
	return a.resourceARN("instance-profile", "/", name)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html
func (a *iamAPI) createInstanceProfile(c *Call) (any, error) {
	name, err := c.Params.Required("InstanceProfileName", ruleAny)
	if err != nil {
		return nil, err
	}
	path := c.Params.Get("Path")
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreateInstanceProfile", a.resourceARN("instance-profile", path, name), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	p, err := a.svc.CreateInstanceProfile(c.Ctx, iam.CreateInstanceProfileInput{Name: name, Path: path, Tags: tg})
	if err != nil {
		return nil, err
	}
	return struct{ InstanceProfile xmlInstanceProfile }{profileOf(&iam.ProfileWithRoles{InstanceProfile: p}, true)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetInstanceProfile.html
func (a *iamAPI) getInstanceProfile(c *Call) (any, error) {
	name, err := c.Params.Required("InstanceProfileName", ruleInstanceProfileName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetInstanceProfile", a.profileARN(c, name)); err != nil {
		return nil, err
	}
	p, err := a.svc.GetInstanceProfile(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return struct{ InstanceProfile xmlInstanceProfile }{profileOf(p, true)}, nil
}

type xmlInstanceProfiles struct {
	InstanceProfiles memberList[xmlInstanceProfile]
	IsTruncated      bool
	Marker           string `xml:",omitempty"`
}

func profilesOf(res *iam.Paged[iam.ProfileWithRoles]) xmlInstanceProfiles {
	out := xmlInstanceProfiles{IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, p := range res.Items {
		out.InstanceProfiles.Member = append(out.InstanceProfiles.Member, profileOf(p, false))
	}
	return out
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfiles.html
func (a *iamAPI) listInstanceProfiles(c *Call) (any, error) {
	prefix, err := c.Params.Optional("PathPrefix", rulePathPrefix)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListInstanceProfiles", a.resourceARN("instance-profile", "/", "*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListInstanceProfiles(c.Ctx, prefix, pg)
	if err != nil {
		return nil, err
	}
	return profilesOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfilesForRole.html
func (a *iamAPI) listInstanceProfilesForRole(c *Call) (any, error) {
	role, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListInstanceProfilesForRole", a.roleARN(c, role)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListInstanceProfilesForRole(c.Ctx, role, pg)
	if err != nil {
		return nil, err
	}
	return profilesOf(res), nil
}

// AddRoleToInstanceProfile also needs iam:PassRole on the role, as AWS
// documents: whoever can launch an instance with the profile acts as it.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddRoleToInstanceProfile.html
func (a *iamAPI) addRoleToInstanceProfile(c *Call) (any, error) {
	name, err := c.Params.Required("InstanceProfileName", ruleInstanceProfileName)
	if err != nil {
		return nil, err
	}
	role, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:AddRoleToInstanceProfile", a.profileARN(c, name)); err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:PassRole", a.roleARN(c, role)); err != nil {
		return nil, err
	}
	return nil, a.svc.AddRoleToInstanceProfile(c.Ctx, name, role)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveRoleFromInstanceProfile.html
func (a *iamAPI) removeRoleFromInstanceProfile(c *Call) (any, error) {
	name, err := c.Params.Required("InstanceProfileName", ruleInstanceProfileName)
	if err != nil {
		return nil, err
	}
	role, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:RemoveRoleFromInstanceProfile", a.profileARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.RemoveRoleFromInstanceProfile(c.Ctx, name, role)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteInstanceProfile.html
func (a *iamAPI) deleteInstanceProfile(c *Call) (any, error) {
	name, err := c.Params.Required("InstanceProfileName", ruleInstanceProfileName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteInstanceProfile", a.profileARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteInstanceProfile(c.Ctx, name)
}
