package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// The IAM policy simulator: SimulateCustomPolicy, SimulatePrincipalPolicy
// and GetContextKeysFor{Custom,Principal}Policy. Everything here is pure
// evaluation except SimulationSource, which reads a principal's policies
// through the same snapshots authorization uses.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html

// Policy ids and types the simulator reports for policies passed in the
// request (observed in AWS's answers: "PolicyInputList.1", "IAM Policy").
const (
	SimPolicyInputList   = "PolicyInputList"
	SimBoundaryInputList = "PermissionsBoundaryPolicyInputList"
	SimResourcePolicyID  = "ResourcePolicy"
	SimTypeIAMPolicy     = "IAM Policy"
	SimTypeResource      = "Resource Policy"
)

// Context key types of ContextEntry.ContextKeyType.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html
var simKeyTypes = map[string]bool{
	"string": false, "stringList": true, "numeric": false, "numericList": true,
	"boolean": false, "booleanList": true, "ip": false, "ipList": true,
	"binary": false, "binaryList": true, "date": false, "dateList": true,
}

// ContextEntry is one member of the simulator's ContextEntries.
type ContextEntry struct {
	Key    string
	Values []string
	Type   string
}

// SimulationSource is a user, group or role with every identity policy
// the simulator evaluates for it: for a user, its groups' policies too.
type SimulationSource struct {
	Kind     string // KindUser, KindGroup, KindRole
	Name     string
	ARN      string
	Account  string
	Identity []policy.Named
	Boundary *policy.Named // nil without one; groups never have one
}

// SimulationSource returns the policies of the user, group or role that
// entityARN names. An ARN that is not an IAM user, group or role ARN is
// InvalidInput; an unknown entity, or one of another account, NoSuchEntity.
func (s *Service) SimulationSource(ctx context.Context, entityARN string) (*SimulationSource, error) {
	a, err := arn.Parse(entityARN)
	if err != nil || a.Service != "iam" {
		return nil, apierr.New(apierr.InvalidInput, "Invalid ARN %s: the policy source must be an IAM user, group or role.", entityARN)
	}
	typ, _, name := arn.SplitPathName(a.Resource)
	kind := ""
	switch typ {
	case "user":
		kind = KindUser
	case "group":
		kind = KindGroup
	case "role":
		kind = KindRole
	default:
		return nil, apierr.New(apierr.InvalidInput, "Invalid ARN %s: the policy source must be an IAM user, group or role.", entityARN)
	}
	if name == "" {
		return nil, apierr.New(apierr.InvalidInput, "Invalid ARN %s: the policy source must be an IAM user, group or role.", entityARN)
	}
	if a.AccountID != string(s.account) {
		return nil, apierr.NoEntity(kind, name)
	}
	src := &SimulationSource{Kind: kind, Name: name, ARN: entityARN, Account: a.AccountID}
	switch kind {
	case KindUser:
		ua, err := s.UserAuth(ctx, name)
		if err != nil {
			return nil, err
		}
		if ua.User.ARN != entityARN {
			return nil, apierr.NoEntity(kind, name)
		}
		src.Name = ua.User.Name
		// The snapshot is shared: copy before anyone appends.
		src.Identity = append([]policy.Named(nil), ua.Identity...)
		src.Boundary = ua.Boundary
	case KindRole:
		ra, err := s.RoleAuth(ctx, name)
		if err != nil {
			return nil, err
		}
		if ra.Role.ARN != entityARN {
			return nil, apierr.NoEntity(kind, name)
		}
		src.Name = ra.Role.Name
		src.Identity = append([]policy.Named(nil), ra.Identity...)
		src.Boundary = ra.Boundary
	case KindGroup:
		err := s.view(ctx, func(tx kv.Tx) error {
			g, err := getJSON[Group](tx, tGroups, lower(name))
			if err != nil {
				return notFound(err, "group", name)
			}
			if g.ARN != entityARN {
				return apierr.NoEntity("group", name)
			}
			src.Name = g.Name
			src.Identity, err = s.entityPolicies(tx, KindGroup, g.Name, PolicyTypeGroup)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return src, nil
}

// CompileSimulationPolicies parses and compiles the documents of one input
// list, naming each "<list>.N" (1-based) as AWS does. A malformed document
// is InvalidInput naming the policy: the simulator's error list has no
// MalformedPolicyDocument.
func CompileSimulationPolicies(list string, docs []string, kind policy.Kind) ([]policy.Named, error) {
	out := make([]policy.Named, 0, len(docs))
	for i, doc := range docs {
		id := list + "." + strconv.Itoa(i+1)
		typ := SimTypeIAMPolicy
		if kind == policy.Resource {
			id, typ = SimResourcePolicyID, SimTypeResource
		}
		c, err := policy.ParseCompile(doc, kind)
		if err != nil {
			msg := err.Error()
			var pe *policy.ParseError
			if errors.As(err, &pe) {
				msg = pe.Message
			}
			return nil, apierr.Wrap(apierr.InvalidInput, err, "Invalid policy %s: %s", id, msg)
		}
		out = append(out, policy.Named{ID: id, Type: typ, Policy: c})
	}
	return out, nil
}

// SimulationContext turns ContextEntries into the context the engine
// evaluates, checking every value against its ContextKeyType: numbers,
// booleans ("true"/"false"), IP addresses, base64 and ISO 8601 dates or
// epoch seconds. Dates are normalized to RFC 3339 in UTC. A bad value, a
// missing name or type, or several values for a single-valued type is
// InvalidInput. The simulator invents no keys: what is not given is
// missing.
func SimulationContext(entries []ContextEntry) (*policy.Context, error) {
	ctx := policy.NewContext()
	for _, e := range entries {
		if e.Key == "" {
			return nil, apierr.New(apierr.InvalidInput, "Context entry is missing ContextKeyName.")
		}
		list, ok := simKeyTypes[e.Type]
		if !ok {
			return nil, apierr.New(apierr.InvalidInput, "Invalid ContextKeyType %q for context key %s.", e.Type, e.Key)
		}
		if !list && len(e.Values) != 1 {
			return nil, apierr.New(apierr.InvalidInput, "Context key %s of type %s takes exactly one value; got %d.", e.Key, e.Type, len(e.Values))
		}
		base := strings.TrimSuffix(e.Type, "List")
		vals := make([]string, len(e.Values))
		for i, v := range e.Values {
			nv, ok := contextValue(base, v)
			if !ok {
				return nil, apierr.New(apierr.InvalidInput, "Invalid value %q for context key %s of type %s.", clipValue(v), e.Key, e.Type)
			}
			vals[i] = nv
		}
		ctx.Set(e.Key, vals...)
	}
	return ctx, nil
}

func clipValue(s string) string {
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}

// contextValue checks v against a scalar key type and returns it in the
// form the engine reads.
func contextValue(typ, v string) (string, bool) {
	switch typ {
	case "string":
		return v, true
	case "numeric":
		for i := 0; i < len(v); i++ {
			if c := v[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
				return "", false
			}
		}
		f, err := strconv.ParseFloat(v, 64)
		return v, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case "boolean":
		switch strings.ToLower(v) {
		case "true", "false":
			return strings.ToLower(v), true
		}
		return "", false
	case "ip":
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", false
		}
		return a.Unmap().String(), true
	case "binary":
		if _, err := base64.StdEncoding.DecodeString(v); err == nil {
			return v, true
		}
		_, err := base64.RawStdEncoding.DecodeString(v)
		return v, err == nil && v != ""
	case "date":
		return simDate(v)
	}
	return "", false
}

// dateLayouts are the ISO 8601 forms the simulator accepts for date keys.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// simDate accepts epoch seconds (kept as they are: the engine reads them)
// or an ISO 8601 date-time, returned as RFC 3339 UTC.
func simDate(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	if len(v) != 4 && isEpochSeconds(v) {
		return v, true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano), true
		}
	}
	return "", false
}

