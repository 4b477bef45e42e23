package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// Policy types as the simulator reports them in MatchedStatements.
const (
	PolicyTypeUser        = "user"
	PolicyTypeGroup       = "group"
	PolicyTypeRole        = "role"
	PolicyTypeAWSManaged  = "aws-managed"
	PolicyTypeUserManaged = "user-managed"
	PolicyTypeBoundary    = "permissionsBoundary"
)

// UserAuth is what authorizing a request by a user (or by one of its
// GetSessionToken sessions) needs: the user and every policy that applies.
type UserAuth struct {
	User     User
	Identity []policy.Named // inline, attached, and its groups' policies
	Boundary *policy.Named  // nil without a permissions boundary
}

// RoleAuth is what authorizing a role session, or assuming the role, needs.
type RoleAuth struct {
	Role     Role
	Identity []policy.Named
	Boundary *policy.Named
	Trust    *policy.Compiled
}

// KeyAuth is a long-term access key as authentication needs it.
type KeyAuth struct {
	ID       string
	UserName string
	Active   bool
	Secret   string
}

// authCache holds snapshots tagged with the generation they were built at.
type authCache struct {
	mu        sync.RWMutex
	entries   map[string]cacheEntry
	compiled  sync.Map // document text → *policy.Compiled (documents are immutable)
	nCompiled int64
	cmu       sync.Mutex
}

type cacheEntry struct {
	gen uint64
	val any
}

// maxCacheEntries bounds the snapshot cache; past it the cache is cleared.
const maxCacheEntries = 100_000

func (c *authCache) init() { c.entries = make(map[string]cacheEntry) }

func (c *authCache) get(key string, gen uint64) (any, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || e.gen != gen {
		return nil, false
	}
	return e.val, true
}

func (c *authCache) put(key string, gen uint64, v any) {
	c.mu.Lock()
	if len(c.entries) >= maxCacheEntries {
		c.entries = make(map[string]cacheEntry)
	}
	c.entries[key] = cacheEntry{gen: gen, val: v}
	c.mu.Unlock()
}

// compile parses and compiles a stored document, memoized by its text.
// Stored documents were validated on write, so a failure here is internal.
func (s *Service) compile(doc string, kind policy.Kind) (*policy.Compiled, error) {
	key := string(rune('0'+kind)) + doc
	if v, ok := s.cache.compiled.Load(key); ok {
		return v.(*policy.Compiled), nil
	}
	c, err := policy.ParseCompile(doc, kind)
	if err != nil {
		return nil, fmt.Errorf("compile stored policy: %w", err)
	}
	s.cache.cmu.Lock()
	s.cache.nCompiled++
	if s.cache.nCompiled > maxCacheEntries {
		s.cache.compiled.Clear()
		s.cache.nCompiled = 0
	}
	s.cache.cmu.Unlock()
	s.cache.compiled.Store(key, c)
	return c, nil
}

// cached returns the snapshot under key, building it with load when the
// cached one is from an older generation. The generation is read before
// loading, so a snapshot is never tagged newer than the data it holds.
func cached[T any](ctx context.Context, s *Service, key string, load func(kv.Tx) (*T, error)) (*T, error) {
	gen := s.gen.Load()
	if v, ok := s.cache.get(key, gen); ok {
		return v.(*T), nil
	}
	var out *T
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		out, err = load(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.put(key, gen, out)
	return out, nil
}

// AccessKeyAuth returns a long-term key with its secret, for SigV4
// verification. Unknown keys are NoSuchEntity.
func (s *Service) AccessKeyAuth(ctx context.Context, id string) (*KeyAuth, error) {
	return cached(ctx, s, "k/"+id, func(tx kv.Tx) (*KeyAuth, error) {
		k, err := getJSON[AccessKey](tx, tAccessKeys, id)
		if err != nil {
			return nil, notFound(err, "access key", id)
		}
		secret, err := s.secrets.Open(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("open access key secret: %w", err)
		}
		return &KeyAuth{ID: k.ID, UserName: k.UserName, Active: k.Status == StatusActive, Secret: string(secret)}, nil
	})
}

// UserAuth returns the authorization snapshot of a user.
func (s *Service) UserAuth(ctx context.Context, name string) (*UserAuth, error) {
	return cached(ctx, s, "u/"+lower(name), func(tx kv.Tx) (*UserAuth, error) {
		u, err := getJSON[User](tx, tUsers, lower(name))
		if err != nil {
			return nil, notFound(err, "user", name)
		}
		ua := &UserAuth{User: *u}
		if ua.Identity, err = s.entityPolicies(tx, KindUser, u.Name, PolicyTypeUser); err != nil {
			return nil, err
		}
		groups, err := scanKeys(tx, tUserGroups, lower(u.Name)+"/")
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			gp, err := s.entityPolicies(tx, KindGroup, g, PolicyTypeGroup)
			if err != nil {
				return nil, err
			}
			ua.Identity = append(ua.Identity, gp...)
		}
		if ua.Boundary, err = s.boundary(tx, u.Boundary); err != nil {
			return nil, err
		}
		return ua, nil
	})
}

