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
	path     string
	// compiled is Parse's validated form of the values, reused by
	// Compile so a parsed policy's values are parsed once.
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

func (p *parser) fail(v *jvalue, path, msg string) *ParseError {
	e := &ParseError{Message: msg, Path: path}
	if v != nil {
		pos := p.pos(v.start)
		e.Line, e.Column = pos.Line, pos.Column
	}
	return e
}

// failAt is fail with the location appended to the message, for our own
// messages (AWS's exact messages are left untouched).
func (p *parser) failAt(v *jvalue, path, msg string) *ParseError {
	e := p.fail(v, path, msg)
	e.Message = msg + " (at " + path + ")"
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
		return nil, p.failAt(root, "$", "Syntax error: policy document must be a JSON object")
	}
	pol := &Policy{Kind: kind}
	var stmts *jvalue
	for _, m := range root.obj {
		path := "$." + m.key
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
		return nil, p.failAt(root, "$", "Policy document must contain a Statement element")
	}
	list := []*jvalue{stmts}
	if stmts.kind == jArray {
		list = stmts.arr
	}
	if len(list) == 0 {
		return nil, p.failAt(stmts, "$.Statement", "Policy document must contain at least one statement")
	}
	vars := pol.Version == Version2012
	sids := map[string]bool{}
	for i, sv := range list {
		path := "$.Statement"
		if stmts.kind == jArray {
			path += "[" + strconv.Itoa(i) + "]"
		}
		st, err := p.statement(sv, path, vars)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, p.fail(sv, path+".Sid", msgSidUnique)
			}
			sids[st.Sid] = true
		}
		pol.Statements = append(pol.Statements, st)
	}
	return pol, nil
}

func (p *parser) statement(v *jvalue, path string, vars bool) (Statement, error) {
	var st Statement
	if v.kind != jObject {
		return st, p.failAt(v, path, "Syntax error: statement must be a JSON object")
	}
	st.Start = p.pos(v.start)
	st.End = p.pos(v.end)
	var haveEffect bool
	for _, m := range v.obj {
		mpath := path + "." + m.key
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
			st.Conditions, err = p.conditions(m.val, mpath, vars)
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
func (p *parser) strings(v *jvalue, path string) ([]string, error) {
	switch v.kind {
	case jString:
		return []string{v.str}, nil
	case jArray:
		if len(v.arr) == 0 {
			return nil, p.failAt(v, path, "Syntax error: "+lastElem(path)+" must not be an empty array")
		}
		out := make([]string, len(v.arr))
		for i, e := range v.arr {
			if e.kind != jString {
				return nil, p.failAt(e, path+"["+strconv.Itoa(i)+"]", "Syntax error: expected a string, found "+e.kind.String())
			}
			out[i] = e.str
		}
		return out, nil
	default:
		return nil, p.failAt(v, path, "Syntax error: "+lastElem(path)+" must be a string or an array of strings, found "+v.kind.String())
	}
}

func lastElem(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func (p *parser) principals(v *jvalue, path string) (*Principals, error) {
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
		list, err := p.strings(m.val, path+"."+m.key)
		if err != nil {
			return nil, err
		}
		for i, s := range list {
			if s == "" {
				return nil, p.failAt(item(m.val, i), path+"."+m.key, "Invalid principal in policy: empty principal")
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
			return nil, p.failAt(m.val, path+"."+m.key, "Invalid principal in policy: unknown principal type "+strconv.Quote(m.key))
		}
	}
	return pr, nil
}

func (p *parser) conditions(v *jvalue, path string, vars bool) ([]Condition, error) {
	if v.kind != jObject {
		return nil, p.failAt(v, path, "Syntax error: Condition must be an object")
	}
	var out []Condition
	for _, om := range v.obj {
		opath := path + "." + om.key
		op, ok := lookupOperator(om.key)
		if !ok {
			return nil, p.failAt(om.val, opath, "Invalid Condition type : "+om.key)
		}
		if om.val.kind != jObject {
			return nil, p.failAt(om.val, opath, "Syntax error: condition operator "+om.key+" must map to an object of keys")
		}
		for _, km := range om.val.obj {
			kpath := opath + "." + km.key
			if !validConditionKey(km.key) {
				return nil, p.fail(km.val, kpath, msgVendor)
			}
			var vals []string
			add := func(e *jvalue, epath string) error {
				switch e.kind {
				case jString, jNumber, jBool:
					vals = append(vals, e.str)
					return nil
				default:
					return p.failAt(e, epath, "Syntax error: condition value must be a string, number or boolean, found "+e.kind.String())
				}
			}
			if km.val.kind == jArray {
				vals = make([]string, 0, len(km.val.arr))
				for i, e := range km.val.arr {
					if err := add(e, kpath+"["+strconv.Itoa(i)+"]"); err != nil {
						return nil, err
					}
				}
			} else if err := add(km.val, kpath); err != nil {
				return nil, err
			}
			c := Condition{Operator: om.key, Key: km.key, Values: vals, path: kpath}
			// Check the values now so that Parse alone rejects what
			// Compile could not use.
			cc, err := compileCondition(c, op, vars)
			if err != nil {
				pos := p.pos(km.val.start)
				err.Line, err.Column = pos.Line, pos.Column
				return nil, err
			}
			c.compiled = &cc
			out = append(out, c)
		}
	}
	return out, nil
}

func validConditionKey(k string) bool {
	i := strings.IndexByte(k, ':')
	return i > 0 && i < len(k)-1 && validVendor(k[:i])
}
