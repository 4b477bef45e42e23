package iam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// Service-linked roles: roles an AWS service creates for itself, under
// /aws-service-role/<service>/, trusted by that service alone, which
// nobody may edit directly; only DeleteServiceLinkedRole removes one.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html

// ServiceRolePathPrefix starts the path of every service-linked role.
const ServiceRolePathPrefix = "/aws-service-role/"

const keyDeletionTask = "deletion_task/" // + task id → DeletionTask, in tAccount

// Deletion task statuses.
const (
	DeletionSucceeded  = "SUCCEEDED"
	DeletionInProgress = "IN_PROGRESS"
	DeletionFailed     = "FAILED"
	DeletionNotStarted = "NOT_STARTED"
)

// DeletionTask is the record GetServiceLinkedRoleDeletionStatus reads.
type DeletionTask struct {
	ID       string `json:"id"`
	RoleName string `json:"role"`
	RoleARN  string `json:"role_arn"`
	Status   string `json:"status"`
}

// serviceRoleNames are the role names AWS gives the service-linked roles
// of common services; other services get AWSServiceRoleFor and their
// name's words capitalized.
var serviceRoleNames = map[string]string{
	"autoscaling.amazonaws.com":                      "AutoScaling",
	"ecs.amazonaws.com":                              "ECS",
	"rds.amazonaws.com":                              "RDS",
	"elasticloadbalancing.amazonaws.com":             "ElasticLoadBalancing",
	"elasticbeanstalk.amazonaws.com":                 "ElasticBeanstalk",
	"eks.amazonaws.com":                              "AmazonEKS",
	"spot.amazonaws.com":                             "EC2Spot",
	"organizations.amazonaws.com":                    "Organizations",
	"cloudtrail.amazonaws.com":                       "CloudTrail",
	"config.amazonaws.com":                           "Config",
	"support.amazonaws.com":                          "Support",
	"trustedadvisor.amazonaws.com":                   "TrustedAdvisor",
	"sso.amazonaws.com":                              "SSO",
	"es.amazonaws.com":                               "AmazonElasticsearchService",
	"opensearchservice.amazonaws.com":                "AmazonOpenSearchService",
	"elasticache.amazonaws.com":                      "ElastiCache",
	"dynamodb.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_DynamoDBTable",
}

