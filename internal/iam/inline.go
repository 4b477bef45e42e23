package iam

import (
	"context"
	"errors"
	"sort"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// Inline policies: Put/Get/Delete/List {User,Group,Role}Policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
//
// An entity's inline policies share one size quota, counted in characters
// other than whitespace over all of its inline documents. Policy names are
// distinguished by case, as the keys of tInline keep them.

// InlineSizeLimit is the aggregate inline policy quota of an entity kind.
func InlineSizeLimit(kind string) int {
	switch kind {
	case KindUser:
		return 2048
	case KindGroup:
		return 5120
	default:
		return 10240
	}
}

// entityTable is where entities of a kind live, keyed by lower(name).
func entityTable(kind string) string {
	switch kind {
	case KindUser:
		return tUsers
	case KindGroup:
		return tGroups
	default:
		return tRoles
	}
}

func checkKind(kind string) error {
	switch kind {
	case KindUser, KindGroup, KindRole:
		return nil
	}
	return apierr.New(apierr.InvalidInput, "Unknown entity kind %s.", kind)
}

// entityName returns the entity's name as created, or NoSuchEntity
// ("The role with name x cannot be found.").
func entityName(tx kv.Tx, kind, name string) (string, error) {
	type named struct {
		Name string `json:"name"`
	}
	e, err := getJSON[named](tx, entityTable(kind), lower(name))
	if err != nil {
		return "", notFound(err, kind, name)
	}
	return e.Name, nil
}

func inlinePrefix(kind, entity string) string { return kind + "/" + lower(entity) + "/" }

// PutInlinePolicy adds or replaces an inline policy of a user, group or
// role (kind is KindUser, KindGroup or KindRole). Requests authorized
// after it returns see the new policy.
func (s *Service) PutInlinePolicy(ctx context.Context, kind, entity, name, doc string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	if err := checkName("policyName", name, 128); err != nil {
		return err
	}
	if err := parseDocument(doc, policy.Identity); err != nil {
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
		prefix := inlinePrefix(kind, ename)
		total := policy.NonWhitespaceLen(doc)
		existing, err := scanJSON[InlinePolicy](tx, tInline, prefix)
		if err != nil {
			return err
		}
		for _, p := range existing {
			if p.Name != name {
				total += policy.NonWhitespaceLen(p.Document)
			}
		}
		if limit := InlineSizeLimit(kind); total > limit {
			return apierr.New(apierr.LimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", limit, kind, ename)
		}
		return putJSON(tx, tInline, prefix+name, &InlinePolicy{Kind: kind, Entity: ename, Name: name, Document: doc})
	})
}

// GetInlinePolicy returns an inline policy.
func (s *Service) GetInlinePolicy(ctx context.Context, kind, entity, name string) (*InlinePolicy, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	var out *InlinePolicy
	err := s.view(ctx, func(tx kv.Tx) error {
		ename, err := entityName(tx, kind, entity)
		if err != nil {
			return err
		}
		out, err = getJSON[InlinePolicy](tx, tInline, inlinePrefix(kind, ename)+name)
		if err != nil {
			return noInline(err, kind, name)
		}
		return nil
	})
	return out, err
}

// noInline is AWS's NoSuchEntity for a missing inline policy ("The role
// policy with name x cannot be found.").
func noInline(err error, kind, name string) error {
	if errors.Is(err, kv.ErrNotFound) {
		return apierr.New(apierr.NoSuchEntity, "The %s policy with name %s cannot be found.", kind, name)
	}
	return err
}

// DeleteInlinePolicy removes an inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, kind, entity, name string) error {
	if err := checkKind(kind); err != nil {
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
		key := inlinePrefix(kind, ename) + name
		if _, err := tx.Get(tInline, key); err != nil {
			return noInline(err, kind, name)
		}
		return tx.Delete(tInline, key)
	})
}

// ListInlinePolicies lists an entity's inline policy names in order.
func (s *Service) ListInlinePolicies(ctx context.Context, kind, entity string, p Page) (*Paged[string], error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	var out *Paged[string]
	err := s.view(ctx, func(tx kv.Tx) error {
		ename, err := entityName(tx, kind, entity)
		if err != nil {
			return err
		}
		names, err := scanKeys(tx, tInline, inlinePrefix(kind, ename))
		if err != nil {
			return err
		}
		sort.Strings(names)
		items := make([]*string, len(names))
		for i := range names {
			items[i] = &names[i]
		}
		out, err = pageItems(items, func(n *string) string { return *n }, p)
		return err
	})
	return out, err
}

// pageItems cuts one page out of items, which are in the order the list
// returns them; key identifies an item for the marker.
func pageItems[T any](items []*T, key func(*T) string, p Page) (*Paged[T], error) {
	after, err := markerKey(p.Marker)
	if err != nil {
		return nil, err
	}
	start := 0
	if after != "" {
		start = -1
		for i, it := range items {
			if key(it) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, apierr.New(apierr.InvalidInput, "Invalid Marker.")
		}
	}
	max := p.MaxItems
	if max <= 0 {
		max = DefaultMaxItems
	}
	out := &Paged[T]{Items: []*T{}}
	rest := items[start:]
	if len(rest) > max {
		out.Items = rest[:max]
		out.IsTruncated = true
		out.Marker = keyMarker(key(rest[max-1]))
	} else {
		out.Items = rest
	}
	return out, nil
}

// EntityARN returns the ARN of an existing user, group or role, for
// authorizing an action on it.
func (s *Service) EntityARN(ctx context.Context, kind, name string) (string, error) {
	if err := checkKind(kind); err != nil {
		return "", err
	}
	var out string
	err := s.view(ctx, func(tx kv.Tx) error {
		type entity struct {
			ARN string `json:"arn"`
		}
		e, err := getJSON[entity](tx, entityTable(kind), lower(name))
		if err != nil {
			return notFound(err, kind, name)
		}
		out = e.ARN
		return nil
	})
	return out, err
}
