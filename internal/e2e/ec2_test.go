package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testserver"
)

// EC2 instances and their metadata service, driven by aws-sdk-go-v2's EC2
// client, its IMDS credential provider and boto3.

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// instanceWorld is a server with roles in instance profiles.
type instanceWorld struct {
	s   *testserver.Server
	ec2 *ec2.Client
	iam *iam.Client
}

func newInstanceWorld(t testing.TB) *instanceWorld {
	t.Helper()
	s := testserver.Start(t)
	w := &instanceWorld{s: s, ec2: ec2.NewFromConfig(s.Config(testserver.Admin())), iam: s.IAM(testserver.Admin())}
	return w
}

// role creates a role (with trust) that may list users and read objects,
// in a profile of the same name.
func (w *instanceWorld) role(t testing.TB, name, trust string) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetRole","s3:GetObject"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// run launches one instance with the profile and returns it.
func (w *instanceWorld) run(t testing.TB, profile string, tokens ec2types.HttpTokensState) ec2types.Instance {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}}
	if profile != "" {
		in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)}
	}
	if tokens != "" {
		in.MetadataOptions = &ec2types.InstanceMetadataOptionsRequest{HttpTokens: tokens}
	}
	out, err := w.ec2.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("RunInstances: got %d instances, want 1", len(out.Instances))
	}
	return out.Instances[0]
}

func endpointOf(t testing.TB, in ec2types.Instance) string {
	t.Helper()
	for _, tag := range in.Tags {
		if aws.ToString(tag.Key) == "iamd:imds-endpoint" {
			return aws.ToString(tag.Value)
		}
	}
	t.Fatalf("instance %s has no iamd:imds-endpoint tag: %+v", aws.ToString(in.InstanceId), in.Tags)
	return ""
}

// imdsCreds fetches the instance's credentials the way aws-sdk-go-v2 does
// on an instance: a fresh provider, so nothing is cached.
func imdsCreds(endpoint string) (aws.Credentials, error) {
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = imds.New(imds.Options{Endpoint: endpoint, Retryer: aws.NopRetryer{}})
	})
	return p.Retrieve(context.Background())
}

func credsFrom(c aws.Credentials) testserver.Creds {
	return testserver.Creds{KeyID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken}
}

