package iam

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/token"
)

// Managed policies, their versions and their attachments.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html

// Managed policy quotas.
const (
	// MaxManagedPolicySize is the quota on a managed policy document, in
	// characters other than whitespace.
	MaxManagedPolicySize = 6144
	// MaxPolicyVersions is how many versions a managed policy keeps.
	MaxPolicyVersions = 5
)

// AWSManagedPrefix starts the ARN of every AWS managed policy.
const AWSManagedPrefix = "arn:aws:iam::aws:policy/"

// Policy scopes for ListPolicies.
const (
	ScopeAll   = "All"
	ScopeAWS   = "AWS"
	ScopeLocal = "Local"
)

// Policy usages for ListPolicies and ListEntitiesForPolicy.
const (
	UsagePermissionsPolicy   = "PermissionsPolicy"
	UsagePermissionsBoundary = "PermissionsBoundary"
)

// maxAttached is the quota on managed policies attached to one entity
// (users and roles: 10 by default, adjustable to 20; groups: 10).
func maxAttached(kind string) (quota string, n int) {
	switch kind {
	case KindUser:
		return "PoliciesPerUser", 20
	case KindGroup:
		return "PoliciesPerGroup", 10
	default:
		return "PoliciesPerRole", 20
	}
}

// policyPathPattern is the model's policyPathType.
var policyPathPattern = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)

// checkPolicyARN rejects text that is not the ARN of a managed policy.
func checkPolicyARN(policyARN string) error {
	a, err := arn.Parse(policyARN)
	if err != nil || a.Service != "iam" || a.Region != "" || !strings.HasPrefix(a.Resource, "policy/") || a.AccountID == "" {
		return apierr.New(apierr.InvalidInput, "ARN %s is not valid.", policyARN)
	}
	return nil
}

// isAWSManaged reports whether an ARN names an AWS managed policy, which
// no caller may create, version or delete.
func isAWSManaged(policyARN string) bool { return strings.HasPrefix(policyARN, AWSManagedPrefix) }

func protectedPolicy(policyARN string) error {
	return apierr.New(apierr.AccessDenied, "Cannot modify the AWS managed policy %s.", policyARN)
}

// checkManagedDocument validates a managed policy document: the identity
// grammar and at most 6,144 characters other than whitespace.
func checkManagedDocument(doc string) error {
	if policy.NonWhitespaceLen(doc) > MaxManagedPolicySize {
		return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for PolicySize: %d", MaxManagedPolicySize)
	}
	return parseDocument(doc, policy.Identity)
}

// getPolicy reads a managed policy or returns AWS's NoSuchEntity.
func getPolicy(tx kv.Tx, policyARN string) (*ManagedPolicy, error) {
	mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
	}
	return mp, err
}

// CreatePolicyInput is CreatePolicy's input.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
type CreatePolicyInput struct {
	Name        string
	Path        string
	Document    string
	Description string
	Tags        []Tag
}

