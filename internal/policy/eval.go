package policy

import "strings"

// Request is one authorization question.
type Request struct {
	Action    string    // "s3:GetObject"; matched case-insensitively
	Resource  string    // an ARN, or "*" for actions without a resource
	Principal Principal // who is asking; used by Principal/NotPrincipal
	Context   *Context  // condition keys; nil means none
	// ReportMissing asks Evaluate to fill Decision.Missing. It costs
	// allocations and disables the short-circuit between conditions of
	// one statement, so the authorization hot path leaves it off.
	ReportMissing bool
}

// Principal is who is asking.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
type Principal struct {
	Account       string // "000000000000"
	ARN           string // user ARN, session ARN arn:aws:sts::A:assumed-role/R/S, root arn:aws:iam::A:root, federated-user ARN
	RoleARN       string // role sessions: the role's ARN; a Principal naming it matches its sessions
	Service       string // "ec2.amazonaws.com" for service principals
	Federated     string // AssumeRoleWithSAML/WebIdentity: the provider ARN or name ("accounts.google.com")
	CanonicalUser string // S3 canonical user id
	Anonymous     bool
}

// Set is every policy that applies to one request.
type Set struct {
	Identity []Named // inline + managed + group policies (for roles: the role's)
	Boundary *Named  // permissions boundary, nil if none
	// Session policies (AssumeRole Policy/PolicyArns). nil means the
	// session has none and is not limited by them; a non-nil empty slice
	// means session policies apply and none allows — what a federated-user
	// session without a session policy gets.
	Session  []Named
	Resource *Named // resource-based policy, or the role's trust policy for sts:AssumeRole
	// ResourceIsTrust marks Resource as a role trust policy: it must
	// itself allow, and when it names only the account an identity-based
	// allow is needed as well.
	ResourceIsTrust bool
}

// Named is a compiled policy with the identity the simulator reports.
type Named struct {
	ID     string // policy name, ARN, "PolicyInputList.1", "ResourcePolicy"
	Type   string // "user", "group", "role", "aws-managed", "user-managed", "resource", "IAM Policy", …
	Policy *Compiled
}

// Result is the outcome of an evaluation.
type Result int

const (
	ImplicitDeny Result = iota
	Allowed
	ExplicitDeny
)

// String returns the simulator's EvalDecision value.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
func (r Result) String() string {
	switch r {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	default:
		return "implicitDeny"
	}
}

// The kinds of policy a denial is blamed on, as AWS words them in
// AccessDenied messages ("… with an explicit deny in an identity-based
// policy", "… because no permissions boundary allows …").
const (
	ByIdentity = "identity-based"
	ByBoundary = "permissions boundary"
	BySession  = "session"
	ByResource = "resource-based"
)

// Decision is the outcome of Evaluate and the reasons for it.
type Decision struct {
	Result Result
	// Matched are the statements that decided the result: on an explicit
	// deny only the Deny statements, on allow the Allow statements of
	// every policy that took part, on implicit deny none.
	Matched []Match
	// DeniedBy is, on a deny, the kind of policy responsible (By*).
	DeniedBy string
	// Missing lists condition keys referenced by evaluated statements but
	// absent from the context; only filled when Request.ReportMissing.
	Missing []string
	// HasBoundary and AllowedByBoundary feed the simulator's
	// PermissionsBoundaryDecisionDetail.
	HasBoundary       bool
	AllowedByBoundary bool
}

// Match identifies one statement.
type Match struct {
	PolicyID, PolicyType string
	Statement            int // index in the policy's Statement list
	Start, End           Position
}

type category uint8

const (
	catIdentity category = iota
	catBoundary
	catSession
	catResource
)

// strength says how directly a resource-policy statement names the
// requester; it decides whether other policies must allow as well.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
type strength uint8

const (
	sNone    strength = iota
	sAccount          // names the account: delegates to the account's identity policies
	sRole             // names the role of a role session: still limited by boundary and session policy
	sDirect           // names the user, the session, the service, or everyone
)

type hit struct {
	named *Named
	st    *cstmt
	cat   category
	deny  bool
}

// evaluator lives on Evaluate's stack; hits overflow to the heap only when
// more than len(inline) statements apply.
type evaluator struct {
	req     *Request
	ctx     *Context
	bounded bool // the principal has a permissions boundary
	// actKnown and actHit cache, per policy, whether action set i
	// (i < 64) matches the request: statements often repeat a list.
	actKnown, actHit uint64
	inline           [16]hit
	n                int
	extra            []hit
	allow            [4]bool
	deny             [4]bool
	resStr           strength
	vendor           string // the request action's service prefix
	missing          []string
}

func (ev *evaluator) add(h hit) {
	if ev.n < len(ev.inline) {
		ev.inline[ev.n] = h
		ev.n++
		return
	}
	ev.extra = append(ev.extra, h)
}

