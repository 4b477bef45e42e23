package iam

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/token"
)

// Role limits from the IAM service model and
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const (
	// MaxTrustPolicySize is the default quota on a role trust policy, in
	// characters other than whitespace.
	MaxTrustPolicySize = 2048
	// DefaultMaxSessionDuration and the bounds of a role's
	// MaxSessionDuration, in seconds.
	DefaultMaxSessionDuration = 3600
	MinMaxSessionDuration     = 3600
	MaxMaxSessionDuration     = 43200
	maxRoleDescription        = 1000
)

// roleDescriptionPattern is the model's roleDescriptionType.
var roleDescriptionPattern = regexp.MustCompile(`^[\x{09}\x{0A}\x{0D}\x{20}-\x{7E}\x{A1}-\x{FF}]*$`)

// CreateRoleInput is CreateRole's input.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
type CreateRoleInput struct {
	Name               string
	Path               string
	TrustPolicy        string // AssumeRolePolicyDocument
	Description        string
	MaxSessionDuration int // 0: the default of 3600 seconds
	Boundary           string
	Tags               []Tag
}

// checkTrustPolicy validates a role trust policy: at most 2,048
// characters other than whitespace, and AWS's trust-policy grammar
// (Principal required).
func checkTrustPolicy(doc string) error {
	if policy.NonWhitespaceLen(doc) > MaxTrustPolicySize {
		return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", MaxTrustPolicySize)
	}
	return parseDocument(doc, policy.Trust)
}

// parseDocument validates a policy document, turning the parser's error
// into MalformedPolicyDocument with its message.
func parseDocument(doc string, kind policy.Kind) error {
	if _, err := policy.Parse(doc, kind); err != nil {
		var pe *policy.ParseError
		if errors.As(err, &pe) {
			return apierr.Wrap(apierr.MalformedPolicyDocument, err, "%s", pe.Message)
		}
		return apierr.Wrap(apierr.MalformedPolicyDocument, err, "%s", err.Error())
	}
	return nil
}

