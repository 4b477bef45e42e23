package iam_test

import (
	"fmt"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

const groupS3Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`

func groupNames(p *iam.Paged[iam.Group]) []string {
	var out []string
	for _, g := range p.Items {
		out = append(out, g.Name)
	}
	return out
}

func userNames(p *iam.Paged[iam.User]) []string {
	var out []string
	for _, u := range p.Items {
		out = append(out, u.Name)
	}
	return out
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g := must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Admins", "/ops/"))
	if g.ARN != "arn:aws:iam::123456789012:group/ops/Admins" || g.Path != "/ops/" || len(g.ID) != 21 || g.ID[:4] != "AGPA" {
		t.Errorf("got %+v, want group Admins at /ops/ with an AGPA id", g)
	}
	for _, tc := range []struct {
		name, group, path string
		code              apierr.Code
	}{
		{"a name differing only in case already exists", "admins", "/", apierr.EntityAlreadyExists},
		{"a bad name is rejected", "bad name", "/", apierr.ValidationError},
		{"a path without a trailing slash is rejected", "Devs", "/ops", apierr.ValidationError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.CreateGroup(ctx, tc.group, tc.path)
			wantCode(t, err, tc.code, "")
		})
	}
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Devs", ""))
	for _, tc := range []struct {
		prefix string
		want   string
	}{{"", "[Admins Devs]"}, {"/ops/", "[Admins]"}, {"/nope/", "[]"}} {
		t.Run("listing under "+fmt.Sprintf("%q", tc.prefix)+" gives "+tc.want, func(t *testing.T) {
			res := must[*iam.Paged[iam.Group]](t)(w.svc.ListGroups(ctx, tc.prefix, iam.Page{}))
			if got := fmt.Sprint(groupNames(res)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestGroupMembership(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Devs", ""))
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Ops", ""))
	for _, u := range []string{"alice", "bob", "carol"} {
		w.user(t, u)
		if err := w.svc.AddUserToGroup(ctx, "devs", u); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.svc.AddUserToGroup(ctx, "Ops", "ALICE"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.AddUserToGroup(ctx, "Ops", "alice"); err != nil {
		t.Errorf("adding a member again: got %v, want nil", err)
	}

	t.Run("GetGroup pages through the members by name", func(t *testing.T) {
		g, p1, err := w.svc.GetGroup(ctx, "Devs", iam.Page{MaxItems: 2})
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != "Devs" || fmt.Sprint(userNames(p1)) != "[alice bob]" || !p1.IsTruncated {
			t.Fatalf("got %s %v truncated=%v, want Devs [alice bob] truncated", g.Name, userNames(p1), p1.IsTruncated)
		}
		_, p2, err := w.svc.GetGroup(ctx, "Devs", iam.Page{MaxItems: 2, Marker: p1.Marker})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(userNames(p2)) != "[carol]" || p2.IsTruncated {
			t.Errorf("got %v truncated=%v, want [carol] not truncated", userNames(p2), p2.IsTruncated)
		}
	})
	t.Run("ListGroupsForUser lists each group once", func(t *testing.T) {
		res := must[*iam.Paged[iam.Group]](t)(w.svc.ListGroupsForUser(ctx, "alice", iam.Page{}))
		if got := fmt.Sprint(groupNames(res)); got != "[Devs Ops]" {
			t.Errorf("got %s, want [Devs Ops]", got)
		}
	})
	t.Run("group policies apply to members", func(t *testing.T) {
		if err := w.svc.PutInlinePolicy(ctx, iam.KindGroup, "Ops", "s3", groupS3Policy); err != nil {
			t.Fatal(err)
		}
		ua := must[*iam.UserAuth](t)(w.svc.UserAuth(ctx, "alice"))
		if len(ua.Identity) != 1 || ua.Identity[0].ID != "s3" {
			t.Errorf("got %d identity policies, want Ops's s3", len(ua.Identity))
		}
		if err := w.svc.RemoveUserFromGroup(ctx, "Ops", "alice"); err != nil {
			t.Fatal(err)
		}
		if ua := must[*iam.UserAuth](t)(w.svc.UserAuth(ctx, "alice")); len(ua.Identity) != 0 {
			t.Errorf("after removal: got %d identity policies, want 0", len(ua.Identity))
		}
	})
	for _, tc := range []struct {
		name string
		do   func() error
		code apierr.Code
		msg  string
	}{
		{"removing a non-member is NoSuchEntity", func() error { return w.svc.RemoveUserFromGroup(ctx, "Ops", "bob") }, apierr.NoSuchEntity, "The user with name bob cannot be found."},
		{"adding to an unknown group is NoSuchEntity", func() error { return w.svc.AddUserToGroup(ctx, "Nope", "bob") }, apierr.NoSuchEntity, "The group with name Nope cannot be found."},
		{"adding an unknown user is NoSuchEntity", func() error { return w.svc.AddUserToGroup(ctx, "Ops", "dave") }, apierr.NoSuchEntity, "The user with name dave cannot be found."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.do(), tc.code, tc.msg) })
	}
	t.Run("a user belongs to at most ten groups", func(t *testing.T) {
		w := newWorld(t)
		w.user(t, "dave")
		for i := range 11 {
			name := fmt.Sprintf("g%02d", i)
			must[*iam.Group](t)(w.svc.CreateGroup(ctx, name, ""))
			err := w.svc.AddUserToGroup(ctx, name, "dave")
			if i < 10 && err != nil {
				t.Fatalf("group %d: %v", i, err)
			}
			if i == 10 {
				wantCode(t, err, apierr.LimitExceeded, "Cannot exceed quota for GroupsPerUser: 10")
			}
		}
	})
}

func TestUpdateGroupMovesEverythingToTheNewName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Devs", "/"))
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Taken", "/"))
	w.user(t, "alice")
	if err := w.svc.AddUserToGroup(ctx, "Devs", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.PutInlinePolicy(ctx, iam.KindGroup, "Devs", "s3", groupS3Policy); err != nil {
		t.Fatal(err)
	}
	wantCode(t, w.svc.UpdateGroup(ctx, "Devs", "TAKEN", ""), apierr.EntityAlreadyExists, "Group with name TAKEN already exists.")
	wantCode(t, w.svc.UpdateGroup(ctx, "Nope", "X", ""), apierr.NoSuchEntity, "")

	if err := w.svc.UpdateGroup(ctx, "devs", "Engineers", "/eng/"); err != nil {
		t.Fatal(err)
	}
	g, members, err := w.svc.GetGroup(ctx, "Engineers", iam.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if g.ARN != "arn:aws:iam::123456789012:group/eng/Engineers" || fmt.Sprint(userNames(members)) != "[alice]" {
		t.Errorf("got %s with %v, want the renamed group with alice", g.ARN, userNames(members))
	}
	if _, _, err := w.svc.GetGroup(ctx, "Devs", iam.Page{}); !apierr.Is(err, apierr.NoSuchEntity) {
		t.Errorf("old name: got %v, want NoSuchEntity", err)
	}
	if got := fmt.Sprint(groupNames(must[*iam.Paged[iam.Group]](t)(w.svc.ListGroupsForUser(ctx, "alice", iam.Page{})))); got != "[Engineers]" {
		t.Errorf("alice's groups: got %s, want [Engineers]", got)
	}
	if p := must[*iam.InlinePolicy](t)(w.svc.GetInlinePolicy(ctx, iam.KindGroup, "Engineers", "s3")); p.Entity != "Engineers" {
		t.Errorf("inline policy entity: got %q, want Engineers", p.Entity)
	}
	if ua := must[*iam.UserAuth](t)(w.svc.UserAuth(ctx, "alice")); len(ua.Identity) != 1 {
		t.Errorf("alice's policies after the rename: got %d, want 1", len(ua.Identity))
	}
	if err := w.svc.UpdateGroup(ctx, "Engineers", "engineers", ""); err != nil {
		t.Errorf("changing only the case: got %v, want nil", err)
	}
}

func TestDeleteGroupConflicts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "Devs", ""))
	w.user(t, "alice")
	if err := w.svc.AddUserToGroup(ctx, "Devs", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.PutInlinePolicy(ctx, iam.KindGroup, "Devs", "s3", groupS3Policy); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		prepare func() error
		code    apierr.Code
		msg     string
	}{
		{"a group with members cannot be deleted", func() error { return nil },
			apierr.DeleteConflict, "Cannot delete entity, must remove users from group first."},
		{"a group with inline policies cannot be deleted", func() error { return w.svc.RemoveUserFromGroup(ctx, "Devs", "alice") },
			apierr.DeleteConflict, "Cannot delete entity, must delete policies first."},
	}
	for _, st := range steps { // in order
		if err := st.prepare(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		err := w.svc.DeleteGroup(ctx, "Devs")
		if e := apierr.As(err); e == nil || e.Code != st.code || e.Message != st.msg {
			t.Errorf("%s: got %v, want %s %q", st.name, err, st.code, st.msg)
		}
	}
	mp := must[*iam.ManagedPolicy](t)(w.svc.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "S3", Document: groupS3Policy}))
	if err := w.svc.AttachPolicy(ctx, iam.KindGroup, "Devs", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteInlinePolicy(ctx, iam.KindGroup, "Devs", "s3"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, w.svc.DeleteGroup(ctx, "Devs"), apierr.DeleteConflict, "Cannot delete entity, must detach all policies first.")
	if err := w.svc.DetachPolicy(ctx, iam.KindGroup, "Devs", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteGroup(ctx, "devs"); err != nil {
		t.Fatalf("empty group: got %v, want nil", err)
	}
	wantCode(t, w.svc.DeleteGroup(ctx, "Devs"), apierr.NoSuchEntity, "The group with name Devs cannot be found.")
}
