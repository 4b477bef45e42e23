package policy

import (
	"strings"
	"testing"
)

// kv is a request context for tests: a nil slice is not possible in a map
// literal, so an absent key is simply not listed and []string{} is a key
// present with no values.
type kv map[string][]string

func (m kv) context() *Context {
	c := NewContext()
	for k, v := range m {
		c.Set(k, v...)
	}
	return c
}

// condAllows compiles an Allow-everything identity policy whose only
// condition is cond (the JSON of a Condition block) and reports whether
// the request with ctx is allowed.
func condAllows(t *testing.T, version, cond string, ctx kv) bool {
	t.Helper()
	doc := `{"Version":"` + version + `","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}]}`
	if version == "" {
		doc = strings.Replace(doc, `"Version":"",`, "", 1)
	}
	c, err := ParseCompile(doc, Identity)
	if err != nil {
		t.Fatalf("ParseCompile(%s): %v", cond, err)
	}
	set := &Set{Identity: []Named{{ID: "p", Type: "user", Policy: c}}}
	d := Evaluate(set, &Request{Action: "s3:GetObject", Resource: "*", Context: ctx.context()})
	return d.Result == Allowed
}

type condCase struct {
	name string
	cond string
	ctx  kv
	want bool
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := condAllows(t, Version2012, tc.cond, tc.ctx); got != tc.want {
				t.Errorf("condition %s with context %v: got allowed=%v, want %v", tc.cond, tc.ctx, got, tc.want)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
func TestStringOperators(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"StringEquals matches the exact tag value", `{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}`, kv{"aws:PrincipalTag/job-category": {"iamuser-admin"}}, true},
		{"StringEquals is case-sensitive in the value", `{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}`, kv{"aws:PrincipalTag/job-category": {"IAMUser-Admin"}}, false},
		{"StringEquals key names are case-insensitive, tag part included", `{"StringEquals":{"aws:PrincipalTag/Job-Category":"x"}}`, kv{"AWS:principaltag/job-category": {"x"}}, true},
		{"StringEquals on a missing key is false", `{"StringEquals":{"aws:PrincipalTag/job-category":"x"}}`, kv{}, false},
		{"StringEquals values are ORed", `{"StringEquals":{"s3:prefix":["a","b"]}}`, kv{"s3:prefix": {"b"}}, true},
		{"StringEquals does not treat * as a wildcard", `{"StringEquals":{"s3:prefix":"home/*"}}`, kv{"s3:prefix": {"home/x"}}, false},
		{"StringNotEquals matches a value outside the list", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, kv{"aws:RequestedRegion": {"ap-south-1"}}, true},
		{"StringNotEquals must differ from every listed value", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, kv{"aws:RequestedRegion": {"eu-west-1"}}, false},
		{"StringNotEquals on a missing key is true", `{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, kv{}, true},
		{"StringEqualsIgnoreCase ignores case", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"Dev"}}`, kv{"aws:PrincipalTag/team": {"dEV"}}, true},
		{"StringNotEqualsIgnoreCase is false for a case variant", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"Dev"}}`, kv{"aws:PrincipalTag/team": {"DEV"}}, false},
		{"StringLike matches a glob with *", `{"StringLike":{"s3:prefix":["","home/","home/bob/*"]}}`, kv{"s3:prefix": {"home/bob/docs/a.txt"}}, true},
		{"StringLike matches the empty string", `{"StringLike":{"s3:prefix":["","home/"]}}`, kv{"s3:prefix": {""}}, true},
		{"StringLike ? matches exactly one character", `{"StringLike":{"ec2:InstanceType":"t?.micro"}}`, kv{"ec2:InstanceType": {"t3.micro"}}, true},
		{"StringLike ? does not match two characters", `{"StringLike":{"ec2:InstanceType":"t?.micro"}}`, kv{"ec2:InstanceType": {"t3a.micro"}}, false},
		{"StringLike * spans slashes and colons", `{"StringLike":{"aws:userid":"AROA*:alice"}}`, kv{"aws:userid": {"AROAEXAMPLE:x:alice"}}, true},
		{"StringNotLike is true when no pattern matches", `{"StringNotLike":{"s3:prefix":["private/*","secret/*"]}}`, kv{"s3:prefix": {"public/a"}}, true},
		{"StringNotLike is false when a pattern matches", `{"StringNotLike":{"s3:prefix":["private/*","secret/*"]}}`, kv{"s3:prefix": {"secret/a"}}, false},
		{"String operators accept JSON numbers as text", `{"StringEquals":{"s3:max-keys":10}}`, kv{"s3:max-keys": {"10"}}, true},
		{"keys under one operator are ANDed", `{"StringEquals":{"aws:PrincipalTag/a":"1","aws:PrincipalTag/b":"2"}}`, kv{"aws:PrincipalTag/a": {"1"}, "aws:PrincipalTag/b": {"3"}}, false},
		{"operators are ANDed", `{"StringEquals":{"aws:PrincipalTag/a":"1"},"StringLike":{"aws:PrincipalTag/b":"2*"}}`, kv{"aws:PrincipalTag/a": {"1"}, "aws:PrincipalTag/b": {"22"}}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
func TestNumericOperators(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"NumericLessThanEquals allows 10 max-keys", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"10"}}, true},
		{"NumericLessThanEquals refuses 11 max-keys", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"11"}}, false},
		{"NumericLessThan is strict", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"10"}}, false},
		{"NumericGreaterThan compares decimals", `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600.5"}}`, kv{"aws:MultiFactorAuthAge": {"3601"}}, true},
		{"NumericGreaterThanEquals accepts equality", `{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":3600}}`, kv{"aws:MultiFactorAuthAge": {"3600"}}, true},
		{"NumericEquals compares values not text", `{"NumericEquals":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"10.0"}}, true},
		{"NumericNotEquals is true for another number", `{"NumericNotEquals":{"s3:max-keys":["10","20"]}}`, kv{"s3:max-keys": {"15"}}, true},
		{"NumericNotEquals is false for a listed number", `{"NumericNotEquals":{"s3:max-keys":["10","20"]}}`, kv{"s3:max-keys": {"20"}}, false},
		{"Numeric on a non-number context value is false", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"ten"}}, false},
		{"negated Numeric on a non-number context value is false too", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, kv{"s3:max-keys": {"ten"}}, false},
		{"negative numbers compare", `{"NumericLessThan":{"s3:max-keys":"-1"}}`, kv{"s3:max-keys": {"-2"}}, true},
		{"NumericLessThan on a missing key is false", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv{}, false},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
func TestDateOperators(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"DateGreaterThan after the cut-off", `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"2020-04-01T00:00:01Z"}}, true},
		{"DateGreaterThan at the cut-off is false", `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"2020-04-01T00:00:00Z"}}, false},
		{"DateGreaterThanEquals at the cut-off is true", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"2020-04-01T00:00:00Z"}}, true},
		{"DateLessThan compares milliseconds", `{"DateLessThan":{"aws:TokenIssueTime":"2024-10-10T09:43:48.085Z"}}`, kv{"aws:TokenIssueTime": {"2024-10-10T09:43:48.084Z"}}, true},
		{"DateLessThanEquals with a date-only policy value", `{"DateLessThanEquals":{"aws:CurrentTime":"2020-04-01"}}`, kv{"aws:CurrentTime": {"2020-03-31T23:59:59Z"}}, true},
		{"DateEquals a year means its first instant", `{"DateEquals":{"aws:CurrentTime":"2020"}}`, kv{"aws:CurrentTime": {"2020-01-01T00:00:00Z"}}, true},
		{"DateEquals a year-month", `{"DateEquals":{"aws:CurrentTime":"2020-02"}}`, kv{"aws:CurrentTime": {"2020-02-01T00:00Z"}}, true},
		{"DateEquals honours timezone offsets", `{"DateEquals":{"aws:CurrentTime":"2020-04-01T02:00:00+02:00"}}`, kv{"aws:CurrentTime": {"2020-04-01T00:00:00Z"}}, true},
		{"DateNotEquals differs", `{"DateNotEquals":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"2020-04-01T00:00:00.5Z"}}, true},
		{"Date policy value as epoch seconds", `{"DateGreaterThan":{"aws:EpochTime":"1585699200"}}`, kv{"aws:EpochTime": {"1585699201"}}, true},
		{"Date epoch policy value against an ISO context value", `{"DateLessThan":{"aws:CurrentTime":1585699200}}`, kv{"aws:CurrentTime": {"2020-03-31T23:59:59Z"}}, true},
		{"Date ISO policy value against an epoch context value", `{"DateLessThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"1585699199"}}, true},
		{"Date on a non-date context value is false", `{"DateLessThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, kv{"aws:CurrentTime": {"yesterday"}}, false},
		{"Date on a missing key is false", `{"DateLessThan":{"aws:TokenIssueTime":"2020-04-01T00:00:00Z"}}`, kv{}, false},
		{"DateNotEquals on a missing key is true", `{"DateNotEquals":{"aws:TokenIssueTime":"2020-04-01T00:00:00Z"}}`, kv{}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
func TestBoolOperator(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"Bool true matches true", `{"Bool":{"aws:SecureTransport":"true"}}`, kv{"aws:SecureTransport": {"true"}}, true},
		{"Bool true does not match false", `{"Bool":{"aws:SecureTransport":"true"}}`, kv{"aws:SecureTransport": {"false"}}, false},
		{"Bool accepts a JSON boolean", `{"Bool":{"aws:MultiFactorAuthPresent":true}}`, kv{"aws:MultiFactorAuthPresent": {"true"}}, true},
		{"Bool false does not match a missing key", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, kv{}, false},
		{"BoolIfExists false matches a missing key", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, kv{}, true},
		{"BoolIfExists true refuses a present false", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, kv{"aws:MultiFactorAuthPresent": {"false"}}, false},
		{"Bool on a non-boolean context value is false", `{"Bool":{"aws:SecureTransport":"true"}}`, kv{"aws:SecureTransport": {"yes"}}, false},
		{"Bool value from a policy variable", `{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/tls}"}}`, kv{"aws:SecureTransport": {"true"}, "aws:PrincipalTag/tls": {"true"}}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals
func TestBinaryOperator(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"BinaryEquals matches the same bytes", `{"BinaryEquals":{"aws:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, kv{"aws:key": {"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, true},
		{"BinaryEquals matches unpadded base64 of the same bytes", `{"BinaryEquals":{"aws:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, kv{"aws:key": {"QmluYXJ5VmFsdWVJbkJhc2U2NA"}}, true},
		{"BinaryEquals refuses other bytes", `{"BinaryEquals":{"aws:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, kv{"aws:key": {"QmluYXJ5"}}, false},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
func TestIPOperators(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"IpAddress inside an IPv4 CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, kv{"aws:SourceIp": {"203.0.113.7"}}, true},
		{"IpAddress outside an IPv4 CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, kv{"aws:SourceIp": {"203.0.114.7"}}, false},
		{"IpAddress bare address is a /32", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, kv{"aws:SourceIp": {"203.0.113.7"}}, true},
		{"IpAddress inside an IPv6 CIDR", `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}`, kv{"aws:SourceIp": {"2001:db8:1234:5678::1"}}, true},
		{"IpAddress IPv4-mapped IPv6 request address", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, kv{"aws:SourceIp": {"::ffff:203.0.113.9"}}, true},
		{"NotIpAddress outside every CIDR", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, kv{"aws:SourceIp": {"198.51.100.1"}}, true},
		{"NotIpAddress inside one CIDR", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, kv{"aws:SourceIp": {"192.0.2.1"}}, false},
		{"NotIpAddress on a missing key is true", `{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, kv{}, true},
		{"IpAddress on a non-address is false", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, kv{"aws:SourceIp": {"localhost"}}, false},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
func TestARNOperators(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"ArnLike matches per component", `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}`, kv{"aws:SourceArn": {"arn:aws:cloudtrail:us-east-2:111122223333:trail/t1"}}, true},
		{"ArnLike * does not cross a colon", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012"}}`, kv{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:topic"}}, false},
		{"StringLike * does cross a colon", `{"StringLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012"}}`, kv{"aws:SourceArn": {"arn:aws:sns:us-east-1:x:123456789012"}}, true},
		{"ArnEquals behaves like ArnLike", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:*"}}`, kv{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:my_topic"}}, true},
		{"ArnLike is case-sensitive", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Admin"}}`, kv{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/admin"}}, false},
		{"ArnNotLike is true for another account", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:*"}}`, kv{"aws:PrincipalArn": {"arn:aws:iam::999999999999:role/x"}}, true},
		{"ArnNotEquals is false for a match", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:*"}}`, kv{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/x"}}, false},
		{"ArnLike resource part keeps its colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:us-east-1:1:log-group:*"}}`, kv{"aws:SourceArn": {"arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"}}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
func TestNullOperator(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"Null true matches a missing key", `{"Null":{"aws:TokenIssueTime":"true"}}`, kv{}, true},
		{"Null true refuses a present key", `{"Null":{"aws:TokenIssueTime":"true"}}`, kv{"aws:TokenIssueTime": {"2020-01-01T00:00:00Z"}}, false},
		{"Null false matches a present key", `{"Null":{"aws:TokenIssueTime":"false"}}`, kv{"aws:TokenIssueTime": {"2020-01-01T00:00:00Z"}}, true},
		{"Null false refuses a missing key", `{"Null":{"aws:TokenIssueTime":false}}`, kv{}, false},
		{"Null true matches a key with no values", `{"Null":{"aws:TagKeys":"true"}}`, kv{"aws:TagKeys": {}}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
func TestIfExists(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"StringLikeIfExists matches a missing key", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, kv{}, true},
		{"StringLikeIfExists matches a present allowed value", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, kv{"ec2:InstanceType": {"t2.micro"}}, true},
		{"StringLikeIfExists refuses a present other value", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, kv{"ec2:InstanceType": {"c5.large"}}, false},
		{"NumericLessThanIfExists matches a missing key", `{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`, kv{}, true},
		{"DateLessThanIfExists matches a missing key", `{"DateLessThanIfExists":{"aws:TokenIssueTime":"2020-01-01"}}`, kv{}, true},
		{"IpAddressIfExists matches a missing key", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, kv{}, true},
		{"ArnLikeIfExists refuses a present other value", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}`, kv{"aws:SourceArn": {"arn:aws:sns:us-east-1:1:u"}}, false},
		{"StringNotEqualsIfExists refuses a present listed value", `{"StringNotEqualsIfExists":{"aws:PrincipalTag/team":"x"}}`, kv{"aws:PrincipalTag/team": {"x"}}, false},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
