package iam_test

import (
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

// moreTagTargets are the other taggable resources; they follow the user
// and role rules (tagging_test.go).
func moreTagTargets() []tagTarget {
	const policyARN = "arn:aws:iam::123456789012:policy/p"
	const serial = "arn:aws:iam::123456789012:mfa/phone"
	return []tagTarget{
		{
			kind: "managed policy",
			create: func(w *world, t *testing.T) {
				t.Helper()
				if _, err := w.svc.CreatePolicy(ctx, iam.CreatePolicyInput{Name: "p", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}); err != nil {
					t.Fatal(err)
				}
			},
			tag:   func(w *world, tags []iam.Tag) error { return w.svc.TagPolicy(ctx, policyARN, tags) },
			untag: func(w *world, keys []string) error { return w.svc.UntagPolicy(ctx, policyARN, keys) },
			list: func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error) {
				return w.svc.ListPolicyTags(ctx, policyARN, p)
			},
		},
		{
			kind: "instance profile",
			create: func(w *world, t *testing.T) {
				t.Helper()
				if _, err := w.svc.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: "web"}); err != nil {
					t.Fatal(err)
				}
			},
			tag:   func(w *world, tags []iam.Tag) error { return w.svc.TagInstanceProfile(ctx, "WEB", tags) },
			untag: func(w *world, keys []string) error { return w.svc.UntagInstanceProfile(ctx, "web", keys) },
			list: func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error) {
				return w.svc.ListInstanceProfileTags(ctx, "web", p)
			},
		},
		{
			kind: "virtual MFA device",
			create: func(w *world, t *testing.T) {
				t.Helper()
				if _, err := w.svc.CreateVirtualMFADevice(ctx, "phone", "", nil); err != nil {
					t.Fatal(err)
				}
			},
			tag:   func(w *world, tags []iam.Tag) error { return w.svc.TagMFADevice(ctx, serial, tags) },
			untag: func(w *world, keys []string) error { return w.svc.UntagMFADevice(ctx, serial, keys) },
			list: func(w *world, p iam.Page) (*iam.Paged[iam.Tag], error) {
				return w.svc.ListMFADeviceTags(ctx, serial, p)
			},
		},
	}
}

func TestMoreTagging(t *testing.T) {
	t.Parallel()
	for _, tt := range moreTagTargets() {
		t.Run("a "+tt.kind+"'s tags are merged without regard to case, listed by key and removed", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			if err := tt.tag(w, []iam.Tag{{Key: "team", Value: "web"}, {Key: "Env", Value: "prod"}}); err != nil {
				t.Fatal(err)
			}
			if err := tt.tag(w, []iam.Tag{{Key: "ENV", Value: "dev"}, {Key: "cost", Value: ""}}); err != nil {
				t.Fatal(err)
			}
			res := must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{}))
			if got, want := tagString(res), "[ENV=dev cost= team=web]"; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			p1 := must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{MaxItems: 2}))
			p2 := must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{MaxItems: 2, Marker: p1.Marker}))
			if got, want := tagString(p1)+tagString(p2), "[ENV=dev cost=][team=web]"; got != want || !p1.IsTruncated || p2.IsTruncated {
				t.Errorf("pages: got %s (truncated %v, %v), want %s", got, p1.IsTruncated, p2.IsTruncated, want)
			}
			if err := tt.untag(w, []string{"env", "absent"}); err != nil {
				t.Fatal(err)
			}
			res = must[*iam.Paged[iam.Tag]](t)(tt.list(w, iam.Page{}))
			if got, want := tagString(res), "[cost= team=web]"; got != want {
				t.Errorf("after untag: got %s, want %s", got, want)
			}
		})
		t.Run("a "+tt.kind+" holds at most 50 tags", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.create(w, t)
			if err := tt.tag(w, nTags("a", 40)); err != nil {
				t.Fatal(err)
			}
			wantCode(t, tt.tag(w, nTags("b", 11)), apierr.LimitExceeded, "The number of tags has reached the maximum limit.")
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "k", Value: "1"}, {Key: "K", Value: "2"}}), apierr.InvalidInput, "")
		})
		t.Run("a missing "+tt.kind+" is NoSuchEntity", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			wantCode(t, tt.tag(w, []iam.Tag{{Key: "k", Value: "v"}}), apierr.NoSuchEntity, "")
			wantCode(t, tt.untag(w, []string{"k"}), apierr.NoSuchEntity, "")
			_, err := tt.list(w, iam.Page{})
			wantCode(t, err, apierr.NoSuchEntity, "")
		})
	}
	t.Run("AWS managed policies cannot be tagged", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		err := w.svc.TagPolicy(ctx, iam.AWSManagedPrefix+"ReadOnlyAccess", []iam.Tag{{Key: "k", Value: "v"}})
		wantCode(t, err, apierr.AccessDenied, "")
	})
}
