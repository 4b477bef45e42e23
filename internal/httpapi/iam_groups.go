package httpapi

import (
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerGroups(m map[string]Handler) {
	m["CreateGroup"] = a.createGroup
	m["GetGroup"] = a.getGroup
	m["ListGroups"] = a.listGroups
	m["UpdateGroup"] = a.updateGroup
	m["DeleteGroup"] = a.deleteGroup
	m["AddUserToGroup"] = a.addUserToGroup
	m["RemoveUserFromGroup"] = a.removeUserFromGroup
	m["ListGroupsForUser"] = a.listGroupsForUser
}

// xmlGroup is IAM's Group structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Group.html
type xmlGroup struct {
	Path       string
	GroupName  string
	GroupId    string
	Arn        string
	CreateDate xmlTime
}

func groupOf(g *iam.Group) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupId: g.ID, Arn: g.ARN, CreateDate: xmlTime(g.CreateDate)}
}

// groupList is the result shape of ListGroups and ListGroupsForUser.
type groupList struct {
	Groups      []xmlGroup `xml:"Groups>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func groupListOf(res *iam.Paged[iam.Group]) groupList {
	out := groupList{Groups: []xmlGroup{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, g := range res.Items {
		out.Groups = append(out.Groups, groupOf(g))
	}
	return out
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html
func (a *iamAPI) createGroup(c *Call) (any, error) {
	name, err := c.Params.Required("GroupName", ruleAny)
	if err != nil {
		return nil, err
	}
	path := c.Params.Get("Path")
	if err := c.Authorize("iam:CreateGroup", a.resourceARN("group", path, name)); err != nil {
		return nil, err
	}
	g, err := a.svc.CreateGroup(c.Ctx, name, path)
	if err != nil {
		return nil, err
	}
	return struct{ Group xmlGroup }{groupOf(g)}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroup.html
func (a *iamAPI) getGroup(c *Call) (any, error) {
	name, err := c.Params.Required("GroupName", ruleGroupName)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetGroup", a.groupARN(c, name)); err != nil {
		return nil, err
	}
	g, users, err := a.svc.GetGroup(c.Ctx, name, pg)
	if err != nil {
		return nil, err
	}
	return groupWithUsersOf(g, users), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroups.html
func (a *iamAPI) listGroups(c *Call) (any, error) {
	prefix, err := c.Params.Optional("PathPrefix", rulePathPrefix)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListGroups", a.resourceARN("group", "/", "*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListGroups(c.Ctx, prefix, pg)
	if err != nil {
		return nil, err
	}
	return groupListOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupsForUser.html
func (a *iamAPI) listGroupsForUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListGroupsForUser", a.userARN(c, name)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListGroupsForUser(c.Ctx, name, pg)
	if err != nil {
		return nil, err
	}
	return groupListOf(res), nil
}

// UpdateGroup needs permission on the group under both its old and its
// new name, as AWS documents.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html
func (a *iamAPI) updateGroup(c *Call) (any, error) {
	name, err := c.Params.Required("GroupName", ruleGroupName)
	if err != nil {
		return nil, err
	}
	newName, err := c.Params.Optional("NewGroupName", ruleAny)
	if err != nil {
		return nil, err
	}
	newPath, err := c.Params.Optional("NewPath", rulePath)
	if err != nil {
		return nil, err
	}
	old := a.groupARN(c, name)
	if err := c.Authorize("iam:UpdateGroup", old); err != nil {
		return nil, err
	}
	if newName != "" || newPath != "" {
		path, oldName := "/", name
		if parsed, err := arn.Parse(old); err == nil {
			_, path, oldName = arn.SplitPathName(parsed.Resource)
		}
		if newName == "" {
			newName = oldName
		}
		if newPath != "" {
			path = newPath
		}
		if renamed := a.resourceARN("group", path, newName); renamed != old {
			if err := c.Authorize("iam:UpdateGroup", renamed); err != nil {
				return nil, err
			}
		}
	}
	return nil, a.svc.UpdateGroup(c.Ctx, name, newName, newPath)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteGroup.html
func (a *iamAPI) deleteGroup(c *Call) (any, error) {
	name, err := c.Params.Required("GroupName", ruleGroupName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteGroup", a.groupARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteGroup(c.Ctx, name)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html
func (a *iamAPI) addUserToGroup(c *Call) (any, error) {
	group, user, err := groupAndUser(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:AddUserToGroup", a.groupARN(c, group)); err != nil {
		return nil, err
	}
	return nil, a.svc.AddUserToGroup(c.Ctx, group, user)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveUserFromGroup.html
func (a *iamAPI) removeUserFromGroup(c *Call) (any, error) {
	group, user, err := groupAndUser(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:RemoveUserFromGroup", a.groupARN(c, group)); err != nil {
		return nil, err
	}
	return nil, a.svc.RemoveUserFromGroup(c.Ctx, group, user)
}

func groupAndUser(c *Call) (group, user string, err error) {
	if group, err = c.Params.Required("GroupName", ruleGroupName); err != nil {
		return "", "", err
	}
	if user, err = c.Params.Required("UserName", ruleUserName); err != nil {
		return "", "", err
	}
	return group, user, nil
}

type xmlGroupWithUsers struct {
	Group       xmlGroup
	Users       []xmlUser `xml:"Users>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func groupWithUsersOf(g *iam.Group, users *iam.Paged[iam.User]) xmlGroupWithUsers {
	out := xmlGroupWithUsers{Group: groupOf(g), Users: []xmlUser{}, IsTruncated: users.IsTruncated, Marker: users.Marker}
	for _, u := range users.Items {
		x := userOf(u)
		x.Tags = nil // GetGroup does not return users' tags
		out.Users = append(out.Users, x)
	}
	return out
}
