package policy

import (
	"strconv"
	"strings"
)

// Kind says where a document is used; it changes validation.
type Kind int

const (
	// Identity is an identity-based policy, a permissions boundary or a
	// session policy: no Principal/NotPrincipal, Resource or NotResource
	// required.
	Identity Kind = iota
	// Resource is a resource-based policy (bucket policy): Principal or
	// NotPrincipal required.
	Resource
	// Trust is a role trust policy: Principal required, NotPrincipal
	// forbidden, Resource not required.
	Trust
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Resource:
		return "resource"
	case Trust:
		return "trust"
	default:
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Versions of the policy language.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect element.
type Effect int

const (
	Allow Effect = iota
	Deny
)

func (e Effect) String() string {
	if e == Deny {
		return "Deny"
	}
	return "Allow"
}

// Position is a 1-based line and column in the policy text.
type Position struct {
	Line, Column int
}

// Policy is a parsed, validated policy document. It keeps what the document
// says, as written; Compile turns it into something fast to evaluate.
type Policy struct {
	Version    string // "" when the document has none
	ID         string
	Kind       Kind
	Statements []Statement
}

// Statement is one element of the Statement array.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principals // nil when absent
	NotPrincipal *Principals // nil when absent
	Action       []string
	NotAction    []string
	Resource     []string // nil when absent
	NotResource  []string // nil when absent
	Conditions   []Condition
	// conds are the conditions Parse compiled, parallel to Conditions.
	conds []ccond
	// Start and End are the positions of the statement object's opening
	// and closing braces, as the simulator reports them.
	Start, End Position
}