// serviceRoleName is the role name for a service principal.
func serviceRoleName(service string) string {
	if n, ok := serviceRoleNames[service]; ok {
		return "AWSServiceRoleFor" + n
	}
	base := strings.TrimSuffix(service, ".amazonaws.com")
	var b strings.Builder
	b.WriteString("AWSServiceRoleFor")
	for _, w := range strings.FieldsFunc(base, func(r rune) bool { return r == '.' || r == '-' }) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// IsServiceLinked reports whether a role is a service-linked role.
func (r *Role) IsServiceLinked() bool { return strings.HasPrefix(r.Path, ServiceRolePathPrefix) }

// protectRole refuses a direct change to a service-linked role.
func protectRole(r *Role) error {
	if r.IsServiceLinked() {
		return apierr.New(apierr.UnmodifiableEntity, "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", r.Name)
	}
	return nil
}

// protectEntity is protectRole for an entity named by kind and name (a
// no-op for users and groups).
func protectEntity(tx kv.Tx, kind, name string) error {
	if kind != KindRole {
		return nil
	}
	r, err := getRole(tx, name)
	if err != nil {
		return err
	}
	return protectRole(r)
}

// CreateServiceLinkedRoleInput is CreateServiceLinkedRole's input.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
type CreateServiceLinkedRoleInput struct {
	ServiceName  string // AWSServiceName: "elasticbeanstalk.amazonaws.com"
	Description  string
	CustomSuffix string
}

// ServiceLinkedRoleARN is the ARN (and name) CreateServiceLinkedRole
// gives the role of a service, for authorizing before it exists.
func (s *Service) ServiceLinkedRoleARN(service, suffix string) (string, string) {
	name := serviceRoleName(service)
	if suffix != "" {
		name += "_" + suffix
	}
	return arn.Role(s.account, ServiceRolePathPrefix+service+"/", name), name
}

// CreateServiceLinkedRole creates the role a service uses to act in the
// account.
func (s *Service) CreateServiceLinkedRole(ctx context.Context, in CreateServiceLinkedRoleInput) (*Role, error) {
	if err := checkName("aWSServiceName", in.ServiceName, 128); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(in.ServiceName, ".amazonaws.com") || len(in.ServiceName) == len(".amazonaws.com") {
		return nil, apierr.New(apierr.InvalidInput, "Invalid service principal %s. The service principal must end with .amazonaws.com.", in.ServiceName)
	}
	if in.CustomSuffix != "" {
		if err := checkName("customSuffix", in.CustomSuffix, 64); err != nil {
			return nil, err
		}
	}
	if err := checkRoleDescription("description", in.Description); err != nil {
		return nil, err
	}
	roleARN, name := s.ServiceLinkedRoleARN(in.ServiceName, in.CustomSuffix)
	if len(name) > 64 {
		return nil, apierr.New(apierr.InvalidInput, "The role name %s is longer than 64 characters; use a shorter suffix.", name)
	}
	r := &Role{
		ID: token.NewUniqueID(arn.PrefixRole, s.rand), Name: name, Path: ServiceRolePathPrefix + in.ServiceName + "/",
		ARN: roleARN, CreateDate: s.now().UTC(),
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["` + in.ServiceName + `"]},"Action":["sts:AssumeRole"]}]}`,
		Description: in.Description, MaxSessionDuration: DefaultMaxSessionDuration,
	}
	err := s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tRoles, lower(name)); err != nil || ok {
			if ok {
				return apierr.New(apierr.InvalidInput, "Service role name %s has been taken in this account, please try a different suffix.", name)
			}
			return err
		}
		return putJSON(tx, tRoles, lower(name), r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteServiceLinkedRole deletes a service-linked role. AWS runs the
// deletion as a task the service may refuse while it still uses the
// role; iamd's services hold nothing, so the task succeeds at once.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteServiceLinkedRole.html
func (s *Service) DeleteServiceLinkedRole(ctx context.Context, name string) (string, error) {
	var taskID string
	err := s.update(ctx, func(tx kv.Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if !r.IsServiceLinked() {
			return apierr.New(apierr.InvalidInput, "Role %s is not a service-linked role.", r.Name)
		}
		n := lower(r.Name)
		// The service's own clean-up: the role's policies and its place
		// in instance profiles go with it.
		inline, err := scanKeys(tx, tInline, KindRole+"/"+n+"/")
		if err != nil {
			return err
		}
		for _, p := range inline {
			if err := tx.Delete(tInline, KindRole+"/"+n+"/"+p); err != nil {
				return err
			}
		}
		attached, err := scanKeys(tx, tAttached, KindRole+"/"+n+"/")
		if err != nil {
			return err
		}
		for _, a := range attached {
			if mp, err := getJSON[ManagedPolicy](tx, tPolicies, a); err == nil {
				mp.AttachmentCount = max(mp.AttachmentCount-1, 0)
				if err := putJSON(tx, tPolicies, a, mp); err != nil {
					return err
				}
			} else if !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			if err := tx.Delete(tAttached, KindRole+"/"+n+"/"+a); err != nil {
				return err
			}
			if err := tx.Delete(tPolicyEntities, a+"#"+KindRole+"/"+n); err != nil {
				return err
			}
		}
		profiles, err := scanKeys(tx, tRoleProfiles, n+"/")
		if err != nil {
			return err
		}
		for _, p := range profiles {
			ip, err := getJSON[InstanceProfile](tx, tInstanceProfiles, p)
			if err == nil {
				ip.Roles = nil
				if err := putJSON(tx, tInstanceProfiles, p, ip); err != nil {
					return err
				}
			} else if !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			if err := tx.Delete(tRoleProfiles, n+"/"+p); err != nil {
				return err
			}
		}
		if r.Boundary != "" {
			if err := s.useAsBoundary(tx, r.Boundary, -1); err != nil && !apierr.Is(err, apierr.NoSuchEntity) {
				return err
			}
		}
		if err := tx.Delete(tRoles, n); err != nil {
			return err
		}
		service := strings.TrimSuffix(strings.TrimPrefix(r.Path, ServiceRolePathPrefix), "/")
		taskID = "task" + ServiceRolePathPrefix + service + "/" + r.Name + "/" + s.uuid()
		return putJSON(tx, tAccount, keyDeletionTask+taskID, &DeletionTask{ID: taskID, RoleName: r.Name, RoleARN: r.ARN, Status: DeletionSucceeded})
	})
	if err != nil {
		return "", err
	}
	return taskID, nil
}

// uuid is a random (version 4) UUID read from the service's randomness.
func (s *Service) uuid() string {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return fmt.Sprintf("%x", s.now().UnixNano())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// DeletionTaskRoleARN is the ARN of the role a deletion task id names
// (task/aws-service-role/<service>/<role>/<uuid>), for authorization.
func (s *Service) DeletionTaskRoleARN(taskID string) (string, error) {
	parts := strings.Split(taskID, "/")
	if len(parts) != 5 || parts[0] != "task" || parts[1] != "aws-service-role" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return "", apierr.New(apierr.InvalidInput, "Invalid deletion task id: %s", taskID)
	}
	return arn.Role(s.account, ServiceRolePathPrefix+parts[2]+"/", parts[3]), nil
}

// GetServiceLinkedRoleDeletionStatus reports a deletion task's status.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServiceLinkedRoleDeletionStatus.html
func (s *Service) GetServiceLinkedRoleDeletionStatus(ctx context.Context, taskID string) (*DeletionTask, error) {
	if _, err := s.DeletionTaskRoleARN(taskID); err != nil {
		return nil, err
	}
	var t *DeletionTask
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		t, err = getJSON[DeletionTask](tx, tAccount, keyDeletionTask+taskID)
		if errors.Is(err, kv.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "Deletion task %s cannot be found.", taskID)
		}
		return err
	})
	return t, err
}
