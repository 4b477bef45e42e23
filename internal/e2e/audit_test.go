package e2e

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/testserver"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func withLog(w *syncBuffer) testserver.Option {
	return func(c *app.Config) {
		c.Log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// lookup returns the event names of every event matching one attribute
// (all pages), newest first, and the events themselves.
func lookup(t *testing.T, ct *cloudtrail.Client, key cttypes.LookupAttributeKey, value string) ([]string, []cttypes.Event) {
	t.Helper()
	in := &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(2)}
	if key != "" {
		in.LookupAttributes = []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}
	}
	var names []string
	var events []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(ct, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("LookupEvents %s=%s: %v", key, value, err)
		}
		for _, e := range out.Events {
			names = append(names, aws.ToString(e.EventName))
			events = append(events, e)
		}
	}
	return names, events
}

func record(t *testing.T, e cttypes.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &m); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v", err)
	}
	return m
}

func TestAuditRecordsEveryCallAndLookupFindsThem(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	s := testserver.Start(t, withLog(&logs))
	admin := s.IAM(testserver.Admin())
	alice := newUser(t, s, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}`)
	must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trustUsers("alice"))}))

	// The scenario: an allowed read, a denied write, a role session and
	// its use, and three calls that fail to authenticate.
	must[*iam.GetUserOutput](t)(s.IAM(alice).GetUser(ctx, &iam.GetUserInput{}))
	_, err := s.IAM(alice).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	wantCode(t, err, "AccessDenied")
	ar := must[*sts.AssumeRoleOutput](t)(s.STS(alice).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::000000000000:role/ops"), RoleSessionName: aws.String("incident"), DurationSeconds: aws.Int32(900)}))
	session := sessionCreds(ar.Credentials)
	must[*sts.GetCallerIdentityOutput](t)(s.STS(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	_, err = s.STS(testserver.Creds{KeyID: alice.KeyID, Secret: "not-the-secret"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
	_, err = s.STS(testserver.Creds{KeyID: "AKIANOSUCHKEY0000000", Secret: "x"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")

	// Visible one second after the calls returned.
	time.Sleep(time.Second)
	ct := cloudtrail.NewFromConfig(s.Config(testserver.Admin()))

	t.Run("a lookup by access key returns exactly the key's calls, denied and failed ones included", func(t *testing.T) {
		got, _ := lookup(t, ct, cttypes.LookupAttributeKeyAccessKeyId, alice.KeyID)
		want := []string{"GetCallerIdentity", "AssumeRole", "CreateUser", "GetUser"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a lookup by the session's key returns the session's calls", func(t *testing.T) {
		got, evs := lookup(t, ct, cttypes.LookupAttributeKeyAccessKeyId, session.KeyID)
		if diff := cmp.Diff([]string{"GetCallerIdentity"}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		id := record(t, evs[0])["userIdentity"].(map[string]any)
		if id["type"] != "AssumedRole" || id["arn"] != "arn:aws:sts::000000000000:assumed-role/ops/incident" || aws.ToString(evs[0].Username) != "incident" {
			t.Fatalf("got identity %v (username %q), want the ops/incident session", id, aws.ToString(evs[0].Username))
		}
		sc := id["sessionContext"].(map[string]any)
		if sc["attributes"].(map[string]any)["mfaAuthenticated"] != "false" || sc["sessionIssuer"].(map[string]any)["userName"] != "ops" {
			t.Fatalf("got sessionContext %v", sc)
		}
	})
	t.Run("a lookup by event name finds the role session", func(t *testing.T) {
		got, _ := lookup(t, ct, cttypes.LookupAttributeKeyEventName, "AssumeRole")
		if diff := cmp.Diff([]string{"AssumeRole"}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a lookup by user returns the user's authenticated calls", func(t *testing.T) {
		got, _ := lookup(t, ct, cttypes.LookupAttributeKeyUsername, "alice")
		if diff := cmp.Diff([]string{"AssumeRole", "CreateUser", "GetUser"}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a lookup by resource name finds the call that issued a session key", func(t *testing.T) {
		got, _ := lookup(t, ct, cttypes.LookupAttributeKeyResourceName, session.KeyID)
		if diff := cmp.Diff([]string{"AssumeRole"}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("an unknown key's failed call is recorded with the key it claimed", func(t *testing.T) {
		_, evs := lookup(t, ct, cttypes.LookupAttributeKeyAccessKeyId, "AKIANOSUCHKEY0000000")
		if len(evs) != 1 {
			t.Fatalf("got %d events, want 1", len(evs))
		}
		r := record(t, evs[0])
		if r["errorCode"] != "InvalidClientTokenId" || r["eventSource"] != "sts.amazonaws.com" || r["userIdentity"].(map[string]any)["type"] != "Unknown" {
			t.Fatalf("got %v", r)
		}
	})
	t.Run("the AssumeRole record has CloudTrail's shape and a hashed session token", func(t *testing.T) {
		_, evs := lookup(t, ct, cttypes.LookupAttributeKeyEventName, "AssumeRole")
		r := record(t, evs[0])
		for _, k := range []string{"eventID", "requestID", "eventTime", "sourceIPAddress", "userAgent"} {
			if s, _ := r[k].(string); s == "" {
				t.Errorf("%s is empty", k)
			}
			delete(r, k)
		}
		creds := r["responseElements"].(map[string]any)["credentials"].(map[string]any)
		if got, want := creds["sessionToken"], s.App.Audit.HashSecret(session.Token); got != want {
			t.Errorf("got sessionToken %v, want the keyed hash %s", got, want)
		}
		delete(creds, "sessionToken")
		delete(creds, "expiration")
		id := r["userIdentity"].(map[string]any)
		delete(id, "principalId")
		want := map[string]any{
			"eventVersion": "1.08",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::000000000000:user/alice",
				"accountId": "000000000000", "accessKeyId": alice.KeyID, "userName": "alice"},
			"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
			"requestParameters": map[string]any{"roleArn": "arn:aws:iam::000000000000:role/ops", "roleSessionName": "incident", "durationSeconds": float64(900)},
			"responseElements": map[string]any{
				"credentials":     map[string]any{"accessKeyId": session.KeyID},
				"assumedRoleUser": map[string]any{"arn": "arn:aws:sts::000000000000:assumed-role/ops/incident", "assumedRoleId": aws.ToString(ar.AssumedRoleUser.AssumedRoleId)},
			},
			"readOnly":  false,
			"resources": []any{map[string]any{"accountId": "000000000000", "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::000000000000:role/ops"}},
			"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "000000000000", "eventCategory": "Management",
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Fatalf("AssumeRole record (-want +got):\n%s", diff)
		}
	})
	t.Run("read-only calls carry no responseElements and a denied call its error", func(t *testing.T) {
		_, evs := lookup(t, ct, cttypes.LookupAttributeKeyAccessKeyId, alice.KeyID)
		for _, e := range evs {
			r := record(t, e)
			switch aws.ToString(e.EventName) {
			case "GetUser":
				if r["responseElements"] != nil || r["readOnly"] != true || aws.ToString(e.ReadOnly) != "true" {
					t.Errorf("GetUser: got readOnly %v, responseElements %v", r["readOnly"], r["responseElements"])
				}
			case "CreateUser":
				if r["errorCode"] != "AccessDenied" || !strings.Contains(r["errorMessage"].(string), "iam:CreateUser") {
					t.Errorf("CreateUser: got error %v %v", r["errorCode"], r["errorMessage"])
				}
			}
		}
	})
	t.Run("no record, response or log line holds a secret or a session token", func(t *testing.T) {
		var all strings.Builder
		if err := s.App.AuditStore.Scan(ctx, 1, func(r *audit.Record) error { all.Write(r.Body); return nil }); err != nil {
			t.Fatal(err)
		}
		_, evs := lookup(t, ct, "", "")
		for _, e := range evs {
			all.WriteString(aws.ToString(e.CloudTrailEvent))
		}
		all.WriteString(logs.String())
		for name, secret := range map[string]string{"alice's secret": alice.Secret, "the session's secret": session.Secret,
			"the session token": session.Token, "the admin secret": testserver.AdminSecret} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("%s found in the trail or the log", name)
			}
		}
	})
	t.Run("lookup errors are CloudTrail's", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   cloudtrail.LookupEventsInput
			code string
		}{
			{"too many results", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
			{"a start after the end", cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Hour))}, "InvalidTimeRangeException"},
			{"a forged token", cloudtrail.LookupEventsInput{NextToken: aws.String("garbage")}, "InvalidNextTokenException"},
			{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
				{AttributeKey: "EventName", AttributeValue: aws.String("a")}, {AttributeKey: "Username", AttributeValue: aws.String("b")}}}, "InvalidLookupAttributesException"},
		} {
			_, err := ct.LookupEvents(ctx, &tc.in)
			if got := apiCode(err); got != tc.code {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			}
		}
		first, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		if err != nil || first.NextToken == nil {
			t.Fatalf("got %v, %v; want a page with a token", first, err)
		}
		_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1), NextToken: first.NextToken,
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: "EventName", AttributeValue: aws.String("GetUser")}}})
		wantCode(t, err, "InvalidNextTokenException")
	})
	t.Run("a caller without cloudtrail:LookupEvents is denied, and that is recorded", func(t *testing.T) {
		_, err := cloudtrail.NewFromConfig(s.Config(alice)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		wantCode(t, err, "AccessDeniedException")
		time.Sleep(300 * time.Millisecond)
		got, evs := lookup(t, ct, cttypes.LookupAttributeKeyEventSource, "cloudtrail.amazonaws.com")
		found := false
		for i, e := range evs {
			if aws.ToString(e.AccessKeyId) == alice.KeyID && got[i] == "LookupEvents" && record(t, e)["errorCode"] == "AccessDenied" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no denied LookupEvents record for alice among %v", got)
		}
	})
	t.Run("the trail verifies", func(t *testing.T) {
		if err := s.App.Audit.Writer.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, s.App.AuditStore)
		if err != nil || rep.Problem != nil {
			t.Fatalf("got %v, %v", rep.Problem, err)
		}
	})
}

func TestAuditLookupWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("cli-user")}))
	out, code := cli(t, s, testserver.Admin(), "cloudtrail", "lookup-events",
		"--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateUser", "--start-time", time.Now().Add(-time.Hour).Format(time.RFC3339))
	if code != "" {
		t.Fatalf("lookup-events failed: %s", code)
	}
	evs, _ := out["Events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1: %v", len(evs), out)
	}
	e := evs[0].(map[string]any)
	if e["EventName"] != "CreateUser" || e["Username"] != "admin" || e["AccessKeyId"] != testserver.AdminKeyID {
		t.Fatalf("got %v", e)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(e["CloudTrailEvent"].(string)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["requestParameters"].(map[string]any)["userName"] != "cli-user" {
		t.Fatalf("got requestParameters %v", rec["requestParameters"])
	}
}
