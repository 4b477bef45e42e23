package policy

import (
	"encoding/base64"
	"net/netip"
	"strings"
)

// Condition operators.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// Multivalued keys and the ForAllValues/ForAnyValue set operators:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

type family uint8

const (
	fString family = iota
	fNumeric
	fDate
	fBool
	fBinary
	fIP
	fARN
	fNull
)

type compare uint8

const (
	cEq compare = iota
	cEqFold
	cLike
	cLT
	cLTE
	cGT
	cGTE
)

type setOp uint8

const (
	setNone setOp = iota
	setAll        // ForAllValues:
	setAny        // ForAnyValue:
)

type operator struct {
	family   family
	cmp      compare
	negated  bool
	ifExists bool
	set      setOp
}

// baseOperators maps lower-cased operator names (without set prefix or
// IfExists suffix) to their meaning. Names are matched case-insensitively:
// AWS documents them in one spelling and accepting others costs nothing.
var baseOperators = map[string]operator{
	"stringequals":              {family: fString, cmp: cEq},
	"stringnotequals":           {family: fString, cmp: cEq, negated: true},
	"stringequalsignorecase":    {family: fString, cmp: cEqFold},
	"stringnotequalsignorecase": {family: fString, cmp: cEqFold, negated: true},
	"stringlike":                {family: fString, cmp: cLike},
	"stringnotlike":             {family: fString, cmp: cLike, negated: true},
	"numericequals":             {family: fNumeric, cmp: cEq},
	"numericnotequals":          {family: fNumeric, cmp: cEq, negated: true},
	"numericlessthan":           {family: fNumeric, cmp: cLT},
	"numericlessthanequals":     {family: fNumeric, cmp: cLTE},
	"numericgreaterthan":        {family: fNumeric, cmp: cGT},
	"numericgreaterthanequals":  {family: fNumeric, cmp: cGTE},
	"dateequals":                {family: fDate, cmp: cEq},
	"datenotequals":             {family: fDate, cmp: cEq, negated: true},
	"datelessthan":              {family: fDate, cmp: cLT},
	"datelessthanequals":        {family: fDate, cmp: cLTE},
	"dategreaterthan":           {family: fDate, cmp: cGT},
	"dategreaterthanequals":     {family: fDate, cmp: cGTE},
	"bool":                      {family: fBool, cmp: cEq},
	"binaryequals":              {family: fBinary, cmp: cEq},
	"ipaddress":                 {family: fIP, cmp: cEq},
	"notipaddress":              {family: fIP, cmp: cEq, negated: true},
	"arnequals":                 {family: fARN, cmp: cLike},
	"arnlike":                   {family: fARN, cmp: cLike},
	"arnnotequals":              {family: fARN, cmp: cLike, negated: true},
	"arnnotlike":                {family: fARN, cmp: cLike, negated: true},
	"null":                      {family: fNull, cmp: cEq},
}

// lookupOperator parses "[ForAllValues:|ForAnyValue:]<Op>[IfExists]".
func lookupOperator(name string) (operator, bool) {
	// Lower-case into a stack buffer: the map lookup with string(bytes)
	// does not allocate. No operator name is anywhere near this long.
	var buf [64]byte
	if len(name) > len(buf) {
		return operator{}, false
	}
	for i := 0; i < len(name); i++ {
		buf[i] = lowerASCII(name[i])
	}
	n := buf[:len(name)]
	var set setOp
	switch {
	case hasPrefixBytes(n, "forallvalues:"):
		set, n = setAll, n[len("forallvalues:"):]
	case hasPrefixBytes(n, "foranyvalue:"):
		set, n = setAny, n[len("foranyvalue:"):]
	}
	ifExists := false
	if len(n) > len("ifexists") && string(n[len(n)-len("ifexists"):]) == "ifexists" {
		n, ifExists = n[:len(n)-len("ifexists")], true
	}
	op, ok := baseOperators[string(n)]
	if !ok {
		return operator{}, false
	}
	if op.family == fNull && (ifExists || set != setNone) {
		// NullIfExists would be meaningless; AWS documents none of these.
		return operator{}, false
	}
	op.ifExists, op.set = ifExists, set
	return op, true
}

func hasPrefixBytes(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// ccond is a compiled condition: one operator, one key, its values parsed
// for the operator's type.
type ccond struct {
	op      operator
	key     keyRef
	pats    []pattern    // fString, fBool (with variables)
	arns    []arnPattern // fARN
	nums    []float64    // fNumeric
	dates   []instant    // fDate
	bools   []bool       // fBool without variables
	bins    []string     // fBinary: canonical padded and unpadded base64
	nets    []netip.Prefix
	null    bool // fNull: true means "key must be absent"
	boolVar bool // fBool: values hold variables, resolve at evaluation
}

// condition compiles one condition's values for op. On a bad value it
// returns AWS-style message text; the caller adds where it is.
func (a *arena) condition(c Condition, op operator, vars bool) (ccond, string) {
	cc := ccond{op: op, key: newKeyRef(c.Key)}
	bad := func(v string) (ccond, string) {
		return cc, "Invalid value " + quote(v) + " for condition operator " + c.Operator
	}
	n := len(c.Values)
	switch op.family {
	case fString, fBool:
		cc.pats = carve(&a.pats, n, 32)
	case fARN:
		cc.arns = carve(&a.arns, n, 16)
	case fNumeric:
		cc.nums = make([]float64, 0, n)
	case fDate:
		cc.dates = make([]instant, 0, n)
	case fBinary:
		cc.bins = make([]string, 0, 2*n)
	case fIP:
		cc.nets = make([]netip.Prefix, 0, n)
	}
	for i, v := range c.Values {
		switch op.family {
		case fString:
			cc.pats[i] = a.pattern(v, op.cmp == cLike, vars)
		case fARN:
			cc.arns[i] = a.arnPattern(v, vars)
		case fNumeric:
			n, ok := parseNumber(v)
			if !ok {
				return bad(v)
			}
			cc.nums = append(cc.nums, n)
		case fDate:
			d, ok := parseDate(v)
			if !ok {
				return bad(v)
			}
			cc.dates = append(cc.dates, d)
		case fBool:
			p := a.pattern(v, false, vars)
			if len(p.vars) > 0 {
				cc.boolVar = true
			} else if _, ok := parseBool(v); !ok {
				return bad(v)
			}
			cc.pats[i] = p
		case fBinary:
			b, ok := decodeBase64(v)
			if !ok {
				return bad(v)
			}
			cc.bins = append(cc.bins, base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b))
		case fIP:
			p, ok := parsePrefix(v)
			if !ok {
				return bad(v)
			}
			cc.nets = append(cc.nets, p)
		case fNull:
			b, ok := parseBool(v)
			if !ok {
				return bad(v)
			}
			cc.null = b
		}
	}
	if op.family == fBool && !cc.boolVar {
		cc.bools = make([]bool, len(cc.pats))
		for i, p := range cc.pats {
			cc.bools[i], _ = parseBool(p.raw)
		}
		cc.pats = nil
	}
	if op.family == fNull && len(c.Values) != 1 {
		return bad(strings.Join(c.Values, ","))
	}
	return cc, ""
}

