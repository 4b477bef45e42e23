package iam_test

import (
	"context"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// revokeOlderSessions is the document the console's "Revoke active
// sessions" puts as the role's AWSRevokeOlderSessions inline policy.
const revokeOlderSessions = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}}]}`

// createEntity creates a user, group or role named name. Groups are
// written straight to the store's table so that this test does not depend
// on the groups code.
func createEntity(t *testing.T, s *iam.Service, kind, name string) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch kind {
	case iam.KindUser:
		_, err = s.CreateUser(ctx, iam.CreateUserInput{Name: name})
	case iam.KindRole:
		_, err = s.CreateRole(ctx, iam.CreateRoleInput{Name: name, TrustPolicy: trustEC2})
	case iam.KindGroup:
		_, err = s.CreateGroup(ctx, name, "")
	}
	if err != nil {
		t.Fatalf("create %s %s: %v", kind, name, err)
	}
}

func TestInlinePolicyAggregateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		kind  string
		limit int
	}{
		{iam.KindUser, 2048},
		{iam.KindGroup, 5120},
		{iam.KindRole, 10240},
	} {
		t.Run("a "+tc.kind+"'s inline policies share a quota of "+decimal(tc.limit)+" characters", func(t *testing.T) {
			t.Parallel()
			s := newPolicyService(t)
			createEntity(t, s, tc.kind, "e")
			half := tc.limit / 2
			if err := s.PutInlinePolicy(ctx, tc.kind, "e", "one", padded(half)); err != nil {
				t.Fatalf("first half: %v", err)
			}
			// Exactly at the limit: whitespace does not count.
			if err := s.PutInlinePolicy(ctx, tc.kind, "e", "two", padded(tc.limit-half)); err != nil {
				t.Fatalf("second half: %v", err)
			}
			err := s.PutInlinePolicy(ctx, tc.kind, "e", "three", padded(150))
			wantAPIError(t, err, apierr.LimitExceeded, "Maximum policy size of "+decimal(tc.limit)+" bytes exceeded for "+tc.kind+" e")
			// Replacing a policy counts the new document instead of the old.
			if err := s.PutInlinePolicy(ctx, tc.kind, "e", "two", padded(tc.limit-half-150)); err != nil {
				t.Fatalf("shrinking two: %v", err)
			}
			if err := s.PutInlinePolicy(ctx, tc.kind, "e", "three", padded(150)); err != nil {
				t.Fatalf("three after shrinking: %v", err)
			}
			names, err := s.ListInlinePolicies(ctx, tc.kind, "e", iam.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(names.Items); got != 3 {
				t.Errorf("got %d inline policies, want 3", got)
			}
		})
	}
}

func decimal(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestPutInlinePolicy(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	createEntity(t, s, iam.KindRole, "r")
	createEntity(t, s, iam.KindUser, "u")
	for _, tc := range []struct {
		name                     string
		kind, entity, pname, doc string
		code                     apierr.Code
		msg                      string
	}{
		{"the console's AWSRevokeOlderSessions document is accepted", iam.KindRole, "r", "AWSRevokeOlderSessions", revokeOlderSessions, "", ""},
		{"a document with a principal is malformed", iam.KindRole, "r", "p", trustEC2, apierr.MalformedPolicyDocument, "Policy document should not specify a principal."},
		{"a statement without a resource is malformed", iam.KindUser, "u", "p",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, apierr.MalformedPolicyDocument, "Policy statement must contain resources."},
		{"a missing role is NoSuchEntity", iam.KindRole, "nobody", "p", allowS3, apierr.NoSuchEntity, "The role with name nobody cannot be found."},
		{"a missing user is NoSuchEntity", iam.KindUser, "nobody", "p", allowS3, apierr.NoSuchEntity, "The user with name nobody cannot be found."},
		{"a missing group is NoSuchEntity", iam.KindGroup, "nobody", "p", allowS3, apierr.NoSuchEntity, "The group with name nobody cannot be found."},
		{"a policy name with a slash is invalid", iam.KindUser, "u", "a/b", allowS3, apierr.ValidationError, "policyName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, s.PutInlinePolicy(ctx, tc.kind, tc.entity, tc.pname, tc.doc), tc.code, tc.msg)
		})
	}
	p, err := s.GetInlinePolicy(ctx, iam.KindRole, "R", "AWSRevokeOlderSessions")
	if err != nil {
		t.Fatal(err)
	}
	if p.Document != revokeOlderSessions || p.Entity != "r" {
		t.Errorf("got %q on %q, want the document as put on r", p.Document, p.Entity)
	}
	_, err = s.GetInlinePolicy(ctx, iam.KindRole, "r", "nope")
	wantAPIError(t, err, apierr.NoSuchEntity, "The role policy with name nope cannot be found.")
	wantAPIError(t, s.DeleteInlinePolicy(ctx, iam.KindUser, "u", "nope"), apierr.NoSuchEntity, "The user policy with name nope cannot be found.")
}

func TestInlinePolicyChangesAuthorizationAtOnce(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	createEntity(t, s, iam.KindRole, "r")
	createEntity(t, s, iam.KindUser, "u")
	evalRole := func(issued string) policy.Result {
		ra, err := s.RoleAuth(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		c := policy.NewContext()
		c.Set("aws:TokenIssueTime", issued)
		return policy.Evaluate(&policy.Set{Identity: ra.Identity, Boundary: ra.Boundary},
			&policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: c}).Result
	}
	evalUser := func() policy.Result {
		ua, err := s.UserAuth(ctx, "u")
		if err != nil {
			t.Fatal(err)
		}
		return policy.Evaluate(&policy.Set{Identity: ua.Identity, Boundary: ua.Boundary},
			&policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: policy.NewContext()}).Result
	}
	// Warm the caches before each write: the write must invalidate them.
	if got := evalRole("2024-10-10T09:00:00Z"); got != policy.ImplicitDeny {
		t.Fatalf("got %v with no policy, want implicitDeny", got)
	}
	if err := s.PutInlinePolicy(ctx, iam.KindRole, "r", "s3", allowS3); err != nil {
		t.Fatal(err)
	}
	if got := evalRole("2024-10-10T09:00:00Z"); got != policy.Allowed {
		t.Fatalf("got %v after PutRolePolicy, want allowed", got)
	}
	if err := s.PutInlinePolicy(ctx, iam.KindRole, "r", "AWSRevokeOlderSessions", revokeOlderSessions); err != nil {
		t.Fatal(err)
	}
	if got := evalRole("2024-10-10T09:00:00Z"); got != policy.ExplicitDeny {
		t.Errorf("got %v for a session issued before the cut-off, want explicitDeny", got)
	}
	if got := evalRole("2024-10-10T10:00:00Z"); got != policy.Allowed {
		t.Errorf("got %v for a session issued after the cut-off, want allowed", got)
	}

	if got := evalUser(); got != policy.ImplicitDeny {
		t.Fatalf("got %v for the user with no policy, want implicitDeny", got)
	}
	mp, err := s.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "s3", Document: allowS3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachPolicy(ctx, iam.KindUser, "u", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got != policy.Allowed {
		t.Fatalf("got %v after AttachUserPolicy, want allowed", got)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	if _, err := s.CreatePolicyVersion(ctx, mp.ARN, deny, true); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got != policy.ExplicitDeny {
		t.Fatalf("got %v after a new default version, want explicitDeny", got)
	}
	if err := s.SetDefaultPolicyVersion(ctx, mp.ARN, "v1"); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got != policy.Allowed {
		t.Fatalf("got %v after SetDefaultPolicyVersion v1, want allowed", got)
	}
	boundary, err := s.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "iamonly", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutUserPermissionsBoundary(ctx, "u", boundary.ARN); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got == policy.Allowed {
		t.Fatalf("got %v under a boundary without s3, want a deny", got)
	}
	if err := s.DeleteUserPermissionsBoundary(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got != policy.Allowed {
		t.Fatalf("got %v after removing the boundary, want allowed", got)
	}
	if err := s.DetachPolicy(ctx, iam.KindUser, "u", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if got := evalUser(); got != policy.ImplicitDeny {
		t.Fatalf("got %v after DetachUserPolicy, want implicitDeny", got)
	}
}

// TestInlinePolicyKeys pins the storage layout auth.go compiles from.
func TestInlinePolicyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newPolicyServiceStore(t)
	if _, err := s.CreateRole(ctx, iam.CreateRoleInput{Name: "MyRole", TrustPolicy: trustEC2}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInlinePolicy(ctx, iam.KindRole, "myrole", "Pol", allowS3); err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "mp", Document: allowS3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachPolicy(ctx, iam.KindRole, "MYROLE", mp.ARN); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ table, key string }{
		{"iam.roles", "myrole"},
		{"iam.inline", "role/myrole/Pol"},
		{"iam.attached", "role/myrole/" + mp.ARN},
		{"iam.policy_entities", mp.ARN + "#role/myrole"},
		{"iam.policies", mp.ARN},
		{"iam.policy_versions", mp.ARN + "#v1"},
	} {
		err := st.View(ctx, func(tx kv.Tx) error { _, err := tx.Get(k.table, k.key); return err })
		if err != nil {
			t.Errorf("got %v reading %s %q, want the key there", err, k.table, k.key)
		}
	}
}
