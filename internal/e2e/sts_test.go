// Package e2e drives a real iamd with the official aws-sdk-go-v2 clients.
package e2e

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testserver"
)

var ctx = context.Background()

// apiCode returns the AWS error code of err, "" if it is not an API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// newUser creates a user with an access key and the given inline policy.
func newUser(t *testing.T, s *testserver.Server, name, inline string) testserver.Creds {
	t.Helper()
	admin := s.IAM(testserver.Admin())
	must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
	if inline != "" {
		must[*iam.PutUserPolicyOutput](t)(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String(name), PolicyName: aws.String("inline"), PolicyDocument: aws.String(inline)}))
	}
	k := must[*iam.CreateAccessKeyOutput](t)(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))
	return testserver.Creds{KeyID: *k.AccessKey.AccessKeyId, Secret: *k.AccessKey.SecretAccessKey}
}

func sessionCreds(c *ststypes.Credentials) testserver.Creds {
	return testserver.Creds{KeyID: *c.AccessKeyId, Secret: *c.SecretAccessKey, Token: *c.SessionToken}
}

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`

func trustUsers(names ...string) string {
	var arns []string
	for _, n := range names {
		arns = append(arns, `"arn:aws:iam::000000000000:user/`+n+`"`)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` + strings.Join(arns, ",") + `]},"Action":"sts:AssumeRole"}]}`
}

func TestGetCallerIdentityNamesTheAdministrator(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	out := must[*sts.GetCallerIdentityOutput](t)(s.STS(testserver.Admin()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::000000000000:user/admin"; got != want {
		t.Errorf("Arn: got %q, want %q", got, want)
	}
	if got, want := aws.ToString(out.Account), "000000000000"; got != want {
		t.Errorf("Account: got %q, want %q", got, want)
	}
	if got := aws.ToString(out.UserId); !strings.HasPrefix(got, "AIDA") || len(got) != 21 {
		t.Errorf("UserId: got %q, want AIDA… of 21 characters", got)
	}
}

func TestRequestsWithBadCredentialsFailAsAWSDoes(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	for _, tc := range []struct {
		name  string
		creds testserver.Creds
		code  string
	}{
		{"an unknown key is InvalidClientTokenId", testserver.Creds{KeyID: "AKIAUNKNOWNUNKNOWN00", Secret: "x"}, "InvalidClientTokenId"},
		{"a wrong secret is SignatureDoesNotMatch", testserver.Creds{KeyID: testserver.AdminKeyID, Secret: "wrong"}, "SignatureDoesNotMatch"},
		{"a temporary key without token is InvalidClientTokenId", testserver.Creds{KeyID: "ASIAUNKNOWNUNKNOWN00", Secret: "x"}, "InvalidClientTokenId"},
		{"a forged session token is InvalidClientTokenId", testserver.Creds{KeyID: "ASIAUNKNOWNUNKNOWN00", Secret: "x", Token: "AQoDYXdzEJr"}, "InvalidClientTokenId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.STS(tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantCode(t, err, tc.code)
		})
	}
}

func TestAssumeRoleFollowsTheTrustPolicy(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	allowAssume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	bob := newUser(t, s, "bob", allowAssume)
	julie := newUser(t, s, "julie", "")
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("ExampleRole"), AssumeRolePolicyDocument: aws.String(trustUsers("julie"))}))

	t.Run("a user the trust policy names assumes the role without an identity policy", func(t *testing.T) {
		out := must[*sts.AssumeRoleOutput](t)(s.STS(julie).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: role.Role.Arn, RoleSessionName: aws.String("julie-session")}))
		if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::000000000000:assumed-role/ExampleRole/julie-session"; got != want {
			t.Errorf("AssumedRoleUser.Arn: got %q, want %q", got, want)
		}
		if got, want := aws.ToString(out.AssumedRoleUser.AssumedRoleId), aws.ToString(role.Role.RoleId)+":julie-session"; got != want {
			t.Errorf("AssumedRoleId: got %q, want %q", got, want)
		}
		if k := aws.ToString(out.Credentials.AccessKeyId); !strings.HasPrefix(k, "ASIA") || len(k) != 20 {
			t.Errorf("AccessKeyId: got %q, want ASIA… of 20 characters", k)
		}
		if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("expiration in %v, want the default of one hour", d)
		}
		id := must[*sts.GetCallerIdentityOutput](t)(s.STS(sessionCreds(out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
		if got, want := aws.ToString(id.Arn), aws.ToString(out.AssumedRoleUser.Arn); got != want {
			t.Errorf("session's caller identity: got %q, want %q", got, want)
		}
		if got, want := aws.ToString(id.UserId), aws.ToString(out.AssumedRoleUser.AssumedRoleId); got != want {
			t.Errorf("session's UserId: got %q, want %q", got, want)
		}
	})
	t.Run("a user the trust policy does not name is denied even with an identity allow", func(t *testing.T) {
		_, err := s.STS(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("bob")})
		wantCode(t, err, "AccessDenied")
		if !strings.Contains(err.Error(), "user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/ExampleRole") {
			t.Errorf("message %q does not name principal, action and resource", err)
		}
	})
	t.Run("a duration above the role's maximum is a ValidationError", func(t *testing.T) {
		_, err := s.STS(julie).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("j" + "x"), DurationSeconds: aws.Int32(7200)})
		wantCode(t, err, "ValidationError")
	})
	t.Run("a session name with a space is a ValidationError", func(t *testing.T) {
		_, err := s.STS(julie).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("has space")})
		wantCode(t, err, "ValidationError")
	})
}

