package iam

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// Login profiles (an IAM user's console password) and the account's
// password policy. iamd has no console sign-in of its own; it keeps the
// passwords so that the API behaves as AWS's does and so that
// ChangePassword can check the old one. A password is stored only as a
// salted PBKDF2-HMAC-SHA256 hash and never leaves the service.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_admin-change-user.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html

const (
	tLoginProfiles = "iam.login_profiles" // lower(user) → LoginProfile
	tAccount       = "iam.account"        // keyPasswordPolicy → PasswordPolicy, keyAlias+alias → ""

	keyPasswordPolicy = "password_policy"
)

// Password hashing parameters: OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
// The iteration count is stored with each hash so that it can be raised
// without invalidating stored passwords.
const (
	passwordIterations = 600_000
	passwordSaltLen    = 16
	passwordKeyLen     = 32
)

// PasswordHash is a salted, slow hash of a password.
type PasswordHash struct {
	Iterations int    `json:"iter"`
	Salt       []byte `json:"salt"`
	Hash       []byte `json:"hash"`
}

// LoginProfile is a user's console password.
type LoginProfile struct {
	UserName              string         `json:"user"`
	CreateDate            time.Time      `json:"created"`
	PasswordResetRequired bool           `json:"reset"`
	Password              PasswordHash   `json:"password"`
	PasswordChanged       time.Time      `json:"changed"`
	History               []PasswordHash `json:"history,omitempty"` // earlier passwords, newest first
}

// PasswordPolicy is the account's password policy. MaxPasswordAge and
// PasswordReusePrevention are 0 when not set; HardExpiry is nil when not
// set.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PasswordPolicy.html
type PasswordPolicy struct {
	MinimumPasswordLength      int   `json:"min_length"`
	RequireSymbols             bool  `json:"symbols"`
	RequireNumbers             bool  `json:"numbers"`
	RequireUppercaseCharacters bool  `json:"upper"`
	RequireLowercaseCharacters bool  `json:"lower"`
	AllowUsersToChangePassword bool  `json:"allow_change"`
	MaxPasswordAge             int   `json:"max_age,omitempty"`
	PasswordReusePrevention    int   `json:"reuse,omitempty"`
	HardExpiry                 *bool `json:"hard_expiry,omitempty"`
}

// ExpirePasswords is what GetAccountPasswordPolicy reports: whether
// passwords have a maximum age.
func (p *PasswordPolicy) ExpirePasswords() bool { return p.MaxPasswordAge > 0 }

// Password policy bounds from the IAM service model.
const (
	DefaultMinimumPasswordLength = 6
	minPasswordLength            = 6
	maxPasswordLength            = 128
	maxPasswordAge               = 1095
	maxPasswordReuse             = 24
)

// passwordSymbols are the characters AWS counts as symbols.
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

func noLoginProfile(user string) error {
	return apierr.New(apierr.NoSuchEntity, "Login Profile for User %s cannot be found.", user)
}

func (s *Service) hashPassword(pw string) (PasswordHash, error) {
	salt := make([]byte, passwordSaltLen)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return PasswordHash{}, apierr.Internal(fmt.Errorf("iam: password salt: %w", err))
	}
	return derive(pw, salt, passwordIterations)
}

func derive(pw string, salt []byte, iter int) (PasswordHash, error) {
	k, err := pbkdf2.Key(sha256.New, pw, salt, iter, passwordKeyLen)
	if err != nil {
		return PasswordHash{}, apierr.Internal(fmt.Errorf("iam: password hash: %w", err))
	}
	return PasswordHash{Iterations: iter, Salt: salt, Hash: k}, nil
}

// matches reports, in constant time, whether pw is the hashed password.
func (h PasswordHash) matches(pw string) bool {
	if h.Iterations <= 0 || len(h.Salt) == 0 {
		return false
	}
	d, err := derive(pw, h.Salt, h.Iterations)
	return err == nil && hmac.Equal(d.Hash, h.Hash)
}

// checkPassword applies the account's password policy, or AWS's default
// policy when the account has none (at least 8 characters and three of
// the four character types).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html#default-policy-details
func checkPassword(p *PasswordPolicy, pw string) error {
	var upper, lower, number, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r) && r < 0x80:
			upper = true
		case unicode.IsLower(r) && r < 0x80:
			lower = true
		case r >= '0' && r <= '9':
			number = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		}
	}
	violation := func(msg string) error { return apierr.New(apierr.PasswordPolicyViolation, "%s", msg) }
	if p == nil {
		if len([]rune(pw)) < 8 {
			return violation("Password should have a minimum length of 8")
		}
		n := 0
		for _, ok := range []bool{upper, lower, number, symbol} {
			if ok {
				n++
			}
		}
		if n < 3 {
			return violation("Password should have at least three of the following character types: uppercase letters, lowercase letters, numbers and symbols")
		}
		return nil
	}
	if len([]rune(pw)) < p.MinimumPasswordLength {
		return violation("Password should have a minimum length of " + itoa(p.MinimumPasswordLength))
	}
	switch {
	case p.RequireLowercaseCharacters && !lower:
		return violation("Password should have at least one lowercase letter")
	case p.RequireUppercaseCharacters && !upper:
		return violation("Password should have at least one uppercase letter")
	case p.RequireNumbers && !number:
		return violation("Password should have at least one number")
	case p.RequireSymbols && !symbol:
		return violation("Password should have at least one symbol")
	}
	return nil
}

