package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerTags(m map[string]Handler) {
	m["TagUser"] = a.tagUser
	m["UntagUser"] = a.untagUser
	m["ListUserTags"] = a.listUserTags
	m["TagRole"] = a.tagRole
	m["UntagRole"] = a.untagRole
	m["ListRoleTags"] = a.listRoleTags
}

// tagList is the result shape of ListUserTags and ListRoleTags.
type tagList struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func tagListOf(res *iam.Paged[iam.Tag]) tagList {
	out := tagList{Tags: []xmlTag{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, t := range res.Items {
		out.Tags = append(out.Tags, xmlTag(*t))
	}
	return out
}

// tagRequest reads Tags, which Tag* actions require.
func tagRequest(c *Call) ([]iam.Tag, error) {
	if !c.Params.Has("Tags") && !c.Params.Has("Tags.member.1.Key") && !c.Params.Has("Tags.member.1.Value") {
		return nil, newValidation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	return tags(c.Params)
}

// untagRequest reads TagKeys (required) and the condition key aws:TagKeys
// that authorizing an untag is evaluated with.
func untagRequest(c *Call) ([]string, []authzOption, error) {
	if !c.Params.Has("TagKeys") && !c.Params.Has("TagKeys.member.1") {
		return nil, nil, newValidation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	keys, err := c.Params.List("TagKeys")
	if err != nil {
		return nil, nil, err
	}
	var opts []authzOption
	if len(keys) > 0 {
		opts = append(opts, withKey("aws:TagKeys", keys...))
	}
	return keys, opts, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html
func (a *iamAPI) tagUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	tg, err := tagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:TagUser", a.userARN(c, name), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	return nil, a.svc.TagUser(c.Ctx, name, tg)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagUser.html
func (a *iamAPI) untagUser(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	keys, opts, err := untagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:UntagUser", a.userARN(c, name), opts...); err != nil {
		return nil, err
	}
	return nil, a.svc.UntagUser(c.Ctx, name, keys)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserTags.html
func (a *iamAPI) listUserTags(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListUserTags", a.userARN(c, name)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListUserTags(c.Ctx, name, pg)
	if err != nil {
		return nil, err
	}
	return tagListOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html
func (a *iamAPI) tagRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	tg, err := tagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:TagRole", a.roleARN(c, name), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	return nil, a.svc.TagRole(c.Ctx, name, tg)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagRole.html
func (a *iamAPI) untagRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	keys, opts, err := untagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:UntagRole", a.roleARN(c, name), opts...); err != nil {
		return nil, err
	}
	return nil, a.svc.UntagRole(c.Ctx, name, keys)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoleTags.html
func (a *iamAPI) listRoleTags(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListRoleTags", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListRoleTags(c.Ctx, name, pg)
	if err != nil {
		return nil, err
	}
	return tagListOf(res), nil
}
