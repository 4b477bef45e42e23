package policy

import (
	"testing"
)

// revokePolicy is what the console's "Revoke active sessions" puts on a role
// (AWSRevokeOlderSessions), with the console's "Action": ["*"].
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
const revokePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}}]}`

func mustCompile(t testing.TB, doc string, kind Kind) *Compiled {
	t.Helper()
	c, err := ParseCompile(doc, kind)
	if err != nil {
		t.Fatalf("ParseCompile(%s): %v", doc, err)
	}
	return c
}

func named(t testing.TB, id, typ, doc string, kind Kind) Named {
	return Named{ID: id, Type: typ, Policy: mustCompile(t, doc, kind)}
}

func TestRevokeOlderSessions(t *testing.T) {
	t.Parallel()
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	set := &Set{Identity: []Named{
		named(t, "AdminAccess", "aws-managed", admin, Identity),
		named(t, "AWSRevokeOlderSessions", "role", revokePolicy, Identity),
	}}
	cases := []struct {
		name   string
		issued string // aws:TokenIssueTime, "" for long-term keys
		want   Result
	}{
		{"a session issued a millisecond before the cut-off is denied", "2024-10-10T09:43:48.084Z", ExplicitDeny},
		{"a session issued an hour before is denied", "2024-10-10T08:43:48Z", ExplicitDeny},
		{"a session issued at the cut-off is not denied", "2024-10-10T09:43:48.085Z", Allowed},
		{"a session issued later is not denied", "2024-10-10T09:43:49Z", Allowed},
		{"a request with long-term keys has no aws:TokenIssueTime and is not denied", "", Allowed},
		{"a session issued earlier, in another timezone, is denied", "2024-10-10T11:43:00+02:00", ExplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := NewContext()
			if tc.issued != "" {
				ctx.SetString("aws:TokenIssueTime", tc.issued)
			}
			d := Evaluate(set, &Request{Action: "s3:ListBuckets", Resource: "*", Context: ctx})
			if d.Result != tc.want {
				t.Fatalf("got %v, want %v", d.Result, tc.want)
			}
			if d.Result == ExplicitDeny {
				if len(d.Matched) != 1 || d.Matched[0].PolicyID != "AWSRevokeOlderSessions" || d.DeniedBy != ByIdentity {
					t.Errorf("got Matched %+v DeniedBy %q, want the revoke statement in an identity-based policy", d.Matched, d.DeniedBy)
				}
			}
		})
	}
}

const (
	acct     = "111122223333"
	userARN  = "arn:aws:iam::111122223333:user/alice"
	roleARN  = "arn:aws:iam::111122223333:role/app"
	sessARN  = "arn:aws:sts::111122223333:assumed-role/app/s1"
	bucket   = "arn:aws:s3:::b"
	object   = "arn:aws:s3:::b/k"
	allowGet = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	denyGet  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`
	allowPut = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`
)

func bucketPolicy(effect, principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
}

var (
	user    = Principal{Account: acct, ARN: userARN}
	session = Principal{Account: acct, ARN: sessARN, RoleARN: roleARN}
)

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
func TestEvaluationLogic(t *testing.T) {
	t.Parallel()
	id := func(docs ...string) []Named {
		var out []Named
		for _, d := range docs {
			out = append(out, named(t, "id", "user", d, Identity))
		}
		return out
	}
	boundary := func(doc string) *Named { n := named(t, "pb", "permissionsBoundary", doc, Identity); return &n }
	res := func(doc string) *Named { n := named(t, "bucket", "resource", doc, Resource); return &n }
	cases := []struct {
		name     string
		set      *Set
		who      Principal
		want     Result
		deniedBy string
	}{
		{"no policy at all is an implicit deny", &Set{}, user, ImplicitDeny, ByIdentity},
		{"an identity allow allows", &Set{Identity: id(allowGet)}, user, Allowed, ""},
		{"an identity allow for another action is an implicit deny", &Set{Identity: id(allowPut)}, user, ImplicitDeny, ByIdentity},
		{"an explicit deny in an identity policy beats an allow", &Set{Identity: id(allowGet, denyGet)}, user, ExplicitDeny, ByIdentity},
		{"an explicit deny in the boundary beats an identity allow", &Set{Identity: id(allowGet), Boundary: boundary(denyGet)}, user, ExplicitDeny, ByBoundary},
		{"an explicit deny in a session policy beats an identity allow", &Set{Identity: id(allowGet), Session: id(denyGet)}, session, ExplicitDeny, BySession},
		{"an explicit deny in a resource policy beats an identity allow", &Set{Identity: id(allowGet), Resource: res(bucketPolicy("Deny", `"*"`))}, user, ExplicitDeny, ByResource},
		{"an explicit deny in an identity policy beats a resource allow naming the user", &Set{Identity: id(denyGet), Resource: res(bucketPolicy("Allow", `{"AWS":"`+userARN+`"}`))}, user, ExplicitDeny, ByIdentity},
		{"the boundary must also allow", &Set{Identity: id(allowGet), Boundary: boundary(allowPut)}, user, ImplicitDeny, ByBoundary},
		{"identity and boundary both allowing allows", &Set{Identity: id(allowGet), Boundary: boundary(allowGet)}, user, Allowed, ""},
		{"a boundary alone grants nothing", &Set{Boundary: boundary(allowGet)}, user, ImplicitDeny, ByIdentity},
		{"the session policy must also allow", &Set{Identity: id(allowGet), Session: id(allowPut)}, session, ImplicitDeny, BySession},
		{"identity and session both allowing allows", &Set{Identity: id(allowGet), Session: id(allowGet)}, session, Allowed, ""},
		{"a session policy alone grants nothing", &Set{Session: id(allowGet)}, session, ImplicitDeny, ByIdentity},
		{"an empty non-nil session list denies (federated user without session policy)", &Set{Identity: id(allowGet), Session: []Named{}}, session, ImplicitDeny, BySession},
		{"a resource policy naming the user allows without identity allow", &Set{Resource: res(bucketPolicy("Allow", `{"AWS":"`+userARN+`"}`))}, user, Allowed, ""},
		{"a resource policy naming the user is not limited by the boundary", &Set{Boundary: boundary(allowPut), Resource: res(bucketPolicy("Allow", `{"AWS":["`+userARN+`"]}`))}, user, Allowed, ""},
		{"a resource policy naming the session ARN allows despite the session policy", &Set{Session: id(allowPut), Resource: res(bucketPolicy("Allow", `{"AWS":"`+sessARN+`"}`))}, session, Allowed, ""},
		{"a resource policy naming the role allows its sessions", &Set{Resource: res(bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`))}, session, Allowed, ""},
		{"a resource policy naming the role is limited by the boundary", &Set{Boundary: boundary(allowPut), Resource: res(bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`))}, session, ImplicitDeny, ByBoundary},
		{"a resource policy naming the role is limited by the session policy", &Set{Session: id(allowPut), Resource: res(bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`))}, session, ImplicitDeny, BySession},
		{"a resource policy naming the account needs an identity allow", &Set{Resource: res(bucketPolicy("Allow", `{"AWS":"`+acct+`"}`))}, user, ImplicitDeny, ByIdentity},
		{"a resource policy naming the account with an identity allow allows", &Set{Identity: id(allowGet), Resource: res(bucketPolicy("Allow", `{"AWS":"arn:aws:iam::`+acct+`:root"}`))}, user, Allowed, ""},
		{"a resource policy naming someone else does not allow", &Set{Resource: res(bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:user/bob"}`))}, user, ImplicitDeny, ByIdentity},
		{"a resource policy naming everyone allows anonymous", &Set{Resource: res(bucketPolicy("Allow", `"*"`))}, Principal{Anonymous: true}, Allowed, ""},
		{"a resource policy naming an account does not allow anonymous", &Set{Resource: res(bucketPolicy("Allow", `{"AWS":"`+acct+`"}`))}, Principal{Anonymous: true}, ImplicitDeny, ByIdentity},
		{"a resource deny naming the user denies it", &Set{Identity: id(allowGet), Resource: res(bucketPolicy("Deny", `{"AWS":["`+userARN+`"]}`))}, user, ExplicitDeny, ByResource},
		{"a resource deny naming the role denies its sessions", &Set{Identity: id(allowGet), Resource: res(bucketPolicy("Deny", `{"AWS":"`+roleARN+`"}`))}, session, ExplicitDeny, ByResource},
		{"a resource deny naming the account denies its users", &Set{Identity: id(allowGet), Resource: res(bucketPolicy("Deny", `{"AWS":"`+acct+`"}`))}, user, ExplicitDeny, ByResource},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Evaluate(tc.set, &Request{Action: "s3:GetObject", Resource: object, Principal: tc.who, Context: NewContext()})
			if d.Result != tc.want {
				t.Fatalf("got %v, want %v (decision %+v)", d.Result, tc.want, d)
			}
			if d.DeniedBy != tc.deniedBy {
				t.Errorf("got DeniedBy %q, want %q", d.DeniedBy, tc.deniedBy)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func TestNotPrincipal(t *testing.T) {
	t.Parallel()
	deny := func(list string) *Set {
		n := named(t, "bucket", "resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":`+list+`},"Action":"s3:*","Resource":"*"}]}`, Resource)
		return &Set{Identity: []Named{named(t, "id", "user", allowGet, Identity)}, Resource: &n}
	}
	cases := []struct {
		name string
		set  *Set
		who  Principal
		want Result
	}{
		{"a deny spares a user listed with its account", deny(`["` + userARN + `","` + acct + `"]`), user, Allowed},
		{"a deny hits a user listed without its account", deny(`["` + userARN + `"]`), user, ExplicitDeny},
		{"a deny hits everyone not listed", deny(`["arn:aws:iam::111122223333:user/bob","` + acct + `"]`), user, ExplicitDeny},
		{"a deny spares a session listed with its role and account", deny(`["` + sessARN + `","` + roleARN + `","arn:aws:iam::` + acct + `:root"]`), session, Allowed},
		{"a deny hits a session whose role alone is listed", deny(`["` + roleARN + `","` + acct + `"]`), session, ExplicitDeny},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
		{"a deny hits a listed user who has a permissions boundary", withBoundary(deny(`["`+userARN+`","`+acct+`"]`), named(t, "pb", "permissionsBoundary", allowGet, Identity)), user, ExplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Evaluate(tc.set, &Request{Action: "s3:GetObject", Resource: object, Principal: tc.who})
			if d.Result != tc.want {
				t.Errorf("got %v, want %v", d.Result, tc.want)
			}
		})
	}
}

func withBoundary(s *Set, b Named) *Set {
	s.Boundary = &b
	return s
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html
func TestTrustPolicy(t *testing.T) {
	t.Parallel()
	trust := func(principal string) *Named {
		n := named(t, "trust", "resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":`+principal+`,"Action":"sts:AssumeRole"}]}`, Trust)
		return &n
	}
	allowAssume := named(t, "id", "user", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/*"}]}`, Identity)
	denyAssume := named(t, "id", "user", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}`, Identity)
	s3Only := named(t, "pb", "permissionsBoundary", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, Identity)
	assumeOK := named(t, "pb", "permissionsBoundary", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sts:AssumeRole"],"Resource":"*"}]}`, Identity)
	cases := []struct {
		name     string
		set      *Set
		who      Principal
		want     Result
		deniedBy string
	}{
		{"naming the user needs no identity policy", &Set{Resource: trust(`{"AWS":"` + userARN + `"}`), ResourceIsTrust: true}, user, Allowed, ""},
		{"naming the account alone is not enough", &Set{Resource: trust(`{"AWS":"` + acct + `"}`), ResourceIsTrust: true}, user, ImplicitDeny, ByIdentity},
		{"naming the account with an identity allow allows", &Set{Identity: []Named{allowAssume}, Resource: trust(`{"AWS":"arn:aws:iam::` + acct + `:root"}`), ResourceIsTrust: true}, user, Allowed, ""},
		{"an identity allow without the trust policy is not enough", &Set{Identity: []Named{allowAssume}, Resource: trust(`{"AWS":"arn:aws:iam::999988887777:root"}`), ResourceIsTrust: true}, user, ImplicitDeny, ByResource},
		{"an identity deny beats a trust policy naming the user", &Set{Identity: []Named{denyAssume}, Resource: trust(`{"AWS":"` + userARN + `"}`), ResourceIsTrust: true}, user, ExplicitDeny, ByIdentity},
		{"a service principal is trusted directly", &Set{Resource: trust(`{"Service":["ec2.amazonaws.com"]}`), ResourceIsTrust: true}, Principal{Service: "ec2.amazonaws.com"}, Allowed, ""},
		{"another service is not trusted", &Set{Resource: trust(`{"Service":"ec2.amazonaws.com"}`), ResourceIsTrust: true}, Principal{Service: "lambda.amazonaws.com"}, ImplicitDeny, ByResource},
		{"a federated provider is trusted directly", &Set{Resource: trust(`{"Federated":"arn:aws:iam::111122223333:saml-provider/idp"}`), ResourceIsTrust: true}, Principal{Federated: "arn:aws:iam::111122223333:saml-provider/idp"}, Allowed, ""},
		{"naming the role lets its sessions assume it (role chaining)", &Set{Resource: trust(`{"AWS":"` + roleARN + `"}`), ResourceIsTrust: true}, session, Allowed, ""},
		{"a missing trust policy denies", &Set{Identity: []Named{allowAssume}, ResourceIsTrust: true}, user, ImplicitDeny, ByResource},
		{"naming the user is limited by a boundary that does not allow sts:AssumeRole", &Set{Boundary: &s3Only, Resource: trust(`{"AWS":"` + userARN + `"}`), ResourceIsTrust: true}, user, ImplicitDeny, ByBoundary},
		{"naming the user with a boundary that allows sts:AssumeRole allows", &Set{Boundary: &assumeOK, Resource: trust(`{"AWS":"` + userARN + `"}`), ResourceIsTrust: true}, user, Allowed, ""},
		{"naming the account with an identity allow is limited by the boundary", &Set{Identity: []Named{allowAssume}, Boundary: &s3Only, Resource: trust(`{"AWS":"` + acct + `"}`), ResourceIsTrust: true}, user, ImplicitDeny, ByBoundary},
		{"naming the role is limited by the session's boundary", &Set{Boundary: &s3Only, Resource: trust(`{"AWS":"` + roleARN + `"}`), ResourceIsTrust: true}, session, ImplicitDeny, ByBoundary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Evaluate(tc.set, &Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/target", Principal: tc.who, Context: NewContext()})
			if d.Result != tc.want {
				t.Fatalf("got %v, want %v", d.Result, tc.want)
			}
			if d.DeniedBy != tc.deniedBy {
				t.Errorf("got DeniedBy %q, want %q", d.DeniedBy, tc.deniedBy)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
func TestActionAndResourceMatching(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		stmt     string
		action   string
		resource string
		want     bool
	}{
		{"actions match case-insensitively", `"Action":"iam:ListAccessKeys","Resource":"*"`, "IAM:listaccesskeys", "*", true},
		{"action wildcards match anywhere", `"Action":"iam:*AccessKey*","Resource":"*"`, "iam:CreateAccessKey", "*", true},
		{"action wildcards do not match other services", `"Action":"iam:*","Resource":"*"`, "sts:AssumeRole", "*", false},
		{"a lone * action matches every action", `"Action":["*"],"Resource":"*"`, "ec2:RunInstances", "*", true},
		{"? matches one character in an action", `"Action":"s3:?etObject","Resource":"*"`, "s3:GetObject", "*", true},
		{"NotAction allows everything else", `"NotAction":"iam:*","Resource":"*"`, "s3:GetObject", "*", true},
		{"NotAction does not allow what it lists", `"NotAction":"iam:*","Resource":"*"`, "iam:CreateUser", "*", false},
		{"resources match case-sensitively", `"Action":"s3:*","Resource":"arn:aws:s3:::Bucket/*"`, "s3:GetObject", "arn:aws:s3:::bucket/k", false},
		{"* in the resource part spans slashes", `"Action":"s3:*","Resource":"arn:aws:s3:::b/*"`, "s3:GetObject", "arn:aws:s3:::b/a/b/c", true},
		{"* in a middle segment stays in that segment", `"Action":"logs:*","Resource":"arn:aws:logs:*:111122223333:log-group:*"`, "logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", true},
		{"a wildcard region does not swallow the account", `"Action":"logs:*","Resource":"arn:aws:logs:*:111122223333:*"`, "logs:PutLogEvents", "arn:aws:logs:us-east-1:999999999999:log-group:g", false},
		{"? matches one character in a resource", `"Action":"s3:*","Resource":"arn:aws:s3:::b/?"`, "s3:GetObject", "arn:aws:s3:::b/k", true},
		{"a specific resource does not match a * request resource", `"Action":"s3:*","Resource":"arn:aws:s3:::b"`, "s3:ListAllMyBuckets", "*", false},
		{"NotResource applies to other resources", `"Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"`, "s3:GetObject", "arn:aws:s3:::b/k", true},
		{"NotResource does not apply to the listed resources", `"Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"`, "s3:GetObject", "arn:aws:s3:::secret/k", false},
		{"a resource variable resolves", `"Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"`, "s3:GetObject", "arn:aws:s3:::b/alice/k", true},
		{"a resource variable does not match another user's prefix", `"Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"`, "s3:GetObject", "arn:aws:s3:::b/bob/k", false},
		{"an unresolvable resource variable matches nothing", `"Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/none}*"`, "s3:GetObject", "arn:aws:s3:::b/k", false},
		{"a resource variable default is used", `"Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/none, 'shared'}/*"`, "s3:GetObject", "arn:aws:s3:::b/shared/k", true},
		{"${*} in a resource is a literal asterisk", `"Action":"s3:*","Resource":"arn:aws:s3:::b/${*}"`, "s3:GetObject", "arn:aws:s3:::b/k", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustCompile(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+tc.stmt+`}]}`, Identity)
			ctx := NewContext()
			ctx.SetString("aws:username", "alice")
			d := Evaluate(&Set{Identity: []Named{{ID: "p", Policy: c}}}, &Request{Action: tc.action, Resource: tc.resource, Context: ctx})
			if got := d.Result == Allowed; got != tc.want {
				t.Errorf("got allowed=%v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchedAndMissing(t *testing.T) {
	t.Parallel()
	doc := `{"Version":"2012-10-17","Statement":[
{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
{"Sid":"B","Effect":"Allow","Action":"s3:Get*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalTag/team":"x"}}},
{"Sid":"C","Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Null":{"aws:MultiFactorAuthAge":"true"}}}]}`
	set := &Set{Identity: []Named{named(t, "PolicyInputList.1", "IAM Policy", doc, Identity)}}
	ctx := NewContext()
	ctx.SetString("aws:SecureTransport", "true")
	d := Evaluate(set, &Request{Action: "s3:GetObject", Resource: "*", Context: ctx, ReportMissing: true})
	if d.Result != Allowed {
		t.Fatalf("got %v, want allowed", d.Result)
	}
	if len(d.Matched) != 1 || d.Matched[0].Statement != 0 || d.Matched[0].Start != (Position{2, 1}) || d.Matched[0].PolicyID != "PolicyInputList.1" {
		t.Errorf("got Matched %+v, want statement 0 at line 2 column 1", d.Matched)
	}
	if got, want := len(d.Missing), 2; got != want || d.Missing[0] != "aws:SourceIp" || d.Missing[1] != "aws:PrincipalTag/team" {
		t.Errorf("got Missing %v, want [aws:SourceIp aws:PrincipalTag/team]", d.Missing)
	}
	d = Evaluate(set, &Request{Action: "s3:GetObject", Resource: "*", Context: ctx})
	if d.Missing != nil {
		t.Errorf("got Missing %v without ReportMissing, want nil", d.Missing)
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	c := NewContext()
	for i := 0; i < 40; i++ { // past the inline capacity
		c.SetString("k:"+itoa(i), itoa(i))
	}
	c.Set("aws:TagKeys")
	c.Set("aws:CalledVia", "a", "b")
	c.Add("aws:CalledVia", "c")
	c.SetString("K:7", "seven")
	if v, ok := c.Get("k:7"); !ok || len(v) != 1 || v[0] != "seven" {
		t.Errorf("Get(k:7): got %v, %v, want [seven], true", v, ok)
	}
	if v, ok := c.Get("AWS:tagkeys"); !ok || len(v) != 0 {
		t.Errorf("Get(AWS:tagkeys): got %v, %v, want [], true", v, ok)
	}
	if v, _ := c.Get("aws:calledvia"); len(v) != 3 {
		t.Errorf("Get(aws:calledvia): got %v, want 3 values", v)
	}
	c.Delete("k:39")
	if _, ok := c.Get("k:39"); ok {
		t.Errorf("Get after Delete: got present, want absent")
	}
	if got, want := c.Len(), 41; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}
