package testserver_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testserver"
)

// Roles, inline and managed policies, boundaries and instance profiles,
// driven through aws-sdk-go-v2's IAM client: the client is the oracle for
// the wire shapes.

const (
	e2eTrust  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	e2eAllow  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	e2eRevoke = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}}]}`
)

// apiCode is the AWS error code of err ("" for none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// decoded undoes IAM's URL-encoding of a policy document.
func decoded(t *testing.T, s *string) string {
	t.Helper()
	if s == nil {
		t.Fatal("got no document")
	}
	d, err := url.QueryUnescape(*s)
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", *s, err)
	}
	return d
}

func TestRolesThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := srv.IAM(testserver.Admin())
	ctx := context.Background()

	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("app"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(e2eTrust),
		Description: aws.String("the app"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if got := aws.ToString(out.Role.Arn); !strings.HasSuffix(got, ":role/svc/app") {
		t.Errorf("got ARN %s, want the path in it", got)
	}
	if got := aws.ToString(out.Role.RoleId); !strings.HasPrefix(got, "AROA") {
		t.Errorf("got RoleId %s, want AROA…", got)
	}

	get, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if got := decoded(t, get.Role.AssumeRolePolicyDocument); got != e2eTrust {
		t.Errorf("got trust policy %s, want %s", got, e2eTrust)
	}
	if aws.ToInt32(get.Role.MaxSessionDuration) != 7200 || aws.ToString(get.Role.Description) != "the app" || len(get.Role.Tags) != 1 {
		t.Errorf("got %+v, want duration 7200, the description and one tag", get.Role)
	}
	if get.Role.RoleLastUsed == nil {
		t.Errorf("got no RoleLastUsed, want an empty one")
	}

	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(e2eAllow)})
	if got := apiCode(err); got != "MalformedPolicyDocument" {
		t.Errorf("CreateRole without a principal: got %s, want MalformedPolicyDocument", got)
	}
	var mpd *types.MalformedPolicyDocumentException
	if !errors.As(err, &mpd) {
		t.Errorf("got %T, want *types.MalformedPolicyDocumentException", err)
	}

	if _, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("app"), MaxSessionDuration: aws.Int32(3600)}); err != nil {
		t.Fatalf("UpdateRole: %v", err)
	}
	upd, err := c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("app"), Description: aws.String("new")})
	if err != nil {
		t.Fatalf("UpdateRoleDescription: %v", err)
	}
	if aws.ToString(upd.Role.Description) != "new" || aws.ToInt32(upd.Role.MaxSessionDuration) != 3600 {
		t.Errorf("got %+v, want description new and duration 3600", upd.Role)
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String(e2eTrust)}); err != nil {
		t.Fatalf("UpdateAssumeRolePolicy: %v", err)
	}

	list, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/svc/")})
	if err != nil {
		t.Fatalf("ListRoles: %v", err)
	}
	if len(list.Roles) != 1 || aws.ToString(list.Roles[0].RoleName) != "app" || list.Roles[0].Tags != nil {
		t.Errorf("got %+v, want app without tags", list.Roles)
	}

	// The console's revoke-sessions policy, then the inline policy actions.
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(e2eRevoke)}); err != nil {
		t.Fatalf("PutRolePolicy AWSRevokeOlderSessions: %v", err)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("AWSRevokeOlderSessions")})
	if err != nil {
		t.Fatalf("GetRolePolicy: %v", err)
	}
	if got := decoded(t, rp.PolicyDocument); got != e2eRevoke || aws.ToString(rp.RoleName) != "app" {
		t.Errorf("got %s on %s, want the revoke document on app", got, aws.ToString(rp.RoleName))
	}
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("app")})
	if err != nil {
		t.Fatalf("ListRolePolicies: %v", err)
	}
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "AWSRevokeOlderSessions" {
		t.Errorf("got %v, want [AWSRevokeOlderSessions]", names.PolicyNames)
	}

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	if got := apiCode(err); got != "DeleteConflict" {
		t.Errorf("DeleteRole with an inline policy: got %s, want DeleteConflict", got)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("AWSRevokeOlderSessions")}); err != nil {
		t.Fatalf("DeleteRolePolicy: %v", err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("GetRole after delete: got %v, want NoSuchEntity", err)
	}
}

func TestManagedPoliciesThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := srv.IAM(testserver.Admin())
	ctx := context.Background()

	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(e2eTrust)}); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), Path: aws.String("/team/"), PolicyDocument: aws.String(e2eAllow), Description: aws.String("reads")})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	arn := aws.ToString(cp.Policy.Arn)
	if !strings.HasSuffix(arn, ":policy/team/read") || aws.ToString(cp.Policy.DefaultVersionId) != "v1" {
		t.Errorf("got %s default %s, want …:policy/team/read and v1", arn, aws.ToString(cp.Policy.DefaultVersionId))
	}

	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("AttachUserPolicy: %v", err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetPolicy: %v", err)
	}
	if aws.ToInt32(gp.Policy.AttachmentCount) != 2 || aws.ToString(gp.Policy.Description) != "reads" {
		t.Errorf("got AttachmentCount %d, description %q, want 2 and reads", aws.ToInt32(gp.Policy.AttachmentCount), aws.ToString(gp.Policy.Description))
	}
	ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListEntitiesForPolicy: %v", err)
	}
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyRoles) != 1 || len(ents.PolicyGroups) != 0 {
		t.Errorf("got users %v roles %v groups %v, want one user and one role", ents.PolicyUsers, ents.PolicyRoles, ents.PolicyGroups)
	}
	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("r")})
	if err != nil {
		t.Fatalf("ListAttachedRolePolicies: %v", err)
	}
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "read" {
		t.Errorf("got %+v, want read", att.AttachedPolicies)
	}

	v2, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(e2eAllow), SetAsDefault: true})
	if err != nil {
		t.Fatalf("CreatePolicyVersion: %v", err)
	}
	if aws.ToString(v2.PolicyVersion.VersionId) != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Errorf("got %+v, want v2 default", v2.PolicyVersion)
	}
	gv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatalf("GetPolicyVersion: %v", err)
	}
	if got := decoded(t, gv.PolicyVersion.Document); got != e2eAllow || gv.PolicyVersion.IsDefaultVersion {
		t.Errorf("got %s (default %v), want v1's document, not default", got, gv.PolicyVersion.IsDefaultVersion)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	if got := apiCode(err); got != "DeleteConflict" {
		t.Errorf("DeletePolicyVersion of the default: got %s, want DeleteConflict", got)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}); err != nil {
		t.Fatalf("SetDefaultPolicyVersion: %v", err)
	}
	vs, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListPolicyVersions: %v", err)
	}
	if len(vs.Versions) != 2 || aws.ToString(vs.Versions[0].VersionId) != "v2" || !vs.Versions[1].IsDefaultVersion {
		t.Errorf("got %+v, want v2 then v1 (default)", vs.Versions)
	}

	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	if got := apiCode(err); got != "DeleteConflict" {
		t.Errorf("DeletePolicy while attached: got %s, want DeleteConflict", got)
	}
	for _, detach := range []func() error{
		func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)})
			return err
		},
		func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)})
			return err
		},
		func() error {
			_, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
			return err
		},
		func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
			return err
		},
	} {
		if err := detach(); err != nil {
			t.Fatalf("cleaning up: %v", err)
		}
	}

	// AWS managed policies are there from the start.
	awsList, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if err != nil {
		t.Fatalf("ListPolicies: %v", err)
	}
	var names []string
	for _, p := range awsList.Policies {
		names = append(names, aws.ToString(p.PolicyName))
	}
	if !strings.Contains(strings.Join(names, ","), "IAMReadOnlyAccess") {
		t.Errorf("got AWS policies %v, want IAMReadOnlyAccess among them", names)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")})
	if err == nil {
		t.Errorf("DeletePolicy of an AWS managed policy: got no error, want one")
	}

	// Permissions boundaries.
	if _, err := c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bob"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}); err != nil {
		t.Fatalf("PutUserPermissionsBoundary: %v", err)
	}
	u, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if u.User.PermissionsBoundary == nil || aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Errorf("got boundary %+v, want AmazonS3ReadOnlyAccess", u.User.PermissionsBoundary)
	}
	if _, err := c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("bob")}); err != nil {
		t.Fatalf("DeleteUserPermissionsBoundary: %v", err)
	}
	if _, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}); err != nil {
		t.Fatalf("PutRolePermissionsBoundary: %v", err)
	}
	if _, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("r")}); err != nil {
		t.Fatalf("DeleteRolePermissionsBoundary: %v", err)
	}

	// User inline policies and their quota.
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("A", 2000) + `","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	if got := apiCode(err); got != "LimitExceeded" {
		t.Errorf("PutUserPolicy over 2048: got %s, want LimitExceeded", got)
	}
}

func TestInstanceProfilesThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := srv.IAM(testserver.Admin())
	ctx := context.Background()
	for _, r := range []string{"r1", "r2"} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(e2eTrust)}); err != nil {
			t.Fatalf("CreateRole %s: %v", r, err)
		}
	}
	cp, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
	if err != nil {
		t.Fatalf("CreateInstanceProfile: %v", err)
	}
	if cp.InstanceProfile.Roles == nil || len(cp.InstanceProfile.Roles) != 0 {
		t.Errorf("got Roles %v, want an empty list", cp.InstanceProfile.Roles)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}); err != nil {
		t.Fatalf("AddRoleToInstanceProfile: %v", err)
	}
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Errorf("adding a second role: got %v, want LimitExceeded", err)
	}
	gp, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")})
	if err != nil {
		t.Fatalf("GetInstanceProfile: %v", err)
	}
	if len(gp.InstanceProfile.Roles) != 1 || decoded(t, gp.InstanceProfile.Roles[0].AssumeRolePolicyDocument) != e2eTrust {
		t.Errorf("got roles %+v, want r1 with its trust policy", gp.InstanceProfile.Roles)
	}
	fr, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r1")})
	if err != nil {
		t.Fatalf("ListInstanceProfilesForRole: %v", err)
	}
	if len(fr.InstanceProfiles) != 1 {
		t.Errorf("got %d profiles for r1, want 1", len(fr.InstanceProfiles))
	}
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
	var dc *types.DeleteConflictException
	if !errors.As(err, &dc) {
		t.Errorf("DeleteInstanceProfile with a role: got %v, want DeleteConflict", err)
	}
	if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}); err != nil {
		t.Fatalf("RemoveRoleFromInstanceProfile: %v", err)
	}
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
		t.Fatalf("DeleteInstanceProfile: %v", err)
	}
	lp, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil {
		t.Fatalf("ListInstanceProfiles: %v", err)
	}
	if lp.InstanceProfiles == nil || len(lp.InstanceProfiles) != 0 {
		t.Errorf("got %v, want an empty list", lp.InstanceProfiles)
	}
}