// Principals is a Principal or NotPrincipal element.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
type Principals struct {
	All           bool // "Principal": "*"
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one operator/key pair of a Condition block with its values.
// Values are the JSON values as text: strings as they are, numbers as
// written, booleans as "true"/"false".
type Condition struct {
	Operator string
	Key      string
	Values   []string
	// compiled is Parse's validated form of the values (an element of
	// Statement.conds), reused by Compile so a parsed policy's values are
	// parsed once.
	compiled *ccond
}

// ParseError is the error Parse and Compile return. Message reads like AWS's
// MalformedPolicyDocument messages; Path is the JSON path of the offending
// element ("$.Statement[0].Effect"), Line and Column its position when known.
type ParseError struct {
	Message      string
	Path         string
	Line, Column int
}

func (e *ParseError) Error() string { return e.Message }

// AWS's exact messages for the errors clients are known to match on.
const (
	msgPrincipalForbidden = "Policy document should not specify a principal."
	msgNeedResources      = "Policy statement must contain resources."
	msgNeedPrincipal      = "Invalid principal in policy: The passed in policy has a statement with no principals!"
	msgVendor             = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgSidChars           = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgSidUnique          = "The Statement Ids in the policy are not unique"
)

type parser struct {
	src  string
	kind Kind
	// A cursor for position: offsets are asked for in increasing order, so
	// counting from the last answer keeps Parse linear.
	curOff, curLine, curCol int
	// Slabs sized by a first pass over the document, so that statements
	// share a few allocations instead of making one per list.
	strs   []string
	conds  []Condition
	cconds []ccond
	arena  arena
}

// jpath is the JSON path of an element ("$.Statement[2].Condition.Bool"),
// kept as parts and turned into text only when an error reports it.
type jpath struct {
	stmt int // statement index, or stmtOne / stmtNone
	keys [4]string
	n    int
	idx  int // array index after the last key, -1 for none
}

const (
	stmtNone = -2 // a document-level element
	stmtOne  = -1 // "Statement" is a single object, not an array
)

func rootPath() jpath       { return jpath{stmt: stmtNone, idx: -1} }
func stmtJPath(i int) jpath { return jpath{stmt: i, idx: -1} }
func (j jpath) key(k string) jpath {
	if j.n < len(j.keys) {
		j.keys[j.n] = k
		j.n++
	}
	j.idx = -1
	return j
}
func (j jpath) at(i int) jpath { j.idx = i; return j }

// last is the name of the innermost member ("Action").
func (j jpath) last() string {
	if j.n == 0 {
		if j.stmt == stmtNone {
			return "$"
		}
		return "Statement"
	}
	return j.keys[j.n-1]
}

func (j jpath) String() string {
	b := "$"
	switch {
	case j.stmt == stmtOne:
		b += ".Statement"
	case j.stmt >= 0:
		b += ".Statement[" + strconv.Itoa(j.stmt) + "]"
	}
	for _, k := range j.keys[:j.n] {
		b += "." + k
	}
	if j.idx >= 0 {
		b += "[" + strconv.Itoa(j.idx) + "]"
	}
	return b
}

func (p *parser) pos(off int) Position {
	if off < p.curOff || p.curLine == 0 {
		p.curOff, p.curLine, p.curCol = 0, 1, 1
	}
	if off > len(p.src) {
		off = len(p.src)
	}
	for _, r := range p.src[p.curOff:off] {
		if r == '\n' {
			p.curLine++
			p.curCol = 1
		} else {
			p.curCol++
		}
	}
	p.curOff = off
	return Position{Line: p.curLine, Column: p.curCol}
}

func (p *parser) fail(v *jvalue, path jpath, msg string) *ParseError {
	e := &ParseError{Message: msg, Path: path.String()}
	if v != nil {
		pos := p.pos(v.start)
		e.Line, e.Column = pos.Line, pos.Column
	}
	return e
}

// failAt is fail with the location appended to the message, for our own
// messages (AWS's exact messages are left untouched).
func (p *parser) failAt(v *jvalue, path jpath, msg string) *ParseError {
	e := p.fail(v, path, msg)
	e.Message = msg + " (at " + e.Path + ")"
	return e
}

// Parse parses and validates a JSON policy document.
// Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
// Errors are *ParseError.
func Parse(doc string, kind Kind) (*Policy, error) {
	root, err := parseJSON(doc)
	if err != nil {
		return nil, err
	}
	p := &parser{src: doc, kind: kind}
	if root.kind != jObject {
		return nil, p.failAt(root, rootPath(), "Syntax error: policy document must be a JSON object")
	}
	pol := &Policy{Kind: kind}
	var stmts *jvalue
	for _, m := range root.obj {
		path := rootPath().key(m.key)
		switch m.key {
		case "Version":
			if m.val.kind != jString || (m.val.str != Version2012 && m.val.str != Version2008) {
				return nil, p.failAt(m.val, path, "The policy must contain a valid version string")
			}
			pol.Version = m.val.str
		case "Id":
			if m.val.kind != jString {
				return nil, p.failAt(m.val, path, "Id must be a string")
			}
			pol.ID = m.val.str
		case "Statement":
			stmts = m.val
		default:
			return nil, p.failAt(m.val, path, "Syntax error: unknown policy element "+strconv.Quote(m.key))
		}
	}
	if stmts == nil {
		return nil, p.failAt(root, rootPath(), "Policy document must contain a Statement element")
	}
	list := []*jvalue{stmts}
	if stmts.kind == jArray {
		list = stmts.arr
	}
	if len(list) == 0 {
		return nil, p.failAt(stmts, stmtJPath(stmtOne), "Policy document must contain at least one statement")
	}
	p.presize(list)
	vars := pol.Version == Version2012
	var sids map[string]bool // only for many statements; few are scanned
	if len(list) > 16 {
		sids = make(map[string]bool, len(list))
	}
	pol.Statements = make([]Statement, 0, len(list))
	for i, sv := range list {
		path := stmtJPath(stmtOne)
		if stmts.kind == jArray {
			path = stmtJPath(i)
		}
		st, err := p.statement(sv, path, vars)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			dup := false
			if sids != nil {
				dup = sids[st.Sid]
				sids[st.Sid] = true
			} else {
				for j := range pol.Statements {
					if pol.Statements[j].Sid == st.Sid {
						dup = true
						break
					}
				}
			}
			if dup {
				return nil, p.fail(sv, path.key("Sid"), msgSidUnique)
			}
		}
		pol.Statements = append(pol.Statements, st)
	}
	return pol, nil
}

// presize counts the strings and conditions the statements hold and
// allocates the slabs they are carved from.
func (p *parser) presize(list []*jvalue) {
	count := func(v *jvalue) int {
		if v.kind == jArray {
			return len(v.arr)
		}
		return 1
	}
	nStr, nCond := 0, 0
	for _, sv := range list {
		if sv.kind != jObject {
			continue
		}
		for _, m := range sv.obj {
			switch m.key {
			case "Action", "NotAction", "Resource", "NotResource":
				nStr += count(m.val)
			case "Principal", "NotPrincipal":
				for _, pm := range m.val.obj {
					nStr += count(pm.val)
				}
			case "Condition":
				for _, om := range m.val.obj {
					for _, km := range om.val.obj {
						nCond++
						nStr += count(km.val)
					}
				}
			}
		}
	}
	p.strs = make([]string, 0, nStr)
	if nCond > 0 {
		p.conds = make([]Condition, 0, nCond)
		p.cconds = make([]ccond, 0, nCond)
	}
}

