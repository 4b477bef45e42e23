package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	icli "github.com/iamd/iamd/internal/cli"
	"github.com/iamd/iamd/internal/testserver"
)

// The leaked-credential playbook with the built iamd binary: whois with
// the key's timeline, revoke --issued-by, and respond on a leaked session
// and on a leaked long-term key.

const mintPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:GetSessionToken","sts:GetFederationToken","iam:ListUsers","s3:ListAllMyBuckets"],"Resource":"*"}]}`

// leakWorld makes users bob and alice with a key each, allowed to mint
// sessions and list users, and role web that trusts both.
func leakWorld(t *testing.T) (*testserver.Server, map[string]testserver.Creds, string) {
	t.Helper()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	keys := map[string]testserver.Creds{}
	for _, u := range []string{"bob", "alice"} {
		must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
		k := must[*iam.CreateAccessKeyOutput](t)(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)}))
		keys[u] = testserver.Creds{KeyID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
		must[*iam.PutUserPolicyOutput](t)(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(u),
			PolicyName: aws.String("mint"), PolicyDocument: aws.String(mintPolicy)}))
	}
	role := must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"),
		AssumeRolePolicyDocument: aws.String(trustUsers("bob", "alice"))}))
	must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"),
		PolicyName: aws.String("read"), PolicyDocument: aws.String(listUsersPolicy)}))
	return s, keys, aws.ToString(role.Role.Arn)
}

func assumeWeb(t *testing.T, s *testserver.Server, c testserver.Creds, roleARN, name string) testserver.Creds {
	t.Helper()
	out := must[*sts.AssumeRoleOutput](t)(s.STS(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(name)}))
	return testserver.Creds{KeyID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)}
}

// gstSessions and fedSessions are the GetSessionToken and
// GetFederationToken sessions the tests minted.
var gstSessions, fedSessions keySet

type keySet struct{ sync.Map }

func (k *keySet) Has(key string) bool { _, ok := k.Load(key); return ok }

func sessionToken(t *testing.T, s *testserver.Server, c testserver.Creds) testserver.Creds {
	t.Helper()
	out := must[*sts.GetSessionTokenOutput](t)(s.STS(c).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
	gstSessions.Store(aws.ToString(out.Credentials.AccessKeyId), true)
	return testserver.Creds{KeyID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)}
}

func federationToken(t *testing.T, s *testserver.Server, c testserver.Creds, name string) testserver.Creds {
	t.Helper()
	out := must[*sts.GetFederationTokenOutput](t)(s.STS(c).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String(name),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)}))
	fedSessions.Store(aws.ToString(out.Credentials.AccessKeyId), true)
	return testserver.Creds{KeyID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)}
}

// listUsers is "" when the credentials work, the error code otherwise.
// GetSessionToken credentials may not call IAM without MFA, as on AWS:
// those (marked by gstSessions) probe with AssumeRole instead; federated
// users may call no IAM action at all: they list buckets.
func listUsers(s *testserver.Server, c testserver.Creds) string {
	var err error
	switch {
	case fedSessions.Has(c.KeyID):
		_, err = s3Client(s, c).ListBuckets(ctx, &s3.ListBucketsInput{})
	case gstSessions.Has(c.KeyID):
		_, err = s.STS(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/web"), RoleSessionName: aws.String("probe")})
	default:
		_, err = s.IAM(c).ListUsers(ctx, &iam.ListUsersInput{})
	}
	if err == nil {
		return ""
	}
	if code := apiCode(err); code != "" {
		return code
	}
	return err.Error()
}

// deniedCall makes a call c may not make.
func deniedCall(t *testing.T, s *testserver.Server, c testserver.Creds) {
	t.Helper()
	_, err := s.IAM(c).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("CreateUser with leaked credentials: got %v, want AccessDenied", err)
	}
}

