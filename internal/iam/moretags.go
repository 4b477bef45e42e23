package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// noPolicy is getPolicy's NoSuchEntity.
func noPolicy(policyARN string) error {
	return apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
}

// Tagging managed policies, instance profiles and MFA devices: the same
// rules as users and roles (tags.go), on other records.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html

// tagged is a record kind that carries tags: where it lives and how a
// missing one is reported.
type tagged[T any] struct {
	table   string
	key     func(id string) string
	missing func(id string) error
	tags    func(*T) *[]Tag
	check   func(id string) error // validates the identifier; nil: none
}

func (k tagged[T]) load(tx kv.Tx, id string) (*T, string, error) {
	key := k.key(id)
	v, err := getJSON[T](tx, k.table, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, "", k.missing(id)
	}
	return v, key, err
}

func (k tagged[T]) tag(s *Service, ctx context.Context, id string, add []Tag) error {
	if k.check != nil {
		if err := k.check(id); err != nil {
			return err
		}
	}
	if err := checkTags(add); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		v, key, err := k.load(tx, id)
		if err != nil {
			return err
		}
		ts := k.tags(v)
		if *ts, err = mergeTags(*ts, add); err != nil {
			return err
		}
		return putJSON(tx, k.table, key, v)
	})
}

func (k tagged[T]) untag(s *Service, ctx context.Context, id string, keys []string) error {
	if k.check != nil {
		if err := k.check(id); err != nil {
			return err
		}
	}
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		v, key, err := k.load(tx, id)
		if err != nil {
			return err
		}
		ts := k.tags(v)
		*ts = removeTags(*ts, keys)
		return putJSON(tx, k.table, key, v)
	})
}

func (k tagged[T]) list(s *Service, ctx context.Context, id string, p Page) (*Paged[Tag], error) {
	if k.check != nil {
		if err := k.check(id); err != nil {
			return nil, err
		}
	}
	var tags []Tag
	err := s.view(ctx, func(tx kv.Tx) error {
		v, _, err := k.load(tx, id)
		if err != nil {
			return err
		}
		tags = *k.tags(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pageTags(tags, p)
}

var (
	taggedPolicy = tagged[ManagedPolicy]{
		table:   tPolicies,
		key:     func(a string) string { return a },
		missing: noPolicy,
		tags:    func(p *ManagedPolicy) *[]Tag { return &p.Tags },
		check:   checkPolicyARN,
	}
	taggedProfile = tagged[InstanceProfile]{
		table:   tInstanceProfiles,
		key:     lower,
		missing: noProfile,
		tags:    func(p *InstanceProfile) *[]Tag { return &p.Tags },
	}
	taggedMFA = tagged[MFADevice]{
		table:   tMFADevices,
		key:     func(s string) string { return s },
		missing: noDevice,
		tags:    func(d *MFADevice) *[]Tag { return &d.Tags },
	}
)

// TagPolicy adds or replaces tags on a customer managed policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagPolicy.html
func (s *Service) TagPolicy(ctx context.Context, policyARN string, tags []Tag) error {
	if isAWSManaged(policyARN) {
		return protectedPolicy(policyARN)
	}
	return taggedPolicy.tag(s, ctx, policyARN, tags)
}

// UntagPolicy removes tags from a customer managed policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagPolicy.html
func (s *Service) UntagPolicy(ctx context.Context, policyARN string, keys []string) error {
	if isAWSManaged(policyARN) {
		return protectedPolicy(policyARN)
	}
	return taggedPolicy.untag(s, ctx, policyARN, keys)
}

// ListPolicyTags returns one page of a managed policy's tags, by key.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyTags.html
func (s *Service) ListPolicyTags(ctx context.Context, policyARN string, p Page) (*Paged[Tag], error) {
	return taggedPolicy.list(s, ctx, policyARN, p)
}

// TagInstanceProfile adds or replaces tags on an instance profile.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagInstanceProfile.html
func (s *Service) TagInstanceProfile(ctx context.Context, name string, tags []Tag) error {
	return taggedProfile.tag(s, ctx, name, tags)
}

// UntagInstanceProfile removes tags from an instance profile.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagInstanceProfile.html
func (s *Service) UntagInstanceProfile(ctx context.Context, name string, keys []string) error {
	return taggedProfile.untag(s, ctx, name, keys)
}

// ListInstanceProfileTags returns one page of an instance profile's tags.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListInstanceProfileTags.html
func (s *Service) ListInstanceProfileTags(ctx context.Context, name string, p Page) (*Paged[Tag], error) {
	return taggedProfile.list(s, ctx, name, p)
}

// TagMFADevice adds or replaces tags on a virtual MFA device.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagMFADevice.html
func (s *Service) TagMFADevice(ctx context.Context, serial string, tags []Tag) error {
	return taggedMFA.tag(s, ctx, serial, tags)
}

// UntagMFADevice removes tags from a virtual MFA device.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagMFADevice.html
func (s *Service) UntagMFADevice(ctx context.Context, serial string, keys []string) error {
	return taggedMFA.untag(s, ctx, serial, keys)
}

// ListMFADeviceTags returns one page of a virtual MFA device's tags.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListMFADeviceTags.html
func (s *Service) ListMFADeviceTags(ctx context.Context, serial string, p Page) (*Paged[Tag], error) {
	return taggedMFA.list(s, ctx, serial, p)
}
