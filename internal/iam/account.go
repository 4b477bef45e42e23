package iam

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
)

// Account-level actions: the account alias, the summary of usage and
// quotas, and the snapshot of every entity with its policies.

const keyAlias = "alias"

// checkAlias applies the model's accountAliasType:
// ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ (Go's regexp has no
// lookahead, so it is checked by hand).
func checkAlias(a string) error {
	const pattern = `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`
	switch {
	case len(a) < 3:
		return apierr.Validation("accountAlias", a, "Member must have length greater than or equal to 3")
	case len(a) > 63:
		return apierr.Validation("accountAlias", a, "Member must have length less than or equal to 63")
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(a)-1 && a[i-1] != '-'
		if !ok {
			return apierr.Validation("accountAlias", a, "Member must satisfy regular expression pattern: "+pattern)
		}
	}
	return nil
}

// CreateAccountAlias sets the account's alias. An account has at most
// one: creating another replaces it, as the console's "Edit" does.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccountAlias.html
func (s *Service) CreateAccountAlias(ctx context.Context, alias string) error {
	if err := checkAlias(alias); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error { return putJSON(tx, tAccount, keyAlias, alias) })
}

func getAlias(tx kv.Tx) (string, error) {
	a, err := getJSON[string](tx, tAccount, keyAlias)
	if errors.Is(err, kv.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return *a, nil
}

// DeleteAccountAlias removes the alias.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccountAlias.html
func (s *Service) DeleteAccountAlias(ctx context.Context, alias string) error {
	if err := checkAlias(alias); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		cur, err := getAlias(tx)
		if err != nil {
			return err
		}
		if cur != alias {
			return apierr.New(apierr.NoSuchEntity, "The account alias %s cannot be found.", alias)
		}
		return tx.Delete(tAccount, keyAlias)
	})
}