// whoisUntil runs whois until ok accepts it: read-only calls reach the
// trail within the audit flush interval.
func whoisUntil(t *testing.T, s *testserver.Server, key string, ok func(icli.Whois) bool) icli.Whois {
	t.Helper()
	var w icli.Whois
	for deadline := time.Now().Add(5 * time.Second); ; {
		w = iamdJSON[icli.Whois](t, s, testserver.Admin(), "whois", key)
		if ok(w) || time.Now().After(deadline) {
			return w
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hasEvent(evs []icli.TrailEvent, name, code string) bool {
	for _, e := range evs {
		if e.EventName == name && e.ErrorCode == code {
			return true
		}
	}
	return false
}

func TestWhoisShowsOwnerAndTimeline(t *testing.T) {
	t.Parallel()
	s, keys, roleARN := leakWorld(t)
	bob := keys["bob"]
	if code := listUsers(s, bob); code != "" {
		t.Fatalf("bob: %s", code)
	}
	deniedCall(t, s, bob)
	web := assumeWeb(t, s, bob, roleARN, "leaky")
	st := sessionToken(t, s, bob)
	if code := listUsers(s, web); code != "" {
		t.Fatalf("bob's role session: %s", code)
	}
	deniedCall(t, s, web)

	t.Run("a long-term key: owner, timeline with the denied call, the sessions it issued", func(t *testing.T) {
		w := whoisUntil(t, s, bob.KeyID, func(w icli.Whois) bool { return hasEvent(w.Events, "CreateUser", "AccessDenied") })
		if w.Type != "AccessKey" || w.UserName != "bob" || w.Status != "Active" {
			t.Errorf("got type %s user %s status %s, want AccessKey bob Active", w.Type, w.UserName, w.Status)
		}
		for _, name := range []string{"ListUsers", "AssumeRole", "GetSessionToken"} {
			if !hasEvent(w.Events, name, "") {
				t.Errorf("the timeline lacks %s: %+v", name, w.Events)
			}
		}
		if !hasEvent(w.Events, "CreateUser", "AccessDenied") {
			t.Errorf("the timeline lacks the denied CreateUser: %+v", w.Events)
		}
		for i := 1; i < len(w.Events); i++ {
			if w.Events[i].EventTime > w.Events[i-1].EventTime {
				t.Errorf("events are not newest first: %s after %s", w.Events[i].EventTime, w.Events[i-1].EventTime)
			}
		}
		got := map[string]bool{}
		for _, ss := range w.IssuedSessions {
			got[ss.AccessKeyId] = ss.Status == "Active"
		}
		if len(got) != 2 || !got[web.KeyID] || !got[st.KeyID] {
			t.Errorf("issued sessions: got %+v, want %s and %s, active", w.IssuedSessions, web.KeyID, st.KeyID)
		}
		lim := iamdJSON[icli.Whois](t, s, testserver.Admin(), "whois", bob.KeyID, "--limit", "2")
		if len(lim.Events) != 2 {
			t.Errorf("--limit 2: got %d events", len(lim.Events))
		}
	})
	t.Run("a session key: role, issuer and its timeline as a table", func(t *testing.T) {
		whoisUntil(t, s, web.KeyID, func(w icli.Whois) bool { return hasEvent(w.Events, "CreateUser", "AccessDenied") })
		out := mustIamd(t, s, testserver.Admin(), "whois", web.KeyID)
		for _, want := range []string{"role:", "web", "issued by key:", bob.KeyID, "timeline (newest first):", "ListUsers", "CreateUser", "AccessDenied", "127.0.0.1"} {
			if !strings.Contains(out, want) {
				t.Errorf("whois %s lacks %q:\n%s", web.KeyID, want, out)
			}
		}
	})
}

func TestRevokeIssuedByStopsTheSessionsAKeyMinted(t *testing.T) {
	t.Parallel()
	s, keys, roleARN := leakWorld(t)
	bob, alice := keys["bob"], keys["alice"]
	minted := map[string]testserver.Creds{
		"role session":      assumeWeb(t, s, bob, roleARN, "bob"),
		"GetSessionToken":   sessionToken(t, s, bob),
		"federated session": federationToken(t, s, bob, "carol"),
	}
	// A role session chained from bob's GetSessionToken session: its token
	// names only that session as its issuer.
	minted["chained role session"] = assumeWeb(t, s, minted["GetSessionToken"], roleARN, "chained")
	aliceWeb := assumeWeb(t, s, alice, roleARN, "alice")
	for name, c := range minted {
		if code := listUsers(s, c); code != "" {
			t.Fatalf("%s before: %s", name, code)
		}
	}
	// Four sessions, and the one the GetSessionToken probe chained.
	out := mustIamd(t, s, testserver.Admin(), "revoke", "--issued-by", bob.KeyID, "--reason", "leaked")
	if !strings.Contains(out, "issued by "+bob.KeyID) || !strings.Contains(out, "live sessions now revoked by it: 5") {
		t.Errorf("iamd revoke --issued-by printed:\n%s", out)
	}
	for name, c := range minted {
		if code := listUsers(s, c); code != "AccessDenied" {
			t.Errorf("bob's %s after revoke --issued-by: got %q, want AccessDenied", name, code)
		}
	}
	if code := listUsers(s, aliceWeb); code != "" {
		t.Errorf("alice's session of the same role: %s", code)
	}
	if code := listUsers(s, bob); code != "" {
		t.Errorf("bob's key itself is not deactivated by revoke --issued-by: %s", code)
	}
	if code := listUsers(s, assumeWeb(t, s, bob, roleARN, "later")); code != "" {
		t.Errorf("a session bob's key mints after the revocation: %s", code)
	}
	list := iamdJSON[struct{ Revocations []icli.Revocation }](t, s, testserver.Admin(), "revoke", "--list", "--user", "bob")
	if len(list.Revocations) != 1 || list.Revocations[0].Type != "IssuerAccessKeyId" || list.Revocations[0].IssuerAccessKeyId != bob.KeyID {
		t.Errorf("revocations of bob: %+v", list.Revocations)
	}
	ss := iamdJSON[struct{ Sessions []icli.SessionInfo }](t, s, testserver.Admin(), "sessions", "--user", "bob")
	for _, x := range ss.Sessions {
		if x.Type == "Federated" && (x.Arn != "arn:aws:sts::000000000000:federated-user/carol" || x.Status != "Revoked") {
			t.Errorf("bob's federated session in the inventory: %+v", x)
		}
	}
}

func TestRespondToALeakedSession(t *testing.T) {
	t.Parallel()
	s, keys, roleARN := leakWorld(t)
	leaked := assumeWeb(t, s, keys["bob"], roleARN, "ci")
	other := assumeWeb(t, s, keys["alice"], roleARN, "alice")
	deniedCall(t, s, leaked)
	whoisUntil(t, s, leaked.KeyID, func(w icli.Whois) bool { return hasEvent(w.Events, "CreateUser", "AccessDenied") })
	admin := testserver.Admin()

	t.Run("without a terminal or --yes it refuses and changes nothing", func(t *testing.T) {
		_, errOut := iamdCLI(t, s, admin, "respond", leaked.KeyID)
		if !strings.Contains(errOut, "--yes") || !strings.Contains(errOut, "not a terminal") {
			t.Errorf("respond without --yes: stderr %q", errOut)
		}
		if code := listUsers(s, leaked); code != "" {
			t.Errorf("the leaked session after a refused respond: %s", code)
		}
	})
	t.Run("a dry run shows the plan and changes nothing", func(t *testing.T) {
		r := iamdJSON[icli.Respond](t, s, admin, "respond", leaked.KeyID, "--dry-run")
		if !r.DryRun || r.Contained || len(r.Actions) != 1 || r.Actions[0].Status != icli.ActionWouldDo || r.Actions[0].Action != "RevokeSession" {
			t.Errorf("dry run: %+v", r)
		}
		if code := listUsers(s, leaked); code != "" {
			t.Errorf("the leaked session after a dry run: %s", code)
		}
	})
	t.Run("a real run contains it and reports what it did", func(t *testing.T) {
		out := mustIamd(t, s, admin, "respond", leaked.KeyID, "--yes")
		for _, want := range []string{"role web", "RevokeSession", "Done", "CONTAINED", "CreateUser", "AccessDenied", "denied"} {
			if !strings.Contains(out, want) {
				t.Errorf("respond lacks %q:\n%s", want, out)
			}
		}
		if code := listUsers(s, leaked); code != "AccessDenied" {
			t.Errorf("the leaked session after respond: got %q, want AccessDenied", code)
		}
		if code := listUsers(s, other); code != "" {
			t.Errorf("another session of the role after respond: %s", code)
		}
	})
	t.Run("a second run finds it done", func(t *testing.T) {
		r := iamdJSON[icli.Respond](t, s, admin, "respond", leaked.KeyID, "--yes")
		if !r.Contained || len(r.Actions) != 1 || r.Actions[0].Status != icli.ActionAlreadyDone {
			t.Errorf("second run: %+v", r)
		}
		if r.Timeline.Denied == 0 || r.Timeline.Calls < 2 {
			t.Errorf("timeline: %d calls, %d denied", r.Timeline.Calls, r.Timeline.Denied)
		}
	})
}

func TestRespondToALeakedLongTermKey(t *testing.T) {
	t.Parallel()
	s, keys, roleARN := leakWorld(t)
	bob, alice := keys["bob"], keys["alice"]
	web := assumeWeb(t, s, bob, roleARN, "bob")
	st := sessionToken(t, s, bob)
	aliceWeb := assumeWeb(t, s, alice, roleARN, "alice")
	deniedCall(t, s, bob)
	whoisUntil(t, s, bob.KeyID, func(w icli.Whois) bool { return hasEvent(w.Events, "CreateUser", "AccessDenied") })
	admin := testserver.Admin()
	works := func(t *testing.T, what string, c testserver.Creds, want string) {
		t.Helper()
		if code := listUsers(s, c); code != want {
			t.Errorf("%s: got %q, want %q", what, code, want)
		}
	}

	t.Run("a dry run changes nothing", func(t *testing.T) {
		r := iamdJSON[icli.Respond](t, s, admin, "respond", bob.KeyID, "--dry-run")
		if len(r.Actions) != 2 || r.Actions[0].Action != "UpdateAccessKey" || r.Actions[0].Status != icli.ActionWouldDo ||
			r.Actions[1].Action != "RevokeSession" || r.Actions[1].Status != icli.ActionWouldDo || len(r.IssuedSessions) != 2 {
			t.Errorf("dry run: %+v", r)
		}
		works(t, "bob's key", bob, "")
		works(t, "bob's role session", web, "")
		works(t, "bob's GetSessionToken session", st, "")
	})
	t.Run("a real run deactivates the key and revokes its sessions", func(t *testing.T) {
		r := iamdJSON[icli.Respond](t, s, admin, "respond", bob.KeyID, "--yes")
		if !r.Contained || len(r.Actions) != 2 || r.Actions[0].Status != icli.ActionDone || r.Actions[1].Status != icli.ActionDone {
			t.Errorf("respond: %+v", r)
		}
		if !hasEvent(r.Timeline.Events, "CreateUser", "AccessDenied") || r.Timeline.Denied == 0 || len(r.Timeline.AccessKeyIds) != 3 {
			t.Errorf("timeline: %+v", r.Timeline)
		}
		works(t, "bob's key", bob, "InvalidClientTokenId")
		works(t, "bob's role session", web, "AccessDenied")
		works(t, "bob's GetSessionToken session", st, "AccessDenied")
		works(t, "alice's key", alice, "")
		works(t, "alice's session of the same role", aliceWeb, "")
	})
	t.Run("a second run is idempotent", func(t *testing.T) {
		out := mustIamd(t, s, admin, "respond", bob.KeyID, "--yes")
		if strings.Count(out, "AlreadyDone") != 2 || !strings.Contains(out, "CONTAINED") {
			t.Errorf("second run:\n%s", out)
		}
		list := iamdJSON[struct{ Revocations []icli.Revocation }](t, s, admin, "revoke", "--list", "--user", "bob")
		if len(list.Revocations) != 1 {
			t.Errorf("revocations after two runs: %+v", list.Revocations)
		}
	})
}
