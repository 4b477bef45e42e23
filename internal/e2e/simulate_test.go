package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/testserver"
)

// The IAM policy simulator, driven by aws-sdk-go-v2 and the AWS CLI.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html

// stmt is a MatchedStatements member, flattened for comparison.
type stmt struct {
	ID, Type   string
	Start, End string // "line:column"
}

func stmtsOf(ms []types.Statement) []stmt {
	var out []stmt
	for _, m := range ms {
		out = append(out, stmt{ID: aws.ToString(m.SourcePolicyId), Type: string(m.SourcePolicyType), Start: posOf(m.StartPosition), End: posOf(m.EndPosition)})
	}
	return out
}

func posOf(p *types.Position) string {
	if p == nil {
		return ""
	}
	return itoa(int(p.Line)) + ":" + itoa(int(p.Column))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func entry(name string, typ types.ContextKeyTypeEnum, values ...string) types.ContextEntry {
	return types.ContextEntry{ContextKeyName: aws.String(name), ContextKeyType: typ, ContextKeyValues: values}
}

// awsCLIExamplePolicy is the policy of the AWS CLI's simulate-custom-policy
// example, whose output gives the statement's position as 1:38–1:167.
const awsCLIExamplePolicy = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`

// s3Policy allows s3:* and denies s3:DeleteBucket; its statements span
// lines 4–9 and 10–15 with braces in column 5.
const s3Policy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowS3",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "*"
    },
    {
      "Sid": "DenyDelete",
      "Effect": "Deny",
      "Action": "s3:DeleteBucket",
      "Resource": "*"
    }
  ]
}`

const denyGetObject = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`

func TestSimulateCustomPolicyReproducesTheAWSCLIExample(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	for _, tc := range []struct {
		name, when string
		decision   types.PolicyEvaluationDecisionType
		matched    []stmt
	}{
		{"a time after the condition's date is allowed by the statement at 1:38–1:167", "2019-04-25T11:00:00Z", "allowed",
			[]stmt{{"PolicyInputList.1", "IAM Policy", "1:38", "1:167"}}},
		{"a time before the condition's date is an implicit deny with no statement", "2014-04-25T11:00:00Z", "implicitDeny", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{awsCLIExamplePolicy},
				ActionNames:     []string{"dynamodb:CreateBackup"},
				ContextEntries:  []types.ContextEntry{entry("aws:CurrentTime", types.ContextKeyTypeEnumDate, tc.when)},
			}))
			if len(out.EvaluationResults) != 1 {
				t.Fatalf("got %d results, want 1", len(out.EvaluationResults))
			}
			r := out.EvaluationResults[0]
			if got, want := aws.ToString(r.EvalActionName), "dynamodb:CreateBackup"; got != want {
				t.Errorf("EvalActionName: got %q, want %q", got, want)
			}
			if got, want := aws.ToString(r.EvalResourceName), "*"; got != want {
				t.Errorf("EvalResourceName: got %q, want %q", got, want)
			}
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.matched, stmtsOf(r.MatchedStatements)); diff != "" {
				t.Errorf("MatchedStatements (-want +got):\n%s", diff)
			}
			if r.MissingContextValues == nil || len(r.MissingContextValues) != 0 {
				t.Errorf("MissingContextValues: got %#v, want an empty list", r.MissingContextValues)
			}
			if r.EvalDecisionDetails != nil || r.ResourceSpecificResults != nil || r.PermissionsBoundaryDecisionDetail != nil {
				t.Errorf("got EvalDecisionDetails %v, ResourceSpecificResults %v, PermissionsBoundaryDecisionDetail %v; want none for resource *",
					r.EvalDecisionDetails, r.ResourceSpecificResults, r.PermissionsBoundaryDecisionDetail)
			}
		})
	}
}

func TestSimulateCustomPolicyDecidesLikeIAM(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	allowStmt := stmt{"PolicyInputList.1", "IAM Policy", "4:6", "9:6"}
	denyStmt := stmt{"PolicyInputList.1", "IAM Policy", "10:6", "15:6"}
	for _, tc := range []struct {
		name     string
		policies []string
		action   string
		decision types.PolicyEvaluationDecisionType
		matched  []stmt
	}{
		{"an allowed action names the Allow statement", []string{s3Policy}, "s3:GetObject", "allowed", []stmt{allowStmt}},
		{"an explicitly denied action names only the Deny statement", []string{s3Policy}, "s3:DeleteBucket", "explicitDeny", []stmt{denyStmt}},
		{"an action no statement mentions is an implicit deny", []string{s3Policy}, "ec2:RunInstances", "implicitDeny", nil},
		{"a deny in a second policy wins over the first policy's allow", []string{s3Policy, denyGetObject}, "s3:GetObject", "explicitDeny",
			[]stmt{{"PolicyInputList.2", "IAM Policy", "1:39", "1:94"}}},
		{"actions are matched without regard to case", []string{s3Policy}, "S3:getobject", "allowed", []stmt{allowStmt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: tc.policies, ActionNames: []string{tc.action},
			}))
			r := out.EvaluationResults[0]
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.matched, stmtsOf(r.MatchedStatements)); diff != "" {
				t.Errorf("MatchedStatements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyWithAPermissionsBoundary(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	boundary := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList:                    []string{s3Policy},
		PermissionsBoundaryPolicyInputList: []string{boundary},
		ActionNames:                        []string{"s3:GetObject", "s3:PutObject", "ec2:RunInstances"},
	}))
	type result struct {
		Decision          types.PolicyEvaluationDecisionType
		AllowedByBoundary *bool
		Matched           []string
	}
	var got []result
	for _, r := range out.EvaluationResults {
		var b *bool
		if r.PermissionsBoundaryDecisionDetail != nil {
			b = aws.Bool(r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary)
		}
		var ids []string
		for _, m := range r.MatchedStatements {
			ids = append(ids, aws.ToString(m.SourcePolicyId))
		}
		got = append(got, result{r.EvalDecision, b, ids})
	}
	want := []result{
		{"allowed", aws.Bool(true), []string{"PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"}},
		{"implicitDeny", aws.Bool(false), nil},
		{"implicitDeny", aws.Bool(false), nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boundary results (-want +got):\n%s", diff)
	}
}

func TestSimulateCustomPolicyEvaluatesContextEntriesOfEveryType(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	cond := func(op, key, value string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"` + op + `":{"` + key + `":` + value + `}}}]}`
	}
	ipPolicy := cond("IpAddress", "aws:SourceIp", `"203.0.113.0/24"`)
	tagPolicy := cond("ForAnyValue:StringEquals", "aws:TagKeys", `["Team","Project"]`)
	mfaPolicy := cond("Bool", "aws:MultiFactorAuthPresent", `"true"`)
	agePolicy := cond("NumericLessThan", "aws:MultiFactorAuthAge", `"3600"`)
	datePolicy := cond("DateGreaterThan", "aws:CurrentTime", `"2024-01-01T00:00:00Z"`)
	binPolicy := cond("BinaryEquals", "s3:x-amz-meta-blob", `"QmluYXJ5"`)
	for _, tc := range []struct {
		name     string
		policy   string
		entries  []types.ContextEntry
		decision types.PolicyEvaluationDecisionType
		missing  []string
	}{
		{"an ip inside the range is allowed", ipPolicy, []types.ContextEntry{entry("aws:SourceIp", "ip", "203.0.113.7")}, "allowed", []string{}},
		{"an ip outside the range is denied", ipPolicy, []types.ContextEntry{entry("aws:SourceIp", "ip", "198.51.100.1")}, "implicitDeny", []string{}},
		{"an ipList with one address inside the range is allowed", ipPolicy, []types.ContextEntry{entry("aws:SourceIp", "ipList", "198.51.100.1", "203.0.113.9")}, "allowed", []string{}},
		{"a missing ip is denied and reported missing", ipPolicy, nil, "implicitDeny", []string{"aws:SourceIp"}},
		{"a stringList sharing one value with ForAnyValue is allowed", tagPolicy, []types.ContextEntry{entry("aws:TagKeys", "stringList", "Owner", "Team")}, "allowed", []string{}},
		{"a stringList sharing no value with ForAnyValue is denied", tagPolicy, []types.ContextEntry{entry("aws:TagKeys", "stringList", "Owner")}, "implicitDeny", []string{}},
		{"boolean true satisfies Bool true", mfaPolicy, []types.ContextEntry{entry("aws:MultiFactorAuthPresent", "boolean", "true")}, "allowed", []string{}},
		{"boolean false does not satisfy Bool true", mfaPolicy, []types.ContextEntry{entry("aws:MultiFactorAuthPresent", "boolean", "false")}, "implicitDeny", []string{}},
		{"a numeric below the bound is allowed", agePolicy, []types.ContextEntry{entry("aws:MultiFactorAuthAge", "numeric", "120")}, "allowed", []string{}},
		{"a numericList above the bound is denied", agePolicy, []types.ContextEntry{entry("aws:MultiFactorAuthAge", "numericList", "7200")}, "implicitDeny", []string{}},
		{"a date after the bound is allowed", datePolicy, []types.ContextEntry{entry("aws:CurrentTime", "date", "2025-03-01T10:00:00+02:00")}, "allowed", []string{}},
		{"epoch seconds are a date", datePolicy, []types.ContextEntry{entry("aws:CurrentTime", "date", "1735689600")}, "allowed", []string{}},
		{"a dateList before the bound is denied", datePolicy, []types.ContextEntry{entry("aws:CurrentTime", "dateList", "2023-12-31T23:59:59Z")}, "implicitDeny", []string{}},
		{"equal binary is allowed", binPolicy, []types.ContextEntry{entry("s3:x-amz-meta-blob", "binary", "QmluYXJ5")}, "allowed", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{tc.policy}, ActionNames: []string{"s3:GetObject"}, ContextEntries: tc.entries,
			}))
			r := out.EvaluationResults[0]
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.missing, r.MissingContextValues); diff != "" {
				t.Errorf("MissingContextValues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyRejectsBadInputAsInvalidInput(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	good := []string{s3Policy}
	for _, tc := range []struct {
		name string
		in   iam.SimulateCustomPolicyInput
		code string
	}{
		{"a malformed policy", iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`}}, "InvalidInput"},
		{"a policy that is not JSON", iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{`}}, "InvalidInput"},
		{"an ip that is not an address", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("aws:SourceIp", "ip", "not-an-ip")}}, "InvalidInput"},
		{"a date that is not a date", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("aws:CurrentTime", "date", "yesterday")}}, "InvalidInput"},
		{"a boolean that is not true or false", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("aws:SecureTransport", "boolean", "yes")}}, "InvalidInput"},
		{"a numeric that is not a number", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("s3:max-keys", "numeric", "ten")}}, "InvalidInput"},
		{"a binary that is not base64", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("s3:x-amz-meta-b", "binary", "!!!")}}, "InvalidInput"},
		{"two values for a single-valued type", iam.SimulateCustomPolicyInput{ContextEntries: []types.ContextEntry{entry("aws:username", "string", "a", "b")}}, "InvalidInput"},
		{"a resource policy without a caller", iam.SimulateCustomPolicyInput{ResourcePolicy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}, "InvalidInput"},
		{"a resource policy without a principal", iam.SimulateCustomPolicyInput{CallerArn: aws.String("arn:aws:iam::000000000000:user/alice"), ResourcePolicy: aws.String(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}, "InvalidInput"},
		{"a resource that is not an ARN", iam.SimulateCustomPolicyInput{ResourceArns: []string{"bucket"}}, "InvalidInput"},
		{"an assumed-role caller", iam.SimulateCustomPolicyInput{CallerArn: aws.String("arn:aws:sts::000000000000:assumed-role/r/s")}, "InvalidInput"},
		{"a marker this API did not hand out", iam.SimulateCustomPolicyInput{Marker: aws.String("garbage")}, "InvalidInput"},
	} {
		t.Run(tc.name+" is "+tc.code, func(t *testing.T) {
			in := tc.in
			if in.PolicyInputList == nil {
				in.PolicyInputList = good
			}
			in.ActionNames = []string{"s3:GetObject"}
			_, err := admin.SimulateCustomPolicy(ctx, &in)
			wantCode(t, err, tc.code)
		})
	}
}

