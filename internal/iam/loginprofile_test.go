package iam_test

import (
	"bytes"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func TestLoginProfiles(t *testing.T) {
	t.Parallel()
	t.Run("a login profile is created, read, updated and deleted, and its password is stored only hashed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		lp := must[*iam.LoginProfile](t)(w.svc.CreateLoginProfile(ctx, "ALICE", "Corr3ct-Horse", true))
		if lp.UserName != "alice" || !lp.PasswordResetRequired || !lp.CreateDate.Equal(epoch) {
			t.Errorf("got %+v, want alice, reset required, created at %v", lp, epoch)
		}
		if raw := w.fileBytes(t); bytes.Contains(raw, []byte("Corr3ct-Horse")) {
			t.Error("the database holds the password in plaintext")
		}
		got := must[*iam.LoginProfile](t)(w.svc.GetLoginProfile(ctx, "alice"))
		if len(got.Password.Hash) != 0 || len(got.Password.Salt) != 0 {
			t.Error("GetLoginProfile returned the password hash")
		}
		_, err := w.svc.CreateLoginProfile(ctx, "alice", "Corr3ct-Horse", false)
		wantCode(t, err, apierr.EntityAlreadyExists, "Login Profile for user alice already exists.")
		no := false
		if err := w.svc.UpdateLoginProfile(ctx, "alice", nil, &no); err != nil {
			t.Fatal(err)
		}
		if got := must[*iam.LoginProfile](t)(w.svc.GetLoginProfile(ctx, "alice")); got.PasswordResetRequired {
			t.Error("PasswordResetRequired is still set")
		}
		wantCode(t, w.svc.DeleteUser(ctx, "alice"), apierr.DeleteConflict, "Cannot delete entity, must delete login profile first.")
		if err := w.svc.DeleteLoginProfile(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.GetLoginProfile(ctx, "alice")
		wantCode(t, err, apierr.NoSuchEntity, "Login Profile for User alice cannot be found.")
		wantCode(t, w.svc.DeleteLoginProfile(ctx, "alice"), apierr.NoSuchEntity, "Login Profile for User alice cannot be found.")
		if err := w.svc.DeleteUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a missing user is NoSuchEntity", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, err := w.svc.CreateLoginProfile(ctx, "ghost", "Corr3ct-Horse", false)
		wantCode(t, err, apierr.NoSuchEntity, "The user with name ghost cannot be found.")
	})
	t.Run("a renamed user keeps its login profile", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		must[*iam.LoginProfile](t)(w.svc.CreateLoginProfile(ctx, "alice", "Corr3ct-Horse", false))
		if err := w.svc.UpdateUser(ctx, "alice", "alicia", ""); err != nil {
			t.Fatal(err)
		}
		if got := must[*iam.LoginProfile](t)(w.svc.GetLoginProfile(ctx, "alicia")); got.UserName != "alicia" {
			t.Errorf("got user %q, want alicia", got.UserName)
		}
	})
	t.Run("a changed password needs the old one and clears the reset flag", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		must[*iam.LoginProfile](t)(w.svc.CreateLoginProfile(ctx, "alice", "Corr3ct-Horse", true))
		wantCode(t, w.svc.ChangePassword(ctx, "alice", "wrong-Passw0rd", "N3w-Password!"), apierr.InvalidUserType, "The old password is incorrect.")
		if err := w.svc.ChangePassword(ctx, "alice", "Corr3ct-Horse", "N3w-Password!"); err != nil {
			t.Fatal(err)
		}
		if got := must[*iam.LoginProfile](t)(w.svc.GetLoginProfile(ctx, "alice")); got.PasswordResetRequired {
			t.Error("PasswordResetRequired is still set after ChangePassword")
		}
		wantCode(t, w.svc.ChangePassword(ctx, "alice", "Corr3ct-Horse", "An0ther-one!"), apierr.InvalidUserType, "")
		w.user(t, "bob")
		wantCode(t, w.svc.ChangePassword(ctx, "bob", "x", "An0ther-one!"), apierr.NoSuchEntity, "Login Profile for User bob cannot be found.")
	})
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	t.Run("without a policy AWS's default applies", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		for _, pw := range []string{"Sh0rt!", "alllowercase1"} {
			_, err := w.svc.CreateLoginProfile(ctx, "alice", pw, false)
			wantCode(t, err, apierr.PasswordPolicyViolation, "")
		}
		_, err := w.svc.GetAccountPasswordPolicy(ctx)
		wantCode(t, err, apierr.NoSuchEntity, "The Password Policy with domain name 123456789012 cannot be found.")
		wantCode(t, w.svc.DeleteAccountPasswordPolicy(ctx), apierr.NoSuchEntity, "")
	})
	t.Run("the policy is replaced whole, with defaults for what is left out", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if err := w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{MinimumPasswordLength: 12, RequireSymbols: true, MaxPasswordAge: 90}); err != nil {
			t.Fatal(err)
		}
		p := must[*iam.PasswordPolicy](t)(w.svc.GetAccountPasswordPolicy(ctx))
		if p.MinimumPasswordLength != 12 || !p.RequireSymbols || !p.ExpirePasswords() || p.MaxPasswordAge != 90 {
			t.Errorf("got %+v", p)
		}
		if err := w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{RequireNumbers: true}); err != nil {
			t.Fatal(err)
		}
		p = must[*iam.PasswordPolicy](t)(w.svc.GetAccountPasswordPolicy(ctx))
		if p.MinimumPasswordLength != 6 || p.RequireSymbols || !p.RequireNumbers || p.ExpirePasswords() {
			t.Errorf("got %+v, want the defaults and RequireNumbers", p)
		}
		if err := w.svc.DeleteAccountPasswordPolicy(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.GetAccountPasswordPolicy(ctx)
		wantCode(t, err, apierr.NoSuchEntity, "")
	})
	t.Run("passwords are checked against each rule", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		if err := w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{MinimumPasswordLength: 10, RequireSymbols: true, RequireNumbers: true,
			RequireUppercaseCharacters: true, RequireLowercaseCharacters: true}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ pw, msg string }{
			{"Aa1!", "Password should have a minimum length of 10"},
			{"AAAAAAAA1!", "Password should have at least one lowercase letter"},
			{"aaaaaaaa1!", "Password should have at least one uppercase letter"},
			{"aaaaaaaaA!", "Password should have at least one number"},
			{"aaaaaaaaA1", "Password should have at least one symbol"},
		} {
			_, err := w.svc.CreateLoginProfile(ctx, "alice", tc.pw, false)
			wantCode(t, err, apierr.PasswordPolicyViolation, tc.msg)
		}
		must[*iam.LoginProfile](t)(w.svc.CreateLoginProfile(ctx, "alice", "aaaaaaaaA1!", false))
		wantCode(t, w.svc.UpdateLoginProfile(ctx, "alice", ptr("short"), nil), apierr.PasswordPolicyViolation, "")
	})
	t.Run("reuse prevention refuses recent passwords", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		if err := w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{PasswordReusePrevention: 2}); err != nil {
			t.Fatal(err)
		}
		must[*iam.LoginProfile](t)(w.svc.CreateLoginProfile(ctx, "alice", "first-pw", false))
		wantCode(t, w.svc.ChangePassword(ctx, "alice", "first-pw", "first-pw"), apierr.PasswordPolicyViolation, "Password should not be one of your 2 previous passwords.")
		if err := w.svc.ChangePassword(ctx, "alice", "first-pw", "second-pw"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, w.svc.UpdateLoginProfile(ctx, "alice", ptr("first-pw"), nil), apierr.PasswordPolicyViolation, "")
		if err := w.svc.ChangePassword(ctx, "alice", "second-pw", "third-pw"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.ChangePassword(ctx, "alice", "third-pw", "first-pw"); err != nil {
			t.Errorf("a password three changes old is refused: %v", err)
		}
	})
	t.Run("values outside the model's bounds are validation errors", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		wantCode(t, w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{MinimumPasswordLength: 5}), apierr.ValidationError, "")
		wantCode(t, w.svc.UpdateAccountPasswordPolicy(ctx, iam.PasswordPolicy{PasswordReusePrevention: 25}), apierr.ValidationError, "")
	})
}

func ptr[T any](v T) *T { return &v }
