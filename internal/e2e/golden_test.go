package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamd/iamd/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// rawCall sends a Query request signed for service, returning status and body.
func rawCall(t *testing.T, s *testserver.Server, c testserver.Creds, service, form string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c.KeyID != "" {
		sum := sha256.Sum256([]byte(form))
		if c.Token != "" {
			req.Header.Set("X-Amz-Security-Token", c.Token)
		}
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: c.KeyID, SecretAccessKey: c.Secret, SessionToken: c.Token},
			req, hex.EncodeToString(sum[:]), service, testserver.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("x-amzn-RequestId"); got == "" {
		t.Errorf("%s: no x-amzn-RequestId header", form)
	}
	return resp.StatusCode, string(b)
}

// normalize replaces what differs from run to run with stable placeholders.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "REQUEST-ID"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "TIMESTAMP"},
	{regexp.MustCompile(`\b(AIDA|AROA|AGPA|ANPA|AIPA)[A-Z0-9]{17}\b`), "${1}XXXXXXXXXXXXXXXXX"},
	{regexp.MustCompile(`\b(AKIA|ASIA)[A-Z2-7]{16}\b`), "${1}XXXXXXXXXXXXXXXX"},
	{regexp.MustCompile(`<SecretAccessKey>[^<]*</SecretAccessKey>`), "<SecretAccessKey>SECRET</SecretAccessKey>"},
	{regexp.MustCompile(`<SessionToken>[^<]*</SessionToken>`), "<SessionToken>TOKEN</SessionToken>"},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.repl)
	}
	return s
}

// TestWireResponsesMatchGoldenFiles pins the exact XML iamd answers with,
// success and error, so that a change to the wire shape is a visible diff.
func TestWireResponsesMatchGoldenFiles(t *testing.T) {
	s := testserver.Start(t)
	admin := testserver.Admin()
	trust := url.QueryEscape(trustUsers("admin"))
	inline := url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)
	steps := []struct {
		name    string
		service string
		creds   testserver.Creds
		form    string
	}{
		{"create-user", "iam", admin, "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=/team/&Tags.member.1.Key=team&Tags.member.1.Value=red"},
		{"get-user", "iam", admin, "Action=GetUser&Version=2010-05-08&UserName=alice"},
		{"get-user-missing", "iam", admin, "Action=GetUser&Version=2010-05-08&UserName=nobody"},
		{"create-user-exists", "iam", admin, "Action=CreateUser&Version=2010-05-08&UserName=ALICE"},
		{"create-user-invalid-name", "iam", admin, "Action=CreateUser&Version=2010-05-08&UserName=bad%20name"},
		{"list-users", "iam", admin, "Action=ListUsers&Version=2010-05-08&MaxItems=1"},
		{"create-access-key", "iam", admin, "Action=CreateAccessKey&Version=2010-05-08&UserName=alice"},
		{"list-access-keys", "iam", admin, "Action=ListAccessKeys&Version=2010-05-08&UserName=alice"},
		{"put-user-policy", "iam", admin, "Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=list&PolicyDocument=" + inline},
		{"get-user-policy", "iam", admin, "Action=GetUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=list"},
		{"put-user-policy-malformed", "iam", admin, "Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=bad&PolicyDocument=" + url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Action":"iam:ListUsers","Resource":"*"}]}`)},
		{"delete-user-conflict", "iam", admin, "Action=DeleteUser&Version=2010-05-08&UserName=alice"},
		{"create-role", "iam", admin, "Action=CreateRole&Version=2010-05-08&RoleName=ops&AssumeRolePolicyDocument=" + trust},
		{"get-role", "iam", admin, "Action=GetRole&Version=2010-05-08&RoleName=ops"},
		{"create-policy", "iam", admin, "Action=CreatePolicy&Version=2010-05-08&PolicyName=readers&PolicyDocument=" + inline},
		{"get-policy-version", "iam", admin, "Action=GetPolicyVersion&Version=2010-05-08&PolicyArn=arn:aws:iam::000000000000:policy/readers&VersionId=v1"},
		{"invalid-action", "iam", admin, "Action=FlyToTheMoon&Version=2010-05-08"},
		{"missing-action", "iam", admin, "Version=2010-05-08"},
		{"unsigned", "iam", testserver.Creds{}, "Action=ListUsers&Version=2010-05-08"},
		{"wrong-secret", "iam", testserver.Creds{KeyID: testserver.AdminKeyID, Secret: "nope"}, "Action=ListUsers&Version=2010-05-08"},
		{"get-caller-identity", "sts", admin, "Action=GetCallerIdentity&Version=2011-06-15"},
		{"assume-role", "sts", admin, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/ops&RoleSessionName=golden"},
		{"get-session-token", "sts", admin, "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900"},
		{"assume-role-bad-duration", "sts", admin, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/ops&RoleSessionName=golden&DurationSeconds=60"},
	}
	for _, st := range steps {
		status, body := rawCall(t, s, st.creds, st.service, st.form)
		got := fmt.Sprintf("HTTP %d\n%s\n", status, normalize(body))
		path := filepath.Join("testdata", "golden", st.name+".xml")
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./internal/e2e -run Golden -update)", st.name, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s: response differs from %s\ngot:\n%s\nwant:\n%s", st.name, path, got, want)
		}
	}
}
