package audit

import (
	"testing"
	"time"

	"github.com/iamd/iamd/internal/principal"
)

func TestFederatedUserIdentityNamesTheIssuingUser(t *testing.T) {
	t.Parallel()
	c := &principal.Caller{Account: "000000000000", Type: principal.FederatedUser, Temporary: true,
		ARN: "arn:aws:sts::000000000000:federated-user/carol", UserID: "000000000000:carol",
		UserName: "bob", UserPath: "/", IssuerUserID: "AIDABOB", AccessKeyID: "ASIAFED",
		IssuedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	u := Identity(c)
	if u.Type != "FederatedUser" || u.PrincipalID != "000000000000:carol" || u.ARN != c.ARN || u.UserName != "" {
		t.Errorf("got type %s principalId %s arn %s userName %q", u.Type, u.PrincipalID, u.ARN, u.UserName)
	}
	si := u.SessionContext.SessionIssuer
	if si == nil || si.Type != "IAMUser" || si.PrincipalID != "AIDABOB" || si.ARN != "arn:aws:iam::000000000000:user/bob" ||
		si.UserName != "bob" || si.AccountID != "000000000000" {
		t.Errorf("got sessionIssuer %+v, want the IAM user bob", si)
	}
}
