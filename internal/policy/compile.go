package policy

import (
	"strings"
)

// Compiled is a policy ready for evaluation: actions, resources, principals
// and condition values pre-parsed into matchers. It is immutable and safe
// for concurrent use.
type Compiled struct {
	policy *Policy
	stmts  []cstmt
	keys   []string
}

// Policy returns the parsed policy the compiled form was built from.
func (c *Compiled) Policy() *Policy { return c.policy }

// ContextKeys returns the condition keys the policy references, as written
// in the policy, each once (compared case-insensitively), in document
// order — what GetContextKeysForCustomPolicy returns.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html
func (c *Compiled) ContextKeys() []string {
	return append([]string(nil), c.keys...)
}

type cstmt struct {
	index     int
	deny      bool
	notAction bool
	actions   []pattern // matched case-insensitively
	// vendors holds, per action, its service prefix when the prefix has
	// no wildcard: a cheap filter before the pattern match, since most
	// statements of a role are about other services.
	vendors      []string
	anyResource  bool // no Resource/NotResource element (trust policies)
	notResource  bool
	resources    []arnPattern
	hasPrincipal bool
	notPrincipal bool
	principal    cprincipal
	conds        []ccond
	start, end   Position
}

// cprincipal is a compiled Principal/NotPrincipal element.
type cprincipal struct {
	all       bool     // "*" or {"AWS": "*"}
	accounts  []string // account ids, from "123456789012" or "arn:aws:iam::123456789012:root"
	arns      []string // every other AWS value: user, role, session, federated-user ARNs
	services  []string
	federated []string
	canonical []string
}

// ParseCompile parses doc as a policy of the given kind and compiles it.
func ParseCompile(doc string, kind Kind) (*Compiled, error) {
	p, err := Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	return Compile(p)
}

// Compile pre-builds everything evaluation needs. It also validates a
// Policy built by hand (not by Parse); errors are *ParseError.
func Compile(p *Policy) (*Compiled, error) {
	c := &Compiled{policy: p, stmts: make([]cstmt, len(p.Statements))}
	vars := p.Version == Version2012
	seen := map[uint64][]string{}
	for i := range p.Statements {
		st := &p.Statements[i]
		cs := &c.stmts[i]
		cs.index, cs.deny, cs.start, cs.end = i, st.Effect == Deny, st.Start, st.End
		actions := st.Action
		if st.NotAction != nil {
			cs.notAction, actions = true, st.NotAction
		}
		if len(actions) == 0 {
			return nil, &ParseError{Message: "Policy statement must contain actions.", Path: stmtPath(i)}
		}
		for _, a := range actions {
			if !validAction(a) {
				return nil, &ParseError{Message: msgVendor, Path: stmtPath(i)}
			}
			// Actions never hold policy variables.
			cs.actions = append(cs.actions, compilePattern(a, true, false))
			v, _, _ := strings.Cut(a, ":")
			if a == "*" || strings.ContainsAny(v, "*?") {
				v = ""
			}
			cs.vendors = append(cs.vendors, v)
		}
		resources := st.Resource
		switch {
		case st.NotResource != nil:
			cs.notResource, resources = true, st.NotResource
		case st.Resource == nil:
			cs.anyResource = true
		}
		for _, r := range resources {
			cs.resources = append(cs.resources, compileARNPattern(r, vars))
		}
		pr := st.Principal
		if st.NotPrincipal != nil {
			pr, cs.notPrincipal = st.NotPrincipal, true
		}
		if pr != nil {
			cs.hasPrincipal = true
			cs.principal = compilePrincipal(pr)
		}
		for _, cond := range st.Conditions {
			var cc ccond
			if cond.compiled != nil {
				cc = *cond.compiled
			} else {
				op, ok := lookupOperator(cond.Operator)
				if !ok {
					return nil, &ParseError{Message: "Invalid Condition type : " + cond.Operator, Path: stmtPath(i)}
				}
				var err *ParseError
				if cc, err = compileCondition(cond, op, vars); err != nil {
					return nil, err
				}
			}
			cs.conds = append(cs.conds, cc)
			if !containsFold(seen[cc.key.hash], cond.Key) {
				seen[cc.key.hash] = append(seen[cc.key.hash], cond.Key)
				c.keys = append(c.keys, cond.Key)
			}
		}
	}
	return c, nil
}

func stmtPath(i int) string { return "$.Statement[" + itoa(i) + "]" }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func compilePrincipal(p *Principals) cprincipal {
	cp := cprincipal{all: p.All}
	for _, a := range p.AWS {
		if a == "*" {
			cp.all = true
			continue
		}
		if acct, ok := accountOf(a); ok {
			cp.accounts = append(cp.accounts, acct)
			continue
		}
		cp.arns = append(cp.arns, a)
	}
	cp.services = p.Service
	cp.federated = p.Federated
	cp.canonical = p.CanonicalUser
	return cp
}

// accountOf recognises the two spellings of "this account":
// "123456789012" and "arn:<partition>:iam::123456789012:root".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
func accountOf(s string) (string, bool) {
	if isAccountID(s) {
		return s, true
	}
	if !strings.HasPrefix(s, "arn:") || !strings.HasSuffix(s, ":root") {
		return "", false
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[2] != "iam" || parts[3] != "" || !isAccountID(parts[4]) {
		return "", false
	}
	return parts[4], true
}

func isAccountID(s string) bool {
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
