package policy

import "testing"

var fuzzSeeds = []string{
	revokePolicy,
	allowGet,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"StringLike":{"s3:prefix":["","home/${aws:PrincipalTag/team, 'x'}/*"]},"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/${*}?","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"NumericLessThan":{"s3:max-keys":1e3},"BinaryEquals":{"aws:k":"QQ=="},"Null":{"aws:x":true},"ArnLike":{"aws:SourceArn":"arn:*:sns:*"}}}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
	`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThanIfExists":{"aws:CurrentTime":["2020","2020-01","1700000000.5","2020-01-01T00:00+01:00"]}}}]}`,
	`{"a":[[[[[[[[[]]]]]]]]]}`,
	`{"Version":"2012-10-17","Statement":[]}`,
}

// FuzzParse: Parse and Compile never panic, whatever the text and kind.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		for k := Identity; k <= Trust; k++ {
			f.Add(s, int(k))
		}
	}
	f.Fuzz(func(t *testing.T, doc string, kind int) {
		p, err := Parse(doc, Kind(kind&3))
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("got error of type %T, want *ParseError", err)
			}
			return
		}
		if _, err := Compile(p); err != nil {
			t.Fatalf("Compile of a parsed policy: got %v, want no error", err)
		}
	})
}

// FuzzEvaluate: a compiled policy never panics on any request.
func FuzzEvaluate(f *testing.F) {
	var compiled []*Compiled
	for _, s := range fuzzSeeds {
		for k := Identity; k <= Trust; k++ {
			if c, err := ParseCompile(s, k); err == nil {
				compiled = append(compiled, c)
			}
		}
	}
	f.Add("s3:GetObject", "arn:aws:s3:::b/alice/x", "aws:username", "alice", "2020-01-01T00:00:00Z", "111122223333", "arn:aws:iam::111122223333:role/r", uint8(0))
	f.Add("*", "*", "aws:SourceIp", "10.1.1.1", "x", "", "", uint8(255))
	f.Add("IAM:list*", "arn:aws:iam::1:role/*?", "aws:TagKeys", "", "1e400", "a", "arn:", uint8(7))
	f.Fuzz(func(t *testing.T, action, resource, key, value, date, account, arn string, flags uint8) {
		ctx := NewContext()
		ctx.SetString(key, value)
		ctx.SetString("aws:CurrentTime", date)
		ctx.SetString("aws:TokenIssueTime", date)
		ctx.SetString("aws:SourceIp", value)
		ctx.SetString("s3:max-keys", value)
		ctx.SetString("aws:SourceArn", arn)
		if flags&1 != 0 {
			ctx.Set("aws:TagKeys", value, key, "")
		}
		if flags&2 != 0 {
			ctx.Set("aws:PrincipalTag/team")
		}
		req := &Request{Action: action, Resource: resource, Context: ctx, ReportMissing: flags&4 != 0,
			Principal: Principal{Account: account, ARN: arn, RoleARN: arn, Service: value, Anonymous: flags&8 != 0}}
		for _, c := range compiled {
			n := Named{ID: "p", Policy: c}
			var session []Named
			if flags&16 != 0 {
				session = []Named{n}
			}
			d := Evaluate(&Set{Identity: []Named{n}, Boundary: &n, Session: session, Resource: &n, ResourceIsTrust: flags&32 != 0}, req)
			if d.Result == ExplicitDeny && d.DeniedBy == "" {
				t.Fatalf("got an explicit deny with no DeniedBy")
			}
		}
	})
}
