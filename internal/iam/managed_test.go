package iam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func mustCreatePolicy(t *testing.T, s *iam.Service, name, doc string) *iam.ManagedPolicy {
	t.Helper()
	p, err := s.CreatePolicy(context.Background(), iam.CreatePolicyInput{Name: name, Document: doc})
	if err != nil {
		t.Fatalf("CreatePolicy(%s): %v", name, err)
	}
	return p
}

func TestCreatePolicy(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   iam.CreatePolicyInput
		code apierr.Code
		msg  string
	}{
		{"a policy is created with a path", iam.CreatePolicyInput{Name: "p", Path: "/team/", Document: allowS3}, "", ""},
		{"a policy of 6144 characters is accepted", iam.CreatePolicyInput{Name: "big", Document: padded(6144)}, "", ""},
		{"a policy over 6144 characters exceeds the quota", iam.CreatePolicyInput{Name: "huge", Document: padded(6145)},
			apierr.LimitExceeded, "Cannot exceed quota for PolicySize: 6144"},
		{"a name already used under another path and case is taken", iam.CreatePolicyInput{Name: "P", Document: allowS3},
			apierr.EntityAlreadyExists, "A policy called P already exists. Duplicate names are not allowed."},
		{"a document with a principal is malformed", iam.CreatePolicyInput{Name: "x", Document: trustEC2},
			apierr.MalformedPolicyDocument, "principal"},
		{"a path with an asterisk is invalid", iam.CreatePolicyInput{Name: "y", Path: "/a*/", Document: allowS3}, apierr.ValidationError, "path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreatePolicy(ctx, tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	p, err := s.GetPolicy(ctx, "arn:aws:iam::123456789012:policy/team/p")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "ANPA") || p.DefaultVersionID != "v1" || !p.IsAttachable || p.AttachmentCount != 0 {
		t.Errorf("got %+v, want an ANPA id, default v1, attachable, no attachments", p)
	}
	_, err = s.GetPolicy(ctx, "arn:aws:iam::123456789012:policy/nope")
	wantAPIError(t, err, apierr.NoSuchEntity, "Policy arn:aws:iam::123456789012:policy/nope was not found.")
	_, err = s.GetPolicy(ctx, "not-an-arn-at-all-really")
	wantAPIError(t, err, apierr.InvalidInput, "is not valid")
}