func getPasswordPolicy(tx kv.Tx) (*PasswordPolicy, error) {
	p, err := getJSON[PasswordPolicy](tx, tAccount, keyPasswordPolicy)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// passwordPolicy reads the policy (nil when the account has none).
func (s *Service) passwordPolicy(ctx context.Context) (*PasswordPolicy, error) {
	var p *PasswordPolicy
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		p, err = getPasswordPolicy(tx)
		return err
	})
	return p, err
}

// CreateLoginProfile gives a user a console password.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
func (s *Service) CreateLoginProfile(ctx context.Context, userName, password string, resetRequired bool) (*LoginProfile, error) {
	pol, err := s.passwordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(pol, password); err != nil {
		return nil, err
	}
	h, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	var lp *LoginProfile
	err = s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		if ok, err := exists(tx, tLoginProfiles, lower(u.Name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "Login Profile for user %s already exists.", u.Name)
			}
			return err
		}
		now := s.now().UTC()
		lp = &LoginProfile{UserName: u.Name, CreateDate: now, PasswordResetRequired: resetRequired, Password: h, PasswordChanged: now}
		return putJSON(tx, tLoginProfiles, lower(u.Name), lp)
	})
	if err != nil {
		return nil, err
	}
	return lp, nil
}

func getLoginProfile(tx kv.Tx, userName string) (*LoginProfile, error) {
	u, err := getJSON[User](tx, tUsers, lower(userName))
	if err != nil {
		return nil, notFound(err, "user", userName)
	}
	lp, err := getJSON[LoginProfile](tx, tLoginProfiles, lower(u.Name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, noLoginProfile(u.Name)
	}
	if err != nil {
		return nil, err
	}
	lp.UserName = u.Name // follows renames
	return lp, nil
}

// GetLoginProfile returns a user's login profile, without its password.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html
func (s *Service) GetLoginProfile(ctx context.Context, userName string) (*LoginProfile, error) {
	var lp *LoginProfile
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		lp, err = getLoginProfile(tx, userName)
		return err
	})
	if err != nil {
		return nil, err
	}
	lp.Password, lp.History = PasswordHash{}, nil
	return lp, nil
}

// UpdateLoginProfile changes a user's password or whether it must be reset
// at next sign-in; nil leaves either unchanged.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
func (s *Service) UpdateLoginProfile(ctx context.Context, userName string, password *string, resetRequired *bool) error {
	var h *PasswordHash
	if password != nil {
		pol, err := s.passwordPolicy(ctx)
		if err != nil {
			return err
		}
		if err := checkPassword(pol, *password); err != nil {
			return err
		}
		if err := s.checkReuse(ctx, userName, pol, *password); err != nil {
			return err
		}
		hh, err := s.hashPassword(*password)
		if err != nil {
			return err
		}
		h = &hh
	}
	return s.update(ctx, func(tx kv.Tx) error {
		lp, err := getLoginProfile(tx, userName)
		if err != nil {
			return err
		}
		if h != nil {
			s.setPassword(tx, lp, *h)
		}
		if resetRequired != nil {
			lp.PasswordResetRequired = *resetRequired
		}
		return putJSON(tx, tLoginProfiles, lower(lp.UserName), lp)
	})
}

// setPassword replaces the password, keeping the old one in the history
// the reuse prevention rule needs.
func (s *Service) setPassword(tx kv.Tx, lp *LoginProfile, h PasswordHash) {
	keep := maxPasswordReuse - 1
	if pol, err := getPasswordPolicy(tx); err == nil && pol != nil && pol.PasswordReusePrevention > 0 {
		keep = pol.PasswordReusePrevention - 1
	}
	lp.History = append([]PasswordHash{lp.Password}, lp.History...)
	if len(lp.History) > keep {
		lp.History = lp.History[:keep]
	}
	lp.Password, lp.PasswordChanged = h, s.now().UTC()
}