// TestPolicyConditionKeysThroughTheSDK checks that attach and boundary
// actions pass iam:PolicyARN and iam:PermissionsBoundary to authorization,
// and that an inline policy change is in force when the call returns.
func TestPolicyConditionKeysThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	admin := srv.IAM(testserver.Admin())
	ctx := context.Background()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(e2eTrust)}); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	const s3ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	const grant = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"` + s3ro + `"}}},
		{"Effect":"Allow","Action":"iam:PutRolePermissionsBoundary","Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"` + s3ro + `"}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("grant"), PolicyDocument: aws.String(grant)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ops")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	ops := srv.IAM(testserver.Creds{KeyID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)})

	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"attaching the allowed policy succeeds", func() error {
			_, err := ops.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(s3ro)})
			return err
		}, ""},
		{"attaching another policy is denied", func() error {
			_, err := ops.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}, "AccessDenied"},
		{"setting the allowed boundary succeeds", func() error {
			_, err := ops.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String(s3ro)})
			return err
		}, ""},
		{"setting another boundary is denied", func() error {
			_, err := ops.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}, "AccessDenied"},
		{"an action the policy does not grant is denied", func() error {
			_, err := ops.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}, "AccessDenied"},
	} {
		if got := apiCode(tc.call()); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	// Revoking the grant is in force as soon as DeleteUserPolicy returns.
	if _, err := admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("grant")}); err != nil {
		t.Fatalf("DeleteUserPolicy: %v", err)
	}
	_, err = ops.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(s3ro)})
	if got := apiCode(err); got != "AccessDenied" {
		t.Errorf("after DeleteUserPolicy: got %q, want AccessDenied", got)
	}
}