func (ev *evaluator) hit(i int) *hit {
	if i < ev.n {
		return &ev.inline[i]
	}
	return &ev.extra[i-ev.n]
}

// Evaluate answers req against every policy in set with AWS's
// single-account logic:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//
//  1. An explicit Deny in any policy wins. Every policy is evaluated, so
//     nothing short-circuits past a possible deny.
//  2. Otherwise the request is allowed by an identity-based allow that the
//     permissions boundary and session policies (when present) also allow,
//     or by a resource-based allow: one naming the user, the session ARN,
//     the service or everyone allows on its own; one naming the role of a
//     role session is still limited by boundary and session policies; one
//     naming the account only delegates to the identity-based policies.
//  3. A trust policy (ResourceIsTrust) must itself allow; naming the
//     account additionally needs the identity-based allow.
//  4. Otherwise implicit deny.
//
// The root user's default allow is not modelled here: callers decide it.
func Evaluate(set *Set, req *Request) Decision {
	ev := evaluator{req: req, ctx: req.Context, bounded: set.Boundary != nil}
	ev.vendor, _, _ = strings.Cut(req.Action, ":")
	for i := range set.Identity {
		ev.policy(&set.Identity[i], catIdentity)
	}
	if set.Boundary != nil {
		ev.policy(set.Boundary, catBoundary)
	}
	for i := range set.Session {
		ev.policy(&set.Session[i], catSession)
	}
	if set.Resource != nil {
		ev.policy(set.Resource, catResource)
	}

	d := Decision{HasBoundary: set.Boundary != nil}
	boundaryOK := set.Boundary == nil || ev.allow[catBoundary]
	sessionOK := set.Session == nil || ev.allow[catSession]
	d.AllowedByBoundary = d.HasBoundary && ev.allow[catBoundary]
	if req.ReportMissing {
		d.Missing = ev.missing
	}

	for _, c := range [...]category{catIdentity, catBoundary, catSession, catResource} {
		if ev.deny[c] {
			d.Result, d.DeniedBy = ExplicitDeny, blame(c)
			d.Matched = ev.matches(true, false)
			return d
		}
	}

	identityOK := ev.allow[catIdentity] && boundaryOK && sessionOK
	var resourceOK bool
	switch ev.resStr {
	case sDirect:
		// A trust policy naming the caller directly still needs the
		// caller's permissions boundary to allow sts:AssumeRole; other
		// resource policies naming the caller are not limited by it.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html
		resourceOK = !set.ResourceIsTrust || boundaryOK
	case sRole:
		resourceOK = boundaryOK && sessionOK
	}
	var allowed bool
	if set.ResourceIsTrust {
		allowed = resourceOK || (ev.resStr == sAccount && identityOK)
	} else {
		allowed = identityOK || resourceOK
	}
	if allowed {
		d.Result = Allowed
		d.Matched = ev.matches(false, identityOK)
		return d
	}

	d.Result = ImplicitDeny
	switch {
	case set.ResourceIsTrust && ev.resStr == sNone:
		d.DeniedBy = ByResource
	case !ev.allow[catIdentity] && ev.resStr == sNone:
		d.DeniedBy = ByIdentity
	case !boundaryOK:
		d.DeniedBy = ByBoundary
	case !sessionOK:
		d.DeniedBy = BySession
	default:
		d.DeniedBy = ByIdentity
	}
	return d
}

func blame(c category) string {
	switch c {
	case catBoundary:
		return ByBoundary
	case catSession:
		return BySession
	case catResource:
		return ByResource
	}
	return ByIdentity
}

// matches lists the deciding statements: the Deny ones, or the Allow ones
// (identity-based ones only when the identity-based path allowed).
func (ev *evaluator) matches(deny, identityOK bool) []Match {
	total := ev.n + len(ev.extra)
	keep := func(h *hit) bool {
		if deny {
			return h.deny
		}
		return !h.deny && (h.cat != catIdentity || identityOK)
	}
	n := 0
	for i := 0; i < total; i++ {
		if keep(ev.hit(i)) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Match, 0, n)
	for i := 0; i < total; i++ {
		if h := ev.hit(i); keep(h) {
			out = append(out, Match{PolicyID: h.named.ID, PolicyType: h.named.Type, Statement: h.st.index, Start: h.st.start, End: h.st.end})
		}
	}
	return out
}

func (ev *evaluator) policy(n *Named, cat category) {
	c := n.Policy
	if c == nil {
		return
	}
	ev.actKnown, ev.actHit = 0, 0
	if c.index != nil {
		// Only the statements whose actions can name this vendor: the
		// others cannot apply, so no possible deny is skipped.
		for _, i := range c.index.lookup(ev.vendor) {
			ev.statement(n, &c.stmts[i], cat)
		}
		return
	}
	for i := range c.stmts {
		ev.statement(n, &c.stmts[i], cat)
	}
}