// RoleAuth returns the authorization snapshot of a role.
func (s *Service) RoleAuth(ctx context.Context, name string) (*RoleAuth, error) {
	return cached(ctx, s, "r/"+lower(name), func(tx kv.Tx) (*RoleAuth, error) {
		r, err := getJSON[Role](tx, tRoles, lower(name))
		if err != nil {
			return nil, notFound(err, "role", name)
		}
		ra := &RoleAuth{Role: *r}
		if ra.Identity, err = s.entityPolicies(tx, KindRole, r.Name, PolicyTypeRole); err != nil {
			return nil, err
		}
		if ra.Boundary, err = s.boundary(tx, r.Boundary); err != nil {
			return nil, err
		}
		if ra.Trust, err = s.compile(r.TrustPolicy, policy.Trust); err != nil {
			return nil, err
		}
		return ra, nil
	})
}

// entityPolicies compiles an entity's inline and attached managed policies.
func (s *Service) entityPolicies(tx kv.Tx, kind, name, inlineType string) ([]policy.Named, error) {
	var out []policy.Named
	inline, err := scanJSON[InlinePolicy](tx, tInline, kind+"/"+lower(name)+"/")
	if err != nil {
		return nil, err
	}
	for _, p := range inline {
		c, err := s.compile(p.Document, policy.Identity)
		if err != nil {
			return nil, err
		}
		out = append(out, policy.Named{ID: p.Name, Type: inlineType, Policy: c})
	}
	arns, err := scanKeys(tx, tAttached, kind+"/"+lower(name)+"/")
	if err != nil {
		return nil, err
	}
	for _, a := range arns {
		n, err := s.managedNamed(tx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	return out, nil
}

// managedNamed compiles the default version of a managed policy.
func (s *Service) managedNamed(tx kv.Tx, policyARN string) (*policy.Named, error) {
	mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
	if err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			return nil, apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
		}
		return nil, err
	}
	v, err := getJSON[PolicyVersion](tx, tPolicyVersions, versionKey(policyARN, mp.DefaultVersionID))
	if err != nil {
		return nil, fmt.Errorf("default version of %s: %w", policyARN, err)
	}
	c, err := s.compile(v.Document, policy.Identity)
	if err != nil {
		return nil, err
	}
	typ := PolicyTypeUserManaged
	if mp.AWSManaged {
		typ = PolicyTypeAWSManaged
	}
	return &policy.Named{ID: mp.Name, Type: typ, Policy: c}, nil
}

func (s *Service) boundary(tx kv.Tx, policyARN string) (*policy.Named, error) {
	if policyARN == "" {
		return nil, nil
	}
	n, err := s.managedNamed(tx, policyARN)
	if err != nil {
		return nil, err
	}
	n.Type = PolicyTypeBoundary
	return n, nil
}

// versionKey is the tPolicyVersions key of a policy version.
func versionKey(policyARN, versionID string) string { return policyARN + "#" + versionID }

// trimSpaceCount is used by size limits: IAM counts characters other than
// whitespace.
func nonWhitespaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !strings.ContainsRune(" \t\n\r", r) {
			n++
		}
	}
	return n
}

// ManagedPolicies compiles the default versions of the given managed
// policies (a session's PolicyArns), memoized with the other snapshots.
func (s *Service) ManagedPolicies(ctx context.Context, arns []string) ([]policy.Named, error) {
	out, err := cached(ctx, s, "m/"+strings.Join(arns, "\x00"), func(tx kv.Tx) (*[]policy.Named, error) {
		ps := make([]policy.Named, 0, len(arns))
		for _, a := range arns {
			n, err := s.managedNamed(tx, a)
			if err != nil {
				return nil, err
			}
			ps = append(ps, *n)
		}
		return &ps, nil
	})
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// CompileSessionPolicy compiles an inline session policy, memoized by text.
func (s *Service) CompileSessionPolicy(doc string) (*policy.Compiled, error) {
	return s.compile(doc, policy.Identity)
}
