package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchRole is a role with 5 policies of 4 statements each, every statement
// with conditions, shaped like real ones: tag-based access, IP and region
// restrictions, MFA, and the revoke-sessions deny.
func benchRole(b *testing.B) *Set {
	services := []string{"s3", "dynamodb", "sqs", "ec2", "kms"}
	var set Set
	for p, svc := range services {
		var stmts []string
		stmts = append(stmts,
			fmt.Sprintf(`{"Sid":"Read%d","Effect":"Allow","Action":["%s:Get*","%s:List*","%s:Describe*"],"Resource":"arn:aws:%s:*:111122223333:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"${aws:ResourceTag/team}"},"Bool":{"aws:SecureTransport":"true"}}}`, p, svc, svc, svc, svc),
			fmt.Sprintf(`{"Sid":"Write%d","Effect":"Allow","Action":["%s:Put*","%s:Update*"],"Resource":"arn:aws:%s:us-east-1:111122223333:app/${aws:PrincipalTag/team}/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]},"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}`, p, svc, svc, svc),
			fmt.Sprintf(`{"Sid":"DenyRegions%d","Effect":"Deny","Action":"%s:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1","eu-central-1"]}}}`, p, svc),
			fmt.Sprintf(`{"Sid":"NoMFA%d","Effect":"Deny","Action":"%s:Delete*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}}`, p, svc),
		)
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		if p == 4 {
			doc = `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts[:3], ",") + `,{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}}]}`
		}
		set.Identity = append(set.Identity, named(b, fmt.Sprintf("policy%d", p), "role", doc, Identity))
	}
	return &set
}

func benchContext() *Context {
	ctx := NewContext()
	ctx.SetString("aws:CurrentTime", "2024-11-01T12:00:00Z")
	ctx.SetString("aws:EpochTime", "1730462400")
	ctx.SetString("aws:TokenIssueTime", "2024-11-01T11:00:00Z")
	ctx.SetString("aws:SourceIp", "10.1.2.3")
	ctx.SetString("aws:SecureTransport", "true")
	ctx.SetString("aws:MultiFactorAuthPresent", "true")
	ctx.SetString("aws:MultiFactorAuthAge", "120")
	ctx.SetString("aws:RequestedRegion", "us-east-1")
	ctx.SetString("aws:PrincipalArn", "arn:aws:iam::111122223333:role/app")
	ctx.SetString("aws:PrincipalAccount", "111122223333")
	ctx.SetString("aws:PrincipalType", "AssumedRole")
	ctx.SetString("aws:userid", "AROAEXAMPLE:s1")
	ctx.SetString("aws:PrincipalTag/team", "blue")
	ctx.SetString("aws:ResourceTag/team", "blue")
	return ctx
}

// BenchmarkEvaluateRole: a role session with 5 policies, 20 statements
// with conditions. Target: ≤ 1 µs/op, ≤ 2 allocs/op.
func BenchmarkEvaluateRole(b *testing.B) {
	set := benchRole(b)
	req := &Request{
		Action:    "dynamodb:GetItem",
		Resource:  "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
		Principal: session,
		Context:   benchContext(),
	}
	if d := Evaluate(set, req); d.Result != Allowed {
		b.Fatalf("got %v, want allowed", d.Result)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(set, req)
	}
}

// BenchmarkEvaluateRoleWithContext includes building the request context,
// as authz does for every request.
func BenchmarkEvaluateRoleWithContext(b *testing.B) {
	set := benchRole(b)
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(set, &Request{
			Action:    "s3:PutObject",
			Resource:  "arn:aws:s3:us-east-1:111122223333:app/blue/k",
			Principal: session,
			Context:   benchContext(),
		})
	}
}

// BenchmarkEvaluate500 is a worst case: 500 statements whose actions all
// match, whose resource wildcards must backtrack, and whose conditions are
// all evaluated and fail on the last one. Target: ≤ 50 µs/op.
func BenchmarkEvaluate500(b *testing.B) {
	var stmts []string
	for i := 0; i < 500; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["iam:List*","s3:*Object*"],"Resource":"arn:aws:s3:::bucket-*/*/%d/*x","Condition":{"StringLike":{"aws:PrincipalTag/team":"*e*"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"StringEquals":{"aws:RequestedRegion":"eu-west-%d"}}}`, i, i))
	}
	// 500 statements is far past any IAM size quota, so build the set
	// from one big policy without the quota check.
	set := &Set{Identity: []Named{named(b, "big", "user-managed", `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`, Identity)}}
	req := &Request{
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::bucket-a/a/b/c/7/d/e/x",
		Principal: session,
		Context:   benchContext(),
	}
	if d := Evaluate(set, req); d.Result != ImplicitDeny {
		b.Fatalf("got %v, want implicitDeny", d.Result)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(set, req)
	}
}

// benchDoc6K is a managed policy near the 6,144-character quota.
func benchDoc6K() string {
	var stmts []string
	for i := 0; len(strings.Join(stmts, ",")) < 5800; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*"],"Resource":["arn:aws:s3:::bucket%d/${aws:username}/*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]},"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"},"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}}`, i, i, i%250))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// BenchmarkParseCompile6K: Parse+Compile of a ~6 KB policy. Target ≤ 100 µs.
func BenchmarkParseCompile6K(b *testing.B) {
	doc := benchDoc6K()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCompile(doc, Identity); err != nil {
			b.Fatal(err)
		}
	}
}
