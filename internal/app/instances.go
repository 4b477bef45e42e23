package app

import (
	"context"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/ec2"
	"github.com/iamd/iamd/internal/httpapi"
	"github.com/iamd/iamd/internal/imds"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/token"
)

// EC2 instances: the domain, their metadata endpoints, and the check that
// lets an instance's credential manager see that its session was revoked.

// credentialCheckInterval is how often running instances' sessions are
// checked for rotation and revocation (fetches check as well).
const credentialCheckInterval = time.Second

// buildEC2 creates the EC2 service and the metadata endpoints.
func (a *App) buildEC2() {
	a.EC2 = ec2.New(ec2.Config{
		Store: a.store, IAM: a.IAM, STS: a.STS, Account: arn.AccountID(a.cfg.AccountID),
		Now: a.cfg.Now, Rand: a.cfg.Rand, Log: a.cfg.Log,
		Revoked: a.sessionRevoked, Generation: a.IAM.Generation,
	})
	a.IMDS = imds.New(imds.Config{
		Source: a.EC2, Now: a.cfg.Now, Log: a.cfg.Log,
		ContainerURL: func(id string) string {
			addr, _ := a.listenAddr.Load().(string)
			if addr == "" {
				addr = a.cfg.Addr
			}
			return "http://" + addr + httpapi.ContainerCredentialsPath + id
		},
	})
	a.EC2.SetEndpoints(a.IMDS)
}

// sessionRevoked reports whether an instance's session is now denied
// where a session of the same role issued now would not be: the role-wide
// AWSRevokeOlderSessions cut-off (a DateLessThan aws:TokenIssueTime deny),
// a per-session revocation (package revoke, which Decide consults first),
// or any deny that only older sessions meet. A deny that would hit a new
// session too (say, a Deny of everything) is not something re-issuing
// can fix, so it does not count — that keeps the manager from churning.
func (a *App) sessionRevoked(ctx context.Context, s *token.Session) bool {
	ra, err := a.IAM.RoleAuth(ctx, s.PrincipalName)
	if err != nil || ra.Role.ID != s.PrincipalID {
		return err == nil // the role was re-created: the session is dead
	}
	now := a.cfg.Now()
	cur := &principal.Caller{
		Account: a.IAM.Account(), Type: principal.AssumedRole,
		ARN:    arn.AssumedRole(a.IAM.Account(), ra.Role.Name, s.SessionName),
		UserID: ra.Role.ID + ":" + s.SessionName, RoleName: ra.Role.Name, RoleID: ra.Role.ID,
		RoleARN: ra.Role.ARN, RolePath: ra.Role.Path, SessionName: s.SessionName,
		AccessKeyID: arn.AccessKeyID(s.AccessKeyID), Temporary: true, IssuedAt: s.IssuedAt, Expires: s.Expires,
		SourceIdentity: s.SourceIdentity,
	}
	denied := func(c *principal.Caller) bool {
		// A probe no identity policy needs to allow: only denies show.
		d, err := a.Authz.Decide(ctx, &authz.Request{
			Caller: c, Action: "sts:GetCallerIdentity", Resource: "*",
			Env: authz.Env{Now: now, Region: "us-east-1"},
		})
		return err == nil && d.Result == policy.ExplicitDeny
	}
	if !denied(cur) {
		return false
	}
	fresh := *cur
	fresh.AccessKeyID, fresh.IssuedAt, fresh.Expires = "", now, now.Add(time.Hour)
	return !denied(&fresh)
}

// runInstances opens the metadata endpoint of every running instance,
// keeps their sessions rotated and unrevoked, and closes every endpoint
// when ctx ends.
func (a *App) runInstances(ctx context.Context, wg *sync.WaitGroup) {
	if err := a.EC2.ResumeEndpoints(ctx); err != nil {
		a.cfg.Log.Warn("open instance metadata endpoints", "err", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer a.IMDS.CloseAll()
		t := time.NewTicker(credentialCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.EC2.Maintain(ctx)
			}
		}
	}()
}
