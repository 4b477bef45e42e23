package sts_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/secretbox"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

const testAccount = "123456789012"

var testNow = time.Date(2024, 10, 10, 9, 0, 0, 0, time.UTC)

const trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const allowS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`

// fixture is an STS service over the real pieces: IAM on SQLite in a
// temporary directory, a sealing ring and the revoke inventory.
type fixture struct {
	iam  *iam.Service
	ring *token.Ring
	inv  *revoke.Service
	sts  *sts.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(master, rand.Reader)
	if err != nil {
		t.Fatalf("secretbox: %v", err)
	}
	now := func() time.Time { return testNow }
	key, err := token.NewKey(testNow, rand.Reader)
	if err != nil {
		t.Fatalf("token key: %v", err)
	}
	key.Active = true
	ring, err := token.NewRing(key)
	if err != nil {
		t.Fatalf("token ring: %v", err)
	}
	iamSvc := iam.New(iam.Config{Store: st, Account: testAccount, Now: now, Rand: rand.Reader, Secrets: box})
	inv, err := revoke.New(ctx, revoke.Config{Store: st, Now: now})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	return &fixture{
		iam: iamSvc, ring: ring, inv: inv,
		sts: sts.New(sts.Config{IAM: iamSvc, Ring: ring, Now: now, Rand: rand.Reader, Inventory: inv}),
	}
}

// role creates a role with the given MaxSessionDuration (0: the default)
// and resolves it as AssumeRole's caller would.
func (f *fixture) role(t *testing.T, name string, maxSession int) *iam.RoleAuth {
	t.Helper()
	ctx := context.Background()
	if _, err := f.iam.CreateRole(ctx, iam.CreateRoleInput{Name: name, TrustPolicy: trustEC2, MaxSessionDuration: maxSession}); err != nil {
		t.Fatalf("CreateRole(%s): %v", name, err)
	}
	ra, err := f.sts.ResolveRole(ctx, "arn:aws:iam::"+testAccount+":role/"+name)
	if err != nil {
		t.Fatalf("ResolveRole(%s): %v", name, err)
	}
	return ra
}

func (f *fixture) policy(t *testing.T, name string) string {
	t.Helper()
	p, err := f.iam.CreatePolicy(context.Background(), iam.CreatePolicyInput{Name: name, Document: allowS3})
	if err != nil {
		t.Fatalf("CreatePolicy(%s): %v", name, err)
	}
	return p.ARN
}

// userCaller is an IAM user calling with its long-term key.
func userCaller() *principal.Caller {
	return &principal.Caller{
		Account: testAccount, Type: principal.IAMUser,
		ARN: "arn:aws:iam::" + testAccount + ":user/alice", UserID: "AIDAALICEALICEALICE1",
		UserName: "alice", UserPath: "/", AccessKeyID: "AKIAALICEALICEALICE1",
	}
}

// roleCaller is a role session calling with temporary credentials.
func roleCaller(mod func(*principal.Caller)) *principal.Caller {
	c := &principal.Caller{
		Account: testAccount, Type: principal.AssumedRole,
		ARN: "arn:aws:sts::" + testAccount + ":assumed-role/first/s1", UserID: "AROAFIRSTFIRSTFIRST1:s1",
		RoleName: "first", SessionName: "s1", AccessKeyID: "ASIAFIRSTFIRSTFIRST1",
		Temporary: true, IssuedAt: testNow.Add(-time.Minute), Expires: testNow.Add(time.Hour),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// wantErr fails unless err carries code (or is nil when code is "") and
// its message contains msg.
func wantErr(t *testing.T, err error, code apierr.Code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	e := apierr.As(err)
	if e == nil {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("got %s %q, want %s containing %q", e.Code, e.Message, code, msg)
	}
}

// checkIssued checks what every issued session must satisfy: the token
// opens to the same session, and the inventory holds it.
func (f *fixture) checkIssued(t *testing.T, creds sts.Credentials, sess *token.Session) {
	t.Helper()
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.AccessKeyID) != 20 {
		t.Errorf("got access key id %q, want ASIA and 20 characters", creds.AccessKeyID)
	}
	if creds.AccessKeyID != sess.AccessKeyID || creds.SecretAccessKey != sess.SecretAccessKey || !creds.Expiration.Equal(sess.Expires) {
		t.Errorf("credentials %s/%v do not match the session %s/%v", creds.AccessKeyID, creds.Expiration, sess.AccessKeyID, sess.Expires)
	}
	opened, err := f.ring.OpenFor(creds.SessionToken, creds.AccessKeyID)
	if err != nil {
		t.Fatalf("open the sealed token: %v", err)
	}
	if diff := cmp.Diff(sess, opened); diff != "" {
		t.Errorf("the token opens to a different session (-issued +opened):\n%s", diff)
	}
	rec, err := f.inv.Session(context.Background(), creds.AccessKeyID)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	got := [...]any{rec.AccessKeyID, rec.Kind, rec.PrincipalID, rec.SessionName, rec.SourceIdentity, rec.IssuerKeyID, rec.Expires.Equal(sess.Expires), rec.MFA, rec.Chained}
	want := [...]any{sess.AccessKeyID, sess.Kind.String(), sess.PrincipalID, sess.SessionName, sess.SourceIdentity, sess.IssuerKeyID, true, sess.MFA, sess.Chained}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inventory record differs from the session (-want +got):\n%s", diff)
	}
}

func TestAssumeRoleDuration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	short := f.role(t, "short", 0)   // MaxSessionDuration 3600
	long := f.role(t, "long", 43200) // MaxSessionDuration 12 h
	chained := roleCaller(nil)
	tests := []struct {
		name     string
		caller   *principal.Caller
		role     *iam.RoleAuth
		duration int
		want     int // seconds; 0 when an error is expected
		code     apierr.Code
		msg      string
	}{
		{"a user gets one hour by default", userCaller(), long, 0, 3600, "", ""},
		{"a user may ask for the minimum of 900 seconds", userCaller(), long, 900, 900, "", ""},
		{"a user may ask for the role's MaxSessionDuration", userCaller(), long, 43200, 43200, "", ""},
		{"a user may not exceed the role's MaxSessionDuration", userCaller(), short, 3601, 0, apierr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"a caller without a principal gets the default", nil, long, 0, 3600, "", ""},
		{"a chained session gets one hour by default", chained, long, 0, 3600, "", ""},
		{"a chained session may ask for one hour", chained, long, 3600, 3600, "", ""},
		{"a chained session may ask for less than one hour", chained, long, 1200, 1200, "", ""},
		{"a chained session may not exceed one hour even when the role allows it", chained, long, 3601, 0, apierr.ValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{"a chained session over both limits gets the role chaining message", chained, short, 7200, 0, apierr.ValidationError, "1 hour session limit for roles assumed by role chaining"},
		{"less than 900 seconds is rejected", userCaller(), long, 899, 0, apierr.ValidationError, "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"a negative duration is rejected, not taken as the default", userCaller(), long, -1, 0, apierr.ValidationError, "Member must have value greater than or equal to 900"},
		{"more than 12 hours is rejected before the role's limit is consulted", userCaller(), long, 43201, 0, apierr.ValidationError, "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"more than 12 hours is rejected before the chaining limit is consulted", chained, long, 43201, 0, apierr.ValidationError, "Member must have value less than or equal to 43200"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(context.Background(), tt.caller, tt.role, sts.AssumeRoleInput{SessionName: "s" + strconv.Itoa(i), DurationSeconds: tt.duration})
			wantErr(t, err, tt.code, tt.msg)
			if err != nil {
				return
			}
			if got, want := out.Credentials.Expiration, testNow.Add(time.Duration(tt.want)*time.Second); !got.Equal(want) {
				t.Errorf("got expiration %v, want %v", got, want)
			}
			if got := out.Session.Chained; got != (tt.caller != nil && tt.caller.Temporary) {
				t.Errorf("got Chained %v, want %v", got, !got)
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
}

func TestAssumeRoleIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ra := f.role(t, "reader", 0)
	out, err := f.sts.AssumeRole(context.Background(), userCaller(), ra, sts.AssumeRoleInput{SessionName: "bob@example.com", Origin: revoke.Origin{SourceIP: "192.0.2.1", UserAgent: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{out.AssumedRoleARN, out.AssumedRoleID, out.Session.IssuerKeyID, strconv.Itoa(out.PackedPolicySize)}
	want := []string{
		"arn:aws:sts::" + testAccount + ":assumed-role/reader/bob@example.com",
		ra.Role.ID + ":bob@example.com", "AKIAALICEALICEALICE1", "-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AssumeRole output (-want +got):\n%s", diff)
	}
	f.checkIssued(t, out.Credentials, out.Session)
	rec, err := f.inv.Session(context.Background(), out.Credentials.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.SourceIP != "192.0.2.1" || rec.UserAgent != "test" {
		t.Errorf("got origin %q %q in the inventory, want 192.0.2.1 test", rec.SourceIP, rec.UserAgent)
	}
}

func TestResolveRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.iam.CreateRole(context.Background(), iam.CreateRoleInput{Name: "deep", Path: "/team/", TrustPolicy: trustEC2}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		arn  string
		code apierr.Code
	}{
		{"a role with a path resolves by its full ARN", "arn:aws:iam::" + testAccount + ":role/team/deep", ""},
		{"a role ARN with the wrong path names no role", "arn:aws:iam::" + testAccount + ":role/deep", apierr.NoSuchEntity},
		{"a role that does not exist is NoSuchEntity", "arn:aws:iam::" + testAccount + ":role/nobody", apierr.NoSuchEntity},
		{"another account is denied", "arn:aws:iam::999999999999:role/team/deep", apierr.AccessDenied},
		{"a user ARN is not a role", "arn:aws:iam::" + testAccount + ":user/deep", apierr.ValidationError},
		{"garbage is not a role", "not-an-arn", apierr.ValidationError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.sts.ResolveRole(context.Background(), tt.arn)
			if tt.code == "" {
				wantErr(t, err, "", "")
				return
			}
			if e := apierr.As(err); e == nil || e.Code != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}
}

func TestSourceIdentityAlongAChain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ra := f.role(t, "next", 0)
	withSource := roleCaller(func(c *principal.Caller) { c.SourceIdentity = "alice" })
	tests := []struct {
		name   string
		caller *principal.Caller
		in     string
		want   string
		code   apierr.Code
	}{
		{"a user sets the source identity", userCaller(), "alice", "alice", ""},
		{"a chained session without one may set it", roleCaller(nil), "alice", "alice", ""},
		{"a chained session inherits the caller's", withSource, "", "alice", ""},
		{"a chained session may repeat the same value", withSource, "alice", "alice", ""},
		{"a chained session may not change it", withSource, "mallory", "", apierr.AccessDenied},
		{"a source identity may not start with aws:", userCaller(), "aws:alice", "", apierr.ValidationError},
		{"the aws: prefix is refused in any case", userCaller(), "AWS:alice", "", apierr.ValidationError},
		{"a chained session may not set an aws: source identity either", roleCaller(nil), "Aws:alice", "", apierr.ValidationError},
		{"aws without the colon is an ordinary value", userCaller(), "awsome", "awsome", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(context.Background(), tt.caller, ra, sts.AssumeRoleInput{SessionName: "s" + strconv.Itoa(i), SourceIdentity: tt.in})
			wantErr(t, err, tt.code, "")
			if err != nil {
				return
			}
			if out.SourceIdentity != tt.want || out.Session.SourceIdentity != tt.want {
				t.Errorf("got source identity %q (session %q), want %q", out.SourceIdentity, out.Session.SourceIdentity, tt.want)
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
}

func TestTransitiveTagsAlongAChain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ra := f.role(t, "next", 0)
	caller := roleCaller(func(c *principal.Caller) {
		c.SessionTags = []principal.Tag{{Key: "Project", Value: "apollo"}, {Key: "CostCenter", Value: "42"}}
		c.TransitiveKeys = []string{"Project"}
	})
	tests := []struct {
		name          string
		tags          []token.Tag
		transitive    []string
		wantTags      []token.Tag
		wantTransitiv []string
		code          apierr.Code
	}{
		{
			name:          "only the transitive tag is carried into the next session",
			wantTags:      []token.Tag{{Key: "Project", Value: "apollo"}},
			wantTransitiv: []string{"Project"},
		},
		{
			name:          "new tags are kept beside the inherited one",
			tags:          []token.Tag{{Key: "Team", Value: "red"}},
			transitive:    []string{"Team"},
			wantTags:      []token.Tag{{Key: "Team", Value: "red"}, {Key: "Project", Value: "apollo"}},
			wantTransitiv: []string{"Team", "Project"},
		},
		{
			name:     "a non-transitive tag of the caller may be passed again",
			tags:     []token.Tag{{Key: "CostCenter", Value: "7"}},
			wantTags: []token.Tag{{Key: "CostCenter", Value: "7"}, {Key: "Project", Value: "apollo"}},
			// CostCenter is not transitive: only Project is.
			wantTransitiv: []string{"Project"},
		},
		{
			name: "re-passing an inherited transitive key is rejected",
			tags: []token.Tag{{Key: "Project", Value: "gemini"}},
			code: apierr.InvalidParameterValue,
		},
		{
			name: "re-passing an inherited transitive key in another case is rejected",
			tags: []token.Tag{{Key: "project", Value: "gemini"}},
			code: apierr.InvalidParameterValue,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(context.Background(), caller, ra, sts.AssumeRoleInput{
				SessionName: "s" + strconv.Itoa(i), Tags: tt.tags, TransitiveTagKeys: tt.transitive,
			})
			wantErr(t, err, tt.code, "transitive tags")
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.wantTags, out.Session.Tags); diff != "" {
				t.Errorf("session tags (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTransitiv, out.Session.TransitiveTagKeys); diff != "" {
				t.Errorf("transitive keys (-want +got):\n%s", diff)
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
}

func TestSessionPolicies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ra := f.role(t, "scoped", 0)
	p1 := f.policy(t, "one")
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = p1
	}
	// A valid policy of about n characters.
	padded := func(n int) string {
		head := `{"Version":"2012-10-17","Statement":[{"Sid":"`
		tail := `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	tests := []struct {
		name   string
		policy string
		arns   []string
		tags   []token.Tag
		packed int // want PackedPolicySize when no error
		code   apierr.Code
		msg    string
	}{
		{name: "no policy and no tags report no packed size", packed: -1},
		{name: "an inline policy is measured", policy: padded(1024), packed: 50},
		{name: "a policy ARN that exists is accepted", arns: []string{p1}, packed: len(p1) * 100 / 2048},
		{name: "tags alone count towards the packed size", tags: []token.Tag{{Key: "k", Value: strings.Repeat("v", 204)}}, packed: 10},
		{name: "an inline policy at the 2048-character limit is accepted", policy: padded(2048), packed: 100},
		{name: "a malformed inline policy is rejected", policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}`, code: apierr.MalformedPolicyDocument},
		{name: "a policy that is not JSON is rejected", policy: `allow everything`, code: apierr.MalformedPolicyDocument},
		{name: "policy and ARNs over 2048 characters together are too large", policy: padded(2040), arns: []string{p1}, code: apierr.PackedPolicyTooLarge, msg: "Packed policy consumes"},
		{name: "a policy with tags over the packed limit is too large", policy: padded(2000), tags: []token.Tag{{Key: "k", Value: strings.Repeat("v", 100)}}, code: apierr.PackedPolicyTooLarge, msg: "Please use smaller policy"},
		{name: "eleven policy ARNs are one too many", arns: eleven, code: apierr.ValidationError, msg: "Member must have length less than or equal to 10"},
		{name: "ten policy ARNs are allowed", arns: eleven[:10], packed: 10 * len(p1) * 100 / 2048},
		{name: "a policy ARN that does not exist is rejected", arns: []string{"arn:aws:iam::" + testAccount + ":policy/ghost"}, code: apierr.InvalidParameterValue},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(context.Background(), userCaller(), ra, sts.AssumeRoleInput{
				SessionName: "s" + strconv.Itoa(i), Policy: tt.policy, PolicyARNs: tt.arns, Tags: tt.tags,
			})
			wantErr(t, err, tt.code, tt.msg)
			if err != nil {
				return
			}
			if out.PackedPolicySize != tt.packed {
				t.Errorf("got PackedPolicySize %d, want %d", out.PackedPolicySize, tt.packed)
			}
			if out.Session.Policy != tt.policy || !cmp.Equal(out.Session.PolicyARNs, tt.arns) {
				t.Errorf("the session does not carry the session policies it was given")
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
	t.Run("a failed request records no session", func(t *testing.T) {
		got, err := f.inv.Sessions(context.Background(), ra.Role.ID)
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, tt := range tests {
			if tt.code == "" {
				ok++
			}
		}
		if len(got) != ok {
			t.Errorf("got %d sessions in the inventory, want %d (one per successful request)", len(got), ok)
		}
	})
}

func TestMFAFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ra := f.role(t, "mfa", 0)
	earlier := testNow.Add(-10 * time.Minute)
	withMFA := roleCaller(func(c *principal.Caller) { c.MFA, c.MFAAuthTime = true, earlier })
	tests := []struct {
		name     string
		caller   *principal.Caller
		mfa      bool
		wantMFA  bool
		wantTime time.Time
	}{
		{"a user without MFA gets a session without MFA", userCaller(), false, false, time.Time{}},
		{"a user with MFA gets MFA authenticated now", userCaller(), true, true, testNow},
		{"a caller-less request with MFA gets MFA authenticated now", nil, true, true, testNow},
		{"a chained session keeps the caller's MFA time", withMFA, false, true, earlier},
		{"a chained session with fresh MFA takes the new time", withMFA, true, true, testNow},
		{"a chained session without MFA stays without", roleCaller(nil), false, false, time.Time{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(context.Background(), tt.caller, ra, sts.AssumeRoleInput{SessionName: "s" + strconv.Itoa(i), MFA: tt.mfa})
			if err != nil {
				t.Fatal(err)
			}
			if out.Session.MFA != tt.wantMFA || !out.Session.MFAAuthTime.Equal(tt.wantTime) {
				t.Errorf("got MFA %v at %v, want %v at %v", out.Session.MFA, out.Session.MFAAuthTime, tt.wantMFA, tt.wantTime)
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
}

func TestGetSessionToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name     string
		caller   *principal.Caller
		duration int
		mfa      bool
		want     int
		code     apierr.Code
	}{
		{"a user gets twelve hours by default", userCaller(), 0, false, 43200, ""},
		{"a user may ask for the minimum of 900 seconds", userCaller(), 900, false, 900, ""},
		{"a user may ask for the maximum of 36 hours", userCaller(), 129600, false, 129600, ""},
		{"a user with MFA gets an MFA session", userCaller(), 3600, true, 3600, ""},
		{"less than 900 seconds is rejected", userCaller(), 899, false, 0, apierr.ValidationError},
		{"a negative duration is rejected, not taken as the default", userCaller(), -900, false, 0, apierr.ValidationError},
		{"more than 36 hours is rejected", userCaller(), 129601, false, 0, apierr.ValidationError},
		{"a role session may not call it", roleCaller(nil), 0, false, 0, apierr.AccessDenied},
		{"a user's own session may not call it", func() *principal.Caller {
			c := userCaller()
			c.Temporary, c.AccessKeyID = true, "ASIAALICEALICEALICE1"
			return c
		}(), 0, false, 0, apierr.AccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, sess, err := f.sts.GetSessionToken(context.Background(), tt.caller, tt.duration, tt.mfa, revoke.Origin{})
			wantErr(t, err, tt.code, "")
			if err != nil {
				return
			}
			if got, want := creds.Expiration, testNow.Add(time.Duration(tt.want)*time.Second); !got.Equal(want) {
				t.Errorf("got expiration %v, want %v", got, want)
			}
			wantTime := time.Time{}
			if tt.mfa {
				wantTime = testNow
			}
			if sess.MFA != tt.mfa || !sess.MFAAuthTime.Equal(wantTime) {
				t.Errorf("got MFA %v at %v, want %v at %v", sess.MFA, sess.MFAAuthTime, tt.mfa, wantTime)
			}
			got := []string{sess.Kind.String(), sess.PrincipalID, sess.PrincipalName, sess.IssuerKeyID}
			want := []string{token.UserSession.String(), "AIDAALICEALICEALICE1", "alice", "AKIAALICEALICEALICE1"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("session (-want +got):\n%s", diff)
			}
			f.checkIssued(t, *creds, sess)
		})
	}
}

func TestGetFederationToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p1 := f.policy(t, "fed")
	tests := []struct {
		name   string
		caller *principal.Caller
		in     sts.FederationInput
		want   int
		packed int
		code   apierr.Code
		msg    string
	}{
		{"a user gets twelve hours by default", userCaller(), sts.FederationInput{Name: "bob"}, 43200, -1, "", ""},
		{"a user may ask for 36 hours", userCaller(), sts.FederationInput{Name: "bob", DurationSeconds: 129600}, 129600, -1, "", ""},
		{"a user may ask for 900 seconds", userCaller(), sts.FederationInput{Name: "bob", DurationSeconds: 900}, 900, -1, "", ""},
		{"less than 900 seconds is rejected", userCaller(), sts.FederationInput{Name: "bob", DurationSeconds: 899}, 0, 0, apierr.ValidationError, "Member must have value between 900 and 129600"},
		{"more than 36 hours is rejected", userCaller(), sts.FederationInput{Name: "bob", DurationSeconds: 129601}, 0, 0, apierr.ValidationError, "'129601'"},
		{"a session policy ARN is carried", userCaller(), sts.FederationInput{Name: "bob", PolicyARNs: []string{p1}}, 43200, len(p1) * 100 / 2048, "", ""},
		{"a malformed session policy is rejected", userCaller(), sts.FederationInput{Name: "bob", Policy: "{"}, 0, 0, apierr.MalformedPolicyDocument, ""},
		{"a role session may not call it", roleCaller(nil), sts.FederationInput{Name: "bob"}, 0, 0, apierr.AccessDenied, "session credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.sts.GetFederationToken(context.Background(), tt.caller, tt.in)
			wantErr(t, err, tt.code, tt.msg)
			if err != nil {
				return
			}
			if got, want := out.Credentials.Expiration, testNow.Add(time.Duration(tt.want)*time.Second); !got.Equal(want) {
				t.Errorf("got expiration %v, want %v", got, want)
			}
			got := []string{out.FederatedUserARN, out.FederatedUserID, strconv.Itoa(out.PackedPolicySize), out.Session.Kind.String()}
			want := []string{"arn:aws:sts::" + testAccount + ":federated-user/bob", testAccount + ":bob", strconv.Itoa(tt.packed), token.Federated.String()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			f.checkIssued(t, out.Credentials, out.Session)
		})
	}
}
