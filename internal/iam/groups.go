package iam

import (
	"context"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// Group quotas (default values).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const (
	maxGroupsPerAccount = 300
	maxGroupsPerUser    = 10
)

// CreateGroup creates a group.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html
func (s *Service) CreateGroup(ctx context.Context, name, path string) (*Group, error) {
	if err := checkName("groupName", name, 128); err != nil {
		return nil, err
	}
	path, err := checkPath("path", path)
	if err != nil {
		return nil, err
	}
	g := &Group{
		ID: token.NewUniqueID(arn.PrefixGroup, s.rand), Name: name, Path: path,
		ARN: arn.Group(s.account, path, name), CreateDate: s.now().UTC(),
	}
	err = s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tGroups, lower(name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "Group with name %s already exists.", name)
			}
			return err
		}
		n := 0
		if err := tx.Scan(tGroups, "", "", maxGroupsPerAccount, func(string, []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n >= maxGroupsPerAccount {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for GroupsPerAccount: %d", maxGroupsPerAccount)
		}
		return putJSON(tx, tGroups, lower(name), g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// GetGroup returns a group and one page of its members, by name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroup.html
func (s *Service) GetGroup(ctx context.Context, name string, p Page) (*Group, *Paged[User], error) {
	var (
		g     *Group
		users *Paged[User]
	)
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		if g, err = getJSON[Group](tx, tGroups, lower(name)); err != nil {
			return notFound(err, "group", name)
		}
		users, err = scanRefPage(tx, tGroupMembers, lower(g.Name)+"/", p, func(u string) (*User, error) {
			return getJSON[User](tx, tUsers, u)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return g, users, nil
}

// ListGroups lists groups whose path starts with pathPrefix, by name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroups.html
func (s *Service) ListGroups(ctx context.Context, pathPrefix string, p Page) (*Paged[Group], error) {
	prefix, err := checkPathPrefix(pathPrefix)
	if err != nil {
		return nil, err
	}
	var out *Paged[Group]
	err = s.view(ctx, func(tx kv.Tx) error {
		out, err = scanPage(tx, tGroups, "", p, func(g *Group) bool { return strings.HasPrefix(g.Path, prefix) })
		return err
	})
	return out, err
}

// ListGroupsForUser lists the groups a user belongs to, by name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupsForUser.html
func (s *Service) ListGroupsForUser(ctx context.Context, userName string, p Page) (*Paged[Group], error) {
	var out *Paged[Group]
	err := s.view(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		out, err = scanRefPage(tx, tUserGroups, lower(u.Name)+"/", p, func(g string) (*Group, error) {
			return getJSON[Group](tx, tGroups, g)
		})
		return err
	})
	return out, err
}

// UpdateGroup renames a group or changes its path. Membership and the
// group's policies follow it to the new name.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html
func (s *Service) UpdateGroup(ctx context.Context, name, newName, newPath string) error {
	if newName != "" {
		if err := checkName("newGroupName", newName, 128); err != nil {
			return err
		}
	}
	if newPath != "" {
		if _, err := checkPath("newPath", newPath); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx kv.Tx) error {
		g, err := getJSON[Group](tx, tGroups, lower(name))
		if err != nil {
			return notFound(err, "group", name)
		}
		if newPath != "" {
			g.Path = newPath
		}
		if newName != "" && newName != g.Name {
			if lower(newName) != lower(g.Name) {
				if ok, err := exists(tx, tGroups, lower(newName)); err != nil || ok {
					if ok {
						return apierr.New(apierr.EntityAlreadyExists, "Group with name %s already exists.", newName)
					}
					return err
				}
			}
			if err := renameGroupRefs(tx, g.Name, newName); err != nil {
				return err
			}
			if err := tx.Delete(tGroups, lower(g.Name)); err != nil {
				return err
			}
			g.Name = newName
		}
		g.ARN = arn.Group(s.account, g.Path, g.Name)
		return putJSON(tx, tGroups, lower(g.Name), g)
	})
}

// renameGroupRefs moves every key that names the group (members, inline
// and attached policies) to the new name.
func renameGroupRefs(tx kv.Tx, oldName, newName string) error {
	oldL, newL := lower(oldName), lower(newName)
	members, err := scanKeys(tx, tGroupMembers, oldL+"/")
	if err != nil {
		return err
	}
	for _, u := range members {
		if err := moveKey(tx, tGroupMembers, oldL+"/"+u, newL+"/"+u); err != nil {
			return err
		}
		if err := moveKey(tx, tUserGroups, u+"/"+oldL, u+"/"+newL); err != nil {
			return err
		}
	}
	inline, err := scanJSON[InlinePolicy](tx, tInline, KindGroup+"/"+oldL+"/")
	if err != nil {
		return err
	}
	for _, p := range inline {
		if err := tx.Delete(tInline, KindGroup+"/"+oldL+"/"+p.Name); err != nil {
			return err
		}
		p.Entity = newName
		if err := putJSON(tx, tInline, KindGroup+"/"+newL+"/"+p.Name, p); err != nil {
			return err
		}
	}
	attached, err := scanKeys(tx, tAttached, KindGroup+"/"+oldL+"/")
	if err != nil {
		return err
	}
	for _, a := range attached {
		if err := moveKey(tx, tAttached, KindGroup+"/"+oldL+"/"+a, KindGroup+"/"+newL+"/"+a); err != nil {
			return err
		}
		if err := moveKey(tx, tPolicyEntities, a+"#"+KindGroup+"/"+oldL, a+"#"+KindGroup+"/"+newL); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGroup deletes a group that has no members and no policies, as
// AWS requires.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteGroup.html
func (s *Service) DeleteGroup(ctx context.Context, name string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		g, err := getJSON[Group](tx, tGroups, lower(name))
		if err != nil {
			return notFound(err, "group", name)
		}
		n := lower(g.Name)
		for _, c := range []struct {
			table, prefix, what string
		}{
			{tGroupMembers, n + "/", "must remove users from group first."},
			{tInline, KindGroup + "/" + n + "/", "must delete policies first."},
			{tAttached, KindGroup + "/" + n + "/", "must detach all policies first."},
		} {
			ok, err := hasAny(tx, c.table, c.prefix)
			if err != nil {
				return err
			}
			if ok {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, %s", c.what)
			}
		}
		return tx.Delete(tGroups, n)
	})
}

// AddUserToGroup makes a user a member of a group; adding a member again
// is not an error.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html
func (s *Service) AddUserToGroup(ctx context.Context, groupName, userName string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		g, err := getJSON[Group](tx, tGroups, lower(groupName))
		if err != nil {
			return notFound(err, "group", groupName)
		}
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		gl, ul := lower(g.Name), lower(u.Name)
		if ok, err := exists(tx, tUserGroups, ul+"/"+gl); err != nil || ok {
			return err
		}
		n := 0
		if err := tx.Scan(tUserGroups, ul+"/", "", maxGroupsPerUser, func(string, []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n >= maxGroupsPerUser {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		if err := tx.Put(tGroupMembers, gl+"/"+ul, nil); err != nil {
			return err
		}
		return tx.Put(tUserGroups, ul+"/"+gl, nil)
	})
}

// RemoveUserFromGroup removes a member from a group.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveUserFromGroup.html
func (s *Service) RemoveUserFromGroup(ctx context.Context, groupName, userName string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		g, err := getJSON[Group](tx, tGroups, lower(groupName))
		if err != nil {
			return notFound(err, "group", groupName)
		}
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		gl, ul := lower(g.Name), lower(u.Name)
		ok, err := exists(tx, tUserGroups, ul+"/"+gl)
		if err != nil {
			return err
		}
		if !ok {
			return apierr.NoEntity("user", userName)
		}
		if err := tx.Delete(tGroupMembers, gl+"/"+ul); err != nil {
			return err
		}
		return tx.Delete(tUserGroups, ul+"/"+gl)
	})
}
