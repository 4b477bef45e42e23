package iam_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/secretbox"
	"github.com/iamd/iamd/internal/store/sqlite"
)

const testAccount = "123456789012"

var testNow = time.Date(2024, 10, 10, 9, 0, 0, 0, time.UTC)

// newPolicyService returns a Service over a fresh SQLite store in a
// temporary directory, with a fixed clock.
func newPolicyService(t *testing.T) *iam.Service {
	t.Helper()
	s, _ := newPolicyServiceStore(t)
	return s
}

// newPolicyServiceStore also returns the store, for tests that look at
// the keys the service writes.
func newPolicyServiceStore(t *testing.T) (*iam.Service, kv.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key, rand.Reader)
	if err != nil {
		t.Fatalf("secretbox: %v", err)
	}
	return iam.New(iam.Config{
		Store: st, Account: testAccount, Now: func() time.Time { return testNow },
		Rand: rand.Reader, Secrets: box,
	}), st
}

// wantCode fails unless err is an *apierr.Error with code (or nil when
// code is "") whose message contains msg.
func wantAPIError(t *testing.T, err error, code apierr.Code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	e := apierr.As(err)
	if e == nil {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%s), want %s", e.Code, e.Message, code)
	}
	if !strings.Contains(e.Message, msg) {
		t.Fatalf("got message %q, want it to contain %q", e.Message, msg)
	}
}

const trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const allowS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`

func mustCreateRole(t *testing.T, s *iam.Service, name string) *iam.Role {
	t.Helper()
	r, err := s.CreateRole(context.Background(), iam.CreateRoleInput{Name: name, TrustPolicy: trustEC2})
	if err != nil {
		t.Fatalf("CreateRole(%s): %v", name, err)
	}
	return r
}

// padded returns a valid identity policy of exactly n characters other
// than whitespace, with lots of whitespace that must not count.
func padded(n int) string {
	head := `{ "Version" : "2012-10-17", "Statement" : [ { "Sid" : "`
	tail := `", "Effect" : "Allow", "Action" : "s3:GetObject", "Resource" : "*" } ] }`
	fixed := policy.NonWhitespaceLen(head + tail)
	if n < fixed {
		panic("padded: too small")
	}
	return head + strings.Repeat("A", n-fixed) + tail
}

// paddedTrust is a trust policy of exactly n non-whitespace characters.
func paddedTrust(n int) string {
	head := `{ "Version" : "2012-10-17", "Statement" : [ { "Sid" : "`
	tail := `", "Effect" : "Allow", "Principal" : { "Service" : "ec2.amazonaws.com" }, "Action" : "sts:AssumeRole" } ] }`
	return head + strings.Repeat("B", n-policy.NonWhitespaceLen(head+tail)) + tail
}

func TestCreateRole(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   iam.CreateRoleInput
		code apierr.Code
		msg  string
	}{
		{"a role with a service trust policy is created", iam.CreateRoleInput{Name: "web", TrustPolicy: trustEC2}, "", ""},
		{"a trust policy without a principal is malformed", iam.CreateRoleInput{Name: "noprincipal", TrustPolicy: allowS3},
			apierr.MalformedPolicyDocument, "principal"},
		{"a trust policy that is not JSON is malformed", iam.CreateRoleInput{Name: "notjson", TrustPolicy: "{"}, apierr.MalformedPolicyDocument, ""},
		{"a trust policy of 2048 characters is accepted", iam.CreateRoleInput{Name: "big", TrustPolicy: paddedTrust(2048)}, "", ""},
		{"a trust policy over 2048 characters exceeds the quota", iam.CreateRoleInput{Name: "huge", TrustPolicy: paddedTrust(2049)},
			apierr.LimitExceeded, "Cannot exceed quota for ACLSizePerRole: 2048"},
		{"a second role of the same name in another case already exists", iam.CreateRoleInput{Name: "WEB", TrustPolicy: trustEC2},
			apierr.EntityAlreadyExists, "Role with name WEB already exists."},
		{"a session duration under an hour is invalid", iam.CreateRoleInput{Name: "short", TrustPolicy: trustEC2, MaxSessionDuration: 60},
			apierr.ValidationError, "maxSessionDuration"},
		{"a name with a space is invalid", iam.CreateRoleInput{Name: "a b", TrustPolicy: trustEC2}, apierr.ValidationError, "roleName"},
		{"a boundary that does not exist is NoSuchEntity", iam.CreateRoleInput{Name: "bounded", TrustPolicy: trustEC2,
			Boundary: "arn:aws:iam::123456789012:policy/nope"}, apierr.NoSuchEntity, "does not exist"},
		{"a service-linked path is refused", iam.CreateRoleInput{Name: "AWSServiceRoleForECS", Path: "/aws-service-role/ecs.amazonaws.com/", TrustPolicy: trustEC2},
			apierr.InvalidInput, "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles"},
		{"the service-linked prefix alone is refused", iam.CreateRoleInput{Name: "slr", Path: "/aws-service-role/", TrustPolicy: trustEC2},
			apierr.InvalidInput, "Path prefix '/aws-service-role/'"},
		{"a path that only resembles the prefix is allowed", iam.CreateRoleInput{Name: "lookalike", Path: "/aws-service-roles/", TrustPolicy: trustEC2}, "", ""},
		{"the prefix deeper in a path is allowed", iam.CreateRoleInput{Name: "nested", Path: "/team/aws-service-role/", TrustPolicy: trustEC2}, "", ""},
		{"the service-role path is an ordinary path", iam.CreateRoleInput{Name: "svc", Path: "/service-role/", TrustPolicy: trustEC2}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateRole(ctx, tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}

	r, err := s.GetRole(ctx, "Web")
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if !strings.HasPrefix(r.ID, "AROA") || len(r.ID) != 21 {
		t.Errorf("got RoleId %q, want AROA and 17 more characters", r.ID)
	}
	if r.ARN != "arn:aws:iam::123456789012:role/web" {
		t.Errorf("got ARN %q, want arn:aws:iam::123456789012:role/web", r.ARN)
	}
	if r.MaxSessionDuration != 3600 {
		t.Errorf("got MaxSessionDuration %d, want 3600", r.MaxSessionDuration)
	}
}

func TestRoleByARN(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	if _, err := s.CreateRole(ctx, iam.CreateRoleInput{Name: "deep", Path: "/a/b/", TrustPolicy: trustEC2}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, arn string
		ok        bool
	}{
		{"the ARN with the role's path finds it", "arn:aws:iam::123456789012:role/a/b/deep", true},
		{"an ARN without the path does not", "arn:aws:iam::123456789012:role/deep", false},
		{"an ARN of another account does not", "arn:aws:iam::999999999999:role/a/b/deep", false},
		{"an unknown role does not", "arn:aws:iam::123456789012:role/a/b/other", false},
		{"a user ARN does not", "arn:aws:iam::123456789012:user/a/b/deep", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := s.RoleByARN(ctx, tc.arn)
			if tc.ok {
				if err != nil || r.Name != "deep" {
					t.Fatalf("got %v, %v, want role deep", r, err)
				}
				return
			}
			wantAPIError(t, err, apierr.NoSuchEntity, "")
		})
	}
}

func TestUpdateRole(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	mustCreateRole(t, s, "r")
	desc, dur := "front end", 7200
	if _, err := s.UpdateRole(ctx, iam.UpdateRoleInput{Name: "r", Description: &desc, MaxSessionDuration: &dur}); err != nil {
		t.Fatal(err)
	}
	r, err := s.UpdateRoleDescription(ctx, "r", "back end")
	if err != nil {
		t.Fatal(err)
	}
	if r.Description != "back end" || r.MaxSessionDuration != 7200 {
		t.Errorf("got description %q and duration %d, want %q and 7200", r.Description, r.MaxSessionDuration, "back end")
	}
	big := 43201
	_, err = s.UpdateRole(ctx, iam.UpdateRoleInput{Name: "r", MaxSessionDuration: &big})
	wantAPIError(t, err, apierr.ValidationError, "43200")
	_, err = s.UpdateRole(ctx, iam.UpdateRoleInput{Name: "missing", Description: &desc})
	wantAPIError(t, err, apierr.NoSuchEntity, "The role with name missing cannot be found.")
}

func TestUpdateAssumeRolePolicyTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	mustCreateRole(t, s, "r")
	trusts := func() policy.Result {
		ra, err := s.RoleAuth(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		d := policy.Evaluate(&policy.Set{Identity: []policy.Named{{ID: "trust", Type: "resource", Policy: ra.Trust}}},
			&policy.Request{Action: "sts:AssumeRole", Resource: ra.Role.ARN, Principal: policy.Principal{Service: "lambda.amazonaws.com"}})
		return d.Result
	}
	if got := trusts(); got == policy.Allowed {
		t.Fatalf("got %v before the update, want lambda not trusted", got)
	}
	lambda := strings.ReplaceAll(trustEC2, "ec2.amazonaws.com", "lambda.amazonaws.com")
	if err := s.UpdateAssumeRolePolicy(ctx, "r", lambda); err != nil {
		t.Fatal(err)
	}
	if got := trusts(); got != policy.Allowed {
		t.Errorf("got %v after the update, want allowed", got)
	}
	wantAPIError(t, s.UpdateAssumeRolePolicy(ctx, "r", allowS3), apierr.MalformedPolicyDocument, "")
	wantAPIError(t, s.UpdateAssumeRolePolicy(ctx, "r", paddedTrust(2049)), apierr.LimitExceeded, "ACLSizePerRole")
}

func TestDeleteRoleConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, s *iam.Service)
		undo  func(t *testing.T, s *iam.Service)
		msg   string
	}{
		{
			"a role with an inline policy must lose it first",
			func(t *testing.T, s *iam.Service) {
				if err := s.PutInlinePolicy(ctx, iam.KindRole, "r", "p", allowS3); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *iam.Service) {
				if err := s.DeleteInlinePolicy(ctx, iam.KindRole, "r", "p"); err != nil {
					t.Fatal(err)
				}
			},
			"Cannot delete entity, must delete policies first.",
		},
		{
			"a role with an attached policy must be detached first",
			func(t *testing.T, s *iam.Service) {
				p, err := s.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "mp", Document: allowS3})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.AttachPolicy(ctx, iam.KindRole, "r", p.ARN); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *iam.Service) {
				if err := s.DetachPolicy(ctx, iam.KindRole, "r", "arn:aws:iam::123456789012:policy/mp"); err != nil {
					t.Fatal(err)
				}
			},
			"Cannot delete entity, must detach all policies first.",
		},
		{
			"a role in an instance profile must be removed first",
			func(t *testing.T, s *iam.Service) {
				if _, err := s.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "ip"}); err != nil {
					t.Fatal(err)
				}
				if err := s.AddRoleToInstanceProfile(ctx, "ip", "r"); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *iam.Service) {
				if err := s.RemoveRoleFromInstanceProfile(ctx, "ip", "r"); err != nil {
					t.Fatal(err)
				}
			},
			"Cannot delete entity, must remove roles from instance profile first.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newPolicyService(t)
			mustCreateRole(t, s, "r")
			tc.setup(t, s)
			wantAPIError(t, s.DeleteRole(ctx, "r"), apierr.DeleteConflict, tc.msg)
			tc.undo(t, s)
			wantAPIError(t, s.DeleteRole(ctx, "r"), "", "")
			_, err := s.GetRole(ctx, "r")
			wantAPIError(t, err, apierr.NoSuchEntity, "")
		})
	}
}

func TestListRoles(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	for _, n := range []string{"c", "a", "b"} {
		mustCreateRole(t, s, n)
	}
	if _, err := s.CreateRole(ctx, iam.CreateRoleInput{Name: "d", Path: "/svc/", TrustPolicy: trustEC2}); err != nil {
		t.Fatal(err)
	}
	p1, err := s.ListRoles(ctx, "", iam.Page{MaxItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Items) != 2 || !p1.IsTruncated || p1.Items[0].Name != "a" {
		t.Fatalf("got %d roles (truncated %v), want a, b and more", len(p1.Items), p1.IsTruncated)
	}
	p2, err := s.ListRoles(ctx, "", iam.Page{MaxItems: 2, Marker: p1.Marker})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 2 || p2.IsTruncated || p2.Items[0].Name != "c" {
		t.Fatalf("got second page %v (truncated %v), want c, d", p2.Items, p2.IsTruncated)
	}
	svc, err := s.ListRoles(ctx, "/svc/", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Items) != 1 || svc.Items[0].Name != "d" {
		t.Errorf("got %d roles under /svc/, want d", len(svc.Items))
	}
}
