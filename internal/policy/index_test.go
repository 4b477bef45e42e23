package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIndexSkipsNothingThatApplies compares Evaluate on large policies with
// and without the vendor index, action-set cache and ARN prefix: the
// shortcuts must never change a decision or the statements behind it, in
// particular never skip a possible Deny.
func TestIndexSkipsNothingThatApplies(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	actions := []string{"s3:GetObject", "S3:getobject", "s3:PutObject", "iam:ListUsers", "IAM:ListRoles", "ec2:RunInstances", "sts:AssumeRole", "kms:Decrypt", "dynamodb:GetItem", "sqs:SendMessage", "x:y", "noservice"}
	patterns := []string{"s3:Get*", "s3:*", "S3:GetObject", "iam:List*", "ec2:*Instances", "*", "sts:AssumeRole", "kms:*", "dynamodb:GetItem", "sqs:*", "sns:Publish", "lambda:Invoke*", "x:y"}
	resources := []string{"*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:iam::111122223333:*", "arn:aws:*:*:111122223333:*", "arn:aws:s3:::${aws:username}/*", "arn:aws", "arn:aws:s3:::b/${*}x"}
	reqResources := []string{"arn:aws:s3:::b/k", "arn:aws:s3:::b", "arn:aws:iam::111122223333:user/alice", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", "arn:aws:s3:::alice/k", "*", "arn:aws", "arn:aws:s3:::b/*x"}
	pick := func(list []string, n int) string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, `"`+list[r.IntN(len(list))]+`"`)
		}
		return "[" + strings.Join(out, ",") + "]"
	}
	for round := 0; round < 60; round++ {
		var stmts []string
		n := indexMin + r.IntN(40)
		for i := 0; i < n; i++ {
			effect := "Allow"
			if r.IntN(4) == 0 {
				effect = "Deny"
			}
			act := "Action"
			if r.IntN(8) == 0 {
				act = "NotAction"
			}
			res := "Resource"
			if r.IntN(8) == 0 {
				res = "NotResource"
			}
			stmts = append(stmts, fmt.Sprintf(`{"Effect":%q,%q:%s,%q:%s}`, effect, act, pick(patterns, 1+r.IntN(3)), res, pick(resources, 1+r.IntN(2))))
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		c := mustCompile(t, doc, Identity)
		plain := *c
		plain.index = nil
		plain.stmts = append([]cstmt(nil), c.stmts...)
		for i := range plain.stmts {
			// A private copy of each action set defeats the cache.
			as := *plain.stmts[i].act
			plain.stmts[i].act, plain.stmts[i].actSet = &as, 64
			res := append([]arnPattern(nil), plain.stmts[i].resources...)
			for k := range res {
				res[k].prefix, res[k].from = "", 0
			}
			plain.stmts[i].resources = res
		}
		ctx := NewContext()
		ctx.SetString("aws:username", "alice")
		for _, a := range actions {
			for _, rr := range reqResources {
				req := &Request{Action: a, Resource: rr, Context: ctx}
				got := Evaluate(&Set{Identity: []Named{{ID: "p", Policy: c}}}, req)
				want := Evaluate(&Set{Identity: []Named{{ID: "p", Policy: &plain}}}, req)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("policy %s, action %s, resource %s: got %+v, want %+v", doc, a, rr, got, want)
				}
			}
		}
	}
}

func TestIndexLists(t *testing.T) {
	t.Parallel()
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Action":["iam:ListUsers","S3:PutObject","s3:List*"],"Resource":"*"},
		{"Effect":"Deny","NotAction":"s3:*","Resource":"*"},
		{"Effect":"Deny","Action":"*","Resource":"*"},
		{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
		{"Effect":"Deny","Action":["sns:Publish","*"],"Resource":"*"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}
	]}`
	c := mustCompile(t, doc, Identity)
	if c.index == nil {
		t.Fatal("got no index, want one for 8 statements")
	}
	cases := []struct {
		vendor string
		want   []int32
	}{
		{"s3", []int32{0, 1, 2, 3, 5, 6}},
		{"S3", []int32{0, 1, 2, 3, 5, 6}},
		{"iam", []int32{1, 2, 3, 5}},
		{"kms", []int32{2, 3, 5, 7}},
		{"sns", []int32{2, 3, 5}},
	}
	for _, tc := range cases {
		if got := c.index.lookup(tc.vendor); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("lookup(%q): got %v, want %v", tc.vendor, got, tc.want)
		}
	}
	if len(c.sets) != 7 {
		t.Errorf("got %d action sets, want 7 (statements 0 and 6 share one)", len(c.sets))
	}
}

func TestPatternEscapesAndLiterals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern string
		s       string
		want    bool
	}{
		{"a${*}b", "a*b", true},
		{"a${*}b", "axb", false},
		{"${*}${?}${$}*", "*?$anything", true},
		{"x${*}${abc", "x*${abc", true},
		{"x${*}${a b}*", "x*${a b}zz", true},
		{"${aws:username}/*", "alice/k", true},
		{"${aws:username}/*", "bob/k", false},
		{"${aws:missing, 'dflt'}-${*}", "dflt-*", true},
		{"pre*${*}", "pre-anything*", true},
		{"pre*${*}", "pre-anything", false},
	}
	ctx := NewContext()
	ctx.SetString("aws:username", "alice")
	for _, tc := range cases {
		p := compilePattern(tc.pattern, true, true)
		if got, _ := p.match(tc.s, false, ctx); got != tc.want {
			t.Errorf("pattern %q on %q: got %v, want %v (elems %+v)", tc.pattern, tc.s, got, tc.want, p.elems)
		}
	}
}
