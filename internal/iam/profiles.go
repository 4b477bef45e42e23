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

// Instance profiles: containers for at most one role, handed to EC2
// instances.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html

// MaxRolesPerInstanceProfile is AWS's fixed quota.
const MaxRolesPerInstanceProfile = 1

func noProfile(name string) error {
	return apierr.New(apierr.NoSuchEntity, "Instance Profile %s cannot be found.", name)
}

func getProfile(tx kv.Tx, name string) (*InstanceProfile, error) {
	ip, err := getJSON[InstanceProfile](tx, tInstanceProfiles, lower(name))
	if err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			return nil, noProfile(name)
		}
		return nil, err
	}
	return ip, nil
}

// CreateInstanceProfileInput is CreateInstanceProfile's input.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html
type CreateInstanceProfileInput struct {
	Name string
	Path string
	Tags []Tag
}

// CreateInstanceProfile creates an empty instance profile.
func (s *Service) CreateInstanceProfile(ctx context.Context, in CreateInstanceProfileInput) (*InstanceProfile, error) {
	if err := checkName("instanceProfileName", in.Name, 128); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	ip := &InstanceProfile{
		ID: token.NewUniqueID(arn.PrefixInstanceProfile, s.rand), Name: in.Name, Path: path,
		ARN: arn.InstanceProfile(s.account, path, in.Name), CreateDate: s.now().UTC(), Tags: in.Tags,
	}
	err = s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tInstanceProfiles, lower(in.Name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "Instance Profile %s already exists.", in.Name)
			}
			return err
		}
		return putJSON(tx, tInstanceProfiles, lower(in.Name), ip)
	})
	if err != nil {
		return nil, err
	}
	return ip, nil
}

// ProfileWithRoles is an instance profile with its roles in full, as
// GetInstanceProfile and the list actions return it.
type ProfileWithRoles struct {
	*InstanceProfile
	RoleList []*Role
}

func withRoles(tx kv.Tx, ip *InstanceProfile) (*ProfileWithRoles, error) {
	out := &ProfileWithRoles{InstanceProfile: ip, RoleList: []*Role{}}
	for _, name := range ip.Roles {
		r, err := getJSON[Role](tx, tRoles, lower(name))
		if err != nil {
			if errors.Is(err, kv.ErrNotFound) {
				continue // cannot happen: DeleteRole refuses while in a profile
			}
			return nil, err
		}
		out.RoleList = append(out.RoleList, r)
	}
	return out, nil
}

// GetInstanceProfile returns an instance profile and its role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetInstanceProfile.html
func (s *Service) GetInstanceProfile(ctx context.Context, name string) (*ProfileWithRoles, error) {
	var out *ProfileWithRoles
	err := s.view(ctx, func(tx kv.Tx) error {
		ip, err := getProfile(tx, name)
		if err != nil {
			return err
		}
		out, err = withRoles(tx, ip)
		return err
	})
	return out, err
}

// ListInstanceProfiles lists instance profiles whose path starts with
// pathPrefix, by name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfiles.html
func (s *Service) ListInstanceProfiles(ctx context.Context, pathPrefix string, p Page) (*Paged[ProfileWithRoles], error) {
	prefix, err := checkPathPrefix(pathPrefix)
	if err != nil {
		return nil, err
	}
	var out *Paged[ProfileWithRoles]
	err = s.view(ctx, func(tx kv.Tx) error {
		pg, err := scanPage(tx, tInstanceProfiles, "", p, func(ip *InstanceProfile) bool { return strings.HasPrefix(ip.Path, prefix) })
		if err != nil {
			return err
		}
		out = &Paged[ProfileWithRoles]{IsTruncated: pg.IsTruncated, Marker: pg.Marker, Items: []*ProfileWithRoles{}}
		for _, ip := range pg.Items {
			w, err := withRoles(tx, ip)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, w)
		}
		return nil
	})
	return out, err
}