func (p *parser) statement(v *jvalue, path jpath, vars bool) (Statement, error) {
	var st Statement
	if v.kind != jObject {
		return st, p.failAt(v, path, "Syntax error: statement must be a JSON object")
	}
	st.Start = p.pos(v.start)
	st.End = p.pos(v.end)
	var haveEffect bool
	for _, m := range v.obj {
		mpath := path.key(m.key)
		var err error
		switch m.key {
		case "Sid":
			if m.val.kind != jString {
				return st, p.failAt(m.val, mpath, "Sid must be a string")
			}
			st.Sid = m.val.str
			// S3 and other resource policies allow spaces and more in a
			// Sid; IAM (identity and trust policies) does not.
			if p.kind != Resource && !alnum(st.Sid) {
				return st, p.fail(m.val, mpath, msgSidChars)
			}
		case "Effect":
			if m.val.kind != jString || (m.val.str != "Allow" && m.val.str != "Deny") {
				return st, p.failAt(m.val, mpath, "Invalid effect: "+describe(m.val))
			}
			haveEffect = true
			if m.val.str == "Deny" {
				st.Effect = Deny
			}
		case "Principal", "NotPrincipal":
			if p.kind == Identity {
				return st, p.fail(m.val, mpath, msgPrincipalForbidden)
			}
			if p.kind == Trust && m.key == "NotPrincipal" {
				return st, p.failAt(m.val, mpath, "NotPrincipal is not allowed in a role trust policy")
			}
			var pr *Principals
			pr, err = p.principals(m.val, mpath)
			if m.key == "Principal" {
				st.Principal = pr
			} else {
				st.NotPrincipal = pr
			}
		case "Action", "NotAction":
			var list []string
			list, err = p.strings(m.val, mpath)
			if err == nil {
				for i, a := range list {
					if !validAction(a) {
						return st, p.fail(item(m.val, i), mpath, msgVendor)
					}
				}
			}
			if m.key == "Action" {
				st.Action = list
			} else {
				st.NotAction = list
			}
		case "Resource", "NotResource":
			var list []string
			list, err = p.strings(m.val, mpath)
			if err == nil {
				for i, r := range list {
					if r != "*" && !strings.HasPrefix(r, "arn:") {
						return st, p.failAt(item(m.val, i), mpath, "Resource "+r+" must be in ARN format or \"*\"")
					}
				}
			}
			if m.key == "Resource" {
				st.Resource = list
			} else {
				st.NotResource = list
			}
		case "Condition":
			st.Conditions, st.conds, err = p.conditions(m.val, mpath, vars)
		default:
			return st, p.failAt(m.val, mpath, "Syntax error: unknown statement element "+strconv.Quote(m.key))
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case !haveEffect:
		return st, p.failAt(v, path, "Missing required field Effect")
	case st.Action != nil && st.NotAction != nil:
		return st, p.failAt(v, path, "Statement must not contain both Action and NotAction")
	case st.Action == nil && st.NotAction == nil:
		return st, p.failAt(v, path, "Policy statement must contain actions.")
	case st.Resource != nil && st.NotResource != nil:
		return st, p.failAt(v, path, "Statement must not contain both Resource and NotResource")
	case st.Principal != nil && st.NotPrincipal != nil:
		return st, p.failAt(v, path, "Statement must not contain both Principal and NotPrincipal")
	}
	switch p.kind {
	case Identity, Resource:
		if st.Resource == nil && st.NotResource == nil {
			return st, p.fail(v, path, msgNeedResources)
		}
	}
	switch p.kind {
	case Resource:
		if st.Principal == nil && st.NotPrincipal == nil {
			return st, p.fail(v, path, msgNeedPrincipal)
		}
	case Trust:
		if st.Principal == nil {
			return st, p.fail(v, path, msgNeedPrincipal)
		}
	}
	return st, nil
}

func item(v *jvalue, i int) *jvalue {
	if v.kind == jArray && i < len(v.arr) {
		return v.arr[i]
	}
	return v
}

func describe(v *jvalue) string {
	if v.kind == jString {
		return strconv.Quote(v.str)
	}
	return v.kind.String()
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validAction accepts "*" (the console writes "Action": ["*"]) and
// "vendor:pattern" with a non-empty vendor.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	i := strings.IndexByte(a, ':')
	return i > 0 && i < len(a)-1 && validVendor(a[:i])
}

func validVendor(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// strings reads a string or a non-empty array of strings (brackets are
// optional for one value).
func (p *parser) strings(v *jvalue, path jpath) ([]string, error) {
	switch v.kind {
	case jString:
		out := carve(&p.strs, 1, 64)
		out[0] = v.str
		return out, nil
	case jArray:
		if len(v.arr) == 0 {
			return nil, p.failAt(v, path, "Syntax error: "+path.last()+" must not be an empty array")
		}
		out := carve(&p.strs, len(v.arr), 64)
		for i, e := range v.arr {
			if e.kind != jString {
				return nil, p.failAt(e, path.at(i), "Syntax error: expected a string, found "+e.kind.String())
			}
			out[i] = e.str
		}
		return out, nil
	default:
		return nil, p.failAt(v, path, "Syntax error: "+path.last()+" must be a string or an array of strings, found "+v.kind.String())
	}
}

func (p *parser) principals(v *jvalue, path jpath) (*Principals, error) {
	if v.kind == jString {
		if v.str != "*" {
			return nil, p.failAt(v, path, "Invalid principal in policy: "+strconv.Quote(v.str)+" (use \"*\" or an object such as {\"AWS\": ...})")
		}
		return &Principals{All: true}, nil
	}
	if v.kind != jObject || len(v.obj) == 0 {
		return nil, p.failAt(v, path, "Invalid principal in policy: expected \"*\" or an object with AWS, Service, Federated or CanonicalUser")
	}
	pr := &Principals{}
	for _, m := range v.obj {
		kpath := path.key(m.key)
		list, err := p.strings(m.val, kpath)
		if err != nil {
			return nil, err
		}
		for i, s := range list {
			if s == "" {
				return nil, p.failAt(item(m.val, i), kpath, "Invalid principal in policy: empty principal")
			}
		}
		switch m.key {
		case "AWS":
			pr.AWS = list
		case "Service":
			pr.Service = list
		case "Federated":
			pr.Federated = list
		case "CanonicalUser":
			pr.CanonicalUser = list
		default:
			return nil, p.failAt(m.val, kpath, "Invalid principal in policy: unknown principal type "+strconv.Quote(m.key))
		}
	}
	return pr, nil
}

func (p *parser) conditions(v *jvalue, path jpath, vars bool) ([]Condition, []ccond, error) {
	if v.kind != jObject {
		return nil, nil, p.failAt(v, path, "Syntax error: Condition must be an object")
	}
	n := 0
	for _, om := range v.obj {
		if om.val.kind == jObject {
			n += len(om.val.obj)
		}
	}
	out := carve(&p.conds, n, 16)[:0]
	compiled := carve(&p.cconds, n, 16)[:0]
	for _, om := range v.obj {
		opath := path.key(om.key)
		op, ok := lookupOperator(om.key)
		if !ok {
			return nil, nil, p.failAt(om.val, opath, "Invalid Condition type : "+om.key)
		}
		if om.val.kind != jObject {
			return nil, nil, p.failAt(om.val, opath, "Syntax error: condition operator "+om.key+" must map to an object of keys")
		}
		for _, km := range om.val.obj {
			kpath := opath.key(km.key)
			if !validConditionKey(km.key) {
				return nil, nil, p.fail(km.val, kpath, msgVendor)
			}
			elems := []*jvalue{km.val}
			if km.val.kind == jArray {
				elems = km.val.arr
			}
			vals := carve(&p.strs, len(elems), 64)
			for i, e := range elems {
				switch e.kind {
				case jString, jNumber, jBool:
					vals[i] = e.str
				default:
					epath := kpath
					if km.val.kind == jArray {
						epath = kpath.at(i)
					}
					return nil, nil, p.failAt(e, epath, "Syntax error: condition value must be a string, number or boolean, found "+e.kind.String())
				}
			}
			if vals == nil {
				vals = []string{}
			}
			c := Condition{Operator: om.key, Key: km.key, Values: vals}
			// Check the values now so that Parse alone rejects what
			// Compile could not use.
			cc, msg := p.arena.condition(c, op, vars)
			if msg != "" {
				pos := p.pos(km.val.start)
				ks := kpath.String()
				return nil, nil, &ParseError{Message: msg + " (at " + ks + ")", Path: ks, Line: pos.Line, Column: pos.Column}
			}
			compiled = append(compiled, cc)
			out = append(out, c)
		}
	}
	// Point each condition at its compiled form only now that compiled
	// will not move.
	for i := range out {
		out[i].compiled = &compiled[i]
	}
	return out, compiled, nil
}

func validConditionKey(k string) bool {
	i := strings.IndexByte(k, ':')
	return i > 0 && i < len(k)-1 && validVendor(k[:i])
}
