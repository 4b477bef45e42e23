package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/iamd/iamd/internal/testserver"
)

func createRole(t *testing.T, s *testserver.Server, name, trust string) string {
	t.Helper()
	out := must[*iam.CreateRoleOutput](t)(s.IAM(testserver.Admin()).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}))
	return aws.ToString(out.Role.Arn)
}

func TestTrustPolicyConditionsSeeTheAssumeRoleRequest(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	alice := newUser(t, s, "alice", "")
	stmt := func(action, cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":` + action + `,"Condition":` + cond + `}]}`
	}
	external := createRole(t, s, "external", stmt(`"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"s3cr3t-id"}}`))
	named := createRole(t, s, "named", stmt(`"sts:AssumeRole"`, `{"StringLike":{"sts:RoleSessionName":"${aws:username}"}}`))
	sourced := createRole(t, s, "sourced", stmt(`["sts:AssumeRole","sts:SetSourceIdentity"]`, `{"StringEquals":{"sts:SourceIdentity":"alice@example.com"}}`))
	tagless := createRole(t, s, "tagless", stmt(`"sts:AssumeRole"`, `{}`))
	tagged := createRole(t, s, "tagged", stmt(`["sts:AssumeRole","sts:TagSession"]`, `{"StringEquals":{"aws:RequestTag/team":"red"}}`))
	c := s.STS(alice)

	for _, tc := range []struct {
		name string
		in   *sts.AssumeRoleInput
		code string // "" for success
	}{
		{"the right external id is accepted", &sts.AssumeRoleInput{RoleArn: &external, RoleSessionName: aws.String("x1"), ExternalId: aws.String("s3cr3t-id")}, ""},
		{"a wrong external id is denied", &sts.AssumeRoleInput{RoleArn: &external, RoleSessionName: aws.String("x2"), ExternalId: aws.String("guess")}, "AccessDenied"},
		{"a missing external id is denied", &sts.AssumeRoleInput{RoleArn: &external, RoleSessionName: aws.String("x3")}, "AccessDenied"},
		{"a session named after the user is accepted", &sts.AssumeRoleInput{RoleArn: &named, RoleSessionName: aws.String("alice")}, ""},
		{"a session named otherwise is denied", &sts.AssumeRoleInput{RoleArn: &named, RoleSessionName: aws.String("mallory")}, "AccessDenied"},
		{"the allowed source identity is accepted", &sts.AssumeRoleInput{RoleArn: &sourced, RoleSessionName: aws.String("s1"), SourceIdentity: aws.String("alice@example.com")}, ""},
		{"another source identity is denied", &sts.AssumeRoleInput{RoleArn: &sourced, RoleSessionName: aws.String("s2"), SourceIdentity: aws.String("bob@example.com")}, "AccessDenied"},
		{"a source identity needs sts:SetSourceIdentity", &sts.AssumeRoleInput{RoleArn: &tagless, RoleSessionName: aws.String("s3"), SourceIdentity: aws.String("alice@example.com")}, "AccessDenied"},
		{"session tags need sts:TagSession", &sts.AssumeRoleInput{RoleArn: &tagless, RoleSessionName: aws.String("t1"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}, "AccessDenied"},
		{"an allowed session tag is accepted", &sts.AssumeRoleInput{RoleArn: &tagged, RoleSessionName: aws.String("t2"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}, ""},
		{"another tag value is denied", &sts.AssumeRoleInput{RoleArn: &tagged, RoleSessionName: aws.String("t3"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}, "AccessDenied"},
		{"a source identity starting with aws: is invalid", &sts.AssumeRoleInput{RoleArn: &sourced, RoleSessionName: aws.String("s4"), SourceIdentity: aws.String("aws:me")}, "ValidationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AssumeRole(ctx, tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}

	t.Run("the source identity carries into the session and along a chain", func(t *testing.T) {
		out := must[*sts.AssumeRoleOutput](t)(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &sourced, RoleSessionName: aws.String("s5"), SourceIdentity: aws.String("alice@example.com")}))
		if got := aws.ToString(out.SourceIdentity); got != "alice@example.com" {
			t.Errorf("SourceIdentity: got %q, want alice@example.com", got)
		}
	})
}

func TestIdentityPolicyConditionsSeeTheGlobalKeys(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	// Policy variables and global keys in an identity policy.
	carol := newUser(t, s, "carol", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::000000000000:user/${aws:username}"},
		{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
		{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
		{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}},
		{"Effect":"Deny","Action":"iam:ListPolicies","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}},
		{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"*"}]}`)
	admin := s.IAM(testserver.Admin())
	c := s.IAM(carol)
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")}); err != nil {
		t.Errorf("GetUser of herself via ${aws:username}: %v", err)
	}
	_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")})
	wantCode(t, err, "AccessDenied")
	if _, err := c.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles from 127.0.0.0/8: %v", err)
	}
	_, err = c.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	_, err = c.ListGroups(ctx, &iam.ListGroupsInput{})
	wantCode(t, err, "AccessDenied")
	must[*iam.TagUserOutput](t)(admin.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("carol"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}))
	if _, err := c.ListGroups(ctx, &iam.ListGroupsInput{}); err != nil {
		t.Errorf("ListGroups once tagged team=red: %v", err)
	}
	// Long-term keys carry no aws:MultiFactorAuthPresent: BoolIfExists false matches.
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{})
	wantCode(t, err, "AccessDenied")
}