func isEpochSeconds(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || whole == "" || frac == "" {
		return false
	}
	_, e1 := strconv.ParseUint(strings.TrimPrefix(whole, "-"), 10, 64)
	_, e2 := strconv.ParseUint(frac, 10, 64)
	return e1 == nil && e2 == nil
}

// Simulation is one simulator request, with its policies compiled.
type Simulation struct {
	Identity []policy.Named
	Boundary *policy.Named // nil: no permissions boundary
	Resource *policy.Named // the ResourcePolicy, nil if none
	// Caller is who the resource policy's Principal is matched against;
	// CallerAccount is the account the identity policies belong to.
	Caller        policy.Principal
	CallerAccount string
	// ResourceOwner is the account owning resources whose ARN names none
	// (and "*"); "" means the caller's account.
	ResourceOwner string
	Actions       []string
	Resources     []string // nil: "*"
	Context       *policy.Context
}

// EvalResult is one EvaluationResult: an action on a resource.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
type EvalResult struct {
	Action   string
	Resource string
	Decision policy.Result
	Matched  []policy.Match
	Missing  []string
	// AllowedByBoundary is set when a permissions boundary took part.
	AllowedByBoundary *bool
	// Details is EvalDecisionDetails: nil (absent) for "*" in the same
	// account, empty for a resource ARN in the same account, the decision
	// of each side of a cross-account request otherwise.
	Details map[string]string
	// ResourceSpecific holds, for a resource ARN, that resource's result.
	ResourceSpecific []ResourceResult
}

// ResourceResult is one ResourceSpecificResult.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html
type ResourceResult struct {
	Resource          string
	Decision          policy.Result
	Matched           []policy.Match
	Missing           []string
	AllowedByBoundary *bool
	Details           map[string]string
}

// Simulate evaluates every action on every resource, in that order.
func Simulate(sim *Simulation) []EvalResult {
	resources := sim.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	out := make([]EvalResult, 0, len(sim.Actions)*len(resources))
	for _, action := range sim.Actions {
		for _, res := range resources {
			out = append(out, sim.evaluate(action, res))
		}
	}
	return out
}

