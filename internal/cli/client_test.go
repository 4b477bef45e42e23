package cli

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
)

func TestEndpointResolution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"without flag or variable it is the default", nil, nil, "http://127.0.0.1:8750/"},
		{"IAMD_ENDPOINT_URL replaces the default", map[string]string{"IAMD_ENDPOINT_URL": "http://env.example:9000"}, nil, "http://env.example:9000/"},
		{"--endpoint-url wins over IAMD_ENDPOINT_URL", map[string]string{"IAMD_ENDPOINT_URL": "http://env.example:9000"},
			[]string{"--endpoint-url", "http://flag.example:9001"}, "http://flag.example:9001/"},
		{"a trailing slash on the variable is dropped", map[string]string{"IAMD_ENDPOINT_URL": "http://env.example:9000/"}, nil, "http://env.example:9000/"},
		{"a trailing slash on the flag is dropped", nil, []string{"--endpoint-url", "http://flag.example:9001//"}, "http://flag.example:9001/"},
	}
	for _, tt := range tests {
		t.Run("sessions: "+tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(map[string]reply{"ListSessions": {body: noSessions}})
			if _, _, err := run(t, a.client(), tt.env, "sessions", append([]string{"--role", "app"}, tt.args...)...); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := a.requests()[0].URL; got != tt.want {
				t.Errorf("got request to %s, want %s", got, tt.want)
			}
		})
		// audit lookup resolves the endpoint itself, for the SDK's client.
		if strings.Contains(tt.name, "trailing slash") {
			continue
		}
		t.Run("audit lookup: "+tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(map[string]reply{"LookupEvents": {body: noEvents}})
			if _, _, err := run(t, a.client(), tt.env, "audit", append([]string{"lookup"}, tt.args...)...); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := a.requests()[0].URL; got != tt.want {
				t.Errorf("got request to %s, want %s", got, tt.want)
			}
		})
	}
}

// signedBy returns the access key id and the credential scope of a
// SigV4 Authorization header.
func signedBy(t *testing.T, r gotRequest) (keyID, scope string) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		t.Fatalf("Authorization: got %q, want a SigV4 signature", auth)
	}
	cred, _, _ = strings.Cut(cred, ",")
	keyID, scope, _ = strings.Cut(cred, "/")
	return keyID, scope
}

// writeAWSFiles writes a shared credentials file (and config, if given)
// under a fresh HOME, and points the SDK at them (see TestMain).
func writeAWSFiles(t *testing.T, creds, config string) {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if config != "" {
		if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	setAWSFiles(home, func(k, v string) error { t.Setenv(k, v); return nil })
}

const sharedCredentials = `[default]
aws_access_key_id = AKIADEFAULTPROFILE01
aws_secret_access_key = default-profile-secret

[ops]
aws_access_key_id = AKIAOPSPROFILE000001
aws_secret_access_key = ops-profile-secret
aws_session_token = ops-profile-token
`

const sharedConfig = `[profile ops]
region = eu-west-3
`

// Credential tests change the process environment (the SDK reads it, not
// Env), so they do not run in parallel.
func TestCredentialLoading(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string // process environment; "" unsets
		files     bool              // write sharedCredentials and sharedConfig under HOME
		args      []string
		wantKey   string
		wantScope string
		wantToken string
	}{
		{
			name:    "keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT1"},
			wantKey: "AKIAFROMENVIRONMENT1", wantScope: "us-east-1/iam/aws4_request",
		},
		{
			name:    "AWS_SESSION_TOKEN is sent as the security token",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "ASIAFROMENVIRONMENT1", "AWS_SESSION_TOKEN": "env-session-token"},
			wantKey: "ASIAFROMENVIRONMENT1", wantScope: "us-east-1/iam/aws4_request", wantToken: "env-session-token",
		},
		{
			name:    "AWS_REGION sets the region signed for",
			env:     map[string]string{"AWS_REGION": "ap-south-1"},
			wantKey: testKeyID, wantScope: "ap-south-1/iam/aws4_request",
		},
		{
			name:    "--region wins over AWS_REGION",
			env:     map[string]string{"AWS_REGION": "ap-south-1"},
			args:    []string{"--region", "sa-east-1"},
			wantKey: testKeyID, wantScope: "sa-east-1/iam/aws4_request",
		},
		{
			name:    "without keys in the environment the default profile is used",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			files:   true,
			wantKey: "AKIADEFAULTPROFILE01", wantScope: "us-east-1/iam/aws4_request",
		},
		{
			name:    "AWS_PROFILE picks the profile, its token and its region",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "ops"},
			files:   true,
			wantKey: "AKIAOPSPROFILE000001", wantScope: "eu-west-3/iam/aws4_request", wantToken: "ops-profile-token",
		},
		{
			name:    "keys in the environment win over AWS_PROFILE, as with the AWS CLI",
			env:     map[string]string{"AWS_PROFILE": "ops"},
			files:   true,
			wantKey: testKeyID, wantScope: "eu-west-3/iam/aws4_request",
		},
		{
			name:    "--profile wins over keys in the environment",
			files:   true,
			args:    []string{"--profile", "ops"},
			wantKey: "AKIAOPSPROFILE000001", wantScope: "eu-west-3/iam/aws4_request", wantToken: "ops-profile-token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
				if v == "" {
					os.Unsetenv(k)
				}
			}
			if tt.files {
				writeAWSFiles(t, sharedCredentials, sharedConfig)
			}
			a := newAPI(map[string]reply{"ListSessions": {body: noSessions}})
			if _, _, err := run(t, a.client(), nil, "sessions", append([]string{"--role", "app"}, tt.args...)...); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			r := a.requests()[0]
			key, scope := signedBy(t, r)
			if key != tt.wantKey {
				t.Errorf("signed with key %s, want %s", key, tt.wantKey)
			}
			if !strings.HasSuffix(scope, tt.wantScope) {
				t.Errorf("credential scope: got %s, want …/%s", scope, tt.wantScope)
			}
			if got := r.Header.Get("X-Amz-Security-Token"); got != tt.wantToken {
				t.Errorf("X-Amz-Security-Token: got %q, want %q", got, tt.wantToken)
			}
		})
	}
}