func checkRoleDescription(field, d string) error {
	if utf8.RuneCountInString(d) > maxRoleDescription {
		return apierr.Validation(field, d, "Member must have length less than or equal to 1000")
	}
	if !roleDescriptionPattern.MatchString(d) {
		return apierr.Validation(field, d, `Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	}
	return nil
}

func checkMaxSessionDuration(n int) error {
	switch {
	case n < MinMaxSessionDuration:
		return apierr.Validation("maxSessionDuration", itoa(n), "Member must have value greater than or equal to 3600")
	case n > MaxMaxSessionDuration:
		return apierr.Validation("maxSessionDuration", itoa(n), "Member must have value less than or equal to 43200")
	}
	return nil
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (*Role, error) {
	if err := checkName("roleName", in.Name, 64); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	// The service-linked path is CreateServiceLinkedRole's alone: a role
	// placed there by CreateRole would be protected as if a service owned
	// it. CreateRole's documented errors include InvalidInput, not
	// UnmodifiableEntity, and this is AWS's message.
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
	if strings.HasPrefix(path, ServiceRolePathPrefix) {
		return nil, apierr.New(apierr.InvalidInput, "Path prefix '%s' can only be used for AWS Service linked Roles", ServiceRolePathPrefix)
	}
	if err := checkRoleDescription("description", in.Description); err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if err := checkMaxSessionDuration(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if in.Boundary != "" {
		if err := checkPolicyARN(in.Boundary); err != nil {
			return nil, err
		}
	}
	if err := checkTrustPolicy(in.TrustPolicy); err != nil {
		return nil, err
	}
	r := &Role{
		ID: token.NewUniqueID(arn.PrefixRole, s.rand), Name: in.Name, Path: path,
		ARN: arn.Role(s.account, path, in.Name), CreateDate: s.now().UTC(),
		TrustPolicy: in.TrustPolicy, Description: in.Description,
		MaxSessionDuration: in.MaxSessionDuration, Boundary: in.Boundary, Tags: in.Tags,
	}
	err = s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tRoles, lower(in.Name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "Role with name %s already exists.", in.Name)
			}
			return err
		}
		if in.Boundary != "" {
			if err := s.useAsBoundary(tx, in.Boundary, +1); err != nil {
				return err
			}
		}
		return putJSON(tx, tRoles, lower(in.Name), r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// GetRole returns a role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
func (s *Service) GetRole(ctx context.Context, name string) (*Role, error) {
	var r *Role
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		r, err = getRole(tx, name)
		return err
	})
	return r, err
}

func getRole(tx kv.Tx, name string) (*Role, error) {
	r, err := getJSON[Role](tx, tRoles, lower(name))
	if err != nil {
		return nil, notFound(err, "role", name)
	}
	return r, nil
}

// RoleByARN returns the role an ARN names (arn:aws:iam::ACCT:role/PATH/NAME).
// An ARN of another account, or whose path is not the role's, is
// NoSuchEntity, as is an unknown role.
func (s *Service) RoleByARN(ctx context.Context, roleARN string) (*Role, error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return nil, apierr.New(apierr.NoSuchEntity, "The role with ARN %s cannot be found.", roleARN)
	}
	_, _, name := arn.SplitPathName(a.Resource)
	if a.AccountID != string(s.account) || name == "" {
		return nil, apierr.NoEntity("role", name)
	}
	r, err := s.GetRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r.ARN != roleARN {
		return nil, apierr.NoEntity("role", name)
	}
	return r, nil
}

// ListRoles lists roles whose path starts with pathPrefix, by name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
func (s *Service) ListRoles(ctx context.Context, pathPrefix string, p Page) (*Paged[Role], error) {
	prefix, err := checkPathPrefix(pathPrefix)
	if err != nil {
		return nil, err
	}
	var out *Paged[Role]
	err = s.view(ctx, func(tx kv.Tx) error {
		out, err = scanPage(tx, tRoles, "", p, func(r *Role) bool { return strings.HasPrefix(r.Path, prefix) })
		return err
	})
	return out, err
}

// UpdateRoleInput is UpdateRole's input; nil fields are left unchanged.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html
type UpdateRoleInput struct {
	Name               string
	Description        *string
	MaxSessionDuration *int
}

// UpdateRole changes a role's description or maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in UpdateRoleInput) (*Role, error) {
	if in.Description != nil {
		if err := checkRoleDescription("description", *in.Description); err != nil {
			return nil, err
		}
	}
	if in.MaxSessionDuration != nil {
		if err := checkMaxSessionDuration(*in.MaxSessionDuration); err != nil {
			return nil, err
		}
	}
	var r *Role
	err := s.update(ctx, func(tx kv.Tx) error {
		var err error
		if r, err = getRole(tx, in.Name); err != nil {
			return err
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = *in.MaxSessionDuration
		}
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRoleDescription sets a role's description and returns the role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRoleDescription.html
func (s *Service) UpdateRoleDescription(ctx context.Context, name, description string) (*Role, error) {
	return s.UpdateRole(ctx, UpdateRoleInput{Name: name, Description: &description})
}

// UpdateAssumeRolePolicy replaces a role's trust policy. Callers that
// assume the role see the new policy as soon as this returns.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if err := checkTrustPolicy(doc); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if err := protectRole(r); err != nil {
			return err
		}
		r.TrustPolicy = doc
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
}

// DeleteRole deletes a role that has no policies and is in no instance
// profile, as AWS requires.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if err := protectRole(r); err != nil {
			return err
		}
		n := lower(r.Name)
		for _, c := range []struct {
			table, prefix, what string
		}{
			{tRoleProfiles, n + "/", "must remove roles from instance profile first."},
			{tInline, KindRole + "/" + n + "/", "must delete policies first."},
			{tAttached, KindRole + "/" + n + "/", "must detach all policies first."},
		} {
			ok, err := hasAny(tx, c.table, c.prefix)
			if err != nil {
				return err
			}
			if ok {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, %s", c.what)
			}
		}
		if r.Boundary != "" {
			if err := s.useAsBoundary(tx, r.Boundary, -1); err != nil && !apierr.Is(err, apierr.NoSuchEntity) {
				return err
			}
		}
		return tx.Delete(tRoles, n)
	})
}