// accountOfResource is the account a resource belongs to: the one its ARN
// names, else the ResourceOwner, else the caller's.
func (sim *Simulation) accountOfResource(resource string) string {
	if a, err := arn.Parse(resource); err == nil && a.AccountID != "" {
		return a.AccountID
	}
	if sim.ResourceOwner != "" {
		return sim.ResourceOwner
	}
	return sim.CallerAccount
}

func (sim *Simulation) evaluate(action, resource string) EvalResult {
	req := &policy.Request{Action: action, Resource: resource, Principal: sim.Caller, Context: sim.Context, ReportMissing: true}
	r := EvalResult{Action: action, Resource: resource}
	var d policy.Decision
	cross := sim.Resource != nil && sim.CallerAccount != "" && sim.accountOfResource(resource) != sim.CallerAccount
	if !cross {
		d = policy.Evaluate(&policy.Set{Identity: sim.Identity, Boundary: sim.Boundary, Resource: sim.Resource}, req)
		if resource != "*" {
			r.Details = map[string]string{}
		}
	} else {
		d = sim.crossAccount(req, &r)
	}
	r.Decision, r.Matched, r.Missing = d.Result, d.Matched, d.Missing
	if d.HasBoundary {
		ok := d.AllowedByBoundary
		r.AllowedByBoundary = &ok
	}
	if r.Missing == nil {
		r.Missing = []string{}
	}
	if resource != "*" {
		r.ResourceSpecific = []ResourceResult{{
			Resource: resource, Decision: r.Decision, Matched: r.Matched, Missing: r.Missing,
			AllowedByBoundary: r.AllowedByBoundary, Details: r.Details,
		}}
		// Missing keys are reported per resource when resources are named.
		r.Missing = []string{}
	}
	return r
}

// crossAccount evaluates each account's side on its own: the caller's
// identity policies (with boundary) and the resource owner's resource
// policy, which must both allow.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
func (sim *Simulation) crossAccount(req *policy.Request, r *EvalResult) policy.Decision {
	id := policy.Evaluate(&policy.Set{Identity: sim.Identity, Boundary: sim.Boundary}, req)
	// In the resource owner's account the resource policy decides alone;
	// naming the caller's account is enough there, so evaluate it as a
	// policy that needs nothing else.
	res := policy.Evaluate(&policy.Set{Identity: []policy.Named{*sim.Resource}}, req)
	r.Details = map[string]string{SimTypeIAMPolicy: id.Result.String(), SimTypeResource: res.Result.String()}
	d := policy.Decision{HasBoundary: id.HasBoundary, AllowedByBoundary: id.AllowedByBoundary}
	d.Missing = append(append([]string(nil), id.Missing...), res.Missing...)
	d.Missing = dedupFold(d.Missing)
	switch {
	case id.Result == policy.ExplicitDeny || res.Result == policy.ExplicitDeny:
		d.Result = policy.ExplicitDeny
		d.Matched = denyOnly(sim, append(append([]policy.Match(nil), id.Matched...), res.Matched...))
	case id.Result == policy.Allowed && res.Result == policy.Allowed:
		d.Result = policy.Allowed
		d.Matched = append(append([]policy.Match(nil), id.Matched...), res.Matched...)
	default:
		d.Result = policy.ImplicitDeny
	}
	return d
}

// denyOnly keeps the Deny statements of matches: on an explicit deny from
// one side, the other side's allows did not decide anything.
func denyOnly(sim *Simulation, ms []policy.Match) []policy.Match {
	var out []policy.Match
	for _, m := range ms {
		if isDeny(sim, m) {
			out = append(out, m)
		}
	}
	return out
}

func isDeny(sim *Simulation, m policy.Match) bool {
	find := func(n *policy.Named) bool {
		if n == nil || n.ID != m.PolicyID || n.Type != m.PolicyType || n.Policy == nil {
			return false
		}
		sts := n.Policy.Policy().Statements
		return m.Statement < len(sts) && sts[m.Statement].Effect == policy.Deny
	}
	for i := range sim.Identity {
		if find(&sim.Identity[i]) {
			return true
		}
	}
	return find(sim.Boundary) || find(sim.Resource)
}

// ContextKeys returns the condition keys the policies use, as written,
// each once (compared without regard to case), in order.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html
func ContextKeys(policies ...[]policy.Named) []string {
	var out []string
	for _, list := range policies {
		for _, n := range list {
			if n.Policy != nil {
				out = append(out, n.Policy.ContextKeys()...)
			}
		}
	}
	return dedupFold(out)
}

func dedupFold(keys []string) []string {
	out := make([]string, 0, len(keys))
	seen := map[string]bool{}
	for _, k := range keys {
		if l := strings.ToLower(k); !seen[l] {
			seen[l] = true
			out = append(out, k)
		}
	}
	return out
}
