package httpapi

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/policy"
)

// The IAM policy simulator's four actions.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForPrincipalPolicy.html

func (a *iamAPI) registerSimulator(m map[string]Handler) {
	m["SimulateCustomPolicy"] = a.simulateCustomPolicy
	m["SimulatePrincipalPolicy"] = a.simulatePrincipalPolicy
	m["GetContextKeysForCustomPolicy"] = a.getContextKeysForCustomPolicy
	m["GetContextKeysForPrincipalPolicy"] = a.getContextKeysForPrincipalPolicy
}

// Parameter rules of the simulator (from the IAM service model).
var (
	ruleActionName   = StringRule{}.Len(3, 128)    // ActionNameType
	ruleResourceName = StringRule{}.Len(1, 2048)   // ResourceNameType
	ruleContextKey   = StringRule{}.Len(5, 256)    // ContextKeyNameType
	ruleHandling     = StringRule{}.Len(1, 64)     // ResourceHandlingOptionType
	ruleSimMarker    = Pattern(`[\x{20}-\x{FF}]+`) // markerType
)

// resourceHandlingOptions are the EC2 scenarios AWS accepts. They change
// which EC2 resources AWS's simulator asks for; iamd has no EC2 resource
// model, so they are validated and otherwise ignored.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-supported-platforms.html
var resourceHandlingOptions = map[string]bool{
	"EC2-VPC-InstanceStore": true, "EC2-VPC-InstanceStore-Subnet": true,
	"EC2-VPC-EBS": true, "EC2-VPC-EBS-Subnet": true,
}

// simRequest is what both Simulate actions read besides their policies.
type simRequest struct {
	identityDocs  []string // PolicyInputList
	boundaryDocs  []string // PermissionsBoundaryPolicyInputList
	resourceDoc   string   // ResourcePolicy
	actions       []string
	resources     []string
	callerARN     string
	resourceOwner string
	entries       []iam.ContextEntry
	page          iam.Page
}

// requiredList reads a required list parameter: absent or empty is AWS's
// "must not be null" ValidationError.
func requiredList(p Params, name string, r StringRule) ([]string, error) {
	vs, err := optionalList(p, name, r)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, apierr.New(apierr.ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field(name))
	}
	return vs, nil
}

func optionalList(p Params, name string, r StringRule) ([]string, error) {
	vs, err := p.List(name)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if err := r.Check(field(name), v); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// readSimRequest decodes and validates the shared simulator parameters.
// custom says whether PolicyInputList is required (SimulateCustomPolicy).
func readSimRequest(p Params, custom bool) (*simRequest, error) {
	var (
		r   simRequest
		err error
	)
	if custom {
		r.identityDocs, err = requiredList(p, "PolicyInputList", rulePolicyDoc)
	} else {
		r.identityDocs, err = optionalList(p, "PolicyInputList", rulePolicyDoc)
	}
	if err != nil {
		return nil, err
	}
	if r.boundaryDocs, err = optionalList(p, "PermissionsBoundaryPolicyInputList", rulePolicyDoc); err != nil {
		return nil, err
	}
	if len(r.boundaryDocs) > 1 {
		return nil, apierr.New(apierr.InvalidInput, "Only one permissions boundary policy can be simulated at a time.")
	}
	if r.actions, err = requiredList(p, "ActionNames", ruleActionName); err != nil {
		return nil, err
	}
	if r.resources, err = optionalList(p, "ResourceArns", ruleResourceName); err != nil {
		return nil, err
	}
	if r.resourceDoc, err = p.Optional("ResourcePolicy", rulePolicyDoc); err != nil {
		return nil, err
	}
	if r.resourceOwner, err = p.Optional("ResourceOwner", ruleResourceName); err != nil {
		return nil, err
	}
	if r.callerARN, err = p.Optional("CallerArn", ruleResourceName); err != nil {
		return nil, err
	}
	handling, err := p.Optional("ResourceHandlingOption", ruleHandling)
	if err != nil {
		return nil, err
	}
	if handling != "" && !resourceHandlingOptions[handling] {
		return nil, apierr.New(apierr.InvalidInput, "Invalid ResourceHandlingOption %s.", handling)
	}
	ms, err := p.Structs("ContextEntries")
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		name, err := m.Optional("ContextKeyName", ruleContextKey)
		if err != nil {
			return nil, err
		}
		vals, err := m.List("ContextKeyValues")
		if err != nil {
			return nil, err
		}
		r.entries = append(r.entries, iam.ContextEntry{Key: name, Values: vals, Type: m.Get("ContextKeyType")})
	}
	if r.page.Marker, err = p.Optional("Marker", ruleSimMarker.Len(1, 320)); err != nil {
		return nil, err
	}
	if r.page.MaxItems, err = p.Int("MaxItems", 1, 1000, iam.DefaultMaxItems); err != nil {
		return nil, err
	}
	for _, a := range r.actions {
		if svc, name, ok := strings.Cut(a, ":"); !ok || svc == "" || name == "" {
			return nil, apierr.New(apierr.InvalidInput, "Invalid action name %s: actions are of the form service:Action.", a)
		}
	}
	for _, res := range r.resources {
		if res == "*" {
			continue
		}
		if _, err := arn.Parse(res); err != nil {
			return nil, apierr.New(apierr.InvalidInput, "Resource %s must be in ARN format or \"*\".", res)
		}
	}
	return &r, nil
}

