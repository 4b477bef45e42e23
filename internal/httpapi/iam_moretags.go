package httpapi

import (
	"context"

	"github.com/iamd/iamd/internal/iam"
)

// Tagging managed policies, instance profiles and virtual MFA devices,
// shaped like the user and role tag actions (iam_tags.go).

func (a *iamAPI) registerMoreTags(m map[string]Handler) {
	for _, r := range []taggable{
		{
			noun: "Policy", param: "PolicyArn", rule: ruleARN,
			resource: func(_ *Call, arn string) string { return arn },
			tag:      a.svc.TagPolicy, untag: a.svc.UntagPolicy, list: a.svc.ListPolicyTags,
		},
		{
			noun: "InstanceProfile", param: "InstanceProfileName", rule: Pattern(`[\w+=,.@-]+`).Len(1, 128),
			resource: a.profileARN,
			tag:      a.svc.TagInstanceProfile, untag: a.svc.UntagInstanceProfile, list: a.svc.ListInstanceProfileTags,
		},
		{
			noun: "MFADevice", param: "SerialNumber", rule: ruleSerialNumber,
			resource: func(_ *Call, serial string) string { return serial },
			tag:      a.svc.TagMFADevice, untag: a.svc.UntagMFADevice, list: a.svc.ListMFADeviceTags,
		},
	} {
		m["Tag"+r.noun] = r.tagHandler
		m["Untag"+r.noun] = r.untagHandler
		m["List"+r.noun+"Tags"] = r.listHandler
	}
}

// taggable is one kind of resource with Tag*, Untag* and List*Tags.
type taggable struct {
	noun     string // "Policy": TagPolicy, UntagPolicy, ListPolicyTags
	param    string // the parameter naming the resource
	rule     StringRule
	resource func(c *Call, id string) string // the ARN to authorize against
	tag      func(ctx context.Context, id string, tags []iam.Tag) error
	untag    func(ctx context.Context, id string, keys []string) error
	list     func(ctx context.Context, id string, p iam.Page) (*iam.Paged[iam.Tag], error)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagInstanceProfile.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagMFADevice.html
func (r taggable) tagHandler(c *Call) (any, error) {
	id, err := c.Params.Required(r.param, r.rule)
	if err != nil {
		return nil, err
	}
	tg, err := tagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:Tag"+r.noun, r.resource(c, id), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	return nil, r.tag(c.Ctx, id, tg)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagInstanceProfile.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagMFADevice.html
func (r taggable) untagHandler(c *Call) (any, error) {
	id, err := c.Params.Required(r.param, r.rule)
	if err != nil {
		return nil, err
	}
	keys, opts, err := untagRequest(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:Untag"+r.noun, r.resource(c, id), opts...); err != nil {
		return nil, err
	}
	return nil, r.untag(c.Ctx, id, keys)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyTags.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfileTags.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListMFADeviceTags.html
func (r taggable) listHandler(c *Call) (any, error) {
	id, err := c.Params.Required(r.param, r.rule)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:List"+r.noun+"Tags", r.resource(c, id)); err != nil {
		return nil, err
	}
	res, err := r.list(c.Ctx, id, pg)
	if err != nil {
		return nil, err
	}
	return tagListOf(res), nil
}
