package iam

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// maxAccessKeysPerUser is IAM's fixed quota; inactive keys count too.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const maxAccessKeysPerUser = 2

// NewAccessKey is a freshly created key with its secret, which IAM returns
// this one time only.
type NewAccessKey struct {
	AccessKey
	SecretAccessKey string
}

// CreateAccessKey creates an active key for a user.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
func (s *Service) CreateAccessKey(ctx context.Context, userName string) (*NewAccessKey, error) {
	id := token.NewAccessKeyID(arn.PrefixLongTermKey, s.rand)
	secret := token.NewSecretAccessKey(s.rand)
	sealed, err := s.secrets.Seal([]byte(secret))
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("iam: seal access key secret: %w", err))
	}
	k := &AccessKey{ID: id, Status: StatusActive, CreateDate: s.now().UTC(), Secret: sealed}
	err = s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		n := 0
		err = tx.Scan(tUserKeys, lower(u.Name)+"/", "", 0, func(string, []byte) error { n++; return nil })
		if err != nil {
			return err
		}
		if n >= maxAccessKeysPerUser {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
		}
		if ok, err := exists(tx, tAccessKeys, id); err != nil || ok {
			if ok { // 80 random bits collided: astronomically unlikely
				return apierr.Internal(fmt.Errorf("iam: access key id %s already exists", id))
			}
			return err
		}
		k.UserName = u.Name
		if err := putJSON(tx, tAccessKeys, id, k); err != nil {
			return err
		}
		return tx.Put(tUserKeys, lower(u.Name)+"/"+id, nil)
	})
	if err != nil {
		return nil, err
	}
	return &NewAccessKey{AccessKey: *k, SecretAccessKey: secret}, nil
}