// revokePolicy is what the console's "Revoke active sessions" attaches to
// a role: deny everything to sessions issued before the cut-off.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
const revokePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-06-01T12:00:00Z"}}}]}`

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func TestSimulateTheRevokeSessionsPolicy(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	for _, tc := range []struct {
		name     string
		entries  []types.ContextEntry
		decision types.PolicyEvaluationDecisionType
		matched  []string
		missing  []string
	}{
		{"a session issued before the cut-off is explicitly denied",
			[]types.ContextEntry{entry("aws:TokenIssueTime", "date", "2024-06-01T11:59:59Z")}, "explicitDeny", []string{"PolicyInputList.2"}, []string{}},
		{"a session issued after the cut-off is allowed",
			[]types.ContextEntry{entry("aws:TokenIssueTime", "date", "2024-06-01T12:00:01Z")}, "allowed", []string{"PolicyInputList.1"}, []string{}},
		{"without a token issue time the deny does not apply and the key is missing",
			nil, "allowed", []string{"PolicyInputList.1"}, []string{"aws:TokenIssueTime"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{allowAll, revokePolicy}, ActionNames: []string{"s3:ListAllMyBuckets"}, ContextEntries: tc.entries,
			}))
			r := out.EvaluationResults[0]
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			var ids []string
			for _, m := range r.MatchedStatements {
				ids = append(ids, aws.ToString(m.SourcePolicyId))
			}
			if diff := cmp.Diff(tc.matched, ids); diff != "" {
				t.Errorf("matched policies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.missing, r.MissingContextValues); diff != "" {
				t.Errorf("MissingContextValues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyWithAResourcePolicyNamingAUser(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	const object = "arn:aws:s3:::reports/2024.csv"
	for _, tc := range []struct {
		name, caller string
		decision     types.PolicyEvaluationDecisionType
		matched      []stmt
	}{
		{"the named user is allowed by the resource policy alone", "arn:aws:iam::000000000000:user/alice", "allowed",
			[]stmt{{"ResourcePolicy", "Resource Policy", "1:39", "1:175"}}},
		{"another user is not", "arn:aws:iam::000000000000:user/bob", "implicitDeny", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`},
				ResourcePolicy:  aws.String(bucketPolicy), CallerArn: aws.String(tc.caller),
				ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{object},
			}))
			r := out.EvaluationResults[0]
			if got := aws.ToString(r.EvalResourceName); got != object {
				t.Errorf("EvalResourceName: got %q, want %q", got, object)
			}
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.matched, stmtsOf(r.MatchedStatements)); diff != "" {
				t.Errorf("MatchedStatements (-want +got):\n%s", diff)
			}
			if r.EvalDecisionDetails == nil || len(r.EvalDecisionDetails) != 0 {
				t.Errorf("EvalDecisionDetails: got %v, want an empty map for a same-account resource", r.EvalDecisionDetails)
			}
			if len(r.ResourceSpecificResults) != 1 {
				t.Fatalf("ResourceSpecificResults: got %d, want 1", len(r.ResourceSpecificResults))
			}
			rs := r.ResourceSpecificResults[0]
			if got := aws.ToString(rs.EvalResourceName); got != object {
				t.Errorf("ResourceSpecificResults[0].EvalResourceName: got %q, want %q", got, object)
			}
			if rs.EvalResourceDecision != tc.decision {
				t.Errorf("EvalResourceDecision: got %q, want %q", rs.EvalResourceDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.matched, stmtsOf(rs.MatchedStatements)); diff != "" {
				t.Errorf("ResourceSpecificResults[0].MatchedStatements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyAcrossAccountsNeedsBothSides(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}]}`
	caller := "arn:aws:iam::111122223333:user/alice"
	for _, tc := range []struct {
		name     string
		identity string
		decision types.PolicyEvaluationDecisionType
		details  map[string]types.PolicyEvaluationDecisionType
	}{
		{"an identity allow and a resource allow naming the account allow", allowAll, "allowed",
			map[string]types.PolicyEvaluationDecisionType{"IAM Policy": "allowed", "Resource Policy": "allowed"}},
		{"a resource allow alone does not", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`, "implicitDeny",
			map[string]types.PolicyEvaluationDecisionType{"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{tc.identity}, ResourcePolicy: aws.String(bucketPolicy), CallerArn: aws.String(caller),
				ResourceOwner: aws.String("arn:aws:iam::444455556666:root"),
				ActionNames:   []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::other-bucket/key"},
			}))
			r := out.EvaluationResults[0]
			if r.EvalDecision != tc.decision {
				t.Errorf("EvalDecision: got %q, want %q", r.EvalDecision, tc.decision)
			}
			if diff := cmp.Diff(tc.details, r.EvalDecisionDetails); diff != "" {
				t.Errorf("EvalDecisionDetails (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyPagesThroughActionsAndResources(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	in := &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{s3Policy},
		ActionNames:     []string{"s3:GetObject", "s3:PutObject", "s3:DeleteBucket"},
		ResourceArns:    []string{"arn:aws:s3:::a", "arn:aws:s3:::b"},
		MaxItems:        aws.Int32(4),
	}
	var got []string
	pages := 0
	for {
		out := must[*iam.SimulateCustomPolicyOutput](t)(admin.SimulateCustomPolicy(ctx, in))
		pages++
		for _, r := range out.EvaluationResults {
			got = append(got, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
		}
		if !out.IsTruncated {
			if out.Marker != nil {
				t.Errorf("last page: got Marker %q, want none", *out.Marker)
			}
			break
		}
		if pages > 5 {
			t.Fatal("more pages than results")
		}
		in.Marker = out.Marker
	}
	want := []string{
		"s3:GetObject arn:aws:s3:::a allowed", "s3:GetObject arn:aws:s3:::b allowed",
		"s3:PutObject arn:aws:s3:::a allowed", "s3:PutObject arn:aws:s3:::b allowed",
		"s3:DeleteBucket arn:aws:s3:::a explicitDeny", "s3:DeleteBucket arn:aws:s3:::b explicitDeny",
	}
	if pages != 2 {
		t.Errorf("pages: got %d, want 2", pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// principalFixture creates carol (inline policy + group devs with its own
// inline and managed policies) and role builder (inline + managed policy,
// a permissions boundary allowing only s3:GetObject).
func principalFixture(t *testing.T, s *testserver.Server) {
	t.Helper()
	admin := s.IAM(testserver.Admin())
	must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}))
	must[*iam.PutUserPolicyOutput](t)(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("CarolS3"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)}))
	must[*iam.CreateGroupOutput](t)(admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must[*iam.AddUserToGroupOutput](t)(admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("carol")}))
	must[*iam.PutGroupPolicyOutput](t)(admin.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("DevsEC2"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`)}))
	pol := must[*iam.CreatePolicyOutput](t)(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("DevsSQS"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)}))
	must[*iam.AttachGroupPolicyOutput](t)(admin.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn}))

	must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"), AssumeRolePolicyDocument: aws.String(trustAccount)}))
	must[*iam.PutRolePolicyOutput](t)(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("BuilderAll"), PolicyDocument: aws.String(allowAll)}))
	must[*iam.AttachRolePolicyOutput](t)(admin.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: pol.Policy.Arn}))
	b := must[*iam.CreatePolicyOutput](t)(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("OnlyGetObject"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}))
	must[*iam.PutRolePermissionsBoundaryOutput](t)(admin.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("builder"), PermissionsBoundary: b.Policy.Arn}))
}