// callerPrincipal reads CallerArn: an IAM user (or role) ARN, not an
// assumed role, federated user or service.
func callerPrincipal(callerARN string) (policy.Principal, error) {
	a, err := arn.Parse(callerARN)
	typ, _, name := arn.SplitPathName(a.Resource)
	if err != nil || a.Service != "iam" || (typ != "user" && typ != "role") || name == "" || !isAccount(a.AccountID) {
		return policy.Principal{}, apierr.New(apierr.InvalidInput, "Invalid CallerArn %s: it must be the ARN of an IAM user.", callerARN)
	}
	return policy.Principal{Account: a.AccountID, ARN: callerARN}, nil
}

// ownerAccount reads ResourceOwner: an account ARN
// (arn:aws:iam::123456789012:root) or a bare account id.
func ownerAccount(owner string) (string, error) {
	if owner == "" || isAccount(owner) {
		return owner, nil
	}
	if a, err := arn.Parse(owner); err == nil && isAccount(a.AccountID) {
		return a.AccountID, nil
	}
	return "", apierr.New(apierr.InvalidInput, "Invalid ResourceOwner %s: it must name an account, such as arn:aws:iam::123456789012:root.", owner)
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
func (a *iamAPI) simulateCustomPolicy(c *Call) (any, error) {
	r, err := readSimRequest(c.Params, true)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:SimulateCustomPolicy", "*"); err != nil {
		return nil, err
	}
	sim := &iam.Simulation{CallerAccount: string(a.svc.Account())}
	if sim.Identity, err = iam.CompileSimulationPolicies(iam.SimPolicyInputList, r.identityDocs, policy.Identity); err != nil {
		return nil, err
	}
	return a.simulate(r, sim, "")
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
func (a *iamAPI) simulatePrincipalPolicy(c *Call) (any, error) {
	source, err := c.Params.Required("PolicySourceArn", ruleARN)
	if err != nil {
		return nil, err
	}
	r, err := readSimRequest(c.Params, false)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:SimulatePrincipalPolicy", source); err != nil {
		return nil, err
	}
	src, err := a.svc.SimulationSource(c.Ctx, source)
	if err != nil {
		return nil, err
	}
	inputs, err := iam.CompileSimulationPolicies(iam.SimPolicyInputList, r.identityDocs, policy.Identity)
	if err != nil {
		return nil, err
	}
	sim := &iam.Simulation{
		Identity: append(src.Identity, inputs...), Boundary: src.Boundary, CallerAccount: src.Account,
	}
	callerDefault := ""
	if src.Kind == iam.KindUser {
		callerDefault = src.ARN
	}
	return a.simulate(r, sim, callerDefault)
}