func TestPolicyVersionLifecycle(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	p := mustCreatePolicy(t, s, "p", allowS3)
	for i := 2; i <= 5; i++ {
		v, err := s.CreatePolicyVersion(ctx, p.ARN, allowS3, false)
		if err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
		if want := "v" + decimal(i); v.VersionID != want || v.IsDefault {
			t.Fatalf("got %s (default %v), want %s not default", v.VersionID, v.IsDefault, want)
		}
	}
	_, err := s.CreatePolicyVersion(ctx, p.ARN, allowS3, true)
	wantAPIError(t, err, apierr.LimitExceeded, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")

	wantAPIError(t, s.DeletePolicyVersion(ctx, p.ARN, "v1"), apierr.DeleteConflict, "Cannot delete the default version of a policy.")
	wantAPIError(t, s.SetDefaultPolicyVersion(ctx, p.ARN, "v3"), "", "")
	wantAPIError(t, s.DeletePolicyVersion(ctx, p.ARN, "v3"), apierr.DeleteConflict, "Cannot delete the default version of a policy.")
	wantAPIError(t, s.DeletePolicyVersion(ctx, p.ARN, "v1"), "", "")
	wantAPIError(t, s.DeletePolicyVersion(ctx, p.ARN, "v1"), apierr.NoSuchEntity, "")

	// A new version takes the next number; numbers are never reused.
	v, err := s.CreatePolicyVersion(ctx, p.ARN, allowS3, true)
	if err != nil {
		t.Fatal(err)
	}
	if v.VersionID != "v6" || !v.IsDefault {
		t.Errorf("got %s (default %v), want v6 default", v.VersionID, v.IsDefault)
	}
	list, err := s.ListPolicyVersions(ctx, p.ARN, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	defaults := 0
	for _, v := range list.Items {
		ids = append(ids, v.VersionID)
		if v.IsDefault {
			defaults++
		}
	}
	if got, want := strings.Join(ids, ","), "v6,v5,v4,v3,v2"; got != want {
		t.Errorf("got versions %s, want %s", got, want)
	}
	if defaults != 1 {
		t.Errorf("got %d default versions, want 1", defaults)
	}
	got, err := s.GetPolicy(ctx, p.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.DefaultVersionID != "v6" {
		t.Errorf("got default %s, want v6", got.DefaultVersionID)
	}

	wantAPIError(t, s.DeletePolicy(ctx, p.ARN), apierr.DeleteConflict, "This policy has more than one version.")
	for _, id := range []string{"v2", "v3", "v4", "v5"} {
		if err := s.DeletePolicyVersion(ctx, p.ARN, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	wantAPIError(t, s.DeletePolicy(ctx, p.ARN), "", "")
	_, err = s.GetPolicyVersion(ctx, p.ARN, "v6")
	wantAPIError(t, err, apierr.NoSuchEntity, "")
}

func TestAttachAndDetachKeepCounts(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	createEntity(t, s, iam.KindUser, "u")
	createEntity(t, s, iam.KindGroup, "g")
	createEntity(t, s, iam.KindRole, "r")
	p := mustCreatePolicy(t, s, "p", allowS3)
	count := func() int {
		t.Helper()
		got, err := s.GetPolicy(ctx, p.ARN)
		if err != nil {
			t.Fatal(err)
		}
		return got.AttachmentCount
	}
	for _, k := range []string{iam.KindUser, iam.KindGroup, iam.KindRole} {
		if err := s.AttachPolicy(ctx, k, k[:1], p.ARN); err != nil {
			t.Fatalf("attach to %s: %v", k, err)
		}
	}
	if err := s.AttachPolicy(ctx, iam.KindRole, "R", p.ARN); err != nil {
		t.Fatalf("attaching twice: %v", err)
	}
	if got := count(); got != 3 {
		t.Errorf("got AttachmentCount %d after three attachments and a repeat, want 3", got)
	}
	ents, err := s.ListEntitiesForPolicy(ctx, p.ARN, iam.ListEntitiesInput{}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents.Items) != 3 {
		t.Errorf("got %d entities, want 3", len(ents.Items))
	}
	roles, err := s.ListEntitiesForPolicy(ctx, p.ARN, iam.ListEntitiesInput{Filter: iam.EntityRole}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Items) != 1 || roles.Items[0].Name != "r" {
		t.Errorf("got %+v with the Role filter, want r", roles.Items)
	}
	att, err := s.ListAttachedPolicies(ctx, iam.KindGroup, "g", "", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(att.Items) != 1 || att.Items[0].ARN != p.ARN {
		t.Errorf("got %+v attached to g, want %s", att.Items, p.ARN)
	}
	onlyAttached, err := s.ListPolicies(ctx, iam.ListPoliciesInput{Scope: iam.ScopeLocal, OnlyAttached: true}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(onlyAttached.Items) != 1 {
		t.Errorf("got %d attached local policies, want 1", len(onlyAttached.Items))
	}

	wantAPIError(t, s.DeletePolicy(ctx, p.ARN), apierr.DeleteConflict, "Cannot delete a policy attached to entities.")
	if err := s.DetachPolicy(ctx, iam.KindGroup, "g", p.ARN); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, s.DetachPolicy(ctx, iam.KindGroup, "g", p.ARN), apierr.NoSuchEntity, "Policy "+p.ARN+" was not found.")
	if got := count(); got != 2 {
		t.Errorf("got AttachmentCount %d after a detach, want 2", got)
	}
	wantAPIError(t, s.AttachPolicy(ctx, iam.KindUser, "u", "arn:aws:iam::123456789012:policy/missing"),
		apierr.NoSuchEntity, "Policy arn:aws:iam::123456789012:policy/missing does not exist or is not attachable.")
	wantAPIError(t, s.AttachPolicy(ctx, iam.KindUser, "nobody", p.ARN), apierr.NoSuchEntity, "The user with name nobody cannot be found.")
}

func TestAttachQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		kind, quota string
		n           int
	}{
		{iam.KindUser, "PoliciesPerUser", 20},
		{iam.KindRole, "PoliciesPerRole", 20},
		{iam.KindGroup, "PoliciesPerGroup", 10},
	} {
		t.Run("a "+tc.kind+" holds at most "+decimal(tc.n)+" managed policies", func(t *testing.T) {
			t.Parallel()
			s := newPolicyService(t)
			createEntity(t, s, tc.kind, "e")
			for i := 0; i < tc.n; i++ {
				p := mustCreatePolicy(t, s, "p"+decimal(i+1), allowS3)
				if err := s.AttachPolicy(ctx, tc.kind, "e", p.ARN); err != nil {
					t.Fatalf("attach %d: %v", i+1, err)
				}
			}
			extra := mustCreatePolicy(t, s, "extra", allowS3)
			wantAPIError(t, s.AttachPolicy(ctx, tc.kind, "e", extra.ARN), apierr.LimitExceeded,
				"Cannot exceed quota for "+tc.quota+": "+decimal(tc.n))
		})
	}
}

func TestPermissionsBoundaryUsage(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	b1 := mustCreatePolicy(t, s, "b1", allowS3)
	b2 := mustCreatePolicy(t, s, "b2", allowS3)
	if _, err := s.CreateRole(ctx, iam.CreateRoleInput{Name: "r", TrustPolicy: trustEC2, Boundary: b1.ARN}); err != nil {
		t.Fatal(err)
	}
	createEntity(t, s, iam.KindUser, "u")
	if err := s.PutUserPermissionsBoundary(ctx, "u", b1.ARN); err != nil {
		t.Fatal(err)
	}
	usage := func(arn string) int {
		t.Helper()
		p, err := s.GetPolicy(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		return p.BoundaryUsage
	}
	if got := usage(b1.ARN); got != 2 {
		t.Fatalf("got boundary usage %d, want 2", got)
	}
	wantAPIError(t, s.DeletePolicy(ctx, b1.ARN), apierr.DeleteConflict, "")
	if err := s.PutRolePermissionsBoundary(ctx, "r", b2.ARN); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRolePermissionsBoundary(ctx, "r", b2.ARN); err != nil {
		t.Fatal(err)
	}
	if g1, g2 := usage(b1.ARN), usage(b2.ARN); g1 != 1 || g2 != 1 {
		t.Errorf("got usage %d and %d after moving the role's boundary, want 1 and 1", g1, g2)
	}
	ents, err := s.ListEntitiesForPolicy(ctx, b2.ARN, iam.ListEntitiesInput{Usage: iam.UsagePermissionsBoundary}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents.Items) != 1 || ents.Items[0].Name != "r" {
		t.Errorf("got %+v bounded by b2, want r", ents.Items)
	}
	if err := s.DeleteRolePermissionsBoundary(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUserPermissionsBoundary(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if g1, g2 := usage(b1.ARN), usage(b2.ARN); g1 != 0 || g2 != 0 {
		t.Errorf("got usage %d and %d after deleting both boundaries, want 0 and 0", g1, g2)
	}
	wantAPIError(t, s.PutRolePermissionsBoundary(ctx, "r", "arn:aws:iam::123456789012:policy/missing"), apierr.NoSuchEntity, "")
}

func TestAWSManagedPolicies(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := s.EnsureAWSManagedPolicies(ctx); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	createEntity(t, s, iam.KindRole, "r")
	admin := iam.AWSManagedPolicyARN("AdministratorAccess")
	if err := s.AttachPolicy(ctx, iam.KindRole, "r", admin); err != nil {
		t.Fatal(err)
	}
	// A later start keeps the attachment count.
	if err := s.EnsureAWSManagedPolicies(ctx); err != nil {
		t.Fatal(err)
	}
	aws, err := s.ListPolicies(ctx, iam.ListPoliciesInput{Scope: iam.ScopeAWS}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range aws.Items {
		names = append(names, p.Name)
		if !p.AWSManaged || p.Path != "/" || !p.IsAttachable || !strings.HasPrefix(p.ARN, "arn:aws:iam::aws:policy/") {
			t.Errorf("got %+v, want an attachable AWS managed policy at /", p)
		}
		if p.Name == "AdministratorAccess" && p.AttachmentCount != 1 {
			t.Errorf("got AdministratorAccess AttachmentCount %d after a restart, want 1", p.AttachmentCount)
		}
	}
	if got, want := strings.Join(names, ","), "AdministratorAccess,AmazonS3FullAccess,AmazonS3ReadOnlyAccess,IAMFullAccess,IAMReadOnlyAccess"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	local, err := s.ListPolicies(ctx, iam.ListPoliciesInput{Scope: iam.ScopeLocal}, iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(local.Items) != 0 {
		t.Errorf("got %d local policies, want 0", len(local.Items))
	}
	ro, err := s.GetPolicy(ctx, iam.AWSManagedPolicyARN("IAMReadOnlyAccess"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.GetPolicyVersion(ctx, ro.ARN, ro.DefaultVersionID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.Document, `"iam:SimulatePrincipalPolicy"`) {
		t.Errorf("got IAMReadOnlyAccess document %s, want AWS's", v.Document)
	}
	wantAPIError(t, s.DeletePolicy(ctx, admin), apierr.AccessDenied, "")
	_, err = s.CreatePolicyVersion(ctx, admin, allowS3, true)
	wantAPIError(t, err, apierr.AccessDenied, "")
	wantAPIError(t, s.SetDefaultPolicyVersion(ctx, admin, "v1"), apierr.AccessDenied, "")
}
