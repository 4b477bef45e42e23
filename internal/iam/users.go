package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// CreateUserInput is CreateUser's input.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
type CreateUserInput struct {
	Name     string
	Path     string
	Boundary string // permissions boundary policy ARN
	Tags     []Tag
}

// CreateUser creates a user.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*User, error) {
	if err := checkName("userName", in.Name, 64); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	u := &User{
		ID: token.NewUniqueID(arn.PrefixUser, s.rand), Name: in.Name, Path: path,
		ARN: arn.User(s.account, path, in.Name), CreateDate: s.now().UTC(),
		Boundary: in.Boundary, Tags: in.Tags,
	}
	err = s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tUsers, lower(in.Name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "User with name %s already exists.", in.Name)
			}
			return err
		}
		if in.Boundary != "" {
			if err := s.useAsBoundary(tx, in.Boundary, +1); err != nil {
				return err
			}
		}
		return putJSON(tx, tUsers, lower(in.Name), u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, name string) (*User, error) {
	var u *User
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		u, err = getJSON[User](tx, tUsers, lower(name))
		return notFound(err, "user", name)
	})
	return u, err
}

// ListUsers lists users whose path starts with pathPrefix, by name.
func (s *Service) ListUsers(ctx context.Context, pathPrefix string, p Page) (*Paged[User], error) {
	prefix, err := checkPathPrefix(pathPrefix)
	if err != nil {
		return nil, err
	}
	var out *Paged[User]
	err = s.view(ctx, func(tx kv.Tx) error {
		out, err = scanPage(tx, tUsers, "", p, func(u *User) bool { return strings.HasPrefix(u.Path, prefix) })
		return err
	})
	return out, err
}

// UpdateUser renames a user or changes its path.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html
func (s *Service) UpdateUser(ctx context.Context, name, newName, newPath string) error {
	if newName != "" {
		if err := checkName("newUserName", newName, 64); err != nil {
			return err
		}
	}
	if newPath != "" {
		if _, err := checkPath("newPath", newPath); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		if newPath != "" {
			u.Path = newPath
		}
		if newName != "" && newName != u.Name {
			if lower(newName) != lower(u.Name) {
				if ok, err := exists(tx, tUsers, lower(newName)); err != nil || ok {
					if ok {
						return apierr.New(apierr.EntityAlreadyExists, "User with name %s already exists.", newName)
					}
					return err
				}
			}
			if err := s.renameUserRefs(tx, u.Name, newName); err != nil {
				return err
			}
			if err := tx.Delete(tUsers, lower(u.Name)); err != nil {
				return err
			}
			u.Name = newName
		}
		u.ARN = arn.User(s.account, u.Path, u.Name)
		return putJSON(tx, tUsers, lower(u.Name), u)
	})
}

// renameUserRefs moves every key that names the user (access keys, group
// membership, policies, MFA devices) to the new name.
func (s *Service) renameUserRefs(tx kv.Tx, oldName, newName string) error {
	oldL, newL := lower(oldName), lower(newName)
	if ok, err := exists(tx, tLoginProfiles, oldL); err != nil || ok {
		if err != nil {
			return err
		}
		if err := moveKey(tx, tLoginProfiles, oldL, newL); err != nil {
			return err
		}
	}
	keys, err := scanKeys(tx, tUserKeys, oldL+"/")
	if err != nil {
		return err
	}
	for _, id := range keys {
		k, err := getJSON[AccessKey](tx, tAccessKeys, id)
		if err != nil {
			return err
		}
		k.UserName = newName
		if err := putJSON(tx, tAccessKeys, id, k); err != nil {
			return err
		}
		if err := moveKey(tx, tUserKeys, oldL+"/"+id, newL+"/"+id); err != nil {
			return err
		}
	}
	groups, err := scanKeys(tx, tUserGroups, oldL+"/")
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := moveKey(tx, tUserGroups, oldL+"/"+g, newL+"/"+g); err != nil {
			return err
		}
		if err := moveKey(tx, tGroupMembers, g+"/"+oldL, g+"/"+newL); err != nil {
			return err
		}
	}
	inline, err := scanJSON[InlinePolicy](tx, tInline, KindUser+"/"+oldL+"/")
	if err != nil {
		return err
	}
	for _, p := range inline {
		if err := tx.Delete(tInline, KindUser+"/"+oldL+"/"+p.Name); err != nil {
			return err
		}
		p.Entity = newName
		if err := putJSON(tx, tInline, KindUser+"/"+newL+"/"+p.Name, p); err != nil {
			return err
		}
	}
	attached, err := scanKeys(tx, tAttached, KindUser+"/"+oldL+"/")
	if err != nil {
		return err
	}
	for _, a := range attached {
		if err := moveKey(tx, tAttached, KindUser+"/"+oldL+"/"+a, KindUser+"/"+newL+"/"+a); err != nil {
			return err
		}
		if err := moveKey(tx, tPolicyEntities, a+"#"+KindUser+"/"+oldL, a+"#"+KindUser+"/"+newL); err != nil {
			return err
		}
	}
	serials, err := scanKeys(tx, tUserMFA, oldL+"/")
	if err != nil {
		return err
	}
	for _, sn := range serials {
		d, err := getJSON[MFADevice](tx, tMFADevices, sn)
		if err != nil {
			return err
		}
		d.UserName = newName
		if err := putJSON(tx, tMFADevices, sn, d); err != nil {
			return err
		}
		if err := moveKey(tx, tUserMFA, oldL+"/"+sn, newL+"/"+sn); err != nil {
			return err
		}
	}
	return nil
}

// moveKey renames a key within a table, keeping its value.
func moveKey(tx kv.Tx, table, from, to string) error {
	if from == to {
		return nil
	}
	v, err := tx.Get(table, from)
	if err != nil {
		return err
	}
	v = append([]byte(nil), v...)
	if err := tx.Delete(table, from); err != nil {
		return err
	}
	return tx.Put(table, to, v)
}

// DeleteUser deletes a user that has nothing attached to it any more, as
// AWS requires.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		n := lower(u.Name)
		if ok, err := exists(tx, tLoginProfiles, n); err != nil || ok {
			if ok {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must delete login profile first.")
			}
			return err
		}
		for _, c := range []struct {
			table, prefix, what string
		}{
			{tUserKeys, n + "/", "must delete access keys first."},
			{tInline, KindUser + "/" + n + "/", "must delete policies first."},
			{tAttached, KindUser + "/" + n + "/", "must detach all policies first."},
			{tUserGroups, n + "/", "must remove users from group first."},
			{tUserMFA, n + "/", "must delete MFA device first."},
		} {
			ok, err := hasAny(tx, c.table, c.prefix)
			if err != nil {
				return err
			}
			if ok {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, %s", c.what)
			}
		}
		if u.Boundary != "" {
			if err := s.useAsBoundary(tx, u.Boundary, -1); err != nil && !apierr.Is(err, apierr.NoSuchEntity) {
				return err
			}
		}
		return tx.Delete(tUsers, n)
	})
}

// useAsBoundary checks that a managed policy exists and adjusts its
// PermissionsBoundaryUsageCount by delta.
func (s *Service) useAsBoundary(tx kv.Tx, policyARN string, delta int) error {
	mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
	if errors.Is(err, kv.ErrNotFound) {
		return apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
	}
	if err != nil {
		return err
	}
	mp.BoundaryUsage += delta
	if mp.BoundaryUsage < 0 {
		mp.BoundaryUsage = 0
	}
	return putJSON(tx, tPolicies, policyARN, mp)
}