type principalResult struct {
	Action   string
	Decision types.PolicyEvaluationDecisionType
	Sources  []string // SourcePolicyId/SourcePolicyType
	Missing  []string
}

func principalResults(out *iam.SimulatePrincipalPolicyOutput) []principalResult {
	var got []principalResult
	for _, r := range out.EvaluationResults {
		pr := principalResult{Action: aws.ToString(r.EvalActionName), Decision: r.EvalDecision, Missing: r.MissingContextValues}
		for _, m := range r.MatchedStatements {
			pr.Sources = append(pr.Sources, aws.ToString(m.SourcePolicyId)+"/"+string(m.SourcePolicyType))
		}
		got = append(got, pr)
	}
	return got
}

func TestSimulatePrincipalPolicyOnAUserIncludesItsGroups(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	principalFixture(t, s)
	admin := s.IAM(testserver.Admin())
	out := must[*iam.SimulatePrincipalPolicyOutput](t)(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/carol"),
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`},
		ActionNames:     []string{"s3:GetObject", "ec2:RunInstances", "sqs:SendMessage", "s3:DeleteBucket", "sns:Publish", "kms:Decrypt"},
		ContextEntries: []types.ContextEntry{
			entry("aws:SecureTransport", "boolean", "true"),
			entry("aws:RequestedRegion", "string", "us-east-1"),
		},
	}))
	want := []principalResult{
		{"s3:GetObject", "allowed", []string{"CarolS3/user"}, []string{}},
		{"ec2:RunInstances", "allowed", []string{"DevsEC2/group"}, []string{}},
		{"sqs:SendMessage", "allowed", []string{"DevsSQS/user-managed"}, []string{}},
		{"s3:DeleteBucket", "explicitDeny", []string{"DevsEC2/group"}, []string{}},
		{"sns:Publish", "allowed", []string{"PolicyInputList.1/IAM Policy"}, []string{}},
		{"kms:Decrypt", "implicitDeny", nil, []string{}},
	}
	if diff := cmp.Diff(want, principalResults(out)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	t.Run("a condition key the caller does not supply is reported missing", func(t *testing.T) {
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/carol"), ActionNames: []string{"s3:GetObject"},
		}))
		want := []principalResult{{"s3:GetObject", "implicitDeny", nil, []string{"aws:SecureTransport"}}}
		if diff := cmp.Diff(want, principalResults(out)); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

func TestSimulatePrincipalPolicyOnARoleAppliesItsBoundary(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	principalFixture(t, s)
	admin := s.IAM(testserver.Admin())
	role := aws.String("arn:aws:iam::000000000000:role/builder")
	for _, tc := range []struct {
		name      string
		boundary  []string
		want      []principalResult
		inBoundry []bool
	}{
		{"the stored boundary limits the role's allow-all", nil, []principalResult{
			{"s3:GetObject", "allowed", []string{"BuilderAll/role", "OnlyGetObject/permissionsBoundary"}, []string{}},
			{"sqs:SendMessage", "implicitDeny", nil, []string{}},
		}, []bool{true, false}},
		{"a boundary in the request replaces the stored one", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`}, []principalResult{
			{"s3:GetObject", "implicitDeny", nil, []string{}},
			{"sqs:SendMessage", "allowed", []string{"BuilderAll/role", "DevsSQS/user-managed", "PermissionsBoundaryPolicyInputList.1/IAM Policy"}, []string{}},
		}, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*iam.SimulatePrincipalPolicyOutput](t)(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: role, PermissionsBoundaryPolicyInputList: tc.boundary,
				ActionNames: []string{"s3:GetObject", "sqs:SendMessage"},
			}))
			if diff := cmp.Diff(tc.want, principalResults(out)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			for i, r := range out.EvaluationResults {
				if r.PermissionsBoundaryDecisionDetail == nil {
					t.Errorf("%s: got no PermissionsBoundaryDecisionDetail, want one", aws.ToString(r.EvalActionName))
				} else if got := r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary; got != tc.inBoundry[i] {
					t.Errorf("%s: AllowedByPermissionsBoundary: got %v, want %v", aws.ToString(r.EvalActionName), got, tc.inBoundry[i])
				}
			}
		})
	}
}