// checkReuse refuses a password among the last PasswordReusePrevention
// ones, when the policy sets that rule.
func (s *Service) checkReuse(ctx context.Context, userName string, pol *PasswordPolicy, pw string) error {
	if pol == nil || pol.PasswordReusePrevention == 0 {
		return nil
	}
	var lp *LoginProfile
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		lp, err = getLoginProfile(tx, userName)
		return err
	})
	if err != nil {
		return err
	}
	prev := append([]PasswordHash{lp.Password}, lp.History...)
	if len(prev) > pol.PasswordReusePrevention {
		prev = prev[:pol.PasswordReusePrevention]
	}
	for _, h := range prev {
		if h.matches(pw) {
			return apierr.New(apierr.PasswordPolicyViolation, "Password should not be one of your %d previous passwords.", pol.PasswordReusePrevention)
		}
	}
	return nil
}

// DeleteLoginProfile removes a user's console password.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteLoginProfile.html
func (s *Service) DeleteLoginProfile(ctx context.Context, userName string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		lp, err := getLoginProfile(tx, userName)
		if err != nil {
			return err
		}
		return tx.Delete(tLoginProfiles, lower(lp.UserName))
	})
}

// ChangePassword changes the calling user's own password, given the
// current one.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ChangePassword.html
func (s *Service) ChangePassword(ctx context.Context, userName, oldPassword, newPassword string) error {
	var lp *LoginProfile
	var pol *PasswordPolicy
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		if lp, err = getLoginProfile(tx, userName); err != nil {
			return err
		}
		pol, err = getPasswordPolicy(tx)
		return err
	})
	if err != nil {
		return err
	}
	if !lp.Password.matches(oldPassword) {
		return apierr.New(apierr.InvalidUserType, "The old password is incorrect.")
	}
	if err := checkPassword(pol, newPassword); err != nil {
		return err
	}
	if err := s.checkReuse(ctx, userName, pol, newPassword); err != nil {
		return err
	}
	h, err := s.hashPassword(newPassword)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx kv.Tx) error {
		cur, err := getLoginProfile(tx, userName)
		if err != nil {
			return err
		}
		if !hmac.Equal(cur.Password.Hash, lp.Password.Hash) {
			// Changed by someone else since the old password was checked.
			return apierr.New(apierr.EntityTemporarilyUnmodifiable, "The password of user %s was changed concurrently; try again.", cur.UserName)
		}
		s.setPassword(tx, cur, h)
		cur.PasswordResetRequired = false
		return putJSON(tx, tLoginProfiles, lower(cur.UserName), cur)
	})
}

// UsersMayChangePassword reports whether the password policy lets every
// IAM user change their own password (AllowUsersToChangePassword).
func (s *Service) UsersMayChangePassword(ctx context.Context) (bool, error) {
	p, err := s.passwordPolicy(ctx)
	return err == nil && p != nil && p.AllowUsersToChangePassword, err
}

// UpdateAccountPasswordPolicy replaces the account's password policy:
// what the caller leaves out takes its default, as AWS documents.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html
func (s *Service) UpdateAccountPasswordPolicy(ctx context.Context, p PasswordPolicy) error {
	if p.MinimumPasswordLength == 0 {
		p.MinimumPasswordLength = DefaultMinimumPasswordLength
	}
	switch {
	case p.MinimumPasswordLength < minPasswordLength || p.MinimumPasswordLength > maxPasswordLength:
		return apierr.Validation("minimumPasswordLength", itoa(p.MinimumPasswordLength), "Member must have value between 6 and 128")
	case p.MaxPasswordAge < 0 || p.MaxPasswordAge > maxPasswordAge:
		return apierr.Validation("maxPasswordAge", itoa(p.MaxPasswordAge), "Member must have value less than or equal to 1095")
	case p.PasswordReusePrevention < 0 || p.PasswordReusePrevention > maxPasswordReuse:
		return apierr.Validation("passwordReusePrevention", itoa(p.PasswordReusePrevention), "Member must have value less than or equal to 24")
	}
	return s.update(ctx, func(tx kv.Tx) error { return putJSON(tx, tAccount, keyPasswordPolicy, &p) })
}

// GetAccountPasswordPolicy returns the password policy, NoSuchEntity when
// the account has none.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountPasswordPolicy.html
func (s *Service) GetAccountPasswordPolicy(ctx context.Context) (*PasswordPolicy, error) {
	p, err := s.passwordPolicy(ctx)
	if err == nil && p == nil {
		err = s.noPasswordPolicy()
	}
	return p, err
}

func (s *Service) noPasswordPolicy() error {
	return apierr.New(apierr.NoSuchEntity, "The Password Policy with domain name %s cannot be found.", s.account)
}

// DeleteAccountPasswordPolicy removes the password policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccountPasswordPolicy.html
func (s *Service) DeleteAccountPasswordPolicy(ctx context.Context) error {
	return s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tAccount, keyPasswordPolicy); err != nil || !ok {
			if err == nil {
				err = s.noPasswordPolicy()
			}
			return err
		}
		return tx.Delete(tAccount, keyPasswordPolicy)
	})
}