func TestAccountTrustNeedsAnIdentityPolicyToo(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("acct"), AssumeRolePolicyDocument: aws.String(trustAccount)}))
	allowed := newUser(t, s, "allowed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+aws.ToString(role.Role.Arn)+`"}]}`)
	plain := newUser(t, s, "plain", "")
	if _, err := s.STS(allowed).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("ok")}); err != nil {
		t.Errorf("user with identity allow: %v", err)
	}
	_, err := s.STS(plain).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("no")})
	wantCode(t, err, "AccessDenied")
}

func TestRoleSessionsCarryTheRolesPermissionsAndSessionPolicy(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(trustUsers("admin"))}))
	must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles"],"Resource":"*"}]}`)}))

	out := must[*sts.AssumeRoleOutput](t)(s.STS(testserver.Admin()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1")}))
	sess := s.IAM(sessionCreds(out.Credentials))
	if _, err := sess.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("ListUsers with the role's allow: %v", err)
	}
	_, err := sess.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nope")})
	wantCode(t, err, "AccessDenied")

	limited := must[*sts.AssumeRoleOutput](t)(s.STS(testserver.Admin()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s2"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`)}))
	lsess := s.IAM(sessionCreds(limited.Credentials))
	if _, err := lsess.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles allowed by role and session policy: %v", err)
	}
	_, err = lsess.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	t.Run("role chaining is capped at one hour", func(t *testing.T) {
		must[*iam.UpdateAssumeRolePolicyOutput](t)(admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("reader"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/admin","arn:aws:iam::000000000000:role/reader"]},"Action":"sts:AssumeRole"}]}`)}))
		if _, err := s.STS(sessionCreds(out.Credentials)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("c0")}); err != nil {
			t.Fatalf("chained AssumeRole allowed by the trust policy: %v", err)
		}
		_, err := s.STS(sessionCreds(out.Credentials)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("c" + "1"), DurationSeconds: aws.Int32(3601)})
		wantCode(t, err, "ValidationError")
	})
}

func TestRevokeOlderSessionsDeniesOnlyEarlierSessions(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustUsers("admin"))}))
	must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`)}))
	old := must[*sts.AssumeRoleOutput](t)(s.STS(testserver.Admin()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("old")}))
	time.Sleep(5 * time.Millisecond)
	cut := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	time.Sleep(5 * time.Millisecond)
	must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("AWSRevokeOlderSessions"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cut + `"}}}]}`)}))
	_, err := s.IAM(sessionCreds(old.Credentials)).ListRoles(ctx, &iam.ListRolesInput{})
	wantCode(t, err, "AccessDenied")

	fresh := must[*sts.AssumeRoleOutput](t)(s.STS(testserver.Admin()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("new")}))
	if _, err := s.IAM(sessionCreds(fresh.Credentials)).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("a session issued after the cut-off: %v", err)
	}
	must[*iam.DeleteRolePolicyOutput](t)(admin.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("AWSRevokeOlderSessions")}))
	if _, err := s.IAM(sessionCreds(old.Credentials)).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("the old session after the revocation was deleted: %v", err)
	}
}

func TestDeletingARoleEndsItsSessions(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("doomed"), AssumeRolePolicyDocument: aws.String(trustUsers("admin"))}))
	out := must[*sts.AssumeRoleOutput](t)(s.STS(testserver.Admin()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("x1")}))
	must[*iam.DeleteRoleOutput](t)(admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("doomed")}))
	_, err := s.STS(sessionCreds(out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	// A role re-created with the same name does not revive them.
	must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("doomed"), AssumeRolePolicyDocument: aws.String(trustUsers("admin"))}))
	_, err = s.STS(sessionCreds(out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

func TestExpiredSessionsAreExpiredToken(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	s := testserver.Start(t, testserver.WithNow(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	// Issue a 15-minute session on a server clock running almost 15
	// minutes behind (just within the signature's skew window), put the
	// clock right and wait out the last second: the session has expired.
	offset.Store(int64(-899 * time.Second))
	out := must[*sts.GetSessionTokenOutput](t)(s.STS(testserver.Admin()).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}))
	offset.Store(0)
	time.Sleep(time.Until(aws.ToTime(out.Credentials.Expiration)) + 1100*time.Millisecond) // Expiration is shown to the second
	_, err := s.STS(sessionCreds(out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken")
}

func TestDeactivatedKeysStopAtOnce(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	emy := newUser(t, s, "emy", "")
	if _, err := s.STS(emy).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	must[*iam.UpdateAccessKeyOutput](t)(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("emy"), AccessKeyId: aws.String(emy.KeyID), Status: "Inactive"}))
	_, err := s.STS(emy).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	must[*iam.UpdateAccessKeyOutput](t)(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("emy"), AccessKeyId: aws.String(emy.KeyID), Status: "Active"}))
	if _, err := s.STS(emy).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("reactivated key: %v", err)
	}
}

func TestSessionTokensAreLimitedAsAWSLimitsThem(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	out := must[*sts.GetSessionTokenOutput](t)(s.STS(testserver.Admin()).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 11*time.Hour || d > 13*time.Hour {
		t.Errorf("default duration: got %v, want 12 h", d)
	}
	sess := sessionCreds(out.Credentials)
	_, err := s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied") // no IAM without MFA
	_, err = s.STS(sess).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, err, "AccessDenied")
	if _, err := s.STS(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity: %v", err)
	}
}

func TestARestartKeepsEverything(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	bob := newUser(t, s, "bob", "")
	role := must[*iam.CreateRoleOutput](t)(s.IAM(testserver.Admin()).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("kept"), AssumeRolePolicyDocument: aws.String(trustUsers("bob"))}))
	sess := must[*sts.AssumeRoleOutput](t)(s.STS(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("before")}))
	s.Restart(t)
	if _, err := s.STS(bob).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("user key after restart: %v", err)
	}
	if _, err := s.STS(sessionCreds(sess.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("session from before the restart: %v", err)
	}
}
