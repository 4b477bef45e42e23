package iam

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// Tagging users and roles. Tag keys are unique without regard to case:
// tagging with a key that differs only in case replaces the tag.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html

// maxUntagKeys is the model's limit on TagKeys (tagKeyListType).
const maxUntagKeys = 50

// TagUser adds or replaces tags on a user.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html
func (s *Service) TagUser(ctx context.Context, name string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		if u.Tags, err = mergeTags(u.Tags, tags); err != nil {
			return err
		}
		return putJSON(tx, tUsers, lower(u.Name), u)
	})
}

// UntagUser removes tags from a user; keys it does not have are ignored.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagUser.html
func (s *Service) UntagUser(ctx context.Context, name string, keys []string) error {
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		u.Tags = removeTags(u.Tags, keys)
		return putJSON(tx, tUsers, lower(u.Name), u)
	})
}

// ListUserTags returns one page of a user's tags, sorted by key.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserTags.html
func (s *Service) ListUserTags(ctx context.Context, name string, p Page) (*Paged[Tag], error) {
	var tags []Tag
	err := s.view(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return notFound(err, "user", name)
		}
		tags = u.Tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pageTags(tags, p)
}

// TagRole adds or replaces tags on a role.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html
func (s *Service) TagRole(ctx context.Context, name string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		r, err := getJSON[Role](tx, tRoles, lower(name))
		if err != nil {
			return notFound(err, "role", name)
		}
		if r.Tags, err = mergeTags(r.Tags, tags); err != nil {
			return err
		}
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
}

// UntagRole removes tags from a role; keys it does not have are ignored.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagRole.html
func (s *Service) UntagRole(ctx context.Context, name string, keys []string) error {
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		r, err := getJSON[Role](tx, tRoles, lower(name))
		if err != nil {
			return notFound(err, "role", name)
		}
		r.Tags = removeTags(r.Tags, keys)
		return putJSON(tx, tRoles, lower(r.Name), r)
	})
}

// ListRoleTags returns one page of a role's tags, sorted by key.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoleTags.html
func (s *Service) ListRoleTags(ctx context.Context, name string, p Page) (*Paged[Tag], error) {
	var tags []Tag
	err := s.view(ctx, func(tx kv.Tx) error {
		r, err := getJSON[Role](tx, tRoles, lower(name))
		if err != nil {
			return notFound(err, "role", name)
		}
		tags = r.Tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pageTags(tags, p)
}

// checkTagKeys validates the TagKeys of an Untag action.
func checkTagKeys(keys []string) error {
	if len(keys) > maxUntagKeys {
		return apierr.Validation("tagKeys", "["+strings.Join(keys, ", ")+"]", "Member must have length less than or equal to 50")
	}
	for i, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagKeyPattern.MatchString(k) {
			return apierr.Validation("tagKeys."+itoa(i+1)+".member", k, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
	}
	return nil
}

// pageTags returns one page of tags sorted by key; the marker is the last
// key returned.
func pageTags(tags []Tag, p Page) (*Paged[Tag], error) {
	after, err := markerKey(p.Marker)
	if err != nil {
		return nil, err
	}
	max := p.MaxItems
	if max <= 0 {
		max = DefaultMaxItems
	}
	sorted := slices.Clone(tags)
	slices.SortFunc(sorted, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	out := &Paged[Tag]{}
	for i := range sorted {
		t := &sorted[i]
		if p.Marker != "" && t.Key <= after {
			continue
		}
		if len(out.Items) == max {
			out.IsTruncated = true
			out.Marker = keyMarker(out.Items[max-1].Key)
			break
		}
		out.Items = append(out.Items, t)
	}
	return out, nil
}
