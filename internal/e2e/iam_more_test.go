package e2e

// aws-sdk-go-v2 against a real iamd for the tag actions of policies,
// instance profiles and MFA devices, login profiles and the password
// policy, the account actions, service-linked roles and federation
// tokens: the client is the oracle for the wire shapes.

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testserver"
)

func tagKV(ts []iamtypes.Tag) string {
	s := ""
	for _, t := range ts {
		s += aws.ToString(t.Key) + "=" + aws.ToString(t.Value) + ";"
	}
	return s
}

func TestMoreTagsThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	pol := must[*iam.CreatePolicyOutput](t)(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("tagged"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})).Policy
	must[*iam.CreateInstanceProfileOutput](t)(admin.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	dev := must[*iam.CreateVirtualMFADeviceOutput](t)(admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("phone")})).VirtualMFADevice
	tags := []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("Env"), Value: aws.String("prod")}}

	t.Run("a policy's tags are set, listed and removed", func(t *testing.T) {
		must[*iam.TagPolicyOutput](t)(admin.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: pol.Arn, Tags: tags}))
		out := must[*iam.ListPolicyTagsOutput](t)(admin.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: pol.Arn}))
		if got, want := tagKV(out.Tags), "Env=prod;team=web;"; got != want || out.IsTruncated {
			t.Errorf("got %s (truncated %v), want %s", got, out.IsTruncated, want)
		}
		must[*iam.UntagPolicyOutput](t)(admin.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: pol.Arn, TagKeys: []string{"env"}}))
		got := must[*iam.GetPolicyOutput](t)(admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Arn})).Policy.Tags
		if tagKV(got) != "team=web;" {
			t.Errorf("GetPolicy tags: got %s, want team=web;", tagKV(got))
		}
	})
	t.Run("an instance profile's tags page", func(t *testing.T) {
		must[*iam.TagInstanceProfileOutput](t)(admin.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("web"), Tags: tags}))
		p1 := must[*iam.ListInstanceProfileTagsOutput](t)(admin.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web"), MaxItems: aws.Int32(1)}))
		if tagKV(p1.Tags) != "Env=prod;" || !p1.IsTruncated || p1.Marker == nil {
			t.Fatalf("first page: got %s truncated %v", tagKV(p1.Tags), p1.IsTruncated)
		}
		p2 := must[*iam.ListInstanceProfileTagsOutput](t)(admin.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web"), Marker: p1.Marker}))
		if tagKV(p2.Tags) != "team=web;" || p2.IsTruncated {
			t.Errorf("second page: got %s truncated %v", tagKV(p2.Tags), p2.IsTruncated)
		}
		must[*iam.UntagInstanceProfileOutput](t)(admin.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("web"), TagKeys: []string{"team", "Env"}}))
		out := must[*iam.ListInstanceProfileTagsOutput](t)(admin.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web")}))
		if len(out.Tags) != 0 {
			t.Errorf("got %s, want no tags", tagKV(out.Tags))
		}
	})
	t.Run("an MFA device's tags are set, listed and removed", func(t *testing.T) {
		must[*iam.TagMFADeviceOutput](t)(admin.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: dev.SerialNumber, Tags: tags}))
		must[*iam.UntagMFADeviceOutput](t)(admin.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: dev.SerialNumber, TagKeys: []string{"team"}}))
		out := must[*iam.ListMFADeviceTagsOutput](t)(admin.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: dev.SerialNumber}))
		if tagKV(out.Tags) != "Env=prod;" {
			t.Errorf("got %s, want Env=prod;", tagKV(out.Tags))
		}
	})
	t.Run("missing resources are NoSuchEntity", func(t *testing.T) {
		_, err := admin.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String("arn:aws:iam::000000000000:policy/none")})
		wantCode(t, err, "NoSuchEntity")
		_, err = admin.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("none"), Tags: tags})
		wantCode(t, err, "NoSuchEntity")
		_, err = admin.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/none"), TagKeys: []string{"k"}})
		wantCode(t, err, "NoSuchEntity")
	})
	t.Run("tagging needs its own permission", func(t *testing.T) {
		ro := newUser(t, s, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}`)
		_, err := s.IAM(ro).TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: pol.Arn, Tags: tags})
		wantCode(t, err, "AccessDenied")
		must[*iam.ListPolicyTagsOutput](t)(s.IAM(ro).ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: pol.Arn}))
	})
}

func TestLoginProfilesThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	// ChangePassword needs no permission once the policy lets users change
	// their own password.
	jo := newUser(t, s, "jo", "")

	t.Run("no password policy is NoSuchEntity", func(t *testing.T) {
		_, err := admin.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		wantCode(t, err, "NoSuchEntity")
	})
	t.Run("the password policy round-trips", func(t *testing.T) {
		must[*iam.UpdateAccountPasswordPolicyOutput](t)(admin.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
			MinimumPasswordLength: aws.Int32(10), RequireNumbers: true, RequireSymbols: true, AllowUsersToChangePassword: true,
			MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(3)}))
		p := must[*iam.GetAccountPasswordPolicyOutput](t)(admin.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})).PasswordPolicy
		if aws.ToInt32(p.MinimumPasswordLength) != 10 || !p.RequireNumbers || !p.RequireSymbols || p.RequireUppercaseCharacters ||
			!p.AllowUsersToChangePassword || !p.ExpirePasswords || aws.ToInt32(p.MaxPasswordAge) != 90 || aws.ToInt32(p.PasswordReusePrevention) != 3 {
			t.Errorf("got %+v", p)
		}
		_, err := admin.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(5)})
		wantCode(t, err, "ValidationError")
	})
	t.Run("a weak password violates the policy", func(t *testing.T) {
		_, err := admin.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("jo"), Password: aws.String("short1!")})
		wantCode(t, err, "PasswordPolicyViolation")
	})
	t.Run("a login profile is created and read without its password", func(t *testing.T) {
		lp := must[*iam.CreateLoginProfileOutput](t)(admin.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
			UserName: aws.String("jo"), Password: aws.String("long-enough-1!"), PasswordResetRequired: true})).LoginProfile
		if aws.ToString(lp.UserName) != "jo" || !lp.PasswordResetRequired || lp.CreateDate == nil {
			t.Errorf("got %+v", lp)
		}
		_, err := admin.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("jo"), Password: aws.String("long-enough-1!")})
		wantCode(t, err, "EntityAlreadyExists")
		got := must[*iam.GetLoginProfileOutput](t)(admin.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("jo")})).LoginProfile
		if aws.ToString(got.UserName) != "jo" || !got.PasswordResetRequired {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("the user changes its own password with the old one", func(t *testing.T) {
		_, err := s.IAM(jo).ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("wrong-pass-1!"), NewPassword: aws.String("brand-new-2!")})
		wantCode(t, err, "InvalidUserType")
		must[*iam.ChangePasswordOutput](t)(s.IAM(jo).ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("long-enough-1!"), NewPassword: aws.String("brand-new-2!")}))
		got := must[*iam.GetLoginProfileOutput](t)(admin.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("jo")})).LoginProfile
		if got.PasswordResetRequired {
			t.Error("PasswordResetRequired is still set after ChangePassword")
		}
		_, err = s.IAM(jo).ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("brand-new-2!"), NewPassword: aws.String("long-enough-1!")})
		wantCode(t, err, "PasswordPolicyViolation")
	})
	t.Run("without the policy's permission a user may not change its password", func(t *testing.T) {
		must[*iam.UpdateAccountPasswordPolicyOutput](t)(admin.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{}))
		_, err := s.IAM(jo).ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("brand-new-2!"), NewPassword: aws.String("Another-one-3!")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("a user with a login profile cannot be deleted", func(t *testing.T) {
		must[*iam.UpdateLoginProfileOutput](t)(admin.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("jo"), Password: aws.String("Another-one-3!")}))
		must[*iam.DeleteAccessKeyOutput](t)(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("jo"), AccessKeyId: aws.String(jo.KeyID)}))
		_, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("jo")})
		wantCode(t, err, "DeleteConflict")
		must[*iam.DeleteLoginProfileOutput](t)(admin.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("jo")}))
		_, err = admin.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("jo")})
		wantCode(t, err, "NoSuchEntity")
		must[*iam.DeleteUserOutput](t)(admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("jo")}))
		must[*iam.DeleteAccountPasswordPolicyOutput](t)(admin.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{}))
	})
}

func TestAccountThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())

	t.Run("the account has at most one alias", func(t *testing.T) {
		_, err := admin.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("bad--alias")})
		wantCode(t, err, "ValidationError")
		must[*iam.CreateAccountAliasOutput](t)(admin.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}))
		out := must[*iam.ListAccountAliasesOutput](t)(admin.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
		if len(out.AccountAliases) != 1 || out.AccountAliases[0] != "example-corp" || out.IsTruncated {
			t.Errorf("got %v, want [example-corp]", out.AccountAliases)
		}
		_, err = admin.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("other-corp")})
		wantCode(t, err, "NoSuchEntity")
		must[*iam.DeleteAccountAliasOutput](t)(admin.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("example-corp")}))
		out = must[*iam.ListAccountAliasesOutput](t)(admin.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
		if out.AccountAliases == nil || len(out.AccountAliases) != 0 {
			t.Errorf("got %#v, want an empty list", out.AccountAliases)
		}
	})
	t.Run("the summary counts entities", func(t *testing.T) {
		before := must[*iam.GetAccountSummaryOutput](t)(admin.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})).SummaryMap
		newUser(t, s, "sam", "")
		after := must[*iam.GetAccountSummaryOutput](t)(admin.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})).SummaryMap
		if after["Users"] != before["Users"]+1 || after["UsersQuota"] != 5000 || after["AccessKeysPerUserQuota"] != 2 || len(after) != 33 {
			t.Errorf("got Users %d (before %d), UsersQuota %d, %d entries", after["Users"], before["Users"], after["UsersQuota"], len(after))
		}
	})
	t.Run("authorization details carry documents and page", func(t *testing.T) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a b"}]}`
		must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
		must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read"), PolicyDocument: aws.String(doc)}))
		out := must[*iam.GetAccountAuthorizationDetailsOutput](t)(admin.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{
			Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}}))
		if len(out.UserDetailList) != 0 || len(out.RoleDetailList) != 1 {
			t.Fatalf("got %d users, %d roles; want only the role", len(out.UserDetailList), len(out.RoleDetailList))
		}
		r := out.RoleDetailList[0]
		if aws.ToString(r.RoleName) != "app" || len(r.RolePolicyList) != 1 || aws.ToString(r.RolePolicyList[0].PolicyName) != "read" {
			t.Fatalf("got %+v", r)
		}
		if got := aws.ToString(r.RolePolicyList[0].PolicyDocument); got != strings.ReplaceAll(url.QueryEscape(doc), "+", "%20") {
			t.Errorf("got document %s, want it URL-encoded", got)
		}
		var users int
		p := iam.NewGetAccountAuthorizationDetailsPaginator(admin, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)})
		for p.HasMorePages() {
			pg := must[*iam.GetAccountAuthorizationDetailsOutput](t)(p.NextPage(ctx))
			users += len(pg.UserDetailList)
		}
		if users < 2 {
			t.Errorf("got %d users over the pages, want the admin and sam", users)
		}
	})
}

func TestServiceLinkedRolesThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	r := must[*iam.CreateServiceLinkedRoleOutput](t)(admin.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{
		AWSServiceName: aws.String("autoscaling.amazonaws.com"), Description: aws.String("scaling")})).Role
	if aws.ToString(r.RoleName) != "AWSServiceRoleForAutoScaling" || aws.ToString(r.Path) != "/aws-service-role/autoscaling.amazonaws.com/" || r.CreateDate == nil {
		t.Fatalf("got %+v", r)
	}
	_, err := admin.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")})
	wantCode(t, err, "InvalidInput")
	_, err = admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: r.RoleName})
	wantCode(t, err, "UnmodifiableEntity")
	_, err = admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: r.RoleName,
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)})
	wantCode(t, err, "UnmodifiableEntity")
	got := must[*iam.GetRoleOutput](t)(admin.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})).Role
	if !strings.Contains(aws.ToString(got.AssumeRolePolicyDocument), "autoscaling.amazonaws.com") {
		t.Errorf("got trust policy %s", aws.ToString(got.AssumeRolePolicyDocument))
	}
	del := must[*iam.DeleteServiceLinkedRoleOutput](t)(admin.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: r.RoleName}))
	st := must[*iam.GetServiceLinkedRoleDeletionStatusOutput](t)(admin.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: del.DeletionTaskId}))
	if st.Status != iamtypes.DeletionTaskStatusTypeSucceeded {
		t.Errorf("got status %s, want SUCCEEDED", st.Status)
	}
	_, err = admin.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})
	wantCode(t, err, "NoSuchEntity")

	// The permission to create one can be limited to a service.
	ops := newUser(t, s, "ops", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"ecs.amazonaws.com"}}}]}`)
	_, err = s.IAM(ops).CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("rds.amazonaws.com")})
	wantCode(t, err, "AccessDenied")
	must[*iam.CreateServiceLinkedRoleOutput](t)(s.IAM(ops).CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("ecs.amazonaws.com")}))
}

func TestFederationTokensThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	// The broker may federate and read S3 and IAM users.
	broker := newUser(t, s, "broker", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["sts:GetFederationToken","iam:ListUsers","iam:GetUser"],"Resource":"*"},
		{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)
	fed := func(t *testing.T, in *sts.GetFederationTokenInput) (*sts.GetFederationTokenOutput, error) {
		return s.STS(broker).GetFederationToken(ctx, in)
	}

	t.Run("a federated user is named in the account", func(t *testing.T) {
		out := must[*sts.GetFederationTokenOutput](t)(fed(t, &sts.GetFederationTokenInput{Name: aws.String("carol")}))
		if aws.ToString(out.FederatedUser.Arn) != "arn:aws:sts::000000000000:federated-user/carol" ||
			aws.ToString(out.FederatedUser.FederatedUserId) != "000000000000:carol" {
			t.Errorf("got %+v", out.FederatedUser)
		}
		if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 11*time.Hour || d > 13*time.Hour {
			t.Errorf("expires in %v, want the default of 12 hours", d)
		}
		creds := sessionCreds(out.Credentials)
		id := must[*sts.GetCallerIdentityOutput](t)(s.STS(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
		if aws.ToString(id.Arn) != "arn:aws:sts::000000000000:federated-user/carol" || aws.ToString(id.UserId) != "000000000000:carol" {
			t.Errorf("GetCallerIdentity: got %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId))
		}
		// Without a session policy the session has no permissions.
		_, err := s3Client(s, creds).ListBuckets(ctx, &s3.ListBucketsInput{})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("a session policy grants the intersection with the user's permissions, and never IAM", func(t *testing.T) {
		out := must[*sts.GetFederationTokenOutput](t)(fed(t, &sts.GetFederationTokenInput{Name: aws.String("dave"), DurationSeconds: aws.Int32(900),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:*","sts:*"],"Resource":"*"}]}`)}))
		if out.PackedPolicySize == nil {
			t.Error("PackedPolicySize is missing")
		}
		creds := sessionCreds(out.Credentials)
		must[*s3.ListBucketsOutput](t)(s3Client(s, creds).ListBuckets(ctx, &s3.ListBucketsInput{}))
		_, err := s3Client(s, creds).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("not-allowed-to-broker")})
		wantCode(t, err, "AccessDenied")
		_, err = s.IAM(creds).ListUsers(ctx, &iam.ListUsersInput{})
		wantCode(t, err, "AccessDenied")
		_, err = s.STS(creds).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("names and durations are validated", func(t *testing.T) {
		_, err := fed(t, &sts.GetFederationTokenInput{Name: aws.String("x")})
		wantCode(t, err, "ValidationError")
		_, err = fed(t, &sts.GetFederationTokenInput{Name: aws.String(strings.Repeat("n", 33))})
		wantCode(t, err, "ValidationError")
		_, err = fed(t, &sts.GetFederationTokenInput{Name: aws.String("erin"), DurationSeconds: aws.Int32(129601)})
		wantCode(t, err, "ValidationError")
		_, err = fed(t, &sts.GetFederationTokenInput{Name: aws.String("erin"), Policy: aws.String("{not json")})
		wantCode(t, err, "MalformedPolicyDocument")
	})
	t.Run("only an IAM user with its long-term key may call it", func(t *testing.T) {
		st := must[*sts.GetSessionTokenOutput](t)(s.STS(broker).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
		_, err := s.STS(sessionCreds(st.Credentials)).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("frank")})
		wantCode(t, err, "AccessDenied")
		nobody := newUser(t, s, "nobody", "")
		_, err = s.STS(nobody).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("frank")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("deleting the user ends its federated sessions", func(t *testing.T) {
		must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("temp")}))
		must[*iam.PutUserPolicyOutput](t)(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("temp"), PolicyName: aws.String("fed"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetFederationToken","Resource":"*"}]}`)}))
		k := must[*iam.CreateAccessKeyOutput](t)(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("temp")})).AccessKey
		temp := testserver.Creds{KeyID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
		out := must[*sts.GetFederationTokenOutput](t)(s.STS(temp).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("gone")}))
		must[*iam.DeleteAccessKeyOutput](t)(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("temp"), AccessKeyId: k.AccessKeyId}))
		must[*iam.DeleteUserPolicyOutput](t)(admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("temp"), PolicyName: aws.String("fed")}))
		must[*iam.DeleteUserOutput](t)(admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("temp")}))
		_, err := s.STS(sessionCreds(out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
	})
}