func TestCredentialErrors(t *testing.T) {
	t.Run("a profile that does not exist is an error before any request", func(t *testing.T) {
		writeAWSFiles(t, sharedCredentials, "")
		_, _, err := run(t, noNetwork(t), nil, "sessions", "--role", "app", "--profile", "nosuch")
		if err == nil || !strings.Contains(err.Error(), "nosuch") {
			t.Errorf("got error %v, want one naming the profile nosuch", err)
		}
	})
	t.Run("no credentials anywhere is an error before any request", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		os.Unsetenv("AWS_ACCESS_KEY_ID")
		os.Unsetenv("AWS_SECRET_ACCESS_KEY")
		home := t.TempDir()
		t.Setenv("HOME", home)
		setAWSFiles(home, func(k, v string) error { t.Setenv(k, v); return nil })
		_, _, err := run(t, noNetwork(t), nil, "sessions", "--role", "app")
		if err == nil || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("got error %v, want one about credentials", err)
		}
	})
}

func TestNoSecretIsEverPrinted(t *testing.T) {
	const token = "TOKENsentinel-session-token-do-not-print"
	t.Setenv("AWS_SESSION_TOKEN", token)
	replies := map[string]reply{
		"ListSessions":        {body: oneSession},
		"ListRevocations":     {body: noRevocations},
		"GetAccessKeyDetails": {body: keyDetails},
		"LookupEvents":        {body: noEvents},
		"PutRolePolicy":       {body: `<PutRolePolicyResponse/>`},
		"DescribeInstances":   {body: someInstances},
		"GetInstanceProfile":  {body: webProfile},
	}
	denied := map[string]reply{
		"ListSessions": {status: 403, body: `<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>` +
			`<Message>The request signature we calculated does not match</Message></Error></ErrorResponse>`},
	}
	tests := []struct {
		name    string
		replies map[string]reply
		cmd     string
		args    []string
	}{
		{"sessions as a table", replies, "sessions", []string{"--role", "app"}},
		{"sessions as JSON", replies, "sessions", []string{"--role", "app", "--output", "json"}},
		{"revoke of a role", replies, "revoke", []string{"--role", "app"}},
		{"revoke --list", replies, "revoke", []string{"--list", "--output", "json"}},
		{"whois", replies, "whois", []string{"AKIAEXAMPLE"}},
		{"respond --dry-run", replies, "respond", []string{"AKIAEXAMPLE", "--dry-run"}},
		{"respond --dry-run as JSON", replies, "respond", []string{"AKIAEXAMPLE", "--dry-run", "--output", "json"}},
		{"instances", replies, "instances", nil},
		{"audit lookup", replies, "audit", []string{"lookup", "--output", "json"}},
		{"a command the server refuses", denied, "sessions", []string{"--role", "app"}},
		{"a usage error", replies, "revoke", []string{"--bogus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" shows neither the secret key nor the session token", func(t *testing.T) {
			a := newAPI(tt.replies)
			url := a.serve(t)
			stdout, stderr, err := run(t, nil, nil, tt.cmd, append(tt.args, "--endpoint-url", url)...)
			printed := stdout + "\n" + stderr
			if err != nil {
				printed += "\n" + err.Error()
			}
			for _, secret := range []string{testSecret, token} {
				if strings.Contains(printed, secret) {
					t.Errorf("output contains the secret %q:\n%s", secret, printed)
				}
			}
			for _, r := range a.requests() {
				// Real secrets hold / and +, which a form body encodes.
				sent := r.Body + " " + r.URL
				for k, vs := range r.Form {
					sent += " " + k + "=" + strings.Join(vs, ",")
				}
				if strings.Contains(sent, testSecret) || strings.Contains(sent, token) {
					t.Errorf("%s request carries a secret in its URL or body", r.Action)
				}
				for k, vs := range r.Header {
					for _, v := range vs {
						if strings.Contains(v, testSecret) {
							t.Errorf("%s request header %s carries the secret key", r.Action, k)
						}
						if strings.Contains(v, token) && k != "X-Amz-Security-Token" {
							t.Errorf("%s request header %s carries the session token", r.Action, k)
						}
					}
				}
			}
		})
	}
}

