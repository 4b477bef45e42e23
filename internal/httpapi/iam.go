package httpapi

import (
	"time"

	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/revoke"
)

// IAM's Query API: decode each action's parameters, authorize, call the
// domain, shape the result as AWS's XML.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html

// iamAPI holds what IAM handlers need.
type iamAPI struct {
	svc *iam.Service
	rev *revoke.Service // iamd's own revocation actions
}

// IAMService returns the IAM Query service.
func IAMService(svc *iam.Service, rev *revoke.Service) *Service {
	a := &iamAPI{svc: svc, rev: rev}
	m := map[string]Handler{}
	// Each file registers its own actions.
	for _, register := range []func(map[string]Handler){
		a.registerUsers,
		a.registerAccessKeys,
		a.registerGroups,
		a.registerRoles,
		a.registerInlinePolicies,
		a.registerManagedPolicies,
		a.registerInstanceProfiles,
		a.registerMFA,
		a.registerTags,
		a.registerMoreTags,
		a.registerLogin,
		a.registerAccount,
		a.registerServiceLinked,
		a.registerSimulator,
		a.registerIamd,
	} {
		register(m)
	}
	return &Service{Name: "iam", Version: IAMVersion, Namespace: IAMNamespace, Actions: m}
}

// Parameter rules shared by IAM actions (from the IAM service model).
var (
	ruleUserName     = Pattern(`[\w+=,.@-]+`).Len(1, 128) // existingUserNameType
	ruleRoleName     = Pattern(`[\w+=,.@-]+`).Len(1, 64)
	ruleGroupName    = Pattern(`[\w+=,.@-]+`).Len(1, 128)
	rulePolicyName   = Pattern(`[\w+=,.@-]+`).Len(1, 128)
	rulePathPrefix   = StringRule{}.Len(1, 512)
	rulePath         = StringRule{}.Len(1, 512)
	ruleARN          = StringRule{}.Len(20, 2048)
	ruleAccessKeyID  = Pattern(`[\w]+`).Len(16, 128)
	ruleMarker       = StringRule{}.Len(1, 320)
	rulePolicyDoc    = Pattern(`[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`).Len(1, 131072)
	ruleDescription  = StringRule{}.Len(0, 1000)
	ruleSerialNumber = Pattern(`[\w+=/:,.@-]+`).Len(9, 256)
	ruleAuthCode     = Pattern(`[\d]+`).Len(6, 6)
	ruleAny          = StringRule{}
)

// page reads Marker and MaxItems.
func page(p Params) (iam.Page, error) {
	m, err := p.Optional("Marker", ruleMarker)
	if err != nil {
		return iam.Page{}, err
	}
	n, err := p.Int("MaxItems", 1, 1000, 0)
	if err != nil {
		return iam.Page{}, err
	}
	return iam.Page{Marker: m, MaxItems: n}, nil
}

// tags reads Tags.member.N.Key/Value.
func tags(p Params) ([]iam.Tag, error) {
	ms, err := p.Structs("Tags")
	if err != nil {
		return nil, err
	}
	out := make([]iam.Tag, 0, len(ms))
	for _, m := range ms {
		out = append(out, iam.Tag{Key: m.Get("Key"), Value: m.Get("Value")})
	}
	return out, nil
}

// xmlTag is a tag on the wire.
type xmlTag struct {
	Key   string
	Value string
}

// xmlTagList is an optional Tags element. encoding/xml writes the parent
// of an "A>member,omitempty" field even when the slice is empty, and AWS
// leaves Tags out when there are none, so optional tag lists are a pointer.
type xmlTagList struct {
	Member []xmlTag `xml:"member"`
}

func xmlTags(ts []iam.Tag) *xmlTagList {
	if len(ts) == 0 {
		return nil
	}
	out := make([]xmlTag, len(ts))
	for i, t := range ts {
		out[i] = xmlTag(t)
	}
	return &xmlTagList{Member: out}
}

// xmlTime formats a timestamp the way IAM does: ISO 8601 UTC, seconds.
type xmlTime time.Time

func (t xmlTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// xmlBoundary is the PermissionsBoundary element of a user or role.
type xmlBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

func boundaryOf(policyARN string) *xmlBoundary {
	if policyARN == "" {
		return nil
	}
	return &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: policyARN}
}

// requestTagKeys are aws:RequestTag/<key> and aws:TagKeys for a request
// that passes tags.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html
func requestTagKeys(ts []iam.Tag) []authzOption {
	if len(ts) == 0 {
		return nil
	}
	keys := make([]string, len(ts))
	opts := make([]authzOption, 0, len(ts)+1)
	for i, t := range ts {
		keys[i] = t.Key
		opts = append(opts, withKey("aws:RequestTag/"+t.Key, t.Value))
	}
	return append(opts, withKey("aws:TagKeys", keys...))
}