func callerARN(t *testing.T, s *testserver.Server, c testserver.Creds) string {
	t.Helper()
	out, err := s.STS(c).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return aws.ToString(out.Arn)
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// get fetches an IMDS path, with a token when tok is not empty.
func get(t *testing.T, endpoint, path, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, endpoint+path, nil)
	if tok != "" {
		req.Header.Set("X-aws-ec2-metadata-token", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func putToken(t testing.TB, endpoint, ttl string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, endpoint+"/latest/api/token", nil)
	if ttl != "" {
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", ttl)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestInstanceRoleCredentialsReachTheSDKThroughTheMetadataService(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	in := w.run(t, "app", "")
	id := aws.ToString(in.InstanceId)
	ep := endpointOf(t, in)

	t.Run("RunInstances reports a pending instance with its profile and metadata options", func(t *testing.T) {
		if in.State.Name != ec2types.InstanceStateNamePending || aws.ToInt32(in.State.Code) != 0 {
			t.Errorf("got state %v/%d, want pending/0", in.State.Name, aws.ToInt32(in.State.Code))
		}
		if !strings.HasPrefix(id, "i-") || len(id) != 19 {
			t.Errorf("got instance id %q, want i- and 17 hex digits", id)
		}
		if in.IamInstanceProfile == nil || aws.ToString(in.IamInstanceProfile.Arn) != "arn:aws:iam::000000000000:instance-profile/app" {
			t.Errorf("got profile %+v, want the app profile", in.IamInstanceProfile)
		}
		if in.MetadataOptions == nil || in.MetadataOptions.HttpTokens != ec2types.HttpTokensStateOptional {
			t.Errorf("got metadata options %+v, want tokens optional", in.MetadataOptions)
		}
	})

	t.Run("DescribeInstances finds it by id and by state filter", func(t *testing.T) {
		for _, in := range []*ec2.DescribeInstancesInput{
			{InstanceIds: []string{id}},
			{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}},
			{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"w*"}}}},
		} {
			out, err := w.ec2.DescribeInstances(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
				t.Fatalf("got %+v, want one reservation with one instance", out.Reservations)
			}
			got := out.Reservations[0].Instances[0]
			if aws.ToString(got.InstanceId) != id || got.State.Name != ec2types.InstanceStateNameRunning || endpointOf(t, got) != ep {
				t.Errorf("got %s in %s at %s, want %s running at %s", aws.ToString(got.InstanceId), got.State.Name, endpointOf(t, got), id, ep)
			}
		}
		out, err := w.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped"}}}})
		if err != nil || len(out.Reservations) != 0 {
			t.Errorf("got %v, %v, want no stopped instance", out, err)
		}
	})

	t.Run("the SDK's IMDS provider gets a session of the role named after the instance", func(t *testing.T) {
		c, err := imdsCreds(ep)
		if err != nil {
			t.Fatalf("ec2rolecreds: %v", err)
		}
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") || !c.CanExpire {
			t.Errorf("got key %s (expires %v), want temporary credentials", c.AccessKeyID, c.CanExpire)
		}
		want := "arn:aws:sts::000000000000:assumed-role/app/" + id
		if got := callerARN(t, w.s, credsFrom(c)); got != want {
			t.Errorf("got caller %s, want %s", got, want)
		}
		again, _ := imdsCreds(ep)
		if again.AccessKeyID != c.AccessKeyID {
			t.Errorf("got a new session %s on the second fetch, want the same %s until rotation", again.AccessKeyID, c.AccessKeyID)
		}
	})

	t.Run("the credential document has AWS's fields and second-precision times", func(t *testing.T) {
		code, body := get(t, ep, "/latest/meta-data/iam/security-credentials/", "")
		if code != 200 || body != "app" {
			t.Fatalf("role list: got %d %q, want 200 app", code, body)
		}
		code, body = get(t, ep, "/latest/meta-data/iam/security-credentials/app", "")
		var doc map[string]string
		if code != 200 || json.Unmarshal([]byte(body), &doc) != nil {
			t.Fatalf("credentials: got %d %s", code, body)
		}
		if doc["Code"] != "Success" || doc["Type"] != "AWS-HMAC" || doc["Token"] == "" {
			t.Errorf("got %v, want Code Success, Type AWS-HMAC and a token", doc)
		}
		if _, err := time.Parse("2006-01-02T15:04:05Z", doc["Expiration"]); err != nil || len(doc["Expiration"]) != 20 {
			t.Errorf("got Expiration %q, want %%Y-%%m-%%dT%%H:%%M:%%SZ", doc["Expiration"])
		}
		code, body = get(t, ep, "/latest/meta-data/iam/info", "")
		if code != 200 || !strings.Contains(body, `"InstanceProfileArn": "arn:aws:iam::000000000000:instance-profile/app"`) {
			t.Errorf("info: got %d %s", code, body)
		}
		if code, body = get(t, ep, "/latest/meta-data/instance-id", ""); code != 200 || body != id {
			t.Errorf("instance-id: got %d %q, want %s", code, body, id)
		}
		if code, _ = get(t, ep, "/latest/meta-data/iam/security-credentials/other", ""); code != 404 {
			t.Errorf("another role's credentials: got %d, want 404", code)
		}
	})

	t.Run("stopping takes the endpoint down and starting serves a new session", func(t *testing.T) {
		before, err := imdsCreds(ep)
		if err != nil {
			t.Fatal(err)
		}
		stop, err := w.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if st := stop.StoppingInstances[0]; st.PreviousState.Name != "running" || st.CurrentState.Name != "stopping" {
			t.Errorf("got %s → %s, want running → stopping", st.PreviousState.Name, st.CurrentState.Name)
		}
		if code, body := get(t, ep, "/latest/meta-data/instance-id", ""); code != 0 {
			t.Errorf("stopped instance's endpoint answered %d %q, want no connection", code, body)
		}
		if _, err := imdsCreds(ep); err == nil {
			t.Error("the SDK got credentials from a stopped instance")
		}
		if _, err := w.ec2.StartInstances(context.Background(), &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		after, err := imdsCreds(ep)
		if err != nil {
			t.Fatalf("after start: %v", err)
		}
		if after.AccessKeyID == before.AccessKeyID {
			t.Errorf("got the same session %s after stop/start, want a new one", after.AccessKeyID)
		}
	})

	t.Run("disassociating the profile leaves no credentials and replacing serves the new role", func(t *testing.T) {
		w.role(t, "other", ec2Trust)
		as, err := w.ec2.DescribeIamInstanceProfileAssociations(context.Background(), &ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
		if err != nil || len(as.IamInstanceProfileAssociations) != 1 {
			t.Fatalf("got %v, %v, want one association", as, err)
		}
		assoc := aws.ToString(as.IamInstanceProfileAssociations[0].AssociationId)
		rep, err := w.ec2.ReplaceIamInstanceProfileAssociation(context.Background(), &ec2.ReplaceIamInstanceProfileAssociationInput{
			AssociationId: aws.String(assoc), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("other")}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := imdsCreds(ep)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := callerARN(t, w.s, credsFrom(c)), "arn:aws:sts::000000000000:assumed-role/other/"+id; got != want {
			t.Errorf("after replace: got %s, want %s", got, want)
		}
		if _, err := w.ec2.DisassociateIamInstanceProfile(context.Background(), &ec2.DisassociateIamInstanceProfileInput{
			AssociationId: rep.IamInstanceProfileAssociation.AssociationId}); err != nil {
			t.Fatal(err)
		}
		if code, _ := get(t, ep, "/latest/meta-data/iam/security-credentials/", ""); code != 404 {
			t.Errorf("after disassociate: got %d, want 404", code)
		}
		if _, err := imdsCreds(ep); err == nil {
			t.Error("the SDK got credentials after disassociation")
		}
		ass, err := w.ec2.AssociateIamInstanceProfile(context.Background(), &ec2.AssociateIamInstanceProfileInput{
			InstanceId: aws.String(id), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::000000000000:instance-profile/app")}})
		if err != nil || ass.IamInstanceProfileAssociation.State != ec2types.IamInstanceProfileAssociationStateAssociating {
			t.Fatalf("associate: got %+v, %v", ass, err)
		}
		c, err = imdsCreds(ep)
		if err != nil {
			t.Fatal(err)
		}
		if got := callerARN(t, w.s, credsFrom(c)); !strings.Contains(got, "assumed-role/app/") {
			t.Errorf("after associate: got %s, want the app role", got)
		}
	})
}

func TestMetadataServiceTokens(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	ep := endpointOf(t, w.run(t, "app", ec2types.HttpTokensStateRequired))

	resp, tok := putToken(t, ep, "21600", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "21600" || tok == "" {
		t.Fatalf("token: got %d, TTL header %q, token %q", resp.StatusCode, resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"), tok)
	}
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{"a request without a token is refused when tokens are required", "", 401},
		{"a request with a forged token is refused", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"a request with the token is answered", tok, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := get(t, ep, "/latest/meta-data/iam/security-credentials/", tt.tok); code != tt.want {
				t.Errorf("got %d, want %d", code, tt.want)
			}
		})
	}
	puts := []struct {
		name string
		ttl  string
		hdr  map[string]string
		want int
	}{
		{"a token PUT relayed through a proxy is refused", "60", map[string]string{"X-Forwarded-For": "10.0.0.1"}, 403},
		{"a token PUT without a TTL is refused", "", nil, 400},
		{"a token PUT with a TTL over six hours is refused", "21601", nil, 400},
		{"a token PUT with a zero TTL is refused", "0", nil, 400},
		{"a token PUT with a one-second TTL is answered", "1", nil, 200},
	}
	for _, tt := range puts {
		t.Run(tt.name, func(t *testing.T) {
			if resp, _ := putToken(t, ep, tt.ttl, tt.hdr); resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("the SDK's IMDSv2 client gets credentials when tokens are required", func(t *testing.T) {
		if _, err := imdsCreds(ep); err != nil {
			t.Error(err)
		}
	})
}

func TestEC2Errors(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	w.role(t, "untrusting", trustUsers("nobody"))
	id := aws.ToString(w.run(t, "", "").InstanceId)
	ctx := context.Background()
	if _, err := w.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	key, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bob := ec2.NewFromConfig(w.s.Config(testserver.Creds{KeyID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)}))
	if _, err := w.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("run"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	run := func(c *ec2.Client, profile string) error {
		in := &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		if profile != "" {
			in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)}
		}
		_, err := c.RunInstances(ctx, in)
		return err
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"an unknown instance id is not found", func() error {
			_, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"a malformed instance id is malformed", func() error {
			_, err := w.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"web-1"}})
			return err
		}, "InvalidInstanceID.Malformed"},
		{"a terminated instance cannot be started", func() error {
			_, err := w.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
			return err
		}, "IncorrectInstanceState"},
		{"an unknown association is not found", func() error {
			_, err := w.ec2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String("iip-assoc-0123456789abcdef0")})
			return err
		}, "InvalidAssociationID.NotFound"},
		{"an unknown instance profile is an invalid parameter", func() error { return run(w.ec2, "nope") }, "InvalidParameterValue"},
		{"an unknown filter is an invalid parameter", func() error {
			_, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
		{"a user without ec2:DescribeInstances is unauthorized", func() error {
			_, err := bob.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}, "UnauthorizedOperation"},
		{"passing a role without iam:PassRole is unauthorized", func() error { return run(bob, "app") }, "UnauthorizedOperation"},
		{"a user with ec2:RunInstances may launch without a role", func() error { return run(bob, "") }, ""},
		{"DryRun answers DryRunOperation when allowed", func() error {
			_, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errCode(tt.call()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a role whose trust policy does not allow EC2 yields AssumeRoleUnauthorizedAccess", func(t *testing.T) {
		ep := endpointOf(t, w.run(t, "untrusting", ""))
		code, body := get(t, ep, "/latest/meta-data/iam/security-credentials/untrusting", "")
		if code != 200 || !strings.Contains(body, `"Code": "AssumeRoleUnauthorizedAccess"`) {
			t.Errorf("got %d %s, want Code AssumeRoleUnauthorizedAccess", code, body)
		}
		if _, err := imdsCreds(ep); err == nil {
			t.Error("the SDK accepted credentials for an untrusting role")
		}
	})
}

func TestContainerCredentialsEndpoint(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	in := w.run(t, "app", "")
	id := aws.ToString(in.InstanceId)
	ep := endpointOf(t, in)
	_, uri := get(t, ep, "/latest/meta-data/iamd/container-credentials-full-uri", "")
	_, tok := get(t, ep, "/latest/meta-data/iamd/container-authorization-token", "")
	if uri != w.s.URL+"/_iamd/container-credentials/"+id || len(tok) < 40 {
		t.Fatalf("got uri %q and token %q", uri, tok)
	}
	provider := func(token string) *endpointcreds.Provider {
		return endpointcreds.New(uri, func(o *endpointcreds.Options) {
			o.AuthorizationToken = token
			o.Retryer = aws.NopRetryer{}
		})
	}
	t.Run("the SDK's container provider gets the instance's role session with the token", func(t *testing.T) {
		c, err := provider(tok).Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := callerARN(t, w.s, credsFrom(c)), "arn:aws:sts::000000000000:assumed-role/app/"+id; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a wrong token gets nothing", func(t *testing.T) {
		if _, err := provider("wrong").Retrieve(context.Background()); err == nil {
			t.Error("got credentials with a wrong token")
		}
	})
}

// iamdCall sends one of iamd's own IAM Query actions (RevokeSession…),
// which no AWS SDK models, signed with aws-sdk-go-v2's signer.
func iamdCall(t *testing.T, s *testserver.Server, c testserver.Creds, params url.Values) {
	t.Helper()
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256Hex(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.KeyID, SecretAccessKey: c.Secret, SessionToken: c.Token},
		req, sum, "iam", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", params.Get("Action"), resp.StatusCode, b)
	}
}

// TestLeakedInstanceCredentialsScenario is the seed scenario for
// instances (issue 6, part 6): the role session leaks off the metadata
// endpoint and reads an object of the account's bucket from elsewhere with
// aws-sdk-go-v2's S3 client; it is revoked — role-wide with the console's
// AWSRevokeOlderSessions, then surgically by access key with `iamd revoke`
// — and each time the outsider gets AccessDenied on GetObject while a boto3
// client on the instance's endpoint reads the object again after its next
// refresh, with no stop/start; an instance of another role keeps its session.
func TestLeakedInstanceCredentialsScenario(t *testing.T) {
	t.Parallel()
	py := boto3(t)
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	w.role(t, "batch", ec2Trust)
	const bucket, key, secret = "payroll", "2026/salaries.csv", "name,salary\nemy,1\n"
	admin := s3Client(w.s, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	must[*s3.PutObjectOutput](t)(admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(secret)}))
	ep := endpointOf(t, w.run(t, "app", ec2types.HttpTokensStateRequired))
	otherEP := endpointOf(t, w.run(t, "batch", ""))
	other, err := imdsCreds(otherEP)
	if err != nil {
		t.Fatal(err)
	}
	// onInstance runs a new boto3 session (so it fetches credentials
	// afresh) with credentials from the instance endpoint only, reads the
	// object and prints its access key.
	onInstance := func(t *testing.T) string {
		t.Helper()
		cmd := exec.Command(py, "-c", `
import sys, boto3
from botocore.config import Config
s = boto3.Session()
c = s.get_credentials().get_frozen_credentials()
s3 = s.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
body = s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])["Body"].read().decode()
assert body == sys.argv[4], body
print(c.access_key)
`, w.s.URL, bucket, key, secret)
		cmd.Env = append(withoutKeys(clientEnv(t, testserver.Creds{})), "AWS_EC2_METADATA_SERVICE_ENDPOINT="+ep)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3 on the instance: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// getObject is the outsider's read with the leaked credentials.
	getObject := func(c testserver.Creds) string {
		out, err := s3Client(w.s, c).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return errCode(err)
		}
		defer out.Body.Close()
		b, _ := io.ReadAll(out.Body)
		if string(b) != secret {
			return "read " + string(b)
		}
		return ""
	}
	revocations := []struct {
		name   string
		revoke func(t *testing.T, leaked testserver.Creds)
	}{
		{"the console's role-wide AWSRevokeOlderSessions", func(t *testing.T, _ testserver.Creds) {
			now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
			_, err := w.iam.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("AWSRevokeOlderSessions"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + now + `"}}}]}`)})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"iamd revoke of the one leaked session by access key", func(t *testing.T, leaked testserver.Creds) {
			mustIamd(t, w.s, testserver.Admin(), "revoke", leaked.KeyID)
		}},
	}
	for _, rv := range revocations {
		t.Run("after "+rv.name+" the outsider is denied and the instance recovers", func(t *testing.T) {
			first := onInstance(t)
			code, body := get(t, ep, "/latest/meta-data/iam/security-credentials/app", tokenFor(t, ep))
			var doc map[string]string
			if code != 200 || json.Unmarshal([]byte(body), &doc) != nil {
				t.Fatalf("leak: got %d %s", code, body)
			}
			leaked := testserver.Creds{KeyID: doc["AccessKeyId"], Secret: doc["SecretAccessKey"], Token: doc["Token"]}
			if leaked.KeyID != first {
				t.Fatalf("the leaked key %s is not the instance's %s", leaked.KeyID, first)
			}
			if got := getObject(leaked); got != "" {
				t.Fatalf("the outsider's GetObject before revocation: got %s, want the object", got)
			}
			time.Sleep(5 * time.Millisecond) // the cut-off has millisecond precision
			rv.revoke(t, leaked)
			if got := getObject(leaked); got != "AccessDenied" {
				t.Errorf("the outsider's GetObject after revocation: got %q, want AccessDenied", got)
			}
			if now := onInstance(t); now == first {
				t.Errorf("the instance still holds the revoked session %s", now)
			}
			if got := getObject(leaked); got != "AccessDenied" {
				t.Errorf("the outsider's GetObject after the instance recovered: got %q, want AccessDenied", got)
			}
		})
	}
	t.Run("the instance of another role keeps its session", func(t *testing.T) {
		again, err := imdsCreds(otherEP)
		if err != nil || again.AccessKeyID != other.AccessKeyID {
			t.Errorf("got %s, %v, want the untouched session %s", again.AccessKeyID, err, other.AccessKeyID)
		}
	})
}

func tokenFor(t testing.TB, ep string) string {
	t.Helper()
	_, tok := putToken(t, ep, "60", nil)
	return tok
}

func withoutKeys(env []string) []string {
	out := env[:0]
	for _, e := range env {
		if strings.HasPrefix(e, "AWS_ACCESS_KEY_ID=") || strings.HasPrefix(e, "AWS_SECRET_ACCESS_KEY=") || strings.HasPrefix(e, "AWS_SESSION_TOKEN=") || strings.HasPrefix(e, "AWS_EC2_METADATA_DISABLED=") {
			continue
		}
		out = append(out, e)
	}
	return out
}

func boto3(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 not installed (.ci/run installs python3-boto3)")
	}
	return py
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