func TestSetOperators(t *testing.T) {
	t.Parallel()
	const all = `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`
	const anyOf = `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`
	runCondCases(t, []condCase{
		{"ForAllValues is true when every request value is listed", all, kv{"aws:TagKeys": {"environment", "cost-center"}}, true},
		{"ForAllValues is false when one request value is not listed", all, kv{"aws:TagKeys": {"environment", "owner"}}, false},
		{"ForAllValues is true for a missing key", all, kv{}, true},
		{"ForAllValues is true for an empty list", all, kv{"aws:TagKeys": {}}, true},
		{"ForAnyValue is true when one request value is listed", anyOf, kv{"aws:TagKeys": {"owner", "cost-center"}}, true},
		{"ForAnyValue is false when no request value is listed", anyOf, kv{"aws:TagKeys": {"owner"}}, false},
		{"ForAnyValue is false for a missing key", anyOf, kv{}, false},
		{"ForAnyValue is false for an empty list", anyOf, kv{"aws:TagKeys": {}}, false},
		{"ForAllValues:StringNotEquals is true when no request value is listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, kv{"aws:TagKeys": {"a", "b"}}, true},
		{"ForAllValues:StringNotEquals is false when one request value is listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, kv{"aws:TagKeys": {"a", "secret"}}, false},
		{"ForAnyValue:StringNotEquals is true when one request value is not listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["secret"]}}`, kv{"aws:TagKeys": {"a", "secret"}}, true},
		{"ForAnyValue:StringNotEquals is false when every request value is listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["secret"]}}`, kv{"aws:TagKeys": {"secret"}}, false},
		{"ForAllValues:StringLike applies globs", `{"ForAllValues:StringLike":{"aws:CalledVia":["*.amazonaws.com"]}}`, kv{"aws:CalledVia": {"athena.amazonaws.com", "cloudformation.amazonaws.com"}}, true},
		{"a plain positive operator on a multivalued key matches any value", `{"StringEquals":{"aws:TagKeys":"owner"}}`, kv{"aws:TagKeys": {"a", "owner"}}, true},
		{"a plain negated operator on a multivalued key needs every value to differ", `{"StringNotEquals":{"aws:TagKeys":"owner"}}`, kv{"aws:TagKeys": {"a", "owner"}}, false},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func TestPolicyVariablesInConditions(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{"a variable resolves from the context", `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`, kv{"sts:RoleSessionName": {"alice"}, "aws:username": {"alice"}}, true},
		{"a variable name is case-insensitive", `{"StringEquals":{"sts:RoleSessionName":"${AWS:UserName}"}}`, kv{"sts:RoleSessionName": {"alice"}, "aws:username": {"alice"}}, true},
		{"a variable resolving to another value does not match", `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`, kv{"sts:RoleSessionName": {"bob"}, "aws:username": {"alice"}}, false},
		{"an unresolvable variable never matches a positive operator", `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`, kv{"sts:RoleSessionName": {"${aws:username}"}}, false},
		{"an unresolvable variable makes a negated operator match", `{"StringNotEquals":{"sts:RoleSessionName":"${aws:username}"}}`, kv{"sts:RoleSessionName": {"alice"}}, true},
		{"a default value stands in for a missing key", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'company-wide'}"}}`, kv{"aws:ResourceTag/team": {"company-wide"}}, true},
		{"a present key beats the default", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'company-wide'}"}}`, kv{"aws:ResourceTag/team": {"company-wide"}, "aws:PrincipalTag/team": {"blue"}}, false},
		{"variables inside StringLike keep the wildcards around them", `{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}`, kv{"s3:prefix": {"home/alice/x/y"}, "aws:username": {"alice"}}, true},
		{"a resolved value is literal, not a wildcard", `{"StringLike":{"s3:prefix":["${aws:PrincipalTag/p}"]}}`, kv{"s3:prefix": {"abc"}, "aws:PrincipalTag/p": {"a*"}}, false},
		{"${*} is a literal asterisk", `{"StringEquals":{"s3:prefix":"a${*}b"}}`, kv{"s3:prefix": {"a*b"}}, true},
		{"${?} and ${$} are literals", `{"StringEquals":{"s3:prefix":"${?}${$}"}}`, kv{"s3:prefix": {"?$"}}, true},
		{"a multivalued key does not resolve", `{"StringEquals":{"s3:prefix":"${aws:TagKeys}"}}`, kv{"s3:prefix": {"a"}, "aws:TagKeys": {"a", "b"}}, false},
		{"ArnLike with a variable", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}`, kv{"aws:PrincipalArn": {"arn:aws:iam::1:user/alice"}, "aws:username": {"alice"}}, true},
	})
}

func TestVariablesNeedVersion2012(t *testing.T) {
	t.Parallel()
	ctx := kv{"sts:RoleSessionName": {"${aws:username}"}, "aws:username": {"alice"}}
	for _, version := range []string{Version2008, ""} {
		t.Run("with version "+strings.TrimSpace(version+" (empty means none)"), func(t *testing.T) {
			t.Parallel()
			if got := condAllows(t, version, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`, ctx); !got {
				t.Errorf("got allowed=%v, want true: ${aws:username} is literal text", got)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		sec  int64
		nsec int32
		ok   bool
	}{
		{"1970", 0, 0, true},
		{"1970-01", 0, 0, true},
		{"1970-01-02", 86400, 0, true},
		{"2024-10-10T09:43:48.085Z", 1728553428, 85000000, true},
		{"2024-10-10T09:43Z", 1728553380, 0, true},
		{"2024-10-10T11:43:48+02:00", 1728553428, 0, true},
		{"2024-10-10T04:43:48-0500", 1728553428, 0, true},
		{"2024-10-10T09:43:48", 1728553428, 0, true},
		{"1728553428", 1728553428, 0, true},
		{"1728553428.5", 1728553428, 500000000, true},
		{"2024-02-30", 0, 0, false},
		{"2024-13", 0, 0, false},
		{"2024-10-10T25:00Z", 0, 0, false},
		{"2024-10-10 09:43:48Z", 0, 0, false},
		{"yesterday", 0, 0, false},
		{"", 0, 0, false},
		{"2024-10-10T09:43:48.Z", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run("parsing "+tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseDate(tc.in)
			if ok != tc.ok || (ok && (got.sec != tc.sec || got.nsec != tc.nsec)) {
				t.Errorf("parseDate(%q) = %+v, %v; want {%d %d}, %v", tc.in, got, ok, tc.sec, tc.nsec, tc.ok)
			}
		})
	}
}
