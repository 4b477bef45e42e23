package httpapi

import (
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerAccessKeys(m map[string]Handler) {
	m["CreateAccessKey"] = a.createAccessKey
	m["ListAccessKeys"] = a.listAccessKeys
	m["UpdateAccessKey"] = a.updateAccessKey
	m["DeleteAccessKey"] = a.deleteAccessKey
	m["GetAccessKeyLastUsed"] = a.getAccessKeyLastUsed
}

// xmlAccessKey is IAM's AccessKey structure, returned by CreateAccessKey
// only.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html
type xmlAccessKey struct {
	UserName        string
	AccessKeyId     string
	Status          string
	SecretAccessKey string
	CreateDate      xmlTime
}

// xmlAccessKeyMetadata is IAM's AccessKeyMetadata structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyMetadata.html
type xmlAccessKeyMetadata struct {
	UserName    string
	AccessKeyId string
	Status      string
	CreateDate  xmlTime
}

// ruleKeyStatus is statusType: Active | Inactive | Expired.
var ruleKeyStatus = Pattern(`Active|Inactive|Expired`)

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
func (a *iamAPI) createAccessKey(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreateAccessKey", a.userARN(c, name)); err != nil {
		return nil, err
	}
	k, err := a.svc.CreateAccessKey(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return newAccessKeyOf(k), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html
func (a *iamAPI) listAccessKeys(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListAccessKeys", a.userARN(c, name)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListAccessKeys(c.Ctx, name, pg)
	if err != nil {
		return nil, err
	}
	return accessKeyListOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html
func (a *iamAPI) updateAccessKey(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	id, err := c.Params.Required("AccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	status, err := c.Params.Required("Status", ruleAny)
	if err != nil {
		return nil, err
	}
	if !ruleKeyStatus.Pattern.MatchString(status) {
		return nil, apierr.Validation("status", clip(status), "Member must satisfy enum value set: [Active, Inactive, Expired]")
	}
	if err := c.Authorize("iam:UpdateAccessKey", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateAccessKey(c.Ctx, name, id, status)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html
func (a *iamAPI) deleteAccessKey(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	id, err := c.Params.Required("AccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteAccessKey", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteAccessKey(c.Ctx, name, id)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
func (a *iamAPI) getAccessKeyLastUsed(c *Call) (any, error) {
	id, err := c.Params.Required("AccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	// Authorized against the key's owner; an unknown key is authorized
	// against every user, so that only a caller who may look at any key
	// learns that it does not exist.
	resource := a.resourceARN("user", "/", "*")
	if owner, err := a.svc.AccessKeyOwner(c.Ctx, id); err == nil {
		resource = a.userARN(c, owner)
	}
	if err := c.Authorize("iam:GetAccessKeyLastUsed", resource); err != nil {
		return nil, err
	}
	owner, used, err := a.svc.GetAccessKeyLastUsed(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return lastUsedOf(owner, used), nil
}

type xmlNewAccessKey struct{ AccessKey xmlAccessKey }

func newAccessKeyOf(k *iam.NewAccessKey) xmlNewAccessKey {
	return xmlNewAccessKey{xmlAccessKey{
		UserName: k.UserName, AccessKeyId: k.ID, Status: k.Status,
		SecretAccessKey: k.SecretAccessKey, CreateDate: xmlTime(k.CreateDate),
	}}
}

type xmlAccessKeyList struct {
	AccessKeyMetadata []xmlAccessKeyMetadata `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool
	Marker            string `xml:",omitempty"`
}

func accessKeyListOf(res *iam.Paged[iam.AccessKey]) xmlAccessKeyList {
	out := xmlAccessKeyList{AccessKeyMetadata: []xmlAccessKeyMetadata{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, k := range res.Items {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, xmlAccessKeyMetadata{
			UserName: k.UserName, AccessKeyId: k.ID, Status: k.Status, CreateDate: xmlTime(k.CreateDate),
		})
	}
	return out
}

// xmlLastUsed is GetAccessKeyLastUsed's result: LastUsedDate is absent
// for a key never used, whose ServiceName and Region are "N/A".
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html
type xmlLastUsed struct {
	UserName          string `xml:",omitempty"`
	AccessKeyLastUsed struct {
		LastUsedDate *xmlTime `xml:",omitempty"`
		ServiceName  string
		Region       string
	}
}

func lastUsedOf(owner string, used iam.LastUsed) xmlLastUsed {
	out := xmlLastUsed{UserName: owner}
	out.AccessKeyLastUsed.ServiceName, out.AccessKeyLastUsed.Region = used.ServiceName, used.Region
	if !used.Date.IsZero() {
		t := xmlTime(used.Date)
		out.AccessKeyLastUsed.LastUsedDate = &t
	}
	return out
}
