package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"

	"github.com/iamd/iamd/internal/kv"
)

// Permissions boundaries of users and roles.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html

// PutUserPermissionsBoundary sets or replaces a user's permissions boundary.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPermissionsBoundary.html
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, name, policyARN string) error {
	if err := checkPolicyARN(policyARN); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		if err := s.swapBoundary(tx, u.Boundary, policyARN); err != nil {
			return err
		}
		u.Boundary = policyARN
		return putJSON(tx, tUsers, lower(u.Name), u)
	})
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUserPermissionsBoundary.html
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		if u.Boundary == "" {
			return nil
		}
		if err := s.swapBoundary(tx, u.Boundary, ""); err != nil {
			return err
		}
		u.Boundary = ""
		return putJSON(tx, tUsers, lower(u.Name), u)
	})
}

// PutRolePermissionsBoundary sets or replaces a role's permissions boundary.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, name, policyARN string) error {
	if err := checkPolicyARN(policyARN); err != nil {
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
		if err := s.swapBoundary(tx, r.Boundary, policyARN); err != nil {
			return err
		}
		r.Boundary = policyARN
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePermissionsBoundary.html
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if r.Boundary == "" {
			return nil
		}
		if err := s.swapBoundary(tx, r.Boundary, ""); err != nil {
			return err
		}
		r.Boundary = ""
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
}

// swapBoundary moves one use as a boundary from old to new ("" for none),
// checking that new exists.
func (s *Service) swapBoundary(tx kv.Tx, old, new string) error {
	if old == new {
		// Still check that the policy exists, as AWS does.
		if new != "" {
			_, err := getJSON[ManagedPolicy](tx, tPolicies, new)
			return policyNotAttachable(err, new)
		}
		return nil
	}
	if new != "" {
		if err := s.useAsBoundary(tx, new, +1); err != nil {
			return err
		}
	}
	if old != "" {
		if err := s.useAsBoundary(tx, old, -1); err != nil {
			return ignoreNoEntity(err)
		}
	}
	return nil
}

// policyNotAttachable turns a missing policy into AWS's NoSuchEntity.
func policyNotAttachable(err error, policyARN string) error {
	if errors.Is(err, kv.ErrNotFound) {
		return apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
	}
	return err
}

// ignoreNoEntity drops NoSuchEntity: releasing a use of a policy that is
// already gone is not an error.
func ignoreNoEntity(err error) error {
	if apierr.Is(err, apierr.NoSuchEntity) {
		return nil
	}
	return err
}
