package iam_test

import (
	"fmt"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

const taggingTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func nTags(prefix string, n int) []iam.Tag {
	out := make([]iam.Tag, n)
	for i := range out {
		out[i] = iam.Tag{Key: fmt.Sprintf("%s%02d", prefix, i), Value: "v"}
	}
	return out
}

func tagString(p *iam.Paged[iam.Tag]) string {
	var s []string
	for _, t := range p.Items {
		s = append(s, t.Key+"="+t.Value)
	}
	return fmt.Sprint(s)
}

// tagTarget abstracts over users and roles, which tag alike.
type tagTarget struct {
	kind   string
	create func(w *world, t *testing.T)
	tag    func(w *world, tags []iam.Tag) error
	untag  func(w *world, keys []string) error
	list   func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error)
}

var tagTargets = []tagTarget{
	{
		kind:   "user",
		create: func(w *world, t *testing.T) { w.user(t, "alice") },
		tag:    func(w *world, tags []iam.Tag) error { return w.svc.TagUser(ctx, "ALICE", tags) },
		untag:  func(w *world, keys []string) error { return w.svc.UntagUser(ctx, "alice", keys) },
		list:   func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error) { return w.svc.ListUserTags(ctx, "alice", p) },
	},
	{
		kind: "role",
		create: func(w *world, t *testing.T) {
			t.Helper()
			if _, err := w.svc.CreateRole(ctx, iam.CreateRoleInput{Name: "web", TrustPolicy: taggingTrust}); err != nil {
				t.Fatal(err)
			}
		},
		tag:   func(w *world, tags []iam.Tag) error { return w.svc.TagRole(ctx, "WEB", tags) },
		untag: func(w *world, keys []string) error { return w.svc.UntagRole(ctx, "web", keys) },
		list:  func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error) { return w.svc.ListRoleTags(ctx, "web", p) },
	},
}

func TestTagging(t *testing.T) {
	t.Parallel()
	for _, tt := range tagTargets {
		t.Run("a "+tt.kind+"'s tags are listed sorted by key", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			if err := tt.tag(w, []iam.Tag{{Key: "team", Value: "web"}, {Key: "Env", Value: "prod"}, {Key: "cost", Value: ""}}); err != nil {
				t.Fatal(err)
			}
			res := must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{}))
			if got, want := tagString(res), "[Env=prod cost= team=web]"; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
		t.Run("a "+tt.kind+"'s tag keys are case-insensitive", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			if err := tt.tag(w, []iam.Tag{{Key: "Env", Value: "prod"}}); err != nil {
				t.Fatal(err)
			}
			if err := tt.tag(w, []iam.Tag{{Key: "ENV", Value: "dev"}}); err != nil {
				t.Fatal(err)
			}
			if got, want := tagString(must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{}))), "[ENV=dev]"; got != want {
				t.Errorf("after retagging: got %s, want %s", got, want)
			}
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "a", Value: "1"}, {Key: "A", Value: "2"}}), apierr.InvalidInput,
				"Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			if err := tt.untag(w, []string{"env", "not-there"}); err != nil {
				t.Fatal(err)
			}
			if got := tagString(must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{}))); got != "[]" {
				t.Errorf("after untagging: got %s, want []", got)
			}
		})
		t.Run("a "+tt.kind+" holds at most 50 tags", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			wantCode(t, tt.tag(w, nTags("k", 51)), apierr.LimitExceeded, "")
			if err := tt.tag(w, nTags("k", 50)); err != nil {
				t.Fatalf("50 tags: %v", err)
			}
			if err := tt.tag(w, []iam.Tag{{Key: "K07", Value: "replaced"}}); err != nil {
				t.Errorf("replacing one of 50: got %v, want nil", err)
			}
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "one-more", Value: "v"}}), apierr.LimitExceeded,
				"The number of tags has reached the maximum limit.")
			wantCode(t, tt.untag(w, make([]string, 51)), apierr.ValidationError, "")
			keys := make([]string, 50)
			for i, tg := range nTags("k", 50) {
				keys[i] = tg.Key
			}
			if err := tt.untag(w, keys); err != nil {
				t.Fatalf("untagging 50 keys: %v", err)
			}
		})
		t.Run("a "+tt.kind+"'s tags come in pages", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			if err := tt.tag(w, nTags("k", 5)); err != nil {
				t.Fatal(err)
			}
			var got []string
			p := iam.Page{MaxItems: 2}
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatal("paging does not end")
				}
				res := must[*iam.Paged[iam.Tag]](t)(tt.list(w, p))
				for _, tg := range res.Items {
					got = append(got, tg.Key)
				}
				if !res.IsTruncated {
					break
				}
				p.Marker = res.Marker
			}
			if fmt.Sprint(got) != "[k00 k01 k02 k03 k04]" {
				t.Errorf("got %v, want [k00 k01 k02 k03 k04]", got)
			}
		})
		t.Run("invalid tags on a "+tt.kind+" are rejected", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "", Value: "v"}}), apierr.ValidationError, "")
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "bad*key", Value: "v"}}), apierr.ValidationError, "")
			wantCode(t, tt.untag(w, []string{"bad*key"}), apierr.ValidationError, "")
		})
	}
	t.Run("tagging an unknown user or role is NoSuchEntity", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		wantCode(t, w.svc.TagUser(ctx, "nobody", []iam.Tag{{Key: "k"}}), apierr.NoSuchEntity, "The user with name nobody cannot be found.")
		wantCode(t, w.svc.TagRole(ctx, "nothing", []iam.Tag{{Key: "k"}}), apierr.NoSuchEntity, "The role with name nothing cannot be found.")
		_, err := w.svc.ListRoleTags(ctx, "nothing", iam.Page{})
		wantCode(t, err, apierr.NoSuchEntity, "")
	})
	t.Run("a role keeps its other attributes through tagging", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := must[*iam.Role](t)(w.svc.CreateRole(ctx, iam.CreateRoleInput{Name: "web", TrustPolicy: taggingTrust, Description: "d", MaxSessionDuration: 7200}))
		must[*iam.RoleAuth](t)(w.svc.RoleAuth(ctx, "web")) // cache a snapshot without tags
		if err := w.svc.TagRole(ctx, "web", []iam.Tag{{Key: "k", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		got := must[*iam.Role](t)(w.svc.GetRole(ctx, "web"))
		if got.ID != r.ID || got.TrustPolicy != taggingTrust || got.Description != "d" || got.MaxSessionDuration != 7200 || len(got.Tags) != 1 {
			t.Errorf("got %+v, want %+v with one tag", got, r)
		}
		ra := must[*iam.RoleAuth](t)(w.svc.RoleAuth(ctx, "web"))
		if len(ra.Role.Tags) != 1 {
			t.Errorf("RoleAuth sees %d tags right after TagRole, want 1", len(ra.Role.Tags))
		}
	})
}
