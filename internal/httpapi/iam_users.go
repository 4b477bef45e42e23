package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerUsers(m map[string]Handler) {
	m["CreateUser"] = a.createUser
	m["GetUser"] = a.getUser
	m["ListUsers"] = a.listUsers
	m["UpdateUser"] = a.updateUser
	m["DeleteUser"] = a.deleteUser
}

// xmlUser is IAM's User structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html
type xmlUser struct {
	Path                string
	UserName            string
	UserId              string
	Arn                 string
	CreateDate          xmlTime
	PermissionsBoundary *xmlBoundary `xml:",omitempty"`
	Tags                *xmlTagList  `xml:"Tags,omitempty"`
}

func userOf(u *iam.User) xmlUser {
	return xmlUser{Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN, CreateDate: xmlTime(u.CreateDate),
		PermissionsBoundary: boundaryOf(u.Boundary), Tags: xmlTags(u.Tags)}
}

// resolveUserName is the UserName parameter, or the calling user's name
// when it is absent, as AWS does for GetUser, CreateAccessKey and others.
func resolveUserName(c *Call) (string, error) {
	name, err := c.Params.Optional("UserName", ruleUserName)
	if err != nil || name != "" {
		return name, err
	}
	if c.Caller.UserName == "" || c.Caller.Temporary && c.Caller.RoleName != "" {
		return "", iamValidationNoUser()
	}
	return c.Caller.UserName, nil
}

func iamValidationNoUser() error {
	return newValidation("Must specify userName when calling with non-User credentials")
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
func (a *iamAPI) createUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleAny)
	if err != nil {
		return nil, err
	}
	path := c.Params.Get("Path")
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
	if err := c.Authorize("iam:CreateUser", a.resourceARN("user", path, name), opts...); err != nil {
		return nil, err
	}
	u, err := a.svc.CreateUser(c.Ctx, iam.CreateUserInput{Name: name, Path: path, Boundary: boundary, Tags: tg})
	if err != nil {
		return nil, err
	}
	return struct{ User xmlUser }{userOf(u)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html
func (a *iamAPI) getUser(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetUser", a.userARN(c, name)); err != nil {
		return nil, err
	}
	u, err := a.svc.GetUser(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return struct{ User xmlUser }{userOf(u)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html
func (a *iamAPI) listUsers(c *Call) (any, error) {
	prefix, err := c.Params.Optional("PathPrefix", rulePathPrefix)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListUsers", a.resourceARN("user", "/", "*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListUsers(c.Ctx, prefix, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users       []xmlUser `xml:"Users>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{Users: []xmlUser{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, u := range res.Items {
		x := userOf(u)
		x.Tags = nil // ListUsers does not return tags
		out.Users = append(out.Users, x)
	}
	return out, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html
func (a *iamAPI) updateUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	newName, err := c.Params.Optional("NewUserName", ruleAny)
	if err != nil {
		return nil, err
	}
	newPath, err := c.Params.Optional("NewPath", rulePath)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:UpdateUser", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateUser(c.Ctx, name, newName, newPath)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html
func (a *iamAPI) deleteUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteUser", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteUser(c.Ctx, name)
}
