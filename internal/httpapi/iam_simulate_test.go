package httpapi

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/policy"
)

// The simulator's pure parts: ContextEntries conversion, evaluation of
// every action × resource, markers, and the response's wire shape (golden
// files under testdata/simulate; regenerate with
// go test ./internal/httpapi -run SimulateGolden -update).

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func ce(key, typ string, values ...string) iam.ContextEntry {
	return iam.ContextEntry{Key: key, Type: typ, Values: values}
}

func TestSimulationContextConvertsEveryKeyType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		entry iam.ContextEntry
		want  []string // nil: InvalidInput
	}{
		{"a string is kept as it is", ce("aws:username", "string", "Alice"), []string{"Alice"}},
		{"a stringList keeps every value", ce("aws:TagKeys", "stringList", "a", "b"), []string{"a", "b"}},
		{"an empty stringList is present and empty", ce("aws:TagKeys", "stringList"), []string{}},
		{"a numeric is kept", ce("s3:max-keys", "numeric", "10.5"), []string{"10.5"}},
		{"a numericList is checked value by value", ce("s3:max-keys", "numericList", "1", "x"), nil},
		{"Infinity is not a numeric", ce("s3:max-keys", "numeric", "Inf"), nil},
		{"a boolean is lower-cased", ce("aws:SecureTransport", "boolean", "TRUE"), []string{"true"}},
		{"a booleanList holds booleans", ce("aws:SecureTransport", "booleanList", "false", "true"), []string{"false", "true"}},
		{"yes is not a boolean", ce("aws:SecureTransport", "boolean", "yes"), nil},
		{"an IPv4 address is an ip", ce("aws:SourceIp", "ip", "203.0.113.7"), []string{"203.0.113.7"}},
		{"an IPv4-mapped IPv6 address is unmapped", ce("aws:SourceIp", "ip", "::ffff:203.0.113.7"), []string{"203.0.113.7"}},
		{"an ipList holds IPv6 too", ce("aws:SourceIp", "ipList", "2001:db8::1", "10.0.0.1"), []string{"2001:db8::1", "10.0.0.1"}},
		{"a CIDR block is not an ip", ce("aws:SourceIp", "ip", "10.0.0.0/8"), nil},
		{"base64 is a binary", ce("s3:x-amz-meta-b", "binary", "QmluYXJ5"), []string{"QmluYXJ5"}},
		{"unpadded base64 is a binary", ce("s3:x-amz-meta-b", "binaryList", "QQ"), []string{"QQ"}},
		{"text is not a binary", ce("s3:x-amz-meta-b", "binary", "!!"), nil},
		{"a UTC date is kept in RFC 3339", ce("aws:CurrentTime", "date", "2024-06-01T12:00:00Z"), []string{"2024-06-01T12:00:00Z"}},
		{"a date with an offset is turned into UTC", ce("aws:CurrentTime", "date", "2024-06-01T14:00:00+02:00"), []string{"2024-06-01T12:00:00Z"}},
		{"fractional seconds are kept", ce("aws:TokenIssueTime", "date", "2024-06-01T12:00:00.085Z"), []string{"2024-06-01T12:00:00.085Z"}},
		{"a day is a date", ce("aws:CurrentTime", "dateList", "2024-06-01"), []string{"2024-06-01T00:00:00Z"}},
		{"epoch seconds are a date", ce("aws:EpochTime", "date", "1717243200"), []string{"1717243200"}},
		{"a word is not a date", ce("aws:CurrentTime", "date", "yesterday"), nil},
		{"two values for a string is refused", ce("aws:username", "string", "a", "b"), nil},
		{"no value for a string is refused", ce("aws:username", "string"), nil},
		{"an unknown type is refused", ce("aws:username", "text", "a"), nil},
		{"a missing type is refused", ce("aws:username", "", "a"), nil},
		{"a missing name is refused", ce("", "string", "a"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, err := iam.SimulationContext([]iam.ContextEntry{tc.entry})
			if tc.want == nil {
				if !apierr.Is(err, apierr.InvalidInput) {
					t.Fatalf("got error %v, want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			got, ok := ctx.Get(tc.entry.Key)
			if !ok {
				t.Fatalf("got no key %s, want %v", tc.entry.Key, tc.want)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func mustCompile(t *testing.T, list string, kind policy.Kind, docs ...string) []policy.Named {
	t.Helper()
	ps, err := iam.CompileSimulationPolicies(list, docs, kind)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

const (
	simAllowS3   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	simBoundary  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`
	simResPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`
)

func simOf(t *testing.T) *iam.Simulation {
	b := mustCompile(t, iam.SimBoundaryInputList, policy.Identity, simBoundary)
	return &iam.Simulation{
		Identity: mustCompile(t, iam.SimPolicyInputList, policy.Identity, simAllowS3),
		Boundary: &b[0],
		Resource: &mustCompile(t, "", policy.Resource, simResPolicy)[0],
		Caller:   policy.Principal{Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/alice"}, CallerAccount: "123456789012",
		Actions: []string{"s3:GetObject", "s3:PutObject"}, Resources: []string{"*", "arn:aws:s3:::b/k"},
		Context: policy.NewContext(),
	}
}

func TestSimulateEvaluatesEveryActionOnEveryResource(t *testing.T) {
	t.Parallel()
	results := iam.Simulate(simOf(t))
	type row struct {
		Action, Resource, Decision string
		Matched                    []string
		Missing                    []string
		Boundary                   bool
		Details                    map[string]string
		PerResource                []string
	}
	var got []row
	for _, r := range results {
		rw := row{Action: r.Action, Resource: r.Resource, Decision: r.Decision.String(), Missing: r.Missing, Details: r.Details}
		for _, m := range r.Matched {
			rw.Matched = append(rw.Matched, m.PolicyID)
		}
		if r.AllowedByBoundary != nil {
			rw.Boundary = *r.AllowedByBoundary
		}
		for _, rs := range r.ResourceSpecific {
			rw.PerResource = append(rw.PerResource, rs.Resource+" "+rs.Decision.String()+" missing="+strings.Join(rs.Missing, ","))
		}
		got = append(got, rw)
	}
	const missing = "aws:SecureTransport"
	want := []row{
		{"s3:GetObject", "*", "implicitDeny", nil, []string{"aws:SecureTransport"}, true, nil, nil},
		{"s3:GetObject", "arn:aws:s3:::b/k", "implicitDeny", nil, []string{}, true, map[string]string{},
			[]string{"arn:aws:s3:::b/k implicitDeny missing=" + missing}},
		{"s3:PutObject", "*", "implicitDeny", nil, []string{"aws:SecureTransport"}, false, nil, nil},
		{"s3:PutObject", "arn:aws:s3:::b/k", "allowed", []string{"ResourcePolicy"}, []string{}, false, map[string]string{},
			[]string{"arn:aws:s3:::b/k allowed missing=" + missing}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestSimulateAcrossAccountsReportsEachSide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		identity string
		want     string
		details  map[string]string
	}{
		{"both sides allowing allow", `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`, "allowed",
			map[string]string{"IAM Policy": "allowed", "Resource Policy": "allowed"}},
		{"a missing identity allow is an implicit deny", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`, "implicitDeny",
			map[string]string{"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}},
		{"an identity deny is an explicit deny", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, "explicitDeny",
			map[string]string{"IAM Policy": "explicitDeny", "Resource Policy": "allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := simOf(t)
			sim.Identity = mustCompile(t, iam.SimPolicyInputList, policy.Identity, tc.identity)
			sim.Boundary = nil
			sim.Actions, sim.Resources, sim.ResourceOwner = []string{"s3:PutObject"}, []string{"arn:aws:s3:::b/k"}, "999988887777"
			r := iam.Simulate(sim)[0]
			if got := r.Decision.String(); got != tc.want {
				t.Errorf("decision: got %s, want %s", got, tc.want)
			}
			if diff := cmp.Diff(tc.details, r.Details); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if r.Decision == policy.ExplicitDeny {
				for _, m := range r.Matched {
					if m.PolicyID == iam.SimResourcePolicyID {
						t.Errorf("explicit deny lists the resource policy's Allow statement %+v", m)
					}
				}
			}
		})
	}
}

func TestSimMarkersRoundTripAndRejectGarbage(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 100, 99999} {
		if got, err := simOffset(simMarker(n)); err != nil || got != n {
			t.Errorf("simOffset(simMarker(%d)): got %d, %v; want %d, nil", n, got, err, n)
		}
	}
	for _, bad := range []string{"x", "c2ltLy0x", "!!!!", simMarker(1) + "A"} {
		if _, err := simOffset(bad); !apierr.Is(err, apierr.InvalidInput) {
			t.Errorf("simOffset(%q): got %v, want InvalidInput", bad, err)
		}
	}
}

func TestCompileSimulationPoliciesNamesTheBadPolicy(t *testing.T) {
	t.Parallel()
	_, err := iam.CompileSimulationPolicies(iam.SimPolicyInputList, []string{simAllowS3, `{"Statement":[{"Effect":"Allow"}]}`}, policy.Identity)
	e := apierr.As(err)
	if e == nil || e.Code != apierr.InvalidInput {
		t.Fatalf("got %v, want InvalidInput", err)
	}
	if want := "Invalid policy PolicyInputList.2: "; len(e.Message) < len(want) || e.Message[:len(want)] != want {
		t.Errorf("message: got %q, want it to start with %q", e.Message, want)
	}
}

func TestSimulateResponsesGolden(t *testing.T) {
	t.Parallel()
	sim := simOf(t)
	page := func(rs []iam.EvalResult, truncated bool) xmlSimulateResult {
		out := xmlSimulateResult{EvaluationResults: xmlMembers[xmlEvalResult]{Member: []xmlEvalResult{}}}
		for i := range rs {
			out.EvaluationResults.Member = append(out.EvaluationResults.Member, evalResultOf(&rs[i]))
		}
		if truncated {
			out.IsTruncated, out.Marker = true, simMarker(len(rs))
		}
		return out
	}
	results := iam.Simulate(sim)
	for _, tc := range []struct {
		file, action string
		result       any
	}{
		{"simulate_custom_policy.xml", "SimulateCustomPolicy", page(results, false)},
		{"simulate_principal_policy_truncated.xml", "SimulatePrincipalPolicy", page(results[:1], true)},
		{"get_context_keys_for_custom_policy.xml", "GetContextKeysForCustomPolicy", contextKeysResult(iam.ContextKeys(sim.Identity))},
		{"get_context_keys_empty.xml", "GetContextKeysForPrincipalPolicy", contextKeysResult(nil)},
	} {
		t.Run(tc.action+" renders as AWS does", func(t *testing.T) {
			t.Parallel()
			got, err := encodeQueryResult(tc.action, IAMNamespace, "00000000-0000-4000-8000-000000000000", tc.result)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "simulate", tc.file)
			if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}