// staticClient is a Client with fixed credentials against a.
func staticClient(t *testing.T, a *api) *Client {
	creds := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	return NewClient(a.serve(t)+"/", "us-west-2", creds, nil)
}

func TestEachProtocolIsSignedAndSentItsWay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		call        func(context.Context, *Client) error
		wantScope   string
		wantType    string
		wantTarget  string
		wantForm    url.Values
		wantPayload string // JSON body, for JSON calls
	}{
		{
			name: "an IAM call is a form with Action and Version, signed for iam",
			call: func(ctx context.Context, cl *Client) error {
				return cl.IAM(ctx, "ListSessions", url.Values{"RoleName": {"app"}}, nil)
			},
			wantScope: "us-west-2/iam/aws4_request", wantType: "application/x-www-form-urlencoded; charset=utf-8",
			wantForm: url.Values{"Action": {"ListSessions"}, "Version": {IAMVersion}, "RoleName": {"app"}},
		},
		{
			name: "an STS call is signed for sts at its own version",
			call: func(ctx context.Context, cl *Client) error {
				return cl.Query(ctx, "sts", STSVersion, "GetCallerIdentity", nil, nil)
			},
			wantScope: "us-west-2/sts/aws4_request", wantType: "application/x-www-form-urlencoded; charset=utf-8",
			wantForm: url.Values{"Action": {"GetCallerIdentity"}, "Version": {STSVersion}},
		},
		{
			name: "an EC2 call is a form signed for ec2 at EC2's version",
			call: func(ctx context.Context, cl *Client) error {
				return cl.EC2(ctx, "DescribeInstances", url.Values{"InstanceId.1": {"i-1"}}, nil)
			},
			wantScope: "us-west-2/ec2/aws4_request", wantType: "application/x-www-form-urlencoded; charset=utf-8",
			wantForm: url.Values{"Action": {"DescribeInstances"}, "Version": {EC2Version}, "InstanceId.1": {"i-1"}},
		},
		{
			name: "a JSON call names its target in X-Amz-Target and is signed for its service",
			call: func(ctx context.Context, cl *Client) error {
				return cl.JSON(ctx, "cloudtrail", cloudTrailTarget+"LookupEvents", map[string]int{"MaxResults": 5}, nil)
			},
			wantScope: "us-west-2/cloudtrail/aws4_request", wantType: "application/x-amz-json-1.1",
			wantTarget: cloudTrailTarget + "LookupEvents", wantPayload: `{"MaxResults":5}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(map[string]reply{"ListSessions": {}, "GetCallerIdentity": {}, "DescribeInstances": {}, "LookupEvents": {}})
			if err := tt.call(context.Background(), staticClient(t, a)); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			r := a.requests()[0]
			if r.URL != "/" {
				t.Errorf("path: got %q, want /", r.URL)
			}
			key, scope := signedBy(t, r)
			if key != testKeyID || !strings.HasSuffix(scope, tt.wantScope) {
				t.Errorf("credential: got %s/%s, want %s/…/%s", key, scope, testKeyID, tt.wantScope)
			}
			if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" {
				t.Errorf("X-Amz-Content-Sha256: got %q, want none (the payload hash is only signed)", got)
			}
			if got := r.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if got := r.Header.Get("X-Amz-Target"); got != tt.wantTarget {
				t.Errorf("X-Amz-Target: got %q, want %q", got, tt.wantTarget)
			}
			if tt.wantForm != nil {
				if diff := cmp.Diff(tt.wantForm, r.Form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			} else if r.Body != tt.wantPayload {
				t.Errorf("body: got %s, want %s", r.Body, tt.wantPayload)
			}
		})
	}
}

func TestEachProtocolDecodesItsErrors(t *testing.T) {
	t.Parallel()
	iam := func(ctx context.Context, cl *Client) error { return cl.IAM(ctx, "GetRole", nil, nil) }
	ec2 := func(ctx context.Context, cl *Client) error { return cl.EC2(ctx, "DescribeInstances", nil, nil) }
	js := func(ctx context.Context, cl *Client) error {
		return cl.JSON(ctx, "cloudtrail", cloudTrailTarget+"LookupEvents", struct{}{}, nil)
	}
	tests := []struct {
		name   string
		action string
		reply  reply
		call   func(context.Context, *Client) error
		want   *APIError
	}{
		{
			name: "an IAM error carries its code, message and request id", action: "GetRole", call: iam,
			reply: reply{404, `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>role app not found</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
			want:  &APIError{StatusCode: 404, Code: "NoSuchEntity", Message: "role app not found", RequestID: "req-1"},
		},
		{
			name: "an EC2 error is read from Response/Errors/Error", action: "DescribeInstances", call: ec2,
			reply: reply{400, `<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>no i-1</Message></Error></Errors><RequestID>req-2</RequestID></Response>`},
			want:  &APIError{StatusCode: 400, Code: "InvalidInstanceID.NotFound", Message: "no i-1", RequestID: "req-2"},
		},
		{
			name: "a JSON error's code is the part of __type after #", action: "LookupEvents", call: js,
			reply: reply{400, `{"__type":"com.amazonaws#InvalidLookupAttributesException","message":"bad attribute"}`},
			want:  &APIError{StatusCode: 400, Code: "InvalidLookupAttributesException", Message: "bad attribute"},
		},
		{
			name: "an IAM answer that is not XML keeps the HTTP status and the body", action: "GetRole", call: iam,
			reply: reply{502, "upstream gone\n"},
			want:  &APIError{StatusCode: 502, Code: "Bad Gateway", Message: "upstream gone"},
		},
		{
			name: "an EC2 answer in IAM's dialect is not mistaken for EC2's", action: "DescribeInstances", call: ec2,
			reply: reply{503, `<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>`},
			want:  &APIError{StatusCode: 503, Code: "Service Unavailable", Message: `<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>`},
		},
		{
			name: "a JSON answer without __type keeps the HTTP status and the body", action: "LookupEvents", call: js,
			reply: reply{500, `{"oops":true}`},
			want:  &APIError{StatusCode: 500, Code: "Internal Server Error", Message: `{"oops":true}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(map[string]reply{tt.action: tt.reply})
			err := tt.call(context.Background(), staticClient(t, a))
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("got error %v, want an *APIError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransportErrorsNameTheAction(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})}
	cl := NewClient("http://127.0.0.1:1", "us-east-1", creds, hc)
	err := cl.IAM(context.Background(), "ListSessions", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "ListSessions: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("got %v, want ListSessions: … connection refused", err)
	}
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("expired")
	})
	err = NewClient("http://127.0.0.1:1", "us-east-1", failing, hc).EC2(context.Background(), "DescribeInstances", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "AWS credentials: ") {
		t.Errorf("got %v, want AWS credentials: …", err)
	}
}
