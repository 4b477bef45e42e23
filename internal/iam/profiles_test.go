package iam_test

import (
	"context"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func TestInstanceProfileHoldsOneRole(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t)
	ctx := context.Background()
	createEntity(t, s, iam.KindRole, "r1")
	createEntity(t, s, iam.KindRole, "r2")
	ip, err := s.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "web", Path: "/ec2/"})
	if err != nil {
		t.Fatal(err)
	}
	if ip.ARN != "arn:aws:iam::123456789012:instance-profile/ec2/web" || len(ip.ID) != 21 || ip.ID[:4] != "AIPA" {
		t.Errorf("got ARN %s and id %s, want the path in the ARN and an AIPA id", ip.ARN, ip.ID)
	}
	_, err = s.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "WEB"})
	wantAPIError(t, err, apierr.EntityAlreadyExists, "")

	if err := s.AddRoleToInstanceProfile(ctx, "web", "r1"); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"r2", "r1"} {
		wantAPIError(t, s.AddRoleToInstanceProfile(ctx, "web", role), apierr.LimitExceeded,
			"Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	wantAPIError(t, s.AddRoleToInstanceProfile(ctx, "nope", "r1"), apierr.NoSuchEntity, "Instance Profile nope cannot be found.")
	wantAPIError(t, s.AddRoleToInstanceProfile(ctx, "web", "nope"), apierr.NoSuchEntity, "The role with name nope cannot be found.")

	got, err := s.GetInstanceProfile(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RoleList) != 1 || got.RoleList[0].Name != "r1" || got.RoleList[0].TrustPolicy == "" {
		t.Errorf("got roles %+v, want r1 in full", got.RoleList)
	}
	for _, ref := range []string{"web", ip.ARN} {
		p, r, err := s.InstanceProfileRole(ctx, ref)
		if err != nil || p.Name != "web" || r == nil || r.Name != "r1" {
			t.Errorf("InstanceProfileRole(%s): got %v, %v, %v, want web and r1", ref, p, r, err)
		}
	}
	_, _, err = s.InstanceProfileRole(ctx, "arn:aws:iam::123456789012:instance-profile/web")
	wantAPIError(t, err, apierr.NoSuchEntity, "")

	forRole, err := s.ListInstanceProfilesForRole(ctx, "r1", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(forRole.Items) != 1 || forRole.Items[0].Name != "web" {
		t.Errorf("got %d profiles for r1, want web", len(forRole.Items))
	}

	wantAPIError(t, s.DeleteInstanceProfile(ctx, "web"), apierr.DeleteConflict, "Cannot delete entity, must remove roles from instance profile first.")
	wantAPIError(t, s.RemoveRoleFromInstanceProfile(ctx, "web", "r2"), apierr.NoSuchEntity, "")
	if err := s.RemoveRoleFromInstanceProfile(ctx, "web", "R1"); err != nil {
		t.Fatal(err)
	}
	forRole, err = s.ListInstanceProfilesForRole(ctx, "r1", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(forRole.Items) != 0 {
		t.Errorf("got %d profiles for r1 after removing it, want 0", len(forRole.Items))
	}
	if err := s.AddRoleToInstanceProfile(ctx, "web", "r2"); err != nil {
		t.Fatalf("adding another role once empty: %v", err)
	}
	if err := s.DeleteRole(ctx, "r1"); err != nil {
		t.Fatalf("deleting r1 once out of the profile: %v", err)
	}
	if err := s.RemoveRoleFromInstanceProfile(ctx, "web", "r2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteInstanceProfile(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListInstanceProfiles(ctx, "", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 0 {
		t.Errorf("got %d profiles after deleting, want 0", len(all.Items))
	}
}
