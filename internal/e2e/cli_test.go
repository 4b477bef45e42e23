package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/testserver"
)

// The scenario suite drives iamd with the AWS CLI v2 (Debian's awscli at
// /usr/bin/aws; the pip-installed v1 earlier on PATH is the fallback) and
// boto3, the clients iamd's users run.

func awsCLI(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed (.ci/run installs Debian's awscli)")
	}
	return p
}

// clientEnv is a clean environment for an AWS client: no config files, no
// instance metadata lookups, the given credentials.
func clientEnv(t *testing.T, c testserver.Creds) []string {
	home := t.TempDir()
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
		"AWS_ACCESS_KEY_ID=" + c.KeyID, "AWS_SECRET_ACCESS_KEY=" + c.Secret,
	}
	if c.Token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.Token)
	}
	return env
}

// cli runs the AWS CLI and returns its decoded JSON output, or the error
// code it reported.
func cli(t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) (map[string]any, string) {
	t.Helper()
	cmd := exec.Command(awsCLI(t), append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
	cmd.Env = clientEnv(t, c)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		if i := strings.Index(msg, "An error occurred ("); i >= 0 {
			code := msg[i+len("An error occurred ("):]
			return nil, code[:strings.IndexByte(code, ')')]
		}
		t.Fatalf("aws %v: %v\n%s", args, err, msg)
	}
	out := map[string]any{}
	if strings.TrimSpace(stdout.String()) != "" {
		if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
			t.Fatalf("aws %v: output is not JSON: %v\n%s", args, err, stdout.String())
		}
	}
	return out, ""
}

func mustCLI(t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) map[string]any {
	t.Helper()
	out, code := cli(t, s, c, args...)
	if code != "" {
		t.Fatalf("aws %v: %s", args, code)
	}
	return out
}