func TestSimulatePrincipalPolicyErrors(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	principalFixture(t, s)
	admin := s.IAM(testserver.Admin())
	for _, tc := range []struct {
		name, source string
		resPolicy    *string
		code         string
	}{
		{"an unknown user is NoSuchEntity", "arn:aws:iam::000000000000:user/nobody", nil, "NoSuchEntity"},
		{"an unknown role is NoSuchEntity", "arn:aws:iam::000000000000:role/nobody", nil, "NoSuchEntity"},
		{"a user of another account is NoSuchEntity", "arn:aws:iam::111122223333:user/carol", nil, "NoSuchEntity"},
		{"a policy ARN is InvalidInput", "arn:aws:iam::000000000000:policy/DevsSQS", nil, "InvalidInput"},
		{"a resource policy for a role without CallerArn is InvalidInput", "arn:aws:iam::000000000000:role/builder",
			aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`), "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String(tc.source), ActionNames: []string{"s3:GetObject"}, ResourcePolicy: tc.resPolicy,
			})
			wantCode(t, err, tc.code)
		})
	}
	t.Run("a group's own policies are simulated", func(t *testing.T) {
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::000000000000:group/devs"), ActionNames: []string{"ec2:RunInstances", "s3:GetObject"},
		}))
		want := []principalResult{
			{"ec2:RunInstances", "allowed", []string{"DevsEC2/group"}, []string{}},
			{"s3:GetObject", "implicitDeny", nil, []string{}},
		}
		if diff := cmp.Diff(want, principalResults(out)); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

func TestGetContextKeysListsTheKeysPoliciesUse(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	principalFixture(t, s)
	admin := s.IAM(testserver.Admin())
	input := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}},
	  {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:sourceip":"203.0.113.0/24"}}}]}`
	t.Run("a custom policy's keys, each once, as written", func(t *testing.T) {
		out := must[*iam.GetContextKeysForCustomPolicyOutput](t)(admin.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{
			PolicyInputList: []string{input, revokePolicy},
		}))
		if diff := cmp.Diff([]string{"aws:SourceIp", "aws:CurrentTime", "aws:TokenIssueTime"}, out.ContextKeyNames); diff != "" {
			t.Errorf("ContextKeyNames (-want +got):\n%s", diff)
		}
	})
	t.Run("a user's keys include its groups' and the input policies'", func(t *testing.T) {
		out := must[*iam.GetContextKeysForPrincipalPolicyOutput](t)(admin.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/carol"), PolicyInputList: []string{revokePolicy},
		}))
		if diff := cmp.Diff([]string{"aws:SecureTransport", "aws:RequestedRegion", "aws:TokenIssueTime"}, out.ContextKeyNames); diff != "" {
			t.Errorf("ContextKeyNames (-want +got):\n%s", diff)
		}
	})
	t.Run("a malformed policy is InvalidInput", func(t *testing.T) {
		_, err := admin.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{`{"Statement":[]}`}})
		wantCode(t, err, "InvalidInput")
	})
	t.Run("an unknown principal is NoSuchEntity", func(t *testing.T) {
		_, err := admin.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/nobody")})
		wantCode(t, err, "NoSuchEntity")
	})
}

