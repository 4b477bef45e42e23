package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const ok = `"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string // substring of the message
		path string // expected Path, "" to skip
	}{
		{"a principal in an identity policy", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Principal":"*"}]}`, "Policy document should not specify a principal.", "$.Statement[0].Principal"},
		{"a NotPrincipal in an identity policy", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"NotPrincipal":{"AWS":"1"}}]}`, "Policy document should not specify a principal.", ""},
		{"an identity statement without resources", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, "Policy statement must contain resources.", "$.Statement[0]"},
		{"a resource policy without a principal", Resource, `{"Version":"2012-10-17","Statement":[{` + ok + `}]}`, "has a statement with no principals", ""},
		{"a trust policy without a principal", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "has a statement with no principals", ""},
		{"a trust policy with NotPrincipal", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","NotPrincipal":{"AWS":"1"}}]}`, "NotPrincipal is not allowed", ""},
		{"an action without a vendor", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "$.Statement[0].Action"},
		{"a condition key without a vendor", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"StringEquals":{"SourceIp":"x"}}}]}`, "Actions/Conditions must be prefaced by a vendor", ""},
		{"a duplicate key in a statement", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Effect":"Deny"}]}`, `duplicate key "Effect"`, "$.Statement[0].Effect"},
		{"a duplicate key in a condition", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"Bool":{"aws:SecureTransport":"true","aws:SecureTransport":"false"}}}]}`, `duplicate key "aws:SecureTransport"`, ""},
		{"a duplicate top-level key", Identity, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[{` + ok + `}]}`, `duplicate key "Version"`, ""},
		{"trailing garbage", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `}]} x`, "unexpected text after the end", ""},
		{"a second document", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `}]}{}`, "unexpected text after the end", ""},
		{"deep nesting", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"StringEquals":{"aws:x":[[[[["a"]]]]]}}}]}`, "nested too deeply", ""},
		{"an unknown top-level element", Identity, `{"Version":"2012-10-17","Statment":[{` + ok + `}]}`, `unknown policy element "Statment"`, ""},
		{"an unknown statement element", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Actions":"s3:*"}]}`, `unknown statement element "Actions"`, ""},
		{"a missing Effect", Identity, `{"Version":"2012-10-17","Statement":[{"Action":"s3:*","Resource":"*"}]}`, "Missing required field Effect", ""},
		{"an Effect other than Allow or Deny", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`, `Invalid effect: "allow"`, ""},
		{"both Action and NotAction", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"NotAction":"s3:PutObject"}]}`, "both Action and NotAction", ""},
		{"neither Action nor NotAction", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "must contain actions", ""},
		{"an unknown condition operator", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"StringEqual":{"aws:x":"y"}}}]}`, "Invalid Condition type : StringEqual", ""},
		{"NullIfExists", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"NullIfExists":{"aws:x":"true"}}}]}`, "Invalid Condition type", ""},
		{"an invalid date", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}]}`, `Invalid value "tomorrow" for condition operator DateLessThan`, "$.Statement[0].Condition.DateLessThan.aws:CurrentTime"},
		{"an invalid number", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}`, `Invalid value "ten"`, ""},
		{"a NaN number", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"NumericLessThan":{"s3:max-keys":"NaN"}}}]}`, `Invalid value "NaN"`, ""},
		{"an invalid IP", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`, `Invalid value "10.0.0.0/33"`, ""},
		{"an invalid bool", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, `Invalid value "yes"`, ""},
		{"invalid base64", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"BinaryEquals":{"aws:k":"!!"}}}]}`, `Invalid value "!!"`, ""},
		{"a variable in a Date value", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"${aws:TokenIssueTime}"}}}]}`, "Invalid value", ""},
		{"a null condition value", Identity, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Condition":{"StringEquals":{"aws:x":null}}}]}`, "condition value must be a string, number or boolean", ""},
		{"an unknown Version", Identity, `{"Version":"2012-10-18","Statement":[{` + ok + `}]}`, "valid version string", ""},
		{"a Sid with a space in an identity policy", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"a b",` + ok + `}]}`, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*", ""},
		{"duplicate Sids", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"A",` + ok + `},{"Sid":"A",` + ok + `}]}`, "The Statement Ids in the policy are not unique", ""},
		{"a Resource that is not an ARN", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]}`, "must be in ARN format", ""},
		{"an empty Action list", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "must not be an empty array", ""},
		{"a number as Action", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":1,"Resource":"*"}]}`, "must be a string or an array of strings", ""},
		{"no Statement", Identity, `{"Version":"2012-10-17"}`, "must contain a Statement", ""},
		{"an empty Statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, "at least one statement", ""},
		{"a document that is an array", Identity, `[]`, "must be a JSON object", ""},
		{"an empty document", Identity, ``, "unexpected end", ""},
		{"an unterminated string", Identity, `{"Version":"2012-10-17`, "unterminated string", ""},
		{"a partial principal string", Resource, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Principal":"arn:aws:iam::1:root"}]}`, "Invalid principal", ""},
		{"an unknown principal type", Resource, `{"Version":"2012-10-17","Statement":[{` + ok + `,"Principal":{"Group":"x"}}]}`, `unknown principal type "Group"`, ""},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.doc, tc.kind)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: got error %v, want a *ParseError containing %q", err, tc.want)
			}
			if !strings.Contains(pe.Message, tc.want) {
				t.Errorf("got message %q, want it to contain %q", pe.Message, tc.want)
			}
			if tc.path != "" && pe.Path != tc.path {
				t.Errorf("got path %q, want %q", pe.Path, tc.path)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"the console's revoke-sessions policy with Action [\"*\"]", Identity, revokePolicy},
		{"a single statement object instead of an array", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
		{"no Version at all", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
		{"Version 2008-10-17", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
		{"NotAction with NotResource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/x"}}`},
		{"a trust policy without Resource", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`},
		{"a bucket policy Sid with spaces", Resource, `{"Version":"2012-10-17","Id":"p1","Statement":[{"Sid":"Public read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`},
		{"every principal type", Resource, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root"],"Service":"s3.amazonaws.com","Federated":"accounts.google.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:*","Resource":"*"}]}`},
		{"condition values of every JSON scalar type", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:x":["a",1,false]}}}}`},
		{"escaped strings and unicode", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/\u00e9\ud83d\ude00\n"}}`},
		{"a policy variable left literal under 2008-10-17", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}`},
	}
	for _, tc := range cases {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseCompile(tc.doc, tc.kind); err != nil {
				t.Errorf("got error %v, want none", err)
			}
		})
	}
}

func TestStatementPositions(t *testing.T) {
	t.Parallel()
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    },\n    {\"Effect\": \"Deny\", \"Action\": \"s3:Delete*\", \"Resource\": \"*\"}\n  ]\n}"
	p, err := Parse(doc, Identity)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]Position{{{4, 5}, {8, 5}}, {{9, 5}, {9, 63}}}
	for i, st := range p.Statements {
		if st.Start != want[i][0] || st.End != want[i][1] {
			t.Errorf("statement %d: got %v–%v, want %v–%v", i, st.Start, st.End, want[i][0], want[i][1])
		}
	}
}

func TestContextKeys(t *testing.T) {
	t.Parallel()
	c, err := ParseCompile(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"a","s3:prefix":"x"}}},
		{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"AWS:principaltag/team":"true"},"DateLessThan":{"aws:TokenIssueTime":"2020"}}}]}`, Identity)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.ContextKeys(), ",")
	want := "aws:PrincipalTag/Team,s3:prefix,aws:TokenIssueTime"
	if got != want {
		t.Errorf("got ContextKeys %s, want %s", got, want)
	}
}

func TestNonWhitespaceLen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"{ }", 2},
		{"{\n\t\"a\" : \"b c\"\r\n}", 10},
		{"é", 1},
	}
	for _, tc := range cases {
		if got := NonWhitespaceLen(tc.in); got != tc.want {
			t.Errorf("NonWhitespaceLen(%q): got %d, want %d", tc.in, got, tc.want)
		}
	}
}