// ListAccessKeys lists a user's keys (without secrets), by key id.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html
func (s *Service) ListAccessKeys(ctx context.Context, userName string, p Page) (*Paged[AccessKey], error) {
	var out *Paged[AccessKey]
	err := s.view(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		out, err = scanRefPage(tx, tUserKeys, lower(u.Name)+"/", p, func(id string) (*AccessKey, error) {
			return getJSON[AccessKey](tx, tAccessKeys, id)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, k := range out.Items {
		k.Secret = nil
	}
	return out, nil
}

// userKey reads a key and checks that it belongs to the user, which is
// how IAM scopes UpdateAccessKey and DeleteAccessKey.
func userKey(tx kv.Tx, userName, id string) (*AccessKey, error) {
	if _, err := getJSON[User](tx, tUsers, lower(userName)); err != nil {
		return nil, notFound(err, "user", userName)
	}
	k, err := getJSON[AccessKey](tx, tAccessKeys, id)
	if errors.Is(err, kv.ErrNotFound) || err == nil && lower(k.UserName) != lower(userName) {
		return nil, apierr.New(apierr.NoSuchEntity, "The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// UpdateAccessKey activates or deactivates a key. The change is in force
// for every request that starts after it returns: the write advances the
// generation that AccessKeyAuth's cache is keyed on.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html
func (s *Service) UpdateAccessKey(ctx context.Context, userName, id, status string) error {
	if status != StatusActive && status != StatusInactive {
		return apierr.New(apierr.InvalidInput, "Invalid access key status %s; must be Active or Inactive.", status)
	}
	return s.update(ctx, func(tx kv.Tx) error {
		k, err := userKey(tx, userName, id)
		if err != nil {
			return err
		}
		if k.Status == status {
			return nil
		}
		k.Status = status
		return putJSON(tx, tAccessKeys, id, k)
	})
}

// DeleteAccessKey deletes a key for good.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html
func (s *Service) DeleteAccessKey(ctx context.Context, userName, id string) error {
	err := s.update(ctx, func(tx kv.Tx) error {
		k, err := userKey(tx, userName, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(tAccessKeys, id); err != nil {
			return err
		}
		return tx.Delete(tUserKeys, lower(k.UserName)+"/"+id)
	})
	if err == nil {
		s.keyUse.forget(id)
	}
	return err
}

// AccessKeyOwner returns the name of the user that owns a key, for
// authorizing GetAccessKeyLastUsed against that user.
func (s *Service) AccessKeyOwner(ctx context.Context, id string) (string, error) {
	var owner string
	err := s.view(ctx, func(tx kv.Tx) error {
		k, err := getJSON[AccessKey](tx, tAccessKeys, id)
		if errors.Is(err, kv.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "The Access Key with id %s cannot be found.", id)
		}
		if err != nil {
			return err
		}
		owner = k.UserName
		return nil
	})
	return owner, err
}

// NotUsed is the ServiceName and Region IAM reports for a key that has
// never been used.
const NotUsed = "N/A"

// GetAccessKeyLastUsed returns the key's owner and when, where and with
// which service it was last used; Date is zero and ServiceName and Region
// are "N/A" for a key never used.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, id string) (string, LastUsed, error) {
	var (
		owner string
		used  LastUsed
	)
	err := s.view(ctx, func(tx kv.Tx) error {
		k, err := getJSON[AccessKey](tx, tAccessKeys, id)
		if errors.Is(err, kv.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "The Access Key with id %s cannot be found.", id)
		}
		if err != nil {
			return err
		}
		owner = k.UserName
		if k.LastUsed != nil {
			used = *k.LastUsed
		}
		return nil
	})
	if err != nil {
		return "", LastUsed{}, err
	}
	if u, ok := s.keyUse.get(id); ok && u.Date.After(used.Date) {
		used = u
	}
	if used.Date.IsZero() {
		used = LastUsed{ServiceName: NotUsed, Region: NotUsed}
	}
	return owner, used, nil
}

// RecordKeyUse notes that a long-term key authenticated a request to
// service in region at the given time. It is called on every request, so
// it only touches memory; FlushKeyUse persists what it noted. Call it only
// for keys that authenticated, which bounds the memory to the keys that
// exist.
func (s *Service) RecordKeyUse(id, service, region string, at time.Time) {
	s.keyUse.record(id, LastUsed{Date: at.UTC(), ServiceName: service, Region: region})
}

// FlushKeyUse writes the last uses noted since the previous flush in one
// transaction. The server calls it periodically and at shutdown. Uses of
// keys deleted meanwhile are dropped; on failure the uses are kept for the
// next flush.
func (s *Service) FlushKeyUse(ctx context.Context) error {
	batch := s.keyUse.take()
	if len(batch) == 0 {
		return nil
	}
	// Last use is not authorization data: a flush must not invalidate
	// every cached snapshot.
	err := s.updateUncached(ctx, func(tx kv.Tx) error {
		for id, u := range batch {
			k, err := getJSON[AccessKey](tx, tAccessKeys, id)
			if errors.Is(err, kv.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if k.LastUsed != nil && !u.Date.After(k.LastUsed.Date) {
				continue
			}
			k.LastUsed = &u
			if err := putJSON(tx, tAccessKeys, id, k); err != nil {
				return err
			}
		}
		return nil
	})
	s.keyUse.done(batch, err == nil)
	return err
}

// updateUncached is s.update for writes that change nothing an
// authorization snapshot holds (last use of keys, MFA counters), so they
// leave the snapshot caches valid: neither this node's generation nor the
// store's advances, and other nodes sharing the store keep their caches
// (kv.Store.UpdateUncached, docs/decisions/0013). An access key record is
// cached as KeyAuth (id, user, status, secret), which a last-use write
// rewrites unchanged; the transaction is serializable, so it cannot undo
// a concurrent UpdateAccessKey.
func (s *Service) updateUncached(ctx context.Context, fn func(kv.Tx) error) error {
	err := s.store.UpdateUncached(ctx, fn)
	if err != nil && apierr.As(err) == nil {
		return apierr.Internal(fmt.Errorf("iam: %w", err))
	}
	return err
}

// keyUseLog holds last uses not yet persisted. Its zero value is ready.
type keyUseLog struct {
	mu       sync.Mutex
	pending  map[string]LastUsed
	flushing map[string]LastUsed // taken by a flush still in progress
}

func (l *keyUseLog) record(id string, u LastUsed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		l.pending = make(map[string]LastUsed)
	}
	if old, ok := l.pending[id]; !ok || u.Date.After(old.Date) {
		l.pending[id] = u
	}
}

// get returns the newest use not yet persisted.
func (l *keyUseLog) get(id string) (LastUsed, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.pending[id]
	if f, fok := l.flushing[id]; fok && (!ok || f.Date.After(u.Date)) {
		u, ok = f, true
	}
	return u, ok
}

func (l *keyUseLog) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, id)
}

// take hands the pending uses to a flush; one flush at a time.
func (l *keyUseLog) take() map[string]LastUsed {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flushing != nil {
		return nil
	}
	b := l.pending
	l.pending, l.flushing = nil, b
	return b
}

// done ends a flush; a failed batch goes back to pending unless newer
// uses replaced it.
func (l *keyUseLog) done(batch map[string]LastUsed, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushing = nil
	if ok {
		return
	}
	if l.pending == nil {
		l.pending = make(map[string]LastUsed, len(batch))
	}
	for id, u := range batch {
		if old, ok := l.pending[id]; !ok || u.Date.After(old.Date) {
			l.pending[id] = u
		}
	}
}

// scanRefPage pages through a reference table (values empty, keys
// prefix+ref) and loads the entity each ref names.
func scanRefPage[T any](tx kv.Tx, table, prefix string, p Page, load func(ref string) (*T, error)) (*Paged[T], error) {
	after, err := markerKey(p.Marker)
	if err != nil {
		return nil, err
	}
	max := p.MaxItems
	if max <= 0 {
		max = DefaultMaxItems
	}
	var keys []string
	if err := tx.Scan(table, prefix, after, max+1, func(k string, _ []byte) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		return nil, err
	}
	out := &Paged[T]{}
	if len(keys) > max {
		keys = keys[:max]
		out.IsTruncated = true
		out.Marker = keyMarker(keys[max-1])
	}
	for _, k := range keys {
		v, err := load(k[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("load %s/%s: %w", table, k, err)
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}
