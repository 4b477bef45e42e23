package authz

import (
	"context"
	"testing"

	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
)

func TestGlobalKeysForAFederatedUser(t *testing.T) {
	t.Parallel()
	c := &principal.Caller{Account: "000000000000", Type: principal.FederatedUser, ARN: "arn:aws:sts::000000000000:federated-user/carol",
		UserID: "000000000000:carol", UserName: "broker", Temporary: true, IssuedAt: now, SessionName: "carol"}
	ctx := BuildContext(&Request{Caller: c, Action: "s3:ListBucket", Resource: "*", Env: Env{Now: now}})
	for key, want := range map[string]string{
		"aws:PrincipalType": "FederatedUser",
		"aws:PrincipalArn":  "arn:aws:sts::000000000000:federated-user/carol",
		"aws:userid":        "000000000000:carol",
	} {
		if got, _ := get(t, ctx, key); got != want {
			t.Errorf("%s: got %q, want %q", key, got, want)
		}
	}
	if got, ok := get(t, ctx, "aws:username"); ok {
		t.Errorf("aws:username: got %q, want it absent for a federated user", got)
	}
}

func TestFederatedUsersMayCallNoIAMAndOnlyGetCallerIdentity(t *testing.T) {
	t.Parallel()
	for action, want := range map[string]bool{
		"iam:ListUsers": false, "iam:GetUser": false, "sts:AssumeRole": false, "sts:GetFederationToken": false,
		"sts:GetCallerIdentity": true, "s3:GetObject": true, "ec2:DescribeInstances": true,
	} {
		if got := federatedMayCall(action); got != want {
			t.Errorf("%s: got %v, want %v", action, got, want)
		}
	}
}

func TestAFederatedSessionWithoutSessionPolicyHasNoPermissions(t *testing.T) {
	t.Parallel()
	e := &Engine{} // Decide must answer before it reads any IAM state
	c := &principal.Caller{Account: "000000000000", Type: principal.FederatedUser, ARN: "arn:aws:sts::000000000000:federated-user/carol",
		UserName: "broker", Temporary: true}
	for _, action := range []string{"s3:GetObject", "iam:GetUser"} {
		d, err := e.Decide(context.Background(), &Request{Caller: c, Action: action, Resource: "*", Env: Env{Now: now}})
		if err != nil || d.Result != policy.ImplicitDeny || d.DeniedBy != policy.BySession {
			t.Errorf("%s: got %+v, %v; want an implicit deny by the session policy", action, d, err)
		}
	}
}