// simulate completes sim from the request (boundary, resource policy,
// caller, context) and runs it, returning one page of results.
// callerDefault is the CallerArn to use when none is given ("" for none).
func (a *iamAPI) simulate(r *simRequest, sim *iam.Simulation, callerDefault string) (any, error) {
	if len(r.boundaryDocs) > 0 {
		b, err := iam.CompileSimulationPolicies(iam.SimBoundaryInputList, r.boundaryDocs, policy.Identity)
		if err != nil {
			return nil, err
		}
		sim.Boundary = &b[0]
	}
	callerARN := r.callerARN
	if callerARN == "" {
		callerARN = callerDefault
	}
	if r.resourceDoc != "" {
		if callerARN == "" {
			return nil, apierr.New(apierr.InvalidInput, "CallerArn must be specified when a ResourcePolicy is simulated, so that its Principal element can be evaluated.")
		}
		rp, err := iam.CompileSimulationPolicies(iam.SimResourcePolicyID, []string{r.resourceDoc}, policy.Resource)
		if err != nil {
			return nil, err
		}
		sim.Resource = &rp[0]
	}
	if callerARN != "" {
		p, err := callerPrincipal(callerARN)
		if err != nil {
			return nil, err
		}
		sim.Caller = p
		if r.callerARN != "" {
			sim.CallerAccount = p.Account
		}
	} else {
		sim.Caller = policy.Principal{Account: sim.CallerAccount}
	}
	owner, err := ownerAccount(r.resourceOwner)
	if err != nil {
		return nil, err
	}
	sim.ResourceOwner = owner
	if sim.Context, err = iam.SimulationContext(r.entries); err != nil {
		return nil, err
	}
	sim.Actions, sim.Resources = r.actions, r.resources

	start, err := simOffset(r.page.Marker)
	if err != nil {
		return nil, err
	}
	results := iam.Simulate(sim)
	if start > len(results) {
		return nil, apierr.New(apierr.InvalidInput, "Invalid Marker.")
	}
	end := min(start+r.page.MaxItems, len(results))
	out := xmlSimulateResult{EvaluationResults: xmlMembers[xmlEvalResult]{Member: []xmlEvalResult{}}}
	for _, res := range results[start:end] {
		out.EvaluationResults.Member = append(out.EvaluationResults.Member, evalResultOf(&res))
	}
	if end < len(results) {
		out.IsTruncated, out.Marker = true, simMarker(end)
	}
	return out, nil
}

// The simulator's marker is the offset of the next result; the request
// itself is the rest of the state.
const simMarkerPrefix = "sim/"

func simMarker(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(simMarkerPrefix + strconv.Itoa(offset)))
}