// CreatePolicy creates a customer managed policy with the document as its
// default version v1.
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (*ManagedPolicy, error) {
	if err := checkName("policyName", in.Name, 128); err != nil {
		return nil, err
	}
	path := in.Path
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !policyPathPattern.MatchString(path) {
		return nil, apierr.Validation("path", path, `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		return nil, apierr.Validation("description", in.Description, "Member must have length less than or equal to 1000")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(in.Document); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	mp := &ManagedPolicy{
		ID: token.NewUniqueID(arn.PrefixManagedPolicy, s.rand), Name: in.Name, Path: path,
		ARN: arn.Policy(s.account, path, in.Name), Description: in.Description,
		DefaultVersionID: "v1", NextVersion: 2, IsAttachable: true,
		CreateDate: now, UpdateDate: now, Tags: in.Tags,
	}
	v := &PolicyVersion{PolicyARN: mp.ARN, VersionID: "v1", Document: in.Document, IsDefault: true, CreateDate: now}
	err := s.update(ctx, func(tx kv.Tx) error {
		// Names are unique in the account whatever the path, without
		// regard to case.
		dup := false
		err := tx.Scan(tPolicies, arn.IAM(s.account, "policy/"), "", 0, func(_ string, b []byte) error {
			var p struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			if lower(p.Name) == lower(in.Name) {
				dup = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		if dup {
			return apierr.New(apierr.EntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		}
		if err := putJSON(tx, tPolicies, mp.ARN, mp); err != nil {
			return err
		}
		return putJSON(tx, tPolicyVersions, versionKey(mp.ARN, v.VersionID), v)
	})
	if err != nil {
		return nil, err
	}
	return mp, nil
}

// GetPolicy returns a managed policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html
func (s *Service) GetPolicy(ctx context.Context, policyARN string) (*ManagedPolicy, error) {
	if err := checkPolicyARN(policyARN); err != nil {
		return nil, err
	}
	var mp *ManagedPolicy
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		mp, err = getPolicy(tx, policyARN)
		return err
	})
	return mp, err
}

// ListPoliciesInput filters ListPolicies.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html
type ListPoliciesInput struct {
	Scope        string // ScopeAll (""), ScopeAWS or ScopeLocal
	OnlyAttached bool
	PathPrefix   string
	Usage        string // with OnlyAttached: UsagePermissionsPolicy or UsagePermissionsBoundary
}

// ListPolicies lists managed policies in ARN order.
func (s *Service) ListPolicies(ctx context.Context, in ListPoliciesInput, p Page) (*Paged[ManagedPolicy], error) {
	prefix := in.PathPrefix
	if prefix == "" {
		prefix = "/"
	}
	var keyPrefix string
	switch in.Scope {
	case "", ScopeAll:
	case ScopeAWS:
		keyPrefix = AWSManagedPrefix
	case ScopeLocal:
		keyPrefix = arn.IAM(s.account, "policy/")
	default:
		return nil, apierr.Validation("scope", in.Scope, "Member must satisfy enum value set: [All, AWS, Local]")
	}
	switch in.Usage {
	case "", UsagePermissionsPolicy, UsagePermissionsBoundary:
	default:
		return nil, apierr.Validation("policyUsageFilter", in.Usage, "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	keep := func(mp *ManagedPolicy) bool {
		if !strings.HasPrefix(mp.Path, prefix) {
			return false
		}
		if !in.OnlyAttached {
			return true
		}
		if in.Usage == UsagePermissionsBoundary {
			return mp.BoundaryUsage > 0
		}
		return mp.AttachmentCount > 0
	}
	var out *Paged[ManagedPolicy]
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		out, err = scanPage(tx, tPolicies, keyPrefix, p, keep)
		return err
	})
	return out, err
}

// DeletePolicy deletes a customer managed policy that is attached to
// nothing, used as no boundary, and has no version but its default.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html
func (s *Service) DeletePolicy(ctx context.Context, policyARN string) error {
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	if isAWSManaged(policyARN) {
		return protectedPolicy(policyARN)
	}
	return s.update(ctx, func(tx kv.Tx) error {
		mp, err := getPolicy(tx, policyARN)
		if err != nil {
			return err
		}
		attached, err := hasAny(tx, tPolicyEntities, policyARN+"#")
		if err != nil {
			return err
		}
		// A boundary is a use too: deleting it would leave users and
		// roles bounded by a policy that is not there.
		if attached || mp.AttachmentCount > 0 || mp.BoundaryUsage > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete a policy attached to entities.")
		}
		versions, err := scanKeys(tx, tPolicyVersions, policyARN+"#")
		if err != nil {
			return err
		}
		if len(versions) > 1 {
			return apierr.New(apierr.DeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		for _, v := range versions {
			if err := tx.Delete(tPolicyVersions, versionKey(policyARN, v)); err != nil {
				return err
			}
		}
		return tx.Delete(tPolicies, policyARN)
	})
}

// CreatePolicyVersion adds a version to a customer managed policy,
// optionally making it the default.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html
func (s *Service) CreatePolicyVersion(ctx context.Context, policyARN, doc string, setAsDefault bool) (*PolicyVersion, error) {
	if err := checkPolicyARN(policyARN); err != nil {
		return nil, err
	}
	if isAWSManaged(policyARN) {
		return nil, protectedPolicy(policyARN)
	}
	if err := checkManagedDocument(doc); err != nil {
		return nil, err
	}
	var v *PolicyVersion
	err := s.update(ctx, func(tx kv.Tx) error {
		mp, err := getPolicy(tx, policyARN)
		if err != nil {
			return err
		}
		versions, err := scanKeys(tx, tPolicyVersions, policyARN+"#")
		if err != nil {
			return err
		}
		if len(versions) >= MaxPolicyVersions {
			return apierr.New(apierr.LimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
		}
		now := s.now().UTC()
		if mp.NextVersion < 2 {
			mp.NextVersion = 2
		}
		v = &PolicyVersion{PolicyARN: policyARN, VersionID: "v" + strconv.Itoa(mp.NextVersion), Document: doc, IsDefault: setAsDefault, CreateDate: now}
		mp.NextVersion++
		mp.UpdateDate = now
		if setAsDefault {
			if err := s.setDefault(tx, mp, v.VersionID); err != nil {
				return err
			}
		}
		if err := putJSON(tx, tPolicyVersions, versionKey(policyARN, v.VersionID), v); err != nil {
			return err
		}
		return putJSON(tx, tPolicies, policyARN, mp)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// setDefault clears the old default version's flag and records the new
// default in mp (which the caller writes).
func (s *Service) setDefault(tx kv.Tx, mp *ManagedPolicy, versionID string) error {
	if mp.DefaultVersionID != "" && mp.DefaultVersionID != versionID {
		old, err := getJSON[PolicyVersion](tx, tPolicyVersions, versionKey(mp.ARN, mp.DefaultVersionID))
		switch {
		case err == nil:
			old.IsDefault = false
			if err := putJSON(tx, tPolicyVersions, versionKey(mp.ARN, old.VersionID), old); err != nil {
				return err
			}
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
	}
	mp.DefaultVersionID = versionID
	return nil
}

func noVersion(policyARN, versionID string) error {
	return apierr.New(apierr.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", policyARN, versionID)
}

// GetPolicyVersion returns one version of a managed policy, with its document.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html
func (s *Service) GetPolicyVersion(ctx context.Context, policyARN, versionID string) (*PolicyVersion, error) {
	if err := checkPolicyARN(policyARN); err != nil {
		return nil, err
	}
	var v *PolicyVersion
	err := s.view(ctx, func(tx kv.Tx) error {
		if _, err := getPolicy(tx, policyARN); err != nil {
			return err
		}
		var err error
		v, err = getJSON[PolicyVersion](tx, tPolicyVersions, versionKey(policyARN, versionID))
		if errors.Is(err, kv.ErrNotFound) {
			return noVersion(policyARN, versionID)
		}
		return err
	})
	return v, err
}

// versionNumber is N of "vN" (0 if it is not of that form).
func versionNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "v"))
	return n
}

// ListPolicyVersions lists a policy's versions, newest first.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyVersions.html
func (s *Service) ListPolicyVersions(ctx context.Context, policyARN string, p Page) (*Paged[PolicyVersion], error) {
	if err := checkPolicyARN(policyARN); err != nil {
		return nil, err
	}
	var out *Paged[PolicyVersion]
	err := s.view(ctx, func(tx kv.Tx) error {
		if _, err := getPolicy(tx, policyARN); err != nil {
			return err
		}
		vs, err := scanJSON[PolicyVersion](tx, tPolicyVersions, policyARN+"#")
		if err != nil {
			return err
		}
		sort.Slice(vs, func(i, j int) bool { return versionNumber(vs[i].VersionID) > versionNumber(vs[j].VersionID) })
		out, err = pageItems(vs, func(v *PolicyVersion) string { return v.VersionID }, p)
		return err
	})
	return out, err
}

// DeletePolicyVersion deletes a version that is not the default.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicyVersion.html
func (s *Service) DeletePolicyVersion(ctx context.Context, policyARN, versionID string) error {
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	if isAWSManaged(policyARN) {
		return protectedPolicy(policyARN)
	}
	return s.update(ctx, func(tx kv.Tx) error {
		mp, err := getPolicy(tx, policyARN)
		if err != nil {
			return err
		}
		key := versionKey(policyARN, versionID)
		if ok, err := exists(tx, tPolicyVersions, key); err != nil || !ok {
			if err != nil {
				return err
			}
			return noVersion(policyARN, versionID)
		}
		if mp.DefaultVersionID == versionID {
			return apierr.New(apierr.DeleteConflict, "Cannot delete the default version of a policy.")
		}
		return tx.Delete(tPolicyVersions, key)
	})
}

// SetDefaultPolicyVersion makes a version the one in effect. Requests
// authorized after it returns use it.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SetDefaultPolicyVersion.html
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, policyARN, versionID string) error {
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	if isAWSManaged(policyARN) {
		return protectedPolicy(policyARN)
	}
	return s.update(ctx, func(tx kv.Tx) error {
		mp, err := getPolicy(tx, policyARN)
		if err != nil {
			return err
		}
		v, err := getJSON[PolicyVersion](tx, tPolicyVersions, versionKey(policyARN, versionID))
		if errors.Is(err, kv.ErrNotFound) {
			return noVersion(policyARN, versionID)
		}
		if err != nil {
			return err
		}
		if err := s.setDefault(tx, mp, versionID); err != nil {
			return err
		}
		v.IsDefault = true
		if err := putJSON(tx, tPolicyVersions, versionKey(policyARN, versionID), v); err != nil {
			return err
		}
		return putJSON(tx, tPolicies, policyARN, mp)
	})
}

// AttachPolicy attaches a managed policy to a user, group or role.
// Attaching a policy that is already attached does nothing.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html
func (s *Service) AttachPolicy(ctx context.Context, kind, entity, policyARN string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		ename, err := entityName(tx, kind, entity)
		if err != nil {
			return err
		}
		if err := protectEntity(tx, kind, ename); err != nil {
			return err
		}
		mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
		if errors.Is(err, kv.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
		}
		if err != nil {
			return err
		}
		if !mp.IsAttachable {
			return apierr.New(apierr.PolicyNotAttachable, "Policy %s is not attachable.", policyARN)
		}
		prefix := kind + "/" + lower(ename) + "/"
		if ok, err := exists(tx, tAttached, prefix+policyARN); err != nil || ok {
			return err
		}
		arns, err := scanKeys(tx, tAttached, prefix)
		if err != nil {
			return err
		}
		if quota, n := maxAttached(kind); len(arns) >= n {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for %s: %d", quota, n)
		}
		mp.AttachmentCount++
		if err := putJSON(tx, tPolicies, policyARN, mp); err != nil {
			return err
		}
		if err := tx.Put(tAttached, prefix+policyARN, nil); err != nil {
			return err
		}
		return tx.Put(tPolicyEntities, policyARN+"#"+kind+"/"+lower(ename), nil)
	})
}

// DetachPolicy detaches a managed policy from a user, group or role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachRolePolicy.html
func (s *Service) DetachPolicy(ctx context.Context, kind, entity, policyARN string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		ename, err := entityName(tx, kind, entity)
		if err != nil {
			return err
		}
		if err := protectEntity(tx, kind, ename); err != nil {
			return err
		}
		key := kind + "/" + lower(ename) + "/" + policyARN
		if ok, err := exists(tx, tAttached, key); err != nil || !ok {
			if err != nil {
				return err
			}
			return apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
		}
		mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
		switch {
		case err == nil:
			if mp.AttachmentCount > 0 {
				mp.AttachmentCount--
			}
			if err := putJSON(tx, tPolicies, policyARN, mp); err != nil {
				return err
			}
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
		if err := tx.Delete(tAttached, key); err != nil {
			return err
		}
		return tx.Delete(tPolicyEntities, policyARN+"#"+kind+"/"+lower(ename))
	})
}

// AttachedPolicy is a managed policy as the ListAttached*Policies actions
// report it.
type AttachedPolicy struct {
	Name string
	ARN  string
}

// ListAttachedPolicies lists the managed policies attached to an entity
// whose path starts with pathPrefix, in ARN order.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html
func (s *Service) ListAttachedPolicies(ctx context.Context, kind, entity, pathPrefix string, p Page) (*Paged[AttachedPolicy], error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	prefix := pathPrefix
	if prefix == "" {
		prefix = "/"
	}
	var out *Paged[AttachedPolicy]
	err := s.view(ctx, func(tx kv.Tx) error {
		ename, err := entityName(tx, kind, entity)
		if err != nil {
			return err
		}
		arns, err := scanKeys(tx, tAttached, kind+"/"+lower(ename)+"/")
		if err != nil {
			return err
		}
		var items []*AttachedPolicy
		for _, a := range arns {
			mp, err := getJSON[ManagedPolicy](tx, tPolicies, a)
			if errors.Is(err, kv.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if strings.HasPrefix(mp.Path, prefix) {
				items = append(items, &AttachedPolicy{Name: mp.Name, ARN: mp.ARN})
			}
		}
		out, err = pageItems(items, func(a *AttachedPolicy) string { return a.ARN }, p)
		return err
	})
	return out, err
}

// PolicyEntity is a user, group or role that uses a managed policy.
type PolicyEntity struct {
	Kind string // KindUser, KindGroup, KindRole
	Name string
	ID   string
}

// Entity filters of ListEntitiesForPolicy.
const (
	EntityUser  = "User"
	EntityRole  = "Role"
	EntityGroup = "Group"
)

// ListEntitiesInput filters ListEntitiesForPolicy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListEntitiesForPolicy.html
type ListEntitiesInput struct {
	Filter     string // EntityUser, EntityRole, EntityGroup, or "" for all
	PathPrefix string
	Usage      string // UsagePermissionsPolicy, UsagePermissionsBoundary, or "" for both
}

// ListEntitiesForPolicy lists the users, groups and roles a managed policy
// is attached to (or bounds), groups first, then roles, then users, each
// by name.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, policyARN string, in ListEntitiesInput, p Page) (*Paged[PolicyEntity], error) {
	if err := checkPolicyARN(policyARN); err != nil {
		return nil, err
	}
	prefix := in.PathPrefix
	if prefix == "" {
		prefix = "/"
	}
	want := func(kind string) bool {
		switch in.Filter {
		case EntityUser:
			return kind == KindUser
		case EntityRole:
			return kind == KindRole
		case EntityGroup:
			return kind == KindGroup
		}
		return true
	}
	type entity struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Path     string `json:"path"`
		Boundary string `json:"boundary"`
	}
	var out *Paged[PolicyEntity]
	err := s.view(ctx, func(tx kv.Tx) error {
		if _, err := getPolicy(tx, policyARN); err != nil {
			return err
		}
		found := map[string]*PolicyEntity{}
		add := func(kind string, e *entity) {
			if want(kind) && strings.HasPrefix(e.Path, prefix) {
				found[kind+"/"+lower(e.Name)] = &PolicyEntity{Kind: kind, Name: e.Name, ID: e.ID}
			}
		}
		if in.Usage != UsagePermissionsBoundary {
			keys, err := scanKeys(tx, tPolicyEntities, policyARN+"#")
			if err != nil {
				return err
			}
			for _, k := range keys {
				kind, name, _ := strings.Cut(k, "/")
				e, err := getJSON[entity](tx, entityTable(kind), name)
				if errors.Is(err, kv.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				add(kind, e)
			}
		}
		if in.Usage != UsagePermissionsPolicy {
			for _, kind := range []string{KindUser, KindRole} {
				es, err := scanJSON[entity](tx, entityTable(kind), "")
				if err != nil {
					return err
				}
				for _, e := range es {
					if e.Boundary == policyARN {
						add(kind, e)
					}
				}
			}
		}
		keys := make([]string, 0, len(found))
		for k := range found {
			keys = append(keys, k)
		}
		sort.Strings(keys) // group/…, role/…, user/…
		items := make([]*PolicyEntity, len(keys))
		for i, k := range keys {
			items[i] = found[k]
		}
		var err error
		out, err = pageItems(items, func(e *PolicyEntity) string { return e.Kind + "/" + lower(e.Name) }, p)
		return err
	})
	return out, err
}