func quote(s string) string { return "\"" + s + "\"" }

// eval evaluates the condition against the context.
//
//   - Values listed for one key are ORed: a request value matches when it
//     matches any of them. For a negated operator the request value must
//     differ from all of them.
//   - A missing key makes a positive operator false and a negated one,
//     an …IfExists one and a ForAllValues one true; ForAnyValue is false.
//   - A present key with no values (an empty list) behaves like a missing
//     key for the set operators, IfExists and Null.
//   - A request value that cannot be read as the operator's type (a
//     NumericLessThan on "abc") satisfies neither the operator nor its
//     negation.
func (c *ccond) eval(ctx *Context) bool {
	e := ctx.lookup(c.key)
	var vals []string
	if e != nil {
		vals = e.values()
	}
	if c.op.family == fNull {
		absent := len(vals) == 0
		return absent == c.null
	}
	if len(vals) == 0 {
		switch {
		case c.op.set == setAll, c.op.ifExists:
			return true
		case c.op.set == setAny:
			return false
		}
		return c.op.negated
	}
	switch c.op.set {
	case setAll:
		for _, v := range vals {
			if !c.one(v, ctx) {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if c.one(v, ctx) {
				return true
			}
		}
		return false
	}
	// A plain operator given several request values: positive operators
	// match when any value matches; negated ones when every value differs.
	if c.op.negated {
		for _, v := range vals {
			if !c.one(v, ctx) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.one(v, ctx) {
			return true
		}
	}
	return false
}

// one tests a single request value: for a positive operator "matches some
// policy value", for a negated one "is of the right type and matches none".
func (c *ccond) one(v string, ctx *Context) bool {
	m, ok := c.matchAny(v, ctx)
	if !ok {
		return false
	}
	if c.op.negated {
		return !m
	}
	return m
}

// matchAny reports whether v matches any policy value; ok is false when v
// is not of the operator's type.
func (c *ccond) matchAny(v string, ctx *Context) (matched, ok bool) {
	switch c.op.family {
	case fString:
		fold := c.op.cmp == cEqFold
		for i := range c.pats {
			// An unresolvable variable matches nothing, so a negated
			// operator counts it as "different".
			if m, _ := c.pats[i].match(v, fold, ctx); m {
				return true, true
			}
		}
		return false, true
	case fARN:
		for i := range c.arns {
			if m, _ := c.arns[i].match(v, ctx); m {
				return true, true
			}
		}
		return false, true
	case fNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		for _, p := range c.nums {
			if ordered(c.op.cmp, cmpFloat(n, p)) {
				return true, true
			}
		}
		return false, true
	case fDate:
		d, ok := parseDate(v)
		if !ok {
			return false, false
		}
		for _, p := range c.dates {
			if ordered(c.op.cmp, d.cmp(p)) {
				return true, true
			}
		}
		return false, true
	case fBool:
		b, ok := parseBool(v)
		if !ok {
			return false, false
		}
		if !c.boolVar {
			for _, p := range c.bools {
				if b == p {
					return true, true
				}
			}
			return false, true
		}
		for i := range c.pats {
			p := &c.pats[i]
			var want string
			if p.literal {
				want = p.lit
			} else {
				var buf [maxVars]string
				if len(p.vars) > maxVars || !p.resolve(ctx, buf[:len(p.vars)]) {
					continue
				}
				// A Bool value is a single variable, perhaps with
				// surrounding text; only a lone variable can be a bool.
				if len(p.elems) != 1 {
					continue
				}
				want = buf[p.elems[0].v]
			}
			if pb, ok := parseBool(want); ok && pb == b {
				return true, true
			}
		}
		return false, true
	case fBinary:
		for _, p := range c.bins {
			if v == p {
				return true, true
			}
		}
		return false, true
	case fIP:
		a, ok := parseAddr(v)
		if !ok {
			return false, false
		}
		for _, p := range c.nets {
			if p.Contains(a) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ordered applies a comparison to the result of comparing the request
// value with the policy value (request OP policy).
func ordered(c compare, r int) bool {
	switch c {
	case cEq:
		return r == 0
	case cLT:
		return r < 0
	case cLTE:
		return r <= 0
	case cGT:
		return r > 0
	case cGTE:
		return r >= 0
	}
	return false
}
