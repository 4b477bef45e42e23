package httpapi

import (
	"encoding/xml"

	"github.com/iamd/iamd/internal/iam"
)

// Inline policies of users, groups and roles: twelve actions built from
// one set of handlers parameterized by the entity kind.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutGroupPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html

// entityKind describes one kind of entity for the inline and managed
// policy handlers.
type entityKind struct {
	kind   string     // iam.KindUser, …
	title  string     // "User": action names are Put<title>Policy, …
	param  string     // "UserName"
	rule   StringRule // the parameter's rule
	arnTyp string     // "user": the ARN's resource type
}

var (
	userKind  = entityKind{iam.KindUser, "User", "UserName", ruleUserName, "user"}
	groupKind = entityKind{iam.KindGroup, "Group", "GroupName", ruleGroupName, "group"}
	roleKind  = entityKind{iam.KindRole, "Role", "RoleName", ruleRoleName, "role"}

	entityKinds = []entityKind{userKind, groupKind, roleKind}
)

func (a *iamAPI) registerInlinePolicies(m map[string]Handler) {
	for _, k := range entityKinds {
		m["Put"+k.title+"Policy"] = a.putInlinePolicy(k)
		m["Get"+k.title+"Policy"] = a.getInlinePolicy(k)
		m["Delete"+k.title+"Policy"] = a.deleteInlinePolicy(k)
		m["List"+k.title+"Policies"] = a.listInlinePolicies(k)
	}
}

// entityARN is the ARN an action on an existing user, group or role is
// authorized against (with its real path), or a path-less one when it
// does not exist: the handler's own call then reports NoSuchEntity to a
// caller allowed to know.
func (a *iamAPI) entityARN(c *Call, k entityKind, name string) string {
	if s, err := a.svc.EntityARN(c.Ctx, k.kind, name); err == nil {
		return s
	}
	return a.resourceARN(k.arnTyp, "/", name)
}

func (a *iamAPI) userARN(c *Call, name string) string  { return a.entityARN(c, userKind, name) }
func (a *iamAPI) groupARN(c *Call, name string) string { return a.entityARN(c, groupKind, name) }
func (a *iamAPI) roleARN(c *Call, name string) string  { return a.entityARN(c, roleKind, name) }

// resourceARN is the ARN of an IAM resource of type typ ("user", "policy",
// "instance-profile", …) built from a path and name, for one that does not
// exist (yet) or for a wildcard ("*") that a list action is authorized
// against. An empty path is "/", IAM's default.
func (a *iamAPI) resourceARN(typ, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + string(a.svc.Account()) + ":" + typ + path + name
}

func (a *iamAPI) putInlinePolicy(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		name, err := c.Params.Required("PolicyName", rulePolicyName)
		if err != nil {
			return nil, err
		}
		doc, err := c.Params.Required("PolicyDocument", rulePolicyDoc)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:Put"+k.title+"Policy", a.entityARN(c, k, entity)); err != nil {
			return nil, err
		}
		return nil, a.svc.PutInlinePolicy(c.Ctx, k.kind, entity, name, doc)
	}
}

// xmlInlinePolicy is Get{User,Group,Role}PolicyResult: the entity's name
// element (UserName, GroupName or RoleName), PolicyName, PolicyDocument.
type xmlInlinePolicy struct {
	Entity         xmlNamed
	PolicyName     string
	PolicyDocument PolicyDoc
}

// xmlNamed is an element whose name is chosen at run time.
type xmlNamed struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func (a *iamAPI) getInlinePolicy(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		name, err := c.Params.Required("PolicyName", rulePolicyName)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:Get"+k.title+"Policy", a.entityARN(c, k, entity)); err != nil {
			return nil, err
		}
		p, err := a.svc.GetInlinePolicy(c.Ctx, k.kind, entity, name)
		if err != nil {
			return nil, err
		}
		return xmlInlinePolicy{
			Entity:     xmlNamed{XMLName: xml.Name{Local: k.param}, Value: p.Entity},
			PolicyName: p.Name, PolicyDocument: PolicyDoc(p.Document),
		}, nil
	}
}

func (a *iamAPI) deleteInlinePolicy(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		name, err := c.Params.Required("PolicyName", rulePolicyName)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:Delete"+k.title+"Policy", a.entityARN(c, k, entity)); err != nil {
			return nil, err
		}
		return nil, a.svc.DeleteInlinePolicy(c.Ctx, k.kind, entity, name)
	}
}

func (a *iamAPI) listInlinePolicies(k entityKind) Handler {
	return func(c *Call) (any, error) {
		entity, err := c.Params.Required(k.param, k.rule)
		if err != nil {
			return nil, err
		}
		pg, err := page(c.Params)
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:List"+k.title+"Policies", a.entityARN(c, k, entity)); err != nil {
			return nil, err
		}
		res, err := a.svc.ListInlinePolicies(c.Ctx, k.kind, entity, pg)
		if err != nil {
			return nil, err
		}
		out := struct {
			PolicyNames memberList[string]
			IsTruncated bool
			Marker      string `xml:",omitempty"`
		}{IsTruncated: res.IsTruncated, Marker: res.Marker}
		for _, n := range res.Items {
			out.PolicyNames.Member = append(out.PolicyNames.Member, *n)
		}
		return out, nil
	}
}
