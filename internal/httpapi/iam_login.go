package httpapi

import (
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/principal"
)

func (a *iamAPI) registerLogin(m map[string]Handler) {
	m["CreateLoginProfile"] = a.createLoginProfile
	m["GetLoginProfile"] = a.getLoginProfile
	m["UpdateLoginProfile"] = a.updateLoginProfile
	m["DeleteLoginProfile"] = a.deleteLoginProfile
	m["ChangePassword"] = a.changePassword
	m["UpdateAccountPasswordPolicy"] = a.updateAccountPasswordPolicy
	m["GetAccountPasswordPolicy"] = a.getAccountPasswordPolicy
	m["DeleteAccountPasswordPolicy"] = a.deleteAccountPasswordPolicy
}

// rulePassword is the model's passwordType. The value is sensitive, so
// errors about it never repeat it.
var rulePassword = Pattern(`[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`).Len(1, 128)

// password reads a password parameter; ok is false when it is absent.
func password(p Params, name string) (pw string, ok bool, err error) {
	if !p.Has(name) {
		return "", false, nil
	}
	pw = p.Get(name)
	if rulePassword.Check(field(name), pw) != nil {
		return "", false, apierr.New(apierr.ValidationError, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", field(name))
	}
	return pw, true, nil
}

// xmlLoginProfile is IAM's LoginProfile structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_LoginProfile.html
type xmlLoginProfile struct {
	UserName              string
	CreateDate            xmlTime
	PasswordResetRequired bool
}

func loginProfileOf(lp *iam.LoginProfile) struct{ LoginProfile xmlLoginProfile } {
	return struct{ LoginProfile xmlLoginProfile }{xmlLoginProfile{
		UserName: lp.UserName, CreateDate: xmlTime(lp.CreateDate), PasswordResetRequired: lp.PasswordResetRequired,
	}}
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
func (a *iamAPI) createLoginProfile(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	pw, ok, err := password(c.Params, "Password")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newValidation("1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	reset, err := c.Params.Bool("PasswordResetRequired")
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreateLoginProfile", a.userARN(c, name)); err != nil {
		return nil, err
	}
	lp, err := a.svc.CreateLoginProfile(c.Ctx, name, pw, reset)
	if err != nil {
		return nil, err
	}
	return loginProfileOf(lp), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html
func (a *iamAPI) getLoginProfile(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetLoginProfile", a.userARN(c, name)); err != nil {
		return nil, err
	}
	lp, err := a.svc.GetLoginProfile(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return loginProfileOf(lp), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
func (a *iamAPI) updateLoginProfile(c *Call) (any, error) {
	name, err := c.Params.Required("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	pw, ok, err := password(c.Params, "Password")
	if err != nil {
		return nil, err
	}
	var pwp *string
	if ok {
		pwp = &pw
	}
	var reset *bool
	if c.Params.Has("PasswordResetRequired") {
		b, err := c.Params.Bool("PasswordResetRequired")
		if err != nil {
			return nil, err
		}
		reset = &b
	}
	if err := c.Authorize("iam:UpdateLoginProfile", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateLoginProfile(c.Ctx, name, pwp, reset)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteLoginProfile.html
func (a *iamAPI) deleteLoginProfile(c *Call) (any, error) {
	name, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteLoginProfile", a.userARN(c, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteLoginProfile(c.Ctx, name)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ChangePassword.html
// The caller is an IAM user changing its own password. It needs
// iam:ChangePassword on itself, unless the password policy lets every user
// change their password (AllowUsersToChangePassword).
func (a *iamAPI) changePassword(c *Call) (any, error) {
	oldPW, ok, err := password(c.Params, "OldPassword")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newValidation("1 validation error detected: Value null at 'oldPassword' failed to satisfy constraint: Member must not be null")
	}
	newPW, ok, err := password(c.Params, "NewPassword")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newValidation("1 validation error detected: Value null at 'newPassword' failed to satisfy constraint: Member must not be null")
	}
	if c.Caller.Type != principal.IAMUser || c.Caller.UserName == "" {
		c.AllowWithoutPolicy()
		return nil, apierr.New(apierr.InvalidUserType, "Only IAM users can change their own password.")
	}
	if err := c.Authorize("iam:ChangePassword", c.Caller.ARN); err != nil {
		if !apierr.Is(err, apierr.AccessDenied) {
			return nil, err
		}
		allowed, perr := a.svc.UsersMayChangePassword(c.Ctx)
		if perr != nil {
			return nil, perr
		}
		if !allowed {
			return nil, err
		}
	}
	return nil, a.svc.ChangePassword(c.Ctx, c.Caller.UserName, oldPW, newPW)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html
func (a *iamAPI) updateAccountPasswordPolicy(c *Call) (any, error) {
	p := c.Params
	var pol iam.PasswordPolicy
	var err error
	if pol.MinimumPasswordLength, err = p.Int("MinimumPasswordLength", 6, 128, iam.DefaultMinimumPasswordLength); err != nil {
		return nil, err
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"RequireSymbols", &pol.RequireSymbols},
		{"RequireNumbers", &pol.RequireNumbers},
		{"RequireUppercaseCharacters", &pol.RequireUppercaseCharacters},
		{"RequireLowercaseCharacters", &pol.RequireLowercaseCharacters},
		{"AllowUsersToChangePassword", &pol.AllowUsersToChangePassword},
	} {
		if *b.dst, err = p.Bool(b.name); err != nil {
			return nil, err
		}
	}
	if pol.MaxPasswordAge, err = p.Int("MaxPasswordAge", 1, 1095, 0); err != nil {
		return nil, err
	}
	if pol.PasswordReusePrevention, err = p.Int("PasswordReusePrevention", 1, 24, 0); err != nil {
		return nil, err
	}
	if p.Has("HardExpiry") {
		h, err := p.Bool("HardExpiry")
		if err != nil {
			return nil, err
		}
		pol.HardExpiry = &h
	}
	if err := c.Authorize("iam:UpdateAccountPasswordPolicy", "*"); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateAccountPasswordPolicy(c.Ctx, pol)
}

// xmlPasswordPolicy is IAM's PasswordPolicy structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PasswordPolicy.html
type xmlPasswordPolicy struct {
	MinimumPasswordLength      int
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	AllowUsersToChangePassword bool
	ExpirePasswords            bool
	MaxPasswordAge             int   `xml:",omitempty"`
	PasswordReusePrevention    int   `xml:",omitempty"`
	HardExpiry                 *bool `xml:",omitempty"`
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountPasswordPolicy.html
func (a *iamAPI) getAccountPasswordPolicy(c *Call) (any, error) {
	if err := c.Authorize("iam:GetAccountPasswordPolicy", "*"); err != nil {
		return nil, err
	}
	p, err := a.svc.GetAccountPasswordPolicy(c.Ctx)
	if err != nil {
		return nil, err
	}
	return struct{ PasswordPolicy xmlPasswordPolicy }{xmlPasswordPolicy{
		MinimumPasswordLength: p.MinimumPasswordLength, RequireSymbols: p.RequireSymbols, RequireNumbers: p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters, RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword, ExpirePasswords: p.ExpirePasswords(),
		MaxPasswordAge: p.MaxPasswordAge, PasswordReusePrevention: p.PasswordReusePrevention, HardExpiry: p.HardExpiry,
	}}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccountPasswordPolicy.html
func (a *iamAPI) deleteAccountPasswordPolicy(c *Call) (any, error) {
	if err := c.Authorize("iam:DeleteAccountPasswordPolicy", "*"); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteAccountPasswordPolicy(c.Ctx)
}
