package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// AdminUserName is the administrator the first start creates.
const AdminUserName = "admin"

// AdministratorAccessARN is AWS's full-access managed policy.
const AdministratorAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"

// EnsureAdmin creates the administrator user with full access on first
// start, and gives it the access key keyID/secret unless the user already
// has that key. With keyID empty it generates a key. It returns the key it
// created ("" and "" when there was nothing to do). AWS managed policies
// must exist (EnsureAWSManagedPolicies) before it runs.
func (s *Service) EnsureAdmin(ctx context.Context, keyID, secret string) (newKeyID, newSecret string, err error) {
	err = s.update(ctx, func(tx kv.Tx) error {
		newKeyID, newSecret = "", ""
		u, err := getJSON[User](tx, tUsers, lower(AdminUserName))
		switch {
		case errors.Is(err, kv.ErrNotFound):
			u = &User{
				ID: token.NewUniqueID(arn.PrefixUser, s.rand), Name: AdminUserName, Path: "/",
				ARN: arn.User(s.account, "/", AdminUserName), CreateDate: s.now().UTC(),
			}
			if err := putJSON(tx, tUsers, lower(u.Name), u); err != nil {
				return err
			}
			if err := s.attachRaw(tx, KindUser, u.Name, AdministratorAccessARN); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if keyID == "" {
				return nil // already bootstrapped; keys are the operator's business now
			}
		}
		if keyID != "" {
			if ok, err := exists(tx, tAccessKeys, keyID); err != nil || ok {
				return err
			}
		} else {
			keyID = token.NewAccessKeyID(arn.PrefixLongTermKey, s.rand)
			secret = token.NewSecretAccessKey(s.rand)
		}
		sealed, err := s.secrets.Seal([]byte(secret))
		if err != nil {
			return err
		}
		k := &AccessKey{ID: keyID, UserName: u.Name, Status: StatusActive, CreateDate: s.now().UTC(), Secret: sealed}
		if err := putJSON(tx, tAccessKeys, keyID, k); err != nil {
			return err
		}
		newKeyID, newSecret = keyID, secret
		return tx.Put(tUserKeys, lower(u.Name)+"/"+keyID, nil)
	})
	return newKeyID, newSecret, err
}

// attachRaw attaches a managed policy inside tx, keeping AttachmentCount.
func (s *Service) attachRaw(tx kv.Tx, kind, entity, policyARN string) error {
	mp, err := getJSON[ManagedPolicy](tx, tPolicies, policyARN)
	if errors.Is(err, kv.ErrNotFound) {
		return apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
	}
	if err != nil {
		return err
	}
	key := kind + "/" + lower(entity) + "/" + policyARN
	if ok, err := exists(tx, tAttached, key); err != nil || ok {
		return err
	}
	mp.AttachmentCount++
	if err := putJSON(tx, tPolicies, policyARN, mp); err != nil {
		return err
	}
	if err := tx.Put(tAttached, key, nil); err != nil {
		return err
	}
	return tx.Put(tPolicyEntities, policyARN+"#"+kind+"/"+lower(entity), nil)
}