func (ev *evaluator) statement(n *Named, st *cstmt, cat category) {
	str, ok := ev.applies(st, cat)
	if !ok {
		return
	}
	if st.deny {
		ev.deny[cat] = true
	} else {
		ev.allow[cat] = true
		if cat == catResource && str > ev.resStr {
			ev.resStr = str
		}
	}
	ev.add(hit{named: n, st: st, cat: cat, deny: st.deny})
}

// matchAction matches the statement's Action/NotAction, remembering the
// answer for the statement's action set.
func (ev *evaluator) matchAction(st *cstmt) bool {
	i := st.actSet
	if i < 64 {
		bit := uint64(1) << i
		if ev.actKnown&bit != 0 {
			return ev.actHit&bit != 0
		}
		m := st.act.match(ev.req.Action, ev.vendor)
		ev.actKnown |= bit
		if m {
			ev.actHit |= bit
		}
		return m
	}
	return st.act.match(ev.req.Action, ev.vendor)
}

// applies reports whether the statement applies to the request and, for
// resource policies, how directly it names the principal.
func (ev *evaluator) applies(st *cstmt, cat category) (strength, bool) {
	req := ev.req
	if !ev.matchAction(st) {
		return sNone, false
	}
	if !st.matchResource(req.Resource, ev.ctx) {
		return sNone, false
	}
	str := sDirect
	if st.hasPrincipal {
		if st.notPrincipal {
			// AWS documents that a Deny with NotPrincipal denies every
			// principal that has a permissions boundary, whatever the
			// element lists.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
			if !(ev.bounded && st.deny) && st.principal.excludes(&req.Principal) {
				return sNone, false
			}
		} else {
			str = st.principal.match(&req.Principal)
			if str == sNone {
				return sNone, false
			}
		}
	}
	if !ev.conditions(st) {
		return sNone, false
	}
	return str, true
}

func (ev *evaluator) conditions(st *cstmt) bool {
	if !ev.req.ReportMissing {
		for i := range st.conds {
			if !st.conds[i].eval(ev.ctx) {
				return false
			}
		}
		return true
	}
	ok := true
	for i := range st.conds {
		c := &st.conds[i]
		if ev.ctx.lookup(c.key) == nil && !containsFold(ev.missing, c.key.name) {
			ev.missing = append(ev.missing, c.key.name)
		}
		if !c.eval(ev.ctx) {
			ok = false
		}
	}
	return ok
}

func (as *actionSet) match(action, vendor string) bool {
	m := false
	for i := range as.actions {
		if v := as.vendors[i]; v != "" && (len(v) != len(vendor) || !hasPrefix(vendor, v, true)) {
			continue
		}
		if ok, _ := as.actions[i].match(action, true, nil); ok {
			m = true
			break
		}
	}
	return m != as.not
}

// matchResource: an unresolvable policy variable makes its pattern match
// nothing, for Resource and NotResource alike.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func (st *cstmt) matchResource(resource string, ctx *Context) bool {
	if st.anyResource {
		return true
	}
	m := false
	for i := range st.resources {
		if ok, _ := st.resources[i].match(resource, ctx); ok {
			m = true
			break
		}
	}
	return m != st.notResource
}

// match says how directly the Principal element names p.
func (cp *cprincipal) match(p *Principal) strength {
	if cp.all {
		return sDirect
	}
	if p.Anonymous {
		return sNone
	}
	best := sNone
	if p.Service != "" && contains(cp.services, p.Service) ||
		p.Federated != "" && contains(cp.federated, p.Federated) ||
		p.CanonicalUser != "" && contains(cp.canonical, p.CanonicalUser) ||
		p.ARN != "" && contains(cp.arns, p.ARN) {
		return sDirect
	}
	if p.RoleARN != "" && contains(cp.arns, p.RoleARN) {
		best = sRole
	}
	if best == sNone && p.Account != "" && contains(cp.accounts, p.Account) {
		best = sAccount
	}
	return best
}

// excludes reports whether a NotPrincipal element exempts p. AWS checks
// NotPrincipal against every identity the request carries, so a user is
// exempt only if both its ARN and its account are listed, and a role
// session only if the session ARN, the role ARN and the account are.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func (cp *cprincipal) excludes(p *Principal) bool {
	if cp.all {
		return true
	}
	if p.Anonymous {
		return false
	}
	if p.Service != "" {
		return contains(cp.services, p.Service)
	}
	if p.Federated != "" {
		return contains(cp.federated, p.Federated)
	}
	if p.CanonicalUser != "" && contains(cp.canonical, p.CanonicalUser) {
		return true
	}
	if p.ARN == "" || p.Account == "" {
		return false
	}
	if !contains(cp.accounts, p.Account) {
		return false
	}
	if _, isRoot := accountOf(p.ARN); !isRoot && !contains(cp.arns, p.ARN) {
		return false
	}
	return p.RoleARN == "" || contains(cp.arns, p.RoleARN)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
