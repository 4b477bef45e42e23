package httpapi

import (
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerServiceLinked(m map[string]Handler) {
	m["CreateServiceLinkedRole"] = a.createServiceLinkedRole
	m["DeleteServiceLinkedRole"] = a.deleteServiceLinkedRole
	m["GetServiceLinkedRoleDeletionStatus"] = a.getServiceLinkedRoleDeletionStatus
}

var (
	ruleServiceName    = Pattern(`[\w+=,.@-]+`).Len(1, 128) // groupNameType, as the model has it
	ruleCustomSuffix   = Pattern(`[\w+=,.@-]+`).Len(1, 64)
	ruleDeletionTaskID = StringRule{}.Len(1, 1000)
)

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
func (a *iamAPI) createServiceLinkedRole(c *Call) (any, error) {
	service, err := c.Params.Required("AWSServiceName", ruleServiceName)
	if err != nil {
		return nil, err
	}
	desc, err := c.Params.Optional("Description", ruleDescription)
	if err != nil {
		return nil, err
	}
	suffix, err := c.Params.Optional("CustomSuffix", ruleCustomSuffix)
	if err != nil {
		return nil, err
	}
	roleARN, _ := a.svc.ServiceLinkedRoleARN(service, suffix)
	if err := c.Authorize("iam:CreateServiceLinkedRole", roleARN, withKey("iam:AWSServiceName", service)); err != nil {
		return nil, err
	}
	r, err := a.svc.CreateServiceLinkedRole(c.Ctx, iam.CreateServiceLinkedRoleInput{ServiceName: service, Description: desc, CustomSuffix: suffix})
	if err != nil {
		return nil, err
	}
	x := roleSummary(r)
	return struct{ Role xmlRole }{x}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteServiceLinkedRole.html
func (a *iamAPI) deleteServiceLinkedRole(c *Call) (any, error) {
	name, err := c.Params.Required("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteServiceLinkedRole", a.roleARN(c, name)); err != nil {
		return nil, err
	}
	id, err := a.svc.DeleteServiceLinkedRole(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return struct{ DeletionTaskId string }{id}, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServiceLinkedRoleDeletionStatus.html
func (a *iamAPI) getServiceLinkedRoleDeletionStatus(c *Call) (any, error) {
	id, err := c.Params.Required("DeletionTaskId", ruleDeletionTaskID)
	if err != nil {
		return nil, err
	}
	roleARN, err := a.svc.DeletionTaskRoleARN(id)
	if err != nil {
		c.AllowWithoutPolicy() // a malformed id names no resource to authorize against
		return nil, err
	}
	if err := c.Authorize("iam:GetServiceLinkedRoleDeletionStatus", roleARN); err != nil {
		return nil, err
	}
	t, err := a.svc.GetServiceLinkedRoleDeletionStatus(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return struct{ Status string }{t.Status}, nil
}