// ListInstanceProfilesForRole lists the instance profiles holding a role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfilesForRole.html
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, roleName string, p Page) (*Paged[ProfileWithRoles], error) {
	var out *Paged[ProfileWithRoles]
	err := s.view(ctx, func(tx kv.Tx) error {
		r, err := getRole(tx, roleName)
		if err != nil {
			return err
		}
		names, err := scanKeys(tx, tRoleProfiles, lower(r.Name)+"/")
		if err != nil {
			return err
		}
		var items []*ProfileWithRoles
		for _, n := range names {
			ip, err := getJSON[InstanceProfile](tx, tInstanceProfiles, n)
			if err != nil {
				return err
			}
			w, err := withRoles(tx, ip)
			if err != nil {
				return err
			}
			items = append(items, w)
		}
		out, err = pageItems(items, func(w *ProfileWithRoles) string { return lower(w.Name) }, p)
		return err
	})
	return out, err
}

// AddRoleToInstanceProfile puts a role into an empty instance profile.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddRoleToInstanceProfile.html
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, profileName, roleName string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		ip, err := getProfile(tx, profileName)
		if err != nil {
			return err
		}
		r, err := getRole(tx, roleName)
		if err != nil {
			return err
		}
		if len(ip.Roles) >= MaxRolesPerInstanceProfile {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", MaxRolesPerInstanceProfile)
		}
		ip.Roles = append(ip.Roles, r.Name)
		if err := putJSON(tx, tInstanceProfiles, lower(ip.Name), ip); err != nil {
			return err
		}
		return tx.Put(tRoleProfiles, lower(r.Name)+"/"+lower(ip.Name), nil)
	})
}

// RemoveRoleFromInstanceProfile takes a role out of an instance profile.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveRoleFromInstanceProfile.html
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, profileName, roleName string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		ip, err := getProfile(tx, profileName)
		if err != nil {
			return err
		}
		idx := -1
		for i, n := range ip.Roles {
			if lower(n) == lower(roleName) {
				idx = i
			}
		}
		if idx < 0 {
			if _, err := getRole(tx, roleName); err != nil {
				return err
			}
			return apierr.New(apierr.NoSuchEntity, "The role with name %s cannot be found in instance profile %s.", roleName, ip.Name)
		}
		ip.Roles = append(ip.Roles[:idx:idx], ip.Roles[idx+1:]...)
		if err := putJSON(tx, tInstanceProfiles, lower(ip.Name), ip); err != nil {
			return err
		}
		return tx.Delete(tRoleProfiles, lower(roleName)+"/"+lower(ip.Name))
	})
}

// DeleteInstanceProfile deletes an instance profile that holds no role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteInstanceProfile.html
func (s *Service) DeleteInstanceProfile(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		ip, err := getProfile(tx, name)
		if err != nil {
			return err
		}
		if len(ip.Roles) > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(tInstanceProfiles, lower(ip.Name))
	})
}

// InstanceProfileRole resolves an instance profile, by name or ARN, and
// the role in it (nil when empty), for the EC2 metadata service.
func (s *Service) InstanceProfileRole(ctx context.Context, nameOrARN string) (*InstanceProfile, *Role, error) {
	name := nameOrARN
	if strings.HasPrefix(nameOrARN, "arn:") {
		a, err := arn.Parse(nameOrARN)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "instance-profile/") || a.AccountID != string(s.account) {
			return nil, nil, noProfile(nameOrARN)
		}
		_, _, name = arn.SplitPathName(a.Resource)
	}
	var ip *InstanceProfile
	var r *Role
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		if ip, err = getProfile(tx, name); err != nil {
			return err
		}
		if name != nameOrARN && ip.ARN != nameOrARN {
			return noProfile(nameOrARN)
		}
		if len(ip.Roles) > 0 {
			r, err = getRole(tx, ip.Roles[0])
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return ip, r, nil
}
