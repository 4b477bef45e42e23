package authz

import (
	"net/netip"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func get(t *testing.T, c *policy.Context, key string) (string, bool) {
	t.Helper()
	v, ok := c.Get(key)
	if !ok {
		return "", false
	}
	if len(v) != 1 {
		t.Fatalf("%s: got %d values, want 1", key, len(v))
	}
	return v[0], true
}

func TestGlobalKeysForALongTermKeyLeaveOutSessionKeys(t *testing.T) {
	t.Parallel()
	c := &principal.Caller{Account: "000000000000", Type: principal.IAMUser, ARN: "arn:aws:iam::000000000000:user/alice", UserID: "AIDAEXAMPLE", UserName: "alice",
		Tags: []principal.Tag{{Key: "team", Value: "red"}}}
	ctx := BuildContext(&Request{Caller: c, Action: "iam:ListUsers", Resource: "*", Env: Env{Now: now, SourceIP: netip.MustParseAddr("192.0.2.7"), Region: "eu-west-1"}})
	for key, want := range map[string]string{
		"aws:CurrentTime":       "2026-11-22T10:00:00Z",
		"aws:EpochTime":         "1795341600",
		"aws:SourceIp":          "192.0.2.7",
		"aws:SecureTransport":   "false",
		"aws:PrincipalArn":      "arn:aws:iam::000000000000:user/alice",
		"aws:PrincipalAccount":  "000000000000",
		"aws:PrincipalType":     "User",
		"aws:userid":            "AIDAEXAMPLE",
		"aws:username":          "alice",
		"aws:PrincipalTag/TEAM": "red",       // condition keys are case-insensitive
		"aws:RequestedRegion":   "us-east-1", // IAM is global
	} {
		if got, ok := get(t, ctx, key); !ok || got != want {
			t.Errorf("%s: got %q (present %v), want %q", key, got, ok, want)
		}
	}
	for _, key := range []string{"aws:TokenIssueTime", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:SourceIdentity"} {
		if _, ok := ctx.Get(key); ok {
			t.Errorf("%s is present for a long-term key, want absent", key)
		}
	}
}

func TestGlobalKeysForARoleSession(t *testing.T) {
	t.Parallel()
	issued := now.Add(-90 * time.Second)
	c := &principal.Caller{Account: "000000000000", Type: principal.AssumedRole, ARN: "arn:aws:sts::000000000000:assumed-role/ops/s",
		RoleARN: "arn:aws:iam::000000000000:role/ops", UserID: "AROAEXAMPLE:s", Temporary: true, IssuedAt: issued,
		MFA: true, MFAAuthTime: issued, SourceIdentity: "alice"}
	ctx := BuildContext(&Request{Caller: c, Action: "s3:GetObject", Resource: "*", Env: Env{Now: now, Region: "eu-west-1"}})
	for key, want := range map[string]string{
		"aws:PrincipalArn":           "arn:aws:iam::000000000000:role/ops",
		"aws:PrincipalType":          "AssumedRole",
		"aws:TokenIssueTime":         "2026-11-22T09:58:30.000Z",
		"aws:MultiFactorAuthPresent": "true",
		"aws:MultiFactorAuthAge":     "90",
		"aws:SourceIdentity":         "alice",
		"aws:RequestedRegion":        "eu-west-1",
	} {
		if got, ok := get(t, ctx, key); !ok || got != want {
			t.Errorf("%s: got %q (present %v), want %q", key, got, ok, want)
		}
	}
	if _, ok := ctx.Get("aws:username"); ok {
		t.Error("aws:username is present for a role session, want absent")
	}
}

func TestDeniedMessagesReadLikeAWSs(t *testing.T) {
	t.Parallel()
	req := &Request{Caller: &principal.Caller{ARN: "arn:aws:iam::000000000000:user/bob"}, Action: "iam:CreateUser", Resource: "arn:aws:iam::000000000000:user/x"}
	base := "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/x"
	for _, tc := range []struct {
		name string
		d    policy.Decision
		want string
	}{
		{"no identity policy allows", policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.ByIdentity}, base + " because no identity-based policy allows the iam:CreateUser action"},
		{"an explicit deny in an identity policy", policy.Decision{Result: policy.ExplicitDeny, DeniedBy: policy.ByIdentity}, base + " with an explicit deny in an identity-based policy"},
		{"no permissions boundary allows", policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.ByBoundary}, base + " because no permissions boundary allows the iam:CreateUser action"},
		{"no session policy allows", policy.Decision{Result: policy.ImplicitDeny, DeniedBy: policy.BySession}, base + " because no session policy allows the iam:CreateUser action"},
		{"an explicit deny in a resource policy", policy.Decision{Result: policy.ExplicitDeny, DeniedBy: policy.ByResource}, base + " with an explicit deny in a resource-based policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeniedMessage(req, tc.d); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
