package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	icli "github.com/iamd/iamd/internal/cli"
	"github.com/iamd/iamd/internal/testserver"
)

// iamdBinary builds cmd/iamd once for the package's tests.
var iamdBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "iamd-e2e-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "iamd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/iamd/iamd/cmd/iamd").CombinedOutput()
	if err != nil {
		return "", &buildError{err, string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// iamdCLI runs the iamd client with creds against s. It returns stdout
// and, when the command failed, its stderr.
func iamdCLI(t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) (string, string) {
	t.Helper()
	bin, err := iamdBinary()
	if err != nil {
		t.Fatalf("build iamd: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(clientEnv(t, c), "IAMD_ENDPOINT_URL="+s.URL)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if stderr.Len() == 0 {
			t.Fatalf("iamd %v: %v", args, err)
		}
		return stdout.String(), stderr.String()
	}
	return stdout.String(), ""
}

func mustIamd(t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) string {
	t.Helper()
	out, errOut := iamdCLI(t, s, c, args...)
	if errOut != "" {
		t.Fatalf("iamd %v: %s", args, errOut)
	}
	return out
}

func iamdJSON[T any](t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) T {
	t.Helper()
	var v T
	out := mustIamd(t, s, c, append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("iamd %v: output is not JSON: %v\n%s", args, err, out)
	}
	return v
}

// iamdClient calls iamd's own actions in-process.
func iamdClient(s *testserver.Server, c testserver.Creds) *icli.Client {
	return icli.NewClient(s.URL, testserver.Region, credentials.NewStaticCredentialsProvider(c.KeyID, c.Secret, c.Token), http.DefaultClient)
}

const listUsersPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetRole"],"Resource":"*"}]}`

// TestLeakedSessionSurgicalScenario is seed scenario (a) with the AWS CLI
// and the iamd CLI: revoking only emy's leaked session stops the outsider
// while julie works on; revoking the whole role stops julie too, and her
// new session works.
func TestLeakedSessionSurgicalScenario(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	keys := map[string]testserver.Creds{}
	for _, u := range []string{"bob", "julie", "emy"} {
		mustCLI(t, s, admin, "iam", "create-user", "--user-name", u)
		keys[u] = credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", u), "AccessKey")
		mustCLI(t, s, admin, "iam", "put-user-policy", "--user-name", u, "--policy-name", "assume",
			"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	}
	roleARN := field(mustCLI(t, s, admin, "iam", "create-role", "--role-name", "ExampleRole", "--assume-role-policy-document", trustUsers("julie", "emy")), "Role", "Arn")
	mustCLI(t, s, admin, "iam", "put-role-policy", "--role-name", "ExampleRole", "--policy-name", "read", "--policy-document", listUsersPolicy)

	if _, code := cli(t, s, keys["bob"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "bob"); code != "AccessDenied" {
		t.Fatalf("bob assuming the role: got %q, want AccessDenied", code)
	}
	emy := credsOf(mustCLI(t, s, keys["emy"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "emy"), "Credentials")
	julie := credsOf(mustCLI(t, s, keys["julie"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "julie"), "Credentials")
	outsider := emy
	mustCLI(t, s, outsider, "iam", "list-users")
	mustCLI(t, s, julie, "iam", "list-users")

	// whois tells whose the leaked key is.
	who := iamdJSON[icli.KeyDetails](t, s, admin, "whois", emy.KeyID)
	if who.Type != "AssumedRole" || who.RoleName != "ExampleRole" || who.Session == nil || who.Session.RoleSessionName != "emy" ||
		who.Session.IssuerAccessKeyId != keys["emy"].KeyID || who.Session.SourceIp != "127.0.0.1" || who.Status != "Active" || who.LastUsedDate == "" {
		t.Errorf("whois %s before revocation: got %+v (session %+v)", emy.KeyID, who, who.Session)
	}

	out := mustIamd(t, s, admin, "revoke", emy.KeyID, "--reason", "leaked in a gist")
	if !strings.Contains(out, "rv-") || !strings.Contains(out, emy.KeyID) {
		t.Errorf("iamd revoke KEY printed:\n%s", out)
	}
	if _, code := cli(t, s, outsider, "iam", "list-users"); code != "AccessDenied" {
		t.Errorf("the outsider after emy's session was revoked: got %q, want AccessDenied", code)
	}
	_, err := s.IAM(outsider).ListUsers(ctx, &iam.ListUsersInput{})
	if err == nil || !strings.Contains(err.Error(), "because the session was revoked") {
		t.Errorf("the denial should say the session was revoked: %v", err)
	}
	mustCLI(t, s, julie, "iam", "list-users")

	sessions := iamdJSON[struct{ Sessions []icli.SessionInfo }](t, s, admin, "sessions", "--role", "ExampleRole")
	status := map[string]string{}
	for _, x := range sessions.Sessions {
		status[x.RoleSessionName] = x.Status
	}
	if status["emy"] != "Revoked" || status["julie"] != "Active" || len(status) != 2 {
		t.Errorf("iamd sessions --role ExampleRole: got %v, want emy Revoked and julie Active", status)
	}
	table := mustIamd(t, s, admin, "sessions", "--role", "ExampleRole")
	if !strings.Contains(table, "ACCESS KEY") || !strings.Contains(table, julie.KeyID) {
		t.Errorf("iamd sessions table:\n%s", table)
	}
	if w := iamdJSON[icli.KeyDetails](t, s, admin, "whois", emy.KeyID); w.Status != "Revoked" {
		t.Errorf("whois after revocation: status %q, want Revoked", w.Status)
	}

	// The whole role, the AWS way: julie's session stops, a new one works.
	mustIamd(t, s, admin, "revoke", "--role", "ExampleRole")
	if _, code := cli(t, s, julie, "iam", "list-users"); code != "AccessDenied" {
		t.Errorf("julie's session after the role was revoked: got %q, want AccessDenied", code)
	}
	fresh := credsOf(mustCLI(t, s, keys["julie"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "julie"), "Credentials")
	mustCLI(t, s, fresh, "iam", "list-users")
	if _, code := cli(t, s, outsider, "iam", "list-users"); code != "AccessDenied" {
		t.Errorf("the outsider after the role was revoked: got %q", code)
	}
}

// TestIamdRevokeWritesTheConsolesPolicy: `iamd revoke --role|--user` is
// AWS's own mechanism, visible to the AWS CLI.
func TestIamdRevokeWritesTheConsolesPolicy(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	role := must[*iam.CreateRoleOutput](t)(s.IAM(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustUsers("admin", "dev"))}))
	must[*iam.PutRolePolicyOutput](t)(s.IAM(admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"), PolicyDocument: aws.String(listUsersPolicy)}))
	old := sessionCreds(must[*sts.AssumeRoleOutput](t)(s.STS(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("old")})).Credentials)

	before := time.Now().UTC().Truncate(time.Millisecond)
	mustIamd(t, s, admin, "revoke", "--role", "web")
	got := mustCLI(t, s, admin, "iam", "get-role-policy", "--role-name", "web", "--policy-name", "AWSRevokeOlderSessions")
	doc, _ := json.Marshal(got["PolicyDocument"])
	var parsed struct {
		Statement []struct {
			Effect    string
			Action    []string
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal(doc, &parsed); err != nil || len(parsed.Statement) != 1 {
		t.Fatalf("policy document: %s (%v)", doc, err)
	}
	st := parsed.Statement[0]
	cut := st.Condition["DateLessThan"]["aws:TokenIssueTime"]
	ct, err := time.Parse("2006-01-02T15:04:05.000Z", cut)
	if st.Effect != "Deny" || len(st.Action) != 1 || st.Action[0] != "*" || len(st.Resource) != 1 || st.Resource[0] != "*" || err != nil || ct.Before(before) {
		t.Errorf("AWSRevokeOlderSessions: got %s, want the console's document with a millisecond cut-off at or after %s", doc, before.Format(time.RFC3339Nano))
	}
	_, err = s.IAM(old).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	fresh := sessionCreds(must[*sts.AssumeRoleOutput](t)(s.STS(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("new")})).Credentials)
	must[*iam.ListUsersOutput](t)(s.IAM(fresh).ListUsers(ctx, &iam.ListUsersInput{}))

	t.Run("a second call moves the cut-off", func(t *testing.T) {
		time.Sleep(5 * time.Millisecond)
		out := iamdJSON[map[string]string](t, s, admin, "revoke", "--role", "web")
		if out["TokenIssueTime"] <= cut {
			t.Errorf("second revoke: cut-off %s, want later than %s", out["TokenIssueTime"], cut)
		}
		_, err := s.IAM(fresh).ListUsers(ctx, &iam.ListUsersInput{})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("undo removes it, and undoing again is a no-op", func(t *testing.T) {
		mustIamd(t, s, admin, "revoke", "--role", "web", "--undo")
		must[*iam.ListUsersOutput](t)(s.IAM(old).ListUsers(ctx, &iam.ListUsersInput{}))
		out := iamdJSON[map[string]string](t, s, admin, "revoke", "--role", "web", "--undo")
		if out["Status"] != "NotPresent" {
			t.Errorf("second undo: got %v", out)
		}
		if _, errOut := iamdCLI(t, s, admin, "revoke", "--role", "nosuchrole", "--undo"); !strings.Contains(errOut, "NoSuchEntity") {
			t.Errorf("undo on a missing role: got %q, want NoSuchEntity", errOut)
		}
	})
	t.Run("on a user it covers its GetSessionToken sessions, not its key", func(t *testing.T) {
		dev := newUser(t, s, "dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
		tok := must[*sts.GetSessionTokenOutput](t)(s.STS(dev).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
		devSession := sessionCreds(tok.Credentials)
		must[*sts.AssumeRoleOutput](t)(s.STS(devSession).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("d1")}))
		mustIamd(t, s, admin, "revoke", "--user", "dev")
		mustCLI(t, s, admin, "iam", "get-user-policy", "--user-name", "dev", "--policy-name", "AWSRevokeOlderSessions")
		_, err := s.STS(devSession).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("d2")})
		wantCode(t, err, "AccessDenied")
		must[*sts.AssumeRoleOutput](t)(s.STS(dev).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("d3")}))
		mustIamd(t, s, admin, "revoke", "--user", "dev", "--undo")
		must[*sts.AssumeRoleOutput](t)(s.STS(devSession).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("d4")}))
	})
}

// TestLeakedKeyAndDeletedRoleScenarios are seed scenarios (b) and (c) with
// the AWS CLI, and what whois says about them.
func TestLeakedKeyAndDeletedRoleScenarios(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	t.Run("a leaked long-term key is deactivated and replaced", func(t *testing.T) {
		mustCLI(t, s, admin, "iam", "create-user", "--user-name", "ci")
		mustCLI(t, s, admin, "iam", "put-user-policy", "--user-name", "ci", "--policy-name", "p", "--policy-document", listUsersPolicy)
		old := credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", "ci"), "AccessKey")
		mustCLI(t, s, old, "iam", "list-users")
		mustCLI(t, s, admin, "iam", "update-access-key", "--user-name", "ci", "--access-key-id", old.KeyID, "--status", "Inactive")
		neu := credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", "ci"), "AccessKey")
		if _, code := cli(t, s, old, "iam", "list-users"); code != "InvalidClientTokenId" {
			t.Errorf("old key: got %q, want InvalidClientTokenId", code)
		}
		mustCLI(t, s, neu, "iam", "list-users")
		who := iamdJSON[icli.KeyDetails](t, s, admin, "whois", old.KeyID)
		if who.Type != "AccessKey" || who.UserName != "ci" || who.Status != "Inactive" || who.LastUsedDate == "" || who.CreateDate == "" {
			t.Errorf("whois of the deactivated key: got %+v", who)
		}
		mustCLI(t, s, admin, "iam", "update-access-key", "--user-name", "ci", "--access-key-id", old.KeyID, "--status", "Active")
		mustCLI(t, s, old, "iam", "list-users")
	})
	t.Run("a deleted role's sessions fail", func(t *testing.T) {
		arn := field(mustCLI(t, s, admin, "iam", "create-role", "--role-name", "gone", "--assume-role-policy-document", trustUsers("admin")), "Role", "Arn")
		sess := credsOf(mustCLI(t, s, admin, "sts", "assume-role", "--role-arn", arn, "--role-session-name", "xx"), "Credentials")
		mustCLI(t, s, sess, "sts", "get-caller-identity")
		mustCLI(t, s, admin, "iam", "delete-role", "--role-name", "gone")
		if _, code := cli(t, s, sess, "sts", "get-caller-identity"); code != "InvalidClientTokenId" {
			t.Errorf("session of a deleted role: got %q, want InvalidClientTokenId", code)
		}
	})
	t.Run("changing and detaching a role's policies applies to live sessions", func(t *testing.T) {
		arn := field(mustCLI(t, s, admin, "iam", "create-role", "--role-name", "live", "--assume-role-policy-document", trustUsers("admin")), "Role", "Arn")
		mustCLI(t, s, admin, "iam", "attach-role-policy", "--role-name", "live", "--policy-arn", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
		sess := credsOf(mustCLI(t, s, admin, "sts", "assume-role", "--role-arn", arn, "--role-session-name", "xx"), "Credentials")
		mustCLI(t, s, sess, "iam", "list-users")
		mustCLI(t, s, admin, "iam", "detach-role-policy", "--role-name", "live", "--policy-arn", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
		if _, code := cli(t, s, sess, "iam", "list-users"); code != "AccessDenied" {
			t.Errorf("after detaching: got %q, want AccessDenied", code)
		}
		mustCLI(t, s, admin, "iam", "put-role-policy", "--role-name", "live", "--policy-name", "p", "--policy-document", listUsersPolicy)
		mustCLI(t, s, sess, "iam", "list-users")
		mustCLI(t, s, admin, "iam", "put-role-policy", "--role-name", "live", "--policy-name", "p", "--policy-document",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)
		if _, code := cli(t, s, sess, "iam", "list-users"); code != "AccessDenied" {
			t.Errorf("after changing the policy: got %q, want AccessDenied", code)
		}
	})
}

type revocationResult struct {
	Revocation   icli.Revocation
	LiveSessions *int
}

// TestSurgicalRevocation: each way of selecting sessions denies exactly
// those, lists, and undoes.
func TestSurgicalRevocation(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	s := testserver.Start(t, testserver.WithNow(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	admin := testserver.Admin()
	a := s.IAM(admin)
	role := must[*iam.CreateRoleOutput](t)(a.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}]}`)}))
	must[*iam.PutRolePolicyOutput](t)(a.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read"), PolicyDocument: aws.String(listUsersPolicy)}))
	assume := func(name, source string) testserver.Creds {
		in := &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String(name)}
		if source != "" {
			in.SourceIdentity = aws.String(source)
		}
		return sessionCreds(must[*sts.AssumeRoleOutput](t)(s.STS(admin).AssumeRole(ctx, in)).Credentials)
	}
	works := func(c testserver.Creds) bool {
		_, err := s.IAM(c).ListUsers(ctx, &iam.ListUsersInput{})
		if err != nil && apiCode(err) != "AccessDenied" {
			t.Fatalf("ListUsers: %v", err)
		}
		return err == nil
	}
	rc := iamdClient(s, admin)
	rc.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	revoke := func(t *testing.T, p url.Values) revocationResult {
		t.Helper()
		var out revocationResult
		if err := rc.IAM(ctx, "RevokeSession", p, &out); err != nil {
			t.Fatalf("RevokeSession %v: %v", p, err)
		}
		return out
	}

	t.Run("by session name, only sessions issued before", func(t *testing.T) {
		a1, b1 := assume("alice", ""), assume("bob", "")
		out := revoke(t, url.Values{"RoleName": {"app"}, "RoleSessionName": {"alice"}})
		if out.LiveSessions == nil || *out.LiveSessions != 1 || out.Revocation.Type != "RoleSessionName" {
			t.Errorf("RevokeSession: got %+v", out)
		}
		a2 := assume("alice", "")
		if works(a1) || !works(b1) || !works(a2) {
			t.Errorf("old alice %v, bob %v, new alice %v: want false, true, true", works(a1), works(b1), works(a2))
		}
	})
	t.Run("by source identity, across sessions", func(t *testing.T) {
		x1, x2, y := assume("s1", "mallory"), assume("s2", "mallory"), assume("s3", "carol")
		revoke(t, url.Values{"SourceIdentity": {"mallory"}})
		if works(x1) || works(x2) || !works(y) {
			t.Errorf("mallory %v %v, carol %v: want false false true", works(x1), works(x2), works(y))
		}
	})
	t.Run("issued before a time, for the whole role", func(t *testing.T) {
		early := assume("early", "")
		time.Sleep(3 * time.Millisecond)
		cut := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(3 * time.Millisecond)
		late := assume("late", "")
		revoke(t, url.Values{"RoleName": {"app"}, "IssuedBefore": {cut}})
		if works(early) || !works(late) {
			t.Errorf("early %v late %v: want false true", works(early), works(late))
		}
	})
	t.Run("list, undo, and revoking twice is one entry", func(t *testing.T) {
		k := assume("twice", "")
		r1 := revoke(t, url.Values{"AccessKeyId": {k.KeyID}})
		r2 := revoke(t, url.Values{"AccessKeyId": {k.KeyID}})
		if r1.Revocation.RevocationId != r2.Revocation.RevocationId {
			t.Errorf("revoking twice: ids %s and %s, want one", r1.Revocation.RevocationId, r2.Revocation.RevocationId)
		}
		var list struct {
			Revocations []icli.Revocation `xml:"Revocations>member"`
		}
		if err := rc.IAM(ctx, "ListRevocations", url.Values{"RoleName": {"app"}}, &list); err != nil {
			t.Fatal(err)
		}
		// Not the source identity's, which names no role.
		if len(list.Revocations) != 3 {
			t.Errorf("ListRevocations: got %d entries, want 3: %+v", len(list.Revocations), list.Revocations)
		}
		if works(k) {
			t.Fatal("revoked session works")
		}
		if err := rc.IAM(ctx, "DeleteRevocation", url.Values{"RevocationId": {r1.Revocation.RevocationId}}, nil); err != nil {
			t.Fatal(err)
		}
		if !works(k) {
			t.Error("the session after its revocation was undone does not work")
		}
	})
	t.Run("entries expire by themselves with their sessions", func(t *testing.T) {
		k := assume("short", "")
		r := revoke(t, url.Values{"AccessKeyId": {k.KeyID}})
		offset.Store(int64(2 * time.Hour))
		defer offset.Store(0)
		var list struct {
			Revocations []icli.Revocation `xml:"Revocations>member"`
		}
		if err := rc.IAM(ctx, "ListRevocations", nil, &list); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Revocations {
			if e.RevocationId == r.Revocation.RevocationId {
				t.Errorf("a revocation of a session expired an hour ago is still listed: %+v", e)
			}
		}
		if err := s.App.Revoke.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.App.Revoke.Get(r.Revocation.RevocationId); ok {
			t.Error("Expire kept an entry whose session has expired")
		}
	})
	t.Run("bad input is a clear error and changes nothing", func(t *testing.T) {
		expiredKey := assume("soon", "").KeyID
		before := len(s.App.Revoke.List(""))
		for _, tc := range []struct {
			name   string
			action string
			params url.Values
			code   string
		}{
			{"an unknown session key", "RevokeSession", url.Values{"AccessKeyId": {"ASIAAAAAAAAAAAAAAAAA"}}, "NoSuchEntity"},
			{"a long-term key", "RevokeSession", url.Values{"AccessKeyId": {testserver.AdminKeyID}}, "InvalidInput"},
			{"a malformed time", "RevokeSession", url.Values{"RoleName": {"app"}, "IssuedBefore": {"yesterday"}}, "InvalidInput"},
			{"a time in the future", "RevokeSession", url.Values{"RoleName": {"app"}, "IssuedBefore": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, "InvalidInput"},
			{"a time too old to match any session", "RevokeSession", url.Values{"RoleName": {"app"}, "IssuedBefore": {"2001-01-01T00:00:00Z"}}, "InvalidInput"},
			{"an unknown role", "RevokeSession", url.Values{"RoleName": {"nope"}}, "NoSuchEntity"},
			{"a session name without its role", "RevokeSession", url.Values{"RoleSessionName": {"alice"}}, "MissingParameter"},
			{"a role and a user", "RevokeSession", url.Values{"RoleName": {"app"}, "UserName": {"admin"}}, "InvalidParameterCombination"},
			{"a key with a role", "RevokeSession", url.Values{"AccessKeyId": {expiredKey}, "RoleName": {"app"}}, "InvalidParameterCombination"},
			{"nothing", "RevokeSession", nil, "MissingParameter"},
			{"undoing what is not there", "DeleteRevocation", url.Values{"RevocationId": {"rv-0000000000000000"}}, "NoSuchEntity"},
			{"a malformed revocation id", "DeleteRevocation", url.Values{"RevocationId": {"nope"}}, "ValidationError"},
			{"whois of an unknown key", "GetAccessKeyDetails", url.Values{"AccessKeyId": {"AKIAAAAAAAAAAAAAAAAA"}}, "NoSuchEntity"},
			{"sessions of nobody", "ListSessions", nil, "MissingParameter"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := rc.IAM(ctx, tc.action, tc.params, nil)
				if got := icli.Code(err); got != tc.code {
					t.Errorf("got %v (code %q), want %s", err, got, tc.code)
				}
			})
		}
		offset.Store(int64(2 * time.Hour))
		err := rc.IAM(ctx, "RevokeSession", url.Values{"AccessKeyId": {expiredKey}}, nil)
		offset.Store(0)
		if got := icli.Code(err); got != "InvalidInput" {
			t.Errorf("revoking an expired session: got %v, want InvalidInput", err)
		}
		if after := len(s.App.Revoke.List("")); after != before {
			t.Errorf("bad input changed the revocations: %d before, %d after", before, after)
		}
	})
	t.Run("a caller without iam:RevokeSession is denied", func(t *testing.T) {
		low := newUser(t, s, "low", listUsersPolicy)
		err := iamdClient(s, low).IAM(ctx, "RevokeSession", url.Values{"RoleName": {"app"}}, nil)
		if icli.Code(err) != "AccessDenied" {
			t.Errorf("got %v, want AccessDenied", err)
		}
	})
}

// TestRevocationIsInForceWhenTheCallReturns hammers the server with a
// credential from 8 goroutines while it is revoked, and counts the
// requests that started after the revoking call returned and still
// succeeded: there must be none.
func TestRevocationIsInForceWhenTheCallReturns(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	a := s.IAM(admin)
	role := must[*iam.CreateRoleOutput](t)(a.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("busy"), AssumeRolePolicyDocument: aws.String(trustUsers("admin"))}))
	must[*iam.PutRolePolicyOutput](t)(a.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("read"), PolicyDocument: aws.String(listUsersPolicy)}))
	assume := func(name string) testserver.Creds {
		return sessionCreds(must[*sts.AssumeRoleOutput](t)(s.STS(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String(name)})).Credentials)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (creds testserver.Creds, revoke func())
	}{
		{"a session revoked by access key id", func(t *testing.T) (testserver.Creds, func()) {
			c := assume("kk")
			return c, func() {
				if err := iamdClient(s, admin).IAM(ctx, "RevokeSession", url.Values{"AccessKeyId": {c.KeyID}}, nil); err != nil {
					t.Error(err)
				}
			}
		}},
		{"a role revoked with AWSRevokeOlderSessions", func(t *testing.T) (testserver.Creds, func()) {
			c := assume("pp")
			return c, func() {
				_, err := a.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("AWSRevokeOlderSessions"),
					PolicyDocument: aws.String(icli.RevokePolicy(time.Now().Add(time.Millisecond)))})
				if err != nil {
					t.Error(err)
				}
			}
		}},
		{"a long-term key deactivated", func(t *testing.T) (testserver.Creds, func()) {
			c := newUser(t, s, "hammer", listUsersPolicy)
			return c, func() {
				_, err := a.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("hammer"), AccessKeyId: aws.String(c.KeyID), Status: "Inactive"})
				if err != nil {
					t.Error(err)
				}
			}
		}},
		{"a policy detached from a user", func(t *testing.T) (testserver.Creds, func()) {
			c := newUser(t, s, "hammer2", listUsersPolicy)
			return c, func() {
				if _, err := a.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("hammer2"), PolicyName: aws.String("inline")}); err != nil {
					t.Error(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds, revoke := tc.setup(t)
			client := s.IAM(creds)
			var (
				returned  atomic.Int64 // monotonic nanoseconds since base when the revoking call returned; 0 before
				base      = time.Now()
				before    atomic.Int64 // successes before the call returned
				leaked    atomic.Int64 // successes of requests started after it returned
				after     atomic.Int64 // requests started after it returned
				stop      = make(chan struct{})
				wg        sync.WaitGroup
				unexpects atomic.Int64
			)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						r := returned.Load()
						startedAfter := r != 0 && int64(time.Since(base)) > r
						_, err := client.ListUsers(context.Background(), &iam.ListUsersInput{})
						switch {
						case err == nil && startedAfter:
							leaked.Add(1)
						case err == nil:
							before.Add(1)
						case apiCode(err) != "AccessDenied" && apiCode(err) != "InvalidClientTokenId":
							unexpects.Add(1)
						}
						if startedAfter {
							after.Add(1)
						}
					}
				}()
			}
			for before.Load() < 50 {
				time.Sleep(time.Millisecond)
			}
			revoke()
			returned.Store(int64(time.Since(base)))
			for after.Load() < 400 {
				time.Sleep(time.Millisecond)
			}
			close(stop)
			wg.Wait()
			t.Logf("%d requests succeeded before the call returned; %d started after it, %d of them succeeded", before.Load(), after.Load(), leaked.Load())
			if leaked.Load() != 0 || unexpects.Load() != 0 {
				t.Errorf("%d requests that started after the call returned succeeded (%d unexpected errors); want 0", leaked.Load(), unexpects.Load())
			}
		})
	}
}
