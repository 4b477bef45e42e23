package iam_test

import (
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func TestAccountAlias(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	aliases := func() []string {
		t.Helper()
		var out []string
		for _, a := range must[*iam.Paged[string]](t)(w.svc.ListAccountAliases(ctx, iam.Page{})).Items {
			out = append(out, *a)
		}
		return out
	}
	if got := aliases(); len(got) != 0 {
		t.Fatalf("got %v, want no alias", got)
	}
	for _, bad := range []string{"ab", "-abc", "abc-", "a--b", "Upper", "a_b"} {
		wantCode(t, w.svc.CreateAccountAlias(ctx, bad), apierr.ValidationError, "")
	}
	if err := w.svc.CreateAccountAlias(ctx, "my-co"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.CreateAccountAlias(ctx, "my-co-2"); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 1 || got[0] != "my-co-2" {
		t.Errorf("got %v, want the one alias my-co-2", got)
	}
	wantCode(t, w.svc.DeleteAccountAlias(ctx, "my-co"), apierr.NoSuchEntity, "The account alias my-co cannot be found.")
	if err := w.svc.DeleteAccountAlias(ctx, "my-co-2"); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 0 {
		t.Errorf("got %v after delete, want none", got)
	}
}

func summaryOf(t *testing.T, w *world) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, e := range must[[]iam.SummaryEntry](t)(w.svc.GetAccountSummary(ctx)) {
		m[e.Key] = e.Value
	}
	return m
}

func TestGetAccountSummary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	before := summaryOf(t, w)
	w.user(t, "alice")
	w.user(t, "bob")
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "devs", ""))
	mustCreateRole(t, w.svc, "web")
	pol := mustCreatePolicy(t, w.svc, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	if err := w.svc.AttachPolicy(ctx, iam.KindUser, "alice", pol.ARN); err != nil {
		t.Fatal(err)
	}
	must[*iam.InstanceProfile](t)(w.svc.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "web"}))
	newDevice(t, w, "alice", "phone")
	must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, "spare", "", nil))
	got := summaryOf(t, w)
	for k, want := range map[string]int{
		"Users": before["Users"] + 2, "Groups": before["Groups"] + 1, "Roles": before["Roles"] + 1,
		"Policies": before["Policies"] + 1, "InstanceProfiles": 1, "MFADevices": 2, "MFADevicesInUse": 1,
		"PolicyVersionsInUse": before["PolicyVersionsInUse"] + 1,
		"UsersQuota":          5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
		"AccessKeysPerUserQuota": 2, "AccountMFAEnabled": 0, "VersionsPerPolicyQuota": 5, "PolicySizeQuota": 6144,
	} {
		if got[k] != want {
			t.Errorf("%s: got %d, want %d", k, got[k], want)
		}
	}
	if len(got) != 33 {
		t.Errorf("got %d entries, want the 33 AWS reports", len(got))
	}
}

func TestGetAccountAuthorizationDetails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	must[*iam.Group](t)(w.svc.CreateGroup(ctx, "devs", ""))
	if err := w.svc.AddUserToGroup(ctx, "devs", "alice"); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if err := w.svc.PutInlinePolicy(ctx, iam.KindUser, "alice", "inline", doc); err != nil {
		t.Fatal(err)
	}
	mustCreateRole(t, w.svc, "web")
	must[*iam.InstanceProfile](t)(w.svc.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "web"}))
	if err := w.svc.AddRoleToInstanceProfile(ctx, "web", "web"); err != nil {
		t.Fatal(err)
	}
	pol := mustCreatePolicy(t, w.svc, "p", doc)
	if err := w.svc.AttachPolicy(ctx, iam.KindRole, "web", pol.ARN); err != nil {
		t.Fatal(err)
	}

	t.Run("everything is listed with its policies", func(t *testing.T) {
		d := must[*iam.AuthorizationDetails](t)(w.svc.GetAccountAuthorizationDetails(ctx, nil, iam.Page{}))
		if len(d.Users) != 1 || len(d.Groups) != 1 || len(d.Roles) != 1 || len(d.Policies) != 1 || d.IsTruncated {
			t.Fatalf("got %d users, %d groups, %d roles, %d policies; want one of each", len(d.Users), len(d.Groups), len(d.Roles), len(d.Policies))
		}
		u := d.Users[0]
		if len(u.Inline) != 1 || u.Inline[0].Document != doc || len(u.Groups) != 1 || u.Groups[0] != "devs" {
			t.Errorf("user detail: got %+v", u)
		}
		r := d.Roles[0]
		if len(r.Attached) != 1 || r.Attached[0].ARN != pol.ARN || len(r.Profiles) != 1 || r.Profiles[0].Name != "web" {
			t.Errorf("role detail: got %+v", r)
		}
		if p := d.Policies[0]; p.Policy.ARN != pol.ARN || len(p.Versions) != 1 || p.Versions[0].Document != doc {
			t.Errorf("policy detail: got %+v", p)
		}
	})
	t.Run("a filter keeps only its kinds", func(t *testing.T) {
		d := must[*iam.AuthorizationDetails](t)(w.svc.GetAccountAuthorizationDetails(ctx, []string{"Role", "LocalManagedPolicy"}, iam.Page{}))
		if len(d.Users) != 0 || len(d.Groups) != 0 || len(d.Roles) != 1 || len(d.Policies) != 1 {
			t.Errorf("got %d users, %d groups, %d roles, %d policies; want a role and a policy", len(d.Users), len(d.Groups), len(d.Roles), len(d.Policies))
		}
		_, err := w.svc.GetAccountAuthorizationDetails(ctx, []string{"Bucket"}, iam.Page{})
		wantCode(t, err, apierr.ValidationError, "")
	})
	t.Run("pages cover every item once", func(t *testing.T) {
		var n int
		p := iam.Page{MaxItems: 1}
		for i := 0; ; i++ {
			d := must[*iam.AuthorizationDetails](t)(w.svc.GetAccountAuthorizationDetails(ctx, nil, p))
			n += len(d.Users) + len(d.Groups) + len(d.Roles) + len(d.Policies)
			if !d.IsTruncated {
				break
			}
			if i > 10 {
				t.Fatal("too many pages")
			}
			p.Marker = d.Marker
		}
		if n != 4 {
			t.Errorf("got %d items over the pages, want 4", n)
		}
	})
}