func TestSimulatorActionsAreAuthorized(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	principalFixture(t, s)
	admin := s.IAM(testserver.Admin())
	must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}))
	auditor := s.IAM(newUser(t, s, "auditor", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":["iam:SimulatePrincipalPolicy","iam:GetContextKeysForPrincipalPolicy"],"Resource":"arn:aws:iam::000000000000:user/carol"}]}`))
	nobody := s.IAM(newUser(t, s, "nobody", ""))
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"SimulatePrincipalPolicy on the allowed user succeeds", func() error {
			_, err := auditor.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/carol"), ActionNames: []string{"s3:GetObject"}})
			return err
		}, ""},
		{"SimulatePrincipalPolicy on another user is AccessDenied", func() error {
			_, err := auditor.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/dave"), ActionNames: []string{"s3:GetObject"}})
			return err
		}, "AccessDenied"},
		{"GetContextKeysForPrincipalPolicy on the allowed user succeeds", func() error {
			_, err := auditor.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/carol")})
			return err
		}, ""},
		{"SimulateCustomPolicy without iam:SimulateCustomPolicy is AccessDenied", func() error {
			_, err := auditor.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}})
			return err
		}, "AccessDenied"},
		{"GetContextKeysForCustomPolicy without permission is AccessDenied", func() error {
			_, err := nobody.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{allowAll}})
			return err
		}, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
}

