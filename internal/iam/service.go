// Package iam is the IAM domain: users, access keys, groups, roles,
// inline and managed policies, permissions boundaries, instance profiles,
// virtual MFA devices and tags, with AWS's names, limits, invariants and
// errors. It also serves the authorization snapshots (a principal's
// compiled policies, an access key's owner and secret) that authz reads on
// every request, cached in memory and invalidated by a generation counter
// that every write advances.
//
// It stores everything through kv.Store and imports neither net/http nor
// database/sql. It does not authorize calls: the HTTP layer asks authz
// before it calls in here.
package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
)

// Sealer encrypts secrets at rest (access key secrets, MFA seeds).
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// Config wires a Service.
type Config struct {
	Store   kv.Store
	Account arn.AccountID
	Now     func() time.Time
	Rand    io.Reader
	Secrets Sealer
	Log     *slog.Logger
}

// Service is the IAM domain.
type Service struct {
	store   kv.Store
	account arn.AccountID
	now     func() time.Time
	rand    io.Reader
	secrets Sealer
	log     *slog.Logger

	// gen is advanced after every committed write (and, on a shared store,
	// when another node reports one); cached authorization snapshots carry
	// the generation they were built at.
	gen   atomic.Uint64
	cache authCache

	keyUse keyUseLog // access key last use, persisted in batches (accesskeys.go)
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: cfg.Store, account: cfg.Account, now: cfg.Now, rand: cfg.Rand, secrets: cfg.Secrets, log: cfg.Log}
	s.cache.init()
	return s
}

// Account is the account id the service manages.
func (s *Service) Account() arn.AccountID { return s.account }

// Generation is the number every IAM change advances (and Invalidate);
// package ec2 re-checks instance sessions when it moves.
func (s *Service) Generation() uint64 { return s.gen.Load() }

// Invalidate marks every cached snapshot stale; the store layer calls it
// when another node changed the shared store.
func (s *Service) Invalidate() { s.gen.Add(1) }

// Table names in the kv store. Entity names are unique without regard to
// case, so name keys are lower-cased; values keep the original spelling.
const (
	tUsers            = "iam.users"             // lower(user) → User
	tAccessKeys       = "iam.access_keys"       // key id → AccessKey
	tUserKeys         = "iam.user_keys"         // lower(user)/keyid → ""
	tGroups           = "iam.groups"            // lower(group) → Group
	tGroupMembers     = "iam.group_members"     // lower(group)/lower(user) → ""
	tUserGroups       = "iam.user_groups"       // lower(user)/lower(group) → ""
	tRoles            = "iam.roles"             // lower(role) → Role
	tInline           = "iam.inline"            // kind/lower(entity)/policyName → InlinePolicy
	tPolicies         = "iam.policies"          // policy ARN → ManagedPolicy
	tPolicyVersions   = "iam.policy_versions"   // policy ARN#vN → PolicyVersion
	tAttached         = "iam.attached"          // kind/lower(entity)/policyARN → ""
	tPolicyEntities   = "iam.policy_entities"   // policyARN#kind/lower(entity) → ""
	tInstanceProfiles = "iam.instance_profiles" // lower(name) → InstanceProfile
	tRoleProfiles     = "iam.role_profiles"     // lower(role)/lower(profile) → ""
	tMFADevices       = "iam.mfa_devices"       // serial → MFADevice
	tUserMFA          = "iam.user_mfa"          // lower(user)/serial → ""
)

// Entity kinds, used in keys of tInline, tAttached and tPolicyEntities.
const (
	KindUser  = "user"
	KindGroup = "group"
	KindRole  = "role"
)

func lower(s string) string { return strings.ToLower(s) }

// getJSON reads and decodes (table, key). It returns kv.ErrNotFound as is.
func getJSON[T any](tx kv.Tx, table, key string) (*T, error) {
	b, err := tx.Get(table, key)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", table, key, err)
	}
	return v, nil
}

func putJSON(tx kv.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", table, key, err)
	}
	return tx.Put(table, key, b)
}

// scanJSON decodes every value under prefix in key order.
func scanJSON[T any](tx kv.Tx, table, prefix string) ([]*T, error) {
	var out []*T
	err := tx.Scan(table, prefix, "", 0, func(k string, b []byte) error {
		v := new(T)
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", table, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// scanKeys returns the keys under prefix with the prefix removed.
func scanKeys(tx kv.Tx, table, prefix string) ([]string, error) {
	var out []string
	err := tx.Scan(table, prefix, "", 0, func(k string, _ []byte) error {
		out = append(out, strings.TrimPrefix(k, prefix))
		return nil
	})
	return out, err
}

// exists reports whether (table, key) is present.
func exists(tx kv.Tx, table, key string) (bool, error) {
	_, err := tx.Get(table, key)
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// hasAny reports whether any key starts with prefix.
func hasAny(tx kv.Tx, table, prefix string) (bool, error) {
	found := false
	err := tx.Scan(table, prefix, "", 1, func(string, []byte) error { found = true; return nil })
	return found, err
}

// update runs fn in a write transaction and, once it has committed,
// advances the generation so that no request starting after the caller
// returns can use a snapshot from before the write.
func (s *Service) update(ctx context.Context, fn func(kv.Tx) error) error {
	err := s.store.Update(ctx, fn)
	if err != nil {
		if apierr.As(err) != nil {
			return err
		}
		return apierr.Internal(fmt.Errorf("iam: %w", err))
	}
	s.gen.Add(1)
	return nil
}

// view runs fn in a read transaction.
func (s *Service) view(ctx context.Context, fn func(kv.Tx) error) error {
	err := s.store.View(ctx, fn)
	if err != nil && apierr.As(err) == nil {
		return apierr.Internal(fmt.Errorf("iam: %w", err))
	}
	return err
}

// notFound turns kv.ErrNotFound into IAM's NoSuchEntity for kind/name.
func notFound(err error, kind, name string) error {
	if errors.Is(err, kv.ErrNotFound) {
		return apierr.NoEntity(kind, name)
	}
	return err
}
