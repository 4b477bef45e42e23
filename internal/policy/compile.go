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
	sets   []actionSet  // distinct Action/NotAction lists
	index  *vendorIndex // nil for small policies
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
	index        int
	deny         bool
	act          *actionSet // shared by statements with the same list
	actSet       int        // index of act in Compiled.sets
	anyResource  bool       // no Resource/NotResource element (trust policies)
	notResource  bool
	resources    []arnPattern
	hasPrincipal bool
	notPrincipal bool
	principal    cprincipal
	conds        []ccond
	start, end   Position
}

// actionSet is a compiled Action or NotAction list.
type actionSet struct {
	not     bool
	raw     []string
	actions []pattern // matched case-insensitively
	// vendors holds, per action, its service prefix when the prefix has
	// no wildcard: a cheap filter before the pattern match, since most
	// statements of a role are about other services.
	vendors []string
}

func (as *actionSet) same(not bool, raw []string) bool {
	if as.not != not || len(as.raw) != len(raw) {
		return false
	}
	for i := range raw {
		if as.raw[i] != raw[i] {
			return false
		}
	}
	return true
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
	var a arena
	// Size the slabs once: one allocation each instead of one per element.
	nAct, nRes, nCond := 0, 0, 0
	for i := range p.Statements {
		st := &p.Statements[i]
		nAct += len(st.Action) + len(st.NotAction)
		nRes += len(st.Resource) + len(st.NotResource)
		if parsedConds(st) == nil {
			nCond += len(st.Conditions)
		}
	}
	pats := make([]pattern, nAct)
	vendors := make([]string, nAct)
	arns := make([]arnPattern, nRes)
	var conds []ccond
	if nCond > 0 {
		conds = make([]ccond, 0, nCond)
	}
	c.sets = make([]actionSet, 0, len(p.Statements))
	var setByHash map[uint64]int // for large policies; small ones scan
	var keyHashes []uint64
	for i := range p.Statements {
		st := &p.Statements[i]
		cs := &c.stmts[i]
		cs.index, cs.deny, cs.start, cs.end = i, st.Effect == Deny, st.Start, st.End
		actions, not := st.Action, false
		if st.NotAction != nil {
			actions, not = st.NotAction, true
		}
		if len(actions) == 0 {
			return nil, &ParseError{Message: "Policy statement must contain actions.", Path: stmtPath(i)}
		}
		set := -1
		h := hashList(not, actions)
		if setByHash != nil {
			if j, ok := setByHash[h]; ok && c.sets[j].same(not, actions) {
				set = j
			}
		} else {
			for j := range c.sets {
				if c.sets[j].same(not, actions) {
					set = j
					break
				}
			}
		}
		if set < 0 {
			as := actionSet{not: not, raw: actions, actions: pats[:len(actions):len(actions)], vendors: vendors[:len(actions):len(actions)]}
			pats, vendors = pats[len(actions):], vendors[len(actions):]
			for k, act := range actions {
				if !validAction(act) {
					return nil, &ParseError{Message: msgVendor, Path: stmtPath(i)}
				}
				// Actions never hold policy variables.
				as.actions[k] = a.pattern(act, true, false)
				v, _, _ := strings.Cut(act, ":")
				if act == "*" || strings.ContainsAny(v, "*?") {
					v = ""
				}
				as.vendors[k] = v
			}
			set = len(c.sets)
			c.sets = append(c.sets, as)
			if setByHash == nil && len(c.sets) > 8 {
				setByHash = make(map[uint64]int, len(p.Statements))
				for j := range c.sets {
					setByHash[hashList(c.sets[j].not, c.sets[j].raw)] = j
				}
			} else if setByHash != nil {
				if _, ok := setByHash[h]; !ok {
					setByHash[h] = set
				}
			}
		}
		cs.actSet = set
		resources := st.Resource
		switch {
		case st.NotResource != nil:
			cs.notResource, resources = true, st.NotResource
		case st.Resource == nil:
			cs.anyResource = true
		}
		cs.resources = arns[:len(resources):len(resources)]
		arns = arns[len(resources):]
		for k, r := range resources {
			cs.resources[k] = a.arnPattern(r, vars)
		}
		pr := st.Principal
		if st.NotPrincipal != nil {
			pr, cs.notPrincipal = st.NotPrincipal, true
		}
		if pr != nil {
			cs.hasPrincipal = true
			cs.principal = compilePrincipal(pr)
		}
		if pc := parsedConds(st); pc != nil {
			// Parse already compiled these: share them, no copy.
			cs.conds = pc
		} else if len(st.Conditions) > 0 {
			base := len(conds)
			for _, cond := range st.Conditions {
				op, ok := lookupOperator(cond.Operator)
				if !ok {
					return nil, &ParseError{Message: "Invalid Condition type : " + cond.Operator, Path: stmtPath(i)}
				}
				cc, msg := a.condition(cond, op, vars)
				if msg != "" {
					path := stmtPath(i) + ".Condition." + cond.Operator + "." + cond.Key
					return nil, &ParseError{Message: msg + " (at " + path + ")", Path: path}
				}
				conds = append(conds, cc)
			}
			cs.conds = conds[base:len(conds):len(conds)]
		}
		for k := range cs.conds {
			key := cs.conds[k].key
			if !containsKey(c.keys, keyHashes, key) {
				c.keys = append(c.keys, key.name)
				keyHashes = append(keyHashes, key.hash)
			}
		}
	}
	for i := range c.stmts {
		c.stmts[i].act = &c.sets[c.stmts[i].actSet]
	}
	if len(c.stmts) >= indexMin {
		c.index = buildIndex(c)
	}
	return c, nil
}

// parsedConds returns the conditions Parse compiled for st, when st still
// holds exactly those.
func parsedConds(st *Statement) []ccond {
	if len(st.Conditions) == 0 || len(st.conds) != len(st.Conditions) {
		return nil
	}
	for i := range st.Conditions {
		if st.Conditions[i].compiled != &st.conds[i] {
			return nil
		}
	}
	return st.conds
}

func containsKey(names []string, hashes []uint64, k keyRef) bool {
	for i, h := range hashes {
		if h == k.hash && strings.EqualFold(names[i], k.name) {
			return true
		}
	}
	return false
}

// hashList is FNV-1a over an action list, to find repeated lists.
func hashList(not bool, list []string) uint64 {
	h := uint64(14695981039346656037)
	if not {
		h ^= 1
	}
	for _, s := range list {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * 1099511628211
		}
		h = (h ^ 0xff) * 1099511628211
	}
	return h
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