// cliStatement is a MatchedStatements member as the AWS CLI prints it.
type cliStatement struct {
	SourcePolicyId   string
	SourcePolicyType string
	StartPosition    struct{ Line, Column int }
	EndPosition      struct{ Line, Column int }
}

type cliResult struct {
	EvalActionName       string
	EvalResourceName     string
	EvalDecision         string
	MatchedStatements    []cliStatement
	MissingContextValues []string
}

func TestSimulateCustomPolicyThroughTheAWSCLIAgreesWithTheSDK(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not found")
	}
	s := testserver.Start(t)
	args := []string{"iam", "simulate-custom-policy", "--endpoint-url", s.URL, "--output", "json",
		"--policy-input-list", s3Policy, revokePolicy,
		"--action-names", "s3:GetObject", "s3:DeleteBucket", "ec2:RunInstances",
		"--context-entries", "ContextKeyName=aws:TokenIssueTime,ContextKeyValues=2024-06-02T00:00:00Z,ContextKeyType=date",
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testserver.AdminKeyID, "AWS_SECRET_ACCESS_KEY="+testserver.AdminSecret,
		"AWS_DEFAULT_REGION="+testserver.Region, "HOME="+t.TempDir(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	outb, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws %s: %v\n%s", strings.Join(args[:2], " "), err, stderr)
	}
	var cli struct{ EvaluationResults []cliResult }
	if err := json.Unmarshal(outb, &cli); err != nil {
		t.Fatalf("CLI output is not JSON: %v\n%s", err, outb)
	}

	sdk := must[*iam.SimulateCustomPolicyOutput](t)(s.IAM(testserver.Admin()).SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{s3Policy, revokePolicy},
		ActionNames:     []string{"s3:GetObject", "s3:DeleteBucket", "ec2:RunInstances"},
		ContextEntries:  []types.ContextEntry{entry("aws:TokenIssueTime", "date", "2024-06-02T00:00:00Z")},
	}))
	var want []cliResult
	for _, r := range sdk.EvaluationResults {
		cr := cliResult{EvalActionName: aws.ToString(r.EvalActionName), EvalResourceName: aws.ToString(r.EvalResourceName),
			EvalDecision: string(r.EvalDecision), MatchedStatements: []cliStatement{}, MissingContextValues: r.MissingContextValues}
		for _, m := range r.MatchedStatements {
			var cs cliStatement
			cs.SourcePolicyId, cs.SourcePolicyType = aws.ToString(m.SourcePolicyId), string(m.SourcePolicyType)
			cs.StartPosition.Line, cs.StartPosition.Column = int(m.StartPosition.Line), int(m.StartPosition.Column)
			cs.EndPosition.Line, cs.EndPosition.Column = int(m.EndPosition.Line), int(m.EndPosition.Column)
			cr.MatchedStatements = append(cr.MatchedStatements, cs)
		}
		want = append(want, cr)
	}
	if diff := cmp.Diff(want, cli.EvaluationResults); diff != "" {
		t.Errorf("CLI results differ from the SDK's (-sdk +cli):\n%s", diff)
	}
	if got := []string{cli.EvaluationResults[0].EvalDecision, cli.EvaluationResults[1].EvalDecision, cli.EvaluationResults[2].EvalDecision}; !cmp.Equal(got, []string{"allowed", "explicitDeny", "implicitDeny"}) {
		t.Errorf("CLI decisions: got %v, want [allowed explicitDeny implicitDeny]", got)
	}
}
