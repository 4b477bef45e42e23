package iam_test

import (
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

func TestServiceLinkedRoles(t *testing.T) {
	t.Parallel()
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	t.Run("a service-linked role is named, placed and trusted for its service", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := must[*iam.Role](t)(w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "elasticbeanstalk.amazonaws.com", Description: "eb"}))
		if r.Name != "AWSServiceRoleForElasticBeanstalk" || r.Path != "/aws-service-role/elasticbeanstalk.amazonaws.com/" ||
			r.ARN != "arn:aws:iam::123456789012:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk" ||
			!strings.Contains(r.TrustPolicy, `"elasticbeanstalk.amazonaws.com"`) || r.Description != "eb" {
			t.Errorf("got %+v", r)
		}
		_, err := w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "elasticbeanstalk.amazonaws.com"})
		wantCode(t, err, apierr.InvalidInput, "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, please try a different suffix.")
		r2 := must[*iam.Role](t)(w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "elasticbeanstalk.amazonaws.com", CustomSuffix: "two"}))
		if r2.Name != "AWSServiceRoleForElasticBeanstalk_two" {
			t.Errorf("got %s, want AWSServiceRoleForElasticBeanstalk_two", r2.Name)
		}
		r3 := must[*iam.Role](t)(w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "custom-thing.amazonaws.com"}))
		if r3.Name != "AWSServiceRoleForCustomThing" {
			t.Errorf("got %s, want AWSServiceRoleForCustomThing", r3.Name)
		}
		_, err = w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "example.com"})
		wantCode(t, err, apierr.InvalidInput, "")
	})
	t.Run("a service-linked role cannot be edited directly", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := must[*iam.Role](t)(w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "autoscaling.amazonaws.com"}))
		pol := mustCreatePolicy(t, w.svc, "p", doc)
		msg := "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS"
		for name, err := range map[string]error{
			"DeleteRole":                 w.svc.DeleteRole(ctx, r.Name),
			"UpdateAssumeRolePolicy":     w.svc.UpdateAssumeRolePolicy(ctx, r.Name, taggingTrust),
			"PutRolePolicy":              w.svc.PutInlinePolicy(ctx, iam.KindRole, r.Name, "x", doc),
			"DeleteRolePolicy":           w.svc.DeleteInlinePolicy(ctx, iam.KindRole, r.Name, "x"),
			"AttachRolePolicy":           w.svc.AttachPolicy(ctx, iam.KindRole, r.Name, pol.ARN),
			"DetachRolePolicy":           w.svc.DetachPolicy(ctx, iam.KindRole, r.Name, pol.ARN),
			"PutRolePermissionsBoundary": w.svc.PutRolePermissionsBoundary(ctx, r.Name, pol.ARN),
		} {
			t.Run(name, func(t *testing.T) { wantCode(t, err, apierr.UnmodifiableEntity, msg) })
		}
		if _, err := w.svc.UpdateRoleDescription(ctx, r.Name, "mine"); err != nil {
			t.Errorf("the description of a service-linked role is editable: %v", err)
		}
	})
	t.Run("deleting a service-linked role succeeds at once", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := must[*iam.Role](t)(w.svc.CreateServiceLinkedRole(ctx, iam.CreateServiceLinkedRoleInput{ServiceName: "ecs.amazonaws.com"}))
		id := must[string](t)(w.svc.DeleteServiceLinkedRole(ctx, r.Name))
		if !strings.HasPrefix(id, "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/") {
			t.Errorf("got task id %s", id)
		}
		st := must[*iam.DeletionTask](t)(w.svc.GetServiceLinkedRoleDeletionStatus(ctx, id))
		if st.Status != iam.DeletionSucceeded {
			t.Errorf("got %s, want SUCCEEDED", st.Status)
		}
		_, err := w.svc.GetRole(ctx, r.Name)
		wantCode(t, err, apierr.NoSuchEntity, "")
		_, err = w.svc.GetServiceLinkedRoleDeletionStatus(ctx, "nonsense")
		wantCode(t, err, apierr.InvalidInput, "")
		_, err = w.svc.GetServiceLinkedRoleDeletionStatus(ctx, "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/other")
		wantCode(t, err, apierr.NoSuchEntity, "")
		mustCreateRole(t, w.svc, "plain")
		_, err = w.svc.DeleteServiceLinkedRole(ctx, "plain")
		wantCode(t, err, apierr.InvalidInput, "")
	})
}