func field(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func credsOf(out map[string]any, key string) testserver.Creds {
	return testserver.Creds{KeyID: field(out, key, "AccessKeyId"), Secret: field(out, key, "SecretAccessKey"), Token: field(out, key, "SessionToken")}
}

// TestLeakedSessionScenarioWithTheAWSCLI is the seed scenario: role
// ExampleRole trusts julie and emy, not bob; emy's session leaks; the
// console's revoke-sessions policy stops every session issued before it,
// and a new session works.
func TestLeakedSessionScenarioWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	keys := map[string]testserver.Creds{}
	for _, u := range []string{"bob", "julie", "emy"} {
		mustCLI(t, s, admin, "iam", "create-user", "--user-name", u)
		keys[u] = credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", u), "AccessKey")
	}
	mustCLI(t, s, admin, "iam", "put-user-policy", "--user-name", "bob", "--policy-name", "assume",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	role := mustCLI(t, s, admin, "iam", "create-role", "--role-name", "ExampleRole", "--assume-role-policy-document", trustUsers("julie", "emy"))
	roleARN := field(role, "Role", "Arn")
	if roleARN != "arn:aws:iam::000000000000:role/ExampleRole" {
		t.Fatalf("role ARN: got %q", roleARN)
	}
	mustCLI(t, s, admin, "iam", "put-role-policy", "--role-name", "ExampleRole", "--policy-name", "read",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetRole"],"Resource":"*"}]}`)
	got := mustCLI(t, s, admin, "iam", "get-role-policy", "--role-name", "ExampleRole", "--policy-name", "read")
	if doc, ok := got["PolicyDocument"].(map[string]any); !ok || doc["Version"] != "2012-10-17" {
		t.Errorf("get-role-policy: the CLI did not decode the document: %v", got["PolicyDocument"])
	}

	if _, code := cli(t, s, keys["bob"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "bob"); code != "AccessDenied" {
		t.Errorf("bob assuming the role: got %q, want AccessDenied", code)
	}
	emy := credsOf(mustCLI(t, s, keys["emy"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "emy"), "Credentials")
	julie := credsOf(mustCLI(t, s, keys["julie"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "julie"), "Credentials")
	outsider := emy // the leak
	if id := mustCLI(t, s, outsider, "sts", "get-caller-identity"); field(id, "Arn") != "arn:aws:sts::000000000000:assumed-role/ExampleRole/emy" {
		t.Errorf("leaked session identity: got %v", id)
	}
	mustCLI(t, s, outsider, "iam", "list-users")
	mustCLI(t, s, julie, "iam", "list-users")

	time.Sleep(10 * time.Millisecond)
	cut := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	time.Sleep(10 * time.Millisecond)
	mustCLI(t, s, admin, "iam", "put-role-policy", "--role-name", "ExampleRole", "--policy-name", "AWSRevokeOlderSessions",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"`+cut+`"}}}]}`)
	if _, code := cli(t, s, outsider, "iam", "list-users"); code != "AccessDenied" {
		t.Errorf("leaked session after revocation: got %q, want AccessDenied", code)
	}
	if _, code := cli(t, s, julie, "iam", "list-users"); code != "AccessDenied" {
		t.Errorf("julie's old session after revocation: got %q, want AccessDenied", code)
	}
	fresh := credsOf(mustCLI(t, s, keys["julie"], "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "julie2"), "Credentials")
	mustCLI(t, s, fresh, "iam", "list-users")
}

func TestLeakedLongTermKeyScenarioWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	mustCLI(t, s, admin, "iam", "create-user", "--user-name", "ci")
	old := credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", "ci"), "AccessKey")
	mustCLI(t, s, old, "sts", "get-caller-identity")
	mustCLI(t, s, admin, "iam", "update-access-key", "--user-name", "ci", "--access-key-id", old.KeyID, "--status", "Inactive")
	neu := credsOf(mustCLI(t, s, admin, "iam", "create-access-key", "--user-name", "ci"), "AccessKey")
	if _, code := cli(t, s, old, "sts", "get-caller-identity"); code != "InvalidClientTokenId" {
		t.Errorf("deactivated key: got %q, want InvalidClientTokenId", code)
	}
	mustCLI(t, s, neu, "sts", "get-caller-identity")
	if _, code := cli(t, s, admin, "iam", "create-access-key", "--user-name", "ci"); code != "LimitExceeded" {
		t.Errorf("third key: got %q, want LimitExceeded", code)
	}
	keys := mustCLI(t, s, admin, "iam", "list-access-keys", "--user-name", "ci")
	if n := len(keys["AccessKeyMetadata"].([]any)); n != 2 {
		t.Errorf("list-access-keys: got %d keys, want 2", n)
	}
}

// TestBoto3 runs a boto3 script against the server.
func TestBoto3(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 not installed (.ci/run installs python3-boto3)")
	}
	s := testserver.Start(t)
	script := `
import sys, boto3, botocore
url = sys.argv[1]
iam = boto3.client("iam", endpoint_url=url)
sts = boto3.client("sts", endpoint_url=url)
iam.create_user(UserName="py", Tags=[{"Key": "team", "Value": "red"}])
assert iam.get_user(UserName="py")["User"]["Tags"] == [{"Key": "team", "Value": "red"}]
iam.create_role(RoleName="pyrole", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":"sts:AssumeRole"}]}')
doc = iam.get_role(RoleName="pyrole")["Role"]["AssumeRolePolicyDocument"]
assert doc["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::000000000000:user/admin", doc
c = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/pyrole", RoleSessionName="py-session", DurationSeconds=900)["Credentials"]
s2 = boto3.client("sts", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
assert s2.get_caller_identity()["Arn"] == "arn:aws:sts::000000000000:assumed-role/pyrole/py-session"
i2 = boto3.client("iam", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
try:
    i2.list_users()
    raise SystemExit("list_users with no permission succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDenied", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
try:
    iam.get_user(UserName="nobody")
except iam.exceptions.NoSuchEntityException as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
else:
    raise SystemExit("get_user of a missing user succeeded")
users = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1}) for u in p["Users"]]
assert users == ["admin", "py"], users
print("ok")
`
	cmd := exec.Command(py, "-c", script, s.URL)
	cmd.Env = clientEnv(t, testserver.Admin())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3 scenario: %v\n%s", err, out)
	}
}