// ListAccountAliases lists the alias (none or one).
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccountAliases.html
func (s *Service) ListAccountAliases(ctx context.Context, p Page) (*Paged[string], error) {
	var items []*string
	err := s.view(ctx, func(tx kv.Tx) error {
		a, err := getAlias(tx)
		if a != "" {
			items = append(items, &a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return pageItems(items, func(a *string) string { return *a }, p)
}

// SummaryEntry is one entry of GetAccountSummary's SummaryMap.
type SummaryEntry struct {
	Key   string
	Value int
}

// Quotas GetAccountSummary reports: AWS's defaults, or iamd's own limit
// where iamd enforces one.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const (
	quotaUsers            = 5000
	quotaGroups           = 300
	quotaRoles            = 1000
	quotaPolicies         = 1500
	quotaInstanceProfiles = 1000
	quotaServerCerts      = 20
	quotaPolicyVersions   = 10000
	quotaGroupsPerUser    = 10
	quotaSigningCerts     = 2
	quotaAccessKeys       = 2
)

// GetAccountSummary counts the account's entities and reports its quotas,
// in the order AWS lists them.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
func (s *Service) GetAccountSummary(ctx context.Context) ([]SummaryEntry, error) {
	var users, groups, roles, policies, profiles, devices, inUse, versionsInUse int
	err := s.view(ctx, func(tx kv.Tx) error {
		count := func(table, prefix string, n *int) error {
			return tx.Scan(table, prefix, "", 0, func(string, []byte) error { *n++; return nil })
		}
		for _, c := range []struct {
			table, prefix string
			n             *int
		}{
			{tUsers, "", &users}, {tGroups, "", &groups}, {tRoles, "", &roles},
			{tPolicies, arn.IAM(s.account, "policy/"), &policies},
			{tInstanceProfiles, "", &profiles},
		} {
			if err := count(c.table, c.prefix, c.n); err != nil {
				return err
			}
		}
		if err := tx.Scan(tMFADevices, "", "", 0, func(_ string, b []byte) error {
			var d struct {
				User string `json:"user"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				return err
			}
			devices++
			if d.User != "" {
				inUse++
			}
			return nil
		}); err != nil {
			return err
		}
		// PolicyVersionsInUse counts attachments of managed policies.
		return tx.Scan(tPolicies, "", "", 0, func(_ string, b []byte) error {
			var p struct {
				Attachments int `json:"attachments"`
			}
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			versionsInUse += p.Attachments
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	_, perUser := maxAttached(KindUser)
	_, perGroup := maxAttached(KindGroup)
	_, perRole := maxAttached(KindRole)
	return []SummaryEntry{
		{"GroupPolicySizeQuota", InlineSizeLimit(KindGroup)},
		{"InstanceProfilesQuota", quotaInstanceProfiles},
		{"Policies", policies},
		{"GroupsPerUserQuota", quotaGroupsPerUser},
		{"InstanceProfiles", profiles},
		{"AttachedPoliciesPerUserQuota", perUser},
		{"Users", users},
		{"PoliciesQuota", quotaPolicies},
		{"Providers", 0},
		{"AccountMFAEnabled", 0},
		{"AccessKeysPerUserQuota", quotaAccessKeys},
		{"AssumeRolePolicySizeQuota", MaxTrustPolicySize},
		{"PolicyVersionsInUseQuota", quotaPolicyVersions},
		{"GlobalEndpointTokenVersion", 1},
		{"VersionsPerPolicyQuota", MaxPolicyVersions},
		{"AttachedPoliciesPerGroupQuota", perGroup},
		{"PolicySizeQuota", MaxManagedPolicySize},
		{"Groups", groups},
		{"AccountSigningCertificatesPresent", 0},
		{"UsersQuota", quotaUsers},
		{"ServerCertificatesQuota", quotaServerCerts},
		{"MFADevices", devices},
		{"UserPolicySizeQuota", InlineSizeLimit(KindUser)},
		{"PolicyVersionsInUse", versionsInUse},
		{"ServerCertificates", 0},
		{"Roles", roles},
		{"RolesQuota", quotaRoles},
		{"SigningCertificatesPerUserQuota", quotaSigningCerts},
		{"MFADevicesInUse", inUse},
		{"RolePolicySizeQuota", InlineSizeLimit(KindRole)},
		{"AttachedPoliciesPerRoleQuota", perRole},
		{"AccountAccessKeysPresent", 0},
		{"GroupsQuota", quotaGroups},
	}, nil
}

// Entity types of GetAccountAuthorizationDetails' Filter.
const (
	DetailUser               = "User"
	DetailRole               = "Role"
	DetailGroup              = "Group"
	DetailLocalManagedPolicy = "LocalManagedPolicy"
	DetailAWSManagedPolicy   = "AWSManagedPolicy"
)

// UserDetail is a user with its policies and groups.
type UserDetail struct {
	User     *User
	Inline   []*InlinePolicy
	Groups   []string
	Attached []AttachedPolicy
}

// GroupDetail is a group with its policies.
type GroupDetail struct {
	Group    *Group
	Inline   []*InlinePolicy
	Attached []AttachedPolicy
}

// RoleDetail is a role with its policies and instance profiles.
type RoleDetail struct {
	Role     *Role
	Profiles []*ProfileWithRoles
	Inline   []*InlinePolicy
	Attached []AttachedPolicy
}

// PolicyDetail is a managed policy with all its versions.
type PolicyDetail struct {
	Policy   *ManagedPolicy
	Versions []*PolicyVersion
}

// AuthorizationDetails is one page of GetAccountAuthorizationDetails:
// users, then groups, then roles, then policies, each by name (policies
// by ARN).
type AuthorizationDetails struct {
	Users       []*UserDetail
	Groups      []*GroupDetail
	Roles       []*RoleDetail
	Policies    []*PolicyDetail
	IsTruncated bool
	Marker      string
}

// GetAccountAuthorizationDetails returns every user, group, role and
// managed policy of the kinds in filter (all when empty) with their
// policies. AWS managed policies are listed only when something uses
// them, as AWS does.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, filter []string, p Page) (*AuthorizationDetails, error) {
	want := map[string]bool{}
	for _, f := range filter {
		switch f {
		case DetailUser, DetailRole, DetailGroup, DetailLocalManagedPolicy, DetailAWSManagedPolicy:
			want[f] = true
		default:
			return nil, apierr.Validation("filter", "["+strings.Join(filter, ", ")+"]",
				"Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]")
		}
	}
	all := len(want) == 0
	start := 0
	if p.Marker != "" {
		k, err := markerKey(p.Marker)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(k, "#"))
		if err != nil || !strings.HasPrefix(k, "#") || n < 0 {
			return nil, apierr.New(apierr.InvalidInput, "Invalid Marker.")
		}
		start = n
	}
	max := p.MaxItems
	if max <= 0 {
		max = DefaultMaxItems
	}
	out := &AuthorizationDetails{}
	err := s.view(ctx, func(tx kv.Tx) error {
		// Items are numbered across the four lists; a page is a window of
		// that numbering, and only the items in it are loaded in full.
		i := 0
		take := func() (bool, bool) { // (in this page, stop)
			defer func() { i++ }()
			if i < start {
				return false, false
			}
			if i >= start+max {
				out.IsTruncated = true
				return false, true
			}
			return true, false
		}
		if all || want[DetailUser] {
			users, err := scanJSON[User](tx, tUsers, "")
			if err != nil {
				return err
			}
			for _, u := range users {
				in, stop := take()
				if stop {
					return nil
				}
				if !in {
					continue
				}
				d := &UserDetail{User: u}
				if d.Inline, d.Attached, err = s.entityDetail(tx, KindUser, u.Name); err != nil {
					return err
				}
				groups, err := scanKeys(tx, tUserGroups, lower(u.Name)+"/")
				if err != nil {
					return err
				}
				for _, g := range groups {
					if gr, err := getJSON[Group](tx, tGroups, g); err == nil {
						d.Groups = append(d.Groups, gr.Name)
					}
				}
				out.Users = append(out.Users, d)
			}
		}
		if all || want[DetailGroup] {
			groups, err := scanJSON[Group](tx, tGroups, "")
			if err != nil {
				return err
			}
			for _, g := range groups {
				in, stop := take()
				if stop {
					return nil
				}
				if !in {
					continue
				}
				d := &GroupDetail{Group: g}
				if d.Inline, d.Attached, err = s.entityDetail(tx, KindGroup, g.Name); err != nil {
					return err
				}
				out.Groups = append(out.Groups, d)
			}
		}
		if all || want[DetailRole] {
			roles, err := scanJSON[Role](tx, tRoles, "")
			if err != nil {
				return err
			}
			for _, r := range roles {
				in, stop := take()
				if stop {
					return nil
				}
				if !in {
					continue
				}
				d := &RoleDetail{Role: r}
				if d.Inline, d.Attached, err = s.entityDetail(tx, KindRole, r.Name); err != nil {
					return err
				}
				names, err := scanKeys(tx, tRoleProfiles, lower(r.Name)+"/")
				if err != nil {
					return err
				}
				for _, n := range names {
					ip, err := getJSON[InstanceProfile](tx, tInstanceProfiles, n)
					if err != nil {
						return err
					}
					w, err := withRoles(tx, ip)
					if err != nil {
						return err
					}
					d.Profiles = append(d.Profiles, w)
				}
				out.Roles = append(out.Roles, d)
			}
		}
		if all || want[DetailLocalManagedPolicy] || want[DetailAWSManagedPolicy] {
			pols, err := scanJSON[ManagedPolicy](tx, tPolicies, "")
			if err != nil {
				return err
			}
			for _, mp := range pols {
				if mp.AWSManaged || isAWSManaged(mp.ARN) {
					if !all && !want[DetailAWSManagedPolicy] || mp.AttachmentCount == 0 && mp.BoundaryUsage == 0 {
						continue
					}
				} else if !all && !want[DetailLocalManagedPolicy] {
					continue
				}
				in, stop := take()
				if stop {
					return nil
				}
				if !in {
					continue
				}
				vs, err := scanJSON[PolicyVersion](tx, tPolicyVersions, mp.ARN+"#")
				if err != nil {
					return err
				}
				out.Policies = append(out.Policies, &PolicyDetail{Policy: mp, Versions: vs})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.IsTruncated {
		out.Marker = keyMarker("#" + strconv.Itoa(start+max))
	}
	return out, nil
}

// entityDetail is an entity's inline policies (by name) and attached
// managed policies (by ARN).
func (s *Service) entityDetail(tx kv.Tx, kind, name string) ([]*InlinePolicy, []AttachedPolicy, error) {
	inline, err := scanJSON[InlinePolicy](tx, tInline, inlinePrefix(kind, name))
	if err != nil {
		return nil, nil, err
	}
	arns, err := scanKeys(tx, tAttached, inlinePrefix(kind, name))
	if err != nil {
		return nil, nil, err
	}
	var attached []AttachedPolicy
	for _, a := range arns {
		mp, err := getJSON[ManagedPolicy](tx, tPolicies, a)
		if errors.Is(err, kv.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		attached = append(attached, AttachedPolicy{Name: mp.Name, ARN: mp.ARN})
	}
	return inline, attached, nil
}