func simOffset(marker string) (int, error) {
	if marker == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(marker)
	s, ok := strings.CutPrefix(string(b), simMarkerPrefix)
	n, err2 := strconv.Atoi(s)
	if err != nil || !ok || err2 != nil || n < 0 {
		return 0, apierr.New(apierr.InvalidInput, "Invalid Marker.")
	}
	return n, nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html
func (a *iamAPI) getContextKeysForCustomPolicy(c *Call) (any, error) {
	docs, err := requiredList(c.Params, "PolicyInputList", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetContextKeysForCustomPolicy", "*"); err != nil {
		return nil, err
	}
	ps, err := iam.CompileSimulationPolicies(iam.SimPolicyInputList, docs, policy.Identity)
	if err != nil {
		return nil, err
	}
	return contextKeysResult(iam.ContextKeys(ps)), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForPrincipalPolicy.html
func (a *iamAPI) getContextKeysForPrincipalPolicy(c *Call) (any, error) {
	source, err := c.Params.Required("PolicySourceArn", ruleARN)
	if err != nil {
		return nil, err
	}
	docs, err := optionalList(c.Params, "PolicyInputList", rulePolicyDoc)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetContextKeysForPrincipalPolicy", source); err != nil {
		return nil, err
	}
	src, err := a.svc.SimulationSource(c.Ctx, source)
	if err != nil {
		return nil, err
	}
	ps, err := iam.CompileSimulationPolicies(iam.SimPolicyInputList, docs, policy.Identity)
	if err != nil {
		return nil, err
	}
	return contextKeysResult(iam.ContextKeys(src.Identity, ps)), nil
}

func contextKeysResult(keys []string) any {
	return struct {
		ContextKeyNames xmlMembers[string]
	}{xmlMembers[string]{Member: keys}}
}

// xmlMembers is a Query-protocol list that is always present, empty or
// not, as the simulator's lists are: <Name><member>…</member></Name>.
type xmlMembers[T any] struct {
	Member []T `xml:"member"`
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html#API_SimulatePrincipalPolicy_ResponseElements
type xmlSimulateResult struct {
	EvaluationResults xmlMembers[xmlEvalResult]
	IsTruncated       bool
	Marker            string `xml:",omitempty"`
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
type xmlEvalResult struct {
	EvalActionName                    string
	EvalResourceName                  string
	EvalDecision                      string
	MatchedStatements                 xmlMembers[xmlStatement]
	MissingContextValues              xmlMembers[string]
	PermissionsBoundaryDecisionDetail *xmlBoundaryDetail
	EvalDecisionDetails               *xmlDecisionDetails
	ResourceSpecificResults           *xmlMembers[xmlResourceResult]
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html
type xmlResourceResult struct {
	EvalResourceName                  string
	EvalResourceDecision              string
	MatchedStatements                 xmlMembers[xmlStatement]
	MissingContextValues              xmlMembers[string]
	EvalDecisionDetails               *xmlDecisionDetails
	PermissionsBoundaryDecisionDetail *xmlBoundaryDetail
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html
type xmlStatement struct {
	SourcePolicyId   string
	SourcePolicyType string
	StartPosition    xmlPosition
	EndPosition      xmlPosition
}

type xmlPosition struct {
	Line   int
	Column int
}

type xmlBoundaryDetail struct {
	AllowedByPermissionsBoundary bool
}

// xmlDecisionDetails is the EvalDecisionDetails map, which the Query
// protocol writes as <entry><key/><value/></entry>.
type xmlDecisionDetails struct {
	Entry []xmlDetail `xml:"entry"`
}

type xmlDetail struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func evalResultOf(r *iam.EvalResult) xmlEvalResult {
	x := xmlEvalResult{
		EvalActionName: r.Action, EvalResourceName: r.Resource, EvalDecision: r.Decision.String(),
		MatchedStatements:                 statementsOf(r.Matched),
		MissingContextValues:              xmlMembers[string]{Member: r.Missing},
		PermissionsBoundaryDecisionDetail: boundaryDetailOf(r.AllowedByBoundary),
		EvalDecisionDetails:               detailsOf(r.Details),
	}
	if len(r.ResourceSpecific) > 0 {
		rs := &xmlMembers[xmlResourceResult]{}
		for _, s := range r.ResourceSpecific {
			rs.Member = append(rs.Member, xmlResourceResult{
				EvalResourceName: s.Resource, EvalResourceDecision: s.Decision.String(),
				MatchedStatements:                 statementsOf(s.Matched),
				MissingContextValues:              xmlMembers[string]{Member: s.Missing},
				EvalDecisionDetails:               detailsOf(s.Details),
				PermissionsBoundaryDecisionDetail: boundaryDetailOf(s.AllowedByBoundary),
			})
		}
		x.ResourceSpecificResults = rs
	}
	return x
}

func statementsOf(ms []policy.Match) xmlMembers[xmlStatement] {
	out := xmlMembers[xmlStatement]{}
	for _, m := range ms {
		out.Member = append(out.Member, xmlStatement{
			SourcePolicyId: m.PolicyID, SourcePolicyType: m.PolicyType,
			StartPosition: simPosition(m.Start), EndPosition: simPosition(m.End),
		})
	}
	return out
}

// simPosition is a statement brace's position as AWS's simulator reports
// it: the line, and the brace's 1-based column plus one. Both of AWS's
// published examples show it: the one-line policy of
// `aws iam simulate-custom-policy`'s example, whose statement braces are in
// columns 37 and 166, is reported as 1:38–1:167, and
// `simulate-principal-policy`'s pretty-printed one as 3:19–9:10 (braces in
// columns 18 and 9). policy.Statement keeps the braces' own columns.
// https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html
func simPosition(p policy.Position) xmlPosition {
	return xmlPosition{Line: p.Line, Column: p.Column + 1}
}

func boundaryDetailOf(allowed *bool) *xmlBoundaryDetail {
	if allowed == nil {
		return nil
	}
	return &xmlBoundaryDetail{AllowedByPermissionsBoundary: *allowed}
}

// detailsOf renders EvalDecisionDetails: absent for nil, empty for an
// empty map, entries in a stable order otherwise.
func detailsOf(d map[string]string) *xmlDecisionDetails {
	if d == nil {
		return nil
	}
	out := &xmlDecisionDetails{}
	for _, k := range []string{iam.SimTypeIAMPolicy, iam.SimTypeResource} {
		if v, ok := d[k]; ok {
			out.Entry = append(out.Entry, xmlDetail{Key: k, Value: v})
		}
	}
	return out
}
