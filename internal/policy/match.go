package policy

import (
	"strings"
	"unicode/utf8"
)

// Wildcard matching without regexp: a pattern is pre-split at compile time
// into elements (literal text, '*', '?', policy variable) and matched with
// the classic single-backtrack-point algorithm, which is linear for the
// common cases and never allocates.

type elemKind uint8

const (
	eLit  elemKind = iota // literal text
	eStar                 // '*': any run of characters, possibly empty
	eOne                  // '?': exactly one character
	eVar                  // policy variable, resolved against the request context
)

type elem struct {
	kind elemKind
	lit  string // eLit text
	v    int    // eVar: index into pattern.vars
}

// varRef is a policy variable: ${key} or ${key, 'default'}.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
type varRef struct {
	key        keyRef
	def        string
	hasDefault bool
}

// pattern is a compiled string pattern.
type pattern struct {
	raw   string
	elems []elem
	vars  []varRef
	// Fast paths, decided at compile time.
	all     bool // "*": matches anything
	literal bool // no wildcards and no variables: compare with lit
	prefix  bool // lit followed by a single '*' ("s3:Get*")
	lit     string
}

// maxVars bounds the variables resolved on the stack per pattern; patterns
// with more fall back to a heap slice (never seen in real policies).
const maxVars = 8

// compilePattern splits s into elements. wild says whether '*' and '?' are
// wildcards (StringLike, Arn*, Resource, Action) or literal text
// (StringEquals). vars says whether ${...} is a policy variable (Version
// 2012-10-17 only) or literal text.
func compilePattern(s string, wild, vars bool) pattern {
	var a arena
	return a.pattern(s, wild, vars)
}

func (a *arena) pattern(s string, wild, vars bool) pattern {
	p := pattern{raw: s}
	// Most values have no wildcard and no variable: no allocation at all.
	special := "$"
	if wild {
		special = "*?$"
	}
	if (!vars && !wild) || !strings.ContainsAny(s, special) {
		p.literal, p.lit = true, s
		return p
	}
	// Elements are collected on the stack, literal text as substrings of
	// s, and copied to the arena once their number is known.
	var ebuf [16]elem
	var vbuf [maxVars]varRef
	elems, vs := ebuf[:0], vbuf[:0]
	lit := -1 // start of the pending literal run, -1 when none
	flush := func(end int) {
		if lit >= 0 && end > lit {
			elems = append(elems, elem{kind: eLit, lit: s[lit:end]})
		}
		lit = -1
	}
	merged := false // two literal elements are adjacent: join them below
	startLit := func(i int) {
		if lit < 0 {
			merged = merged || len(elems) > 0 && elems[len(elems)-1].kind == eLit
			lit = i
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && c == '*':
			flush(i)
			// Consecutive stars are one star.
			if n := len(elems); n == 0 || elems[n-1].kind != eStar {
				elems = append(elems, elem{kind: eStar})
			}
			i++
		case wild && c == '?':
			flush(i)
			elems = append(elems, elem{kind: eOne})
			i++
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				startLit(i)
				i = len(s)
				continue
			}
			body := s[i+2 : i+end]
			switch body {
			case "*", "?", "$":
				// Escapes for characters that otherwise have a meaning.
				flush(i)
				merged = merged || len(elems) > 0 && elems[len(elems)-1].kind == eLit
				elems = append(elems, elem{kind: eLit, lit: body})
				i += end + 1
				continue
			}
			ref, ok := parseVar(body)
			if !ok {
				// Not a variable: literal text, braces and all.
				startLit(i)
				i += end + 1
				continue
			}
			flush(i)
			i += end + 1
			elems = append(elems, elem{kind: eVar, v: len(vs)})
			vs = append(vs, ref)
		default:
			startLit(i)
			i++
		}
	}
	flush(len(s))
	if merged {
		elems = joinLiterals(elems)
	}
	switch {
	case len(elems) == 1 && elems[0].kind == eStar:
		p.all = true
		return p
	case len(elems) == 0:
		p.literal = true
		return p
	case len(elems) == 1 && elems[0].kind == eLit:
		p.literal, p.lit = true, elems[0].lit
		return p
	case len(elems) == 2 && elems[0].kind == eLit && elems[1].kind == eStar:
		p.prefix, p.lit = true, elems[0].lit
		return p
	}
	p.elems = carve(&a.elems, len(elems), 64)
	copy(p.elems, elems)
	if len(vs) > 0 {
		p.vars = carve(&a.vars, len(vs), 16)
		copy(p.vars, vs)
	}
	return p
}

// joinLiterals merges adjacent literal elements (left by ${*}-style
// escapes next to other text), which globMatch's skip-ahead relies on.
func joinLiterals(elems []elem) []elem {
	out := elems[:0]
	for _, e := range elems {
		if n := len(out); e.kind == eLit && n > 0 && out[n-1].kind == eLit {
			out[n-1].lit += e.lit
			continue
		}
		out = append(out, e)
	}
	return out
}

// parseVar parses the inside of ${...}: a key, optionally followed by
// ", 'default'".
func parseVar(body string) (varRef, bool) {
	key, rest, hasComma := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " '") {
		return varRef{}, false
	}
	ref := varRef{key: newKeyRef(key)}
	if hasComma {
		rest = strings.TrimSpace(rest)
		if len(rest) < 2 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
			return varRef{}, false
		}
		ref.def, ref.hasDefault = rest[1:len(rest)-1], true
	}
	return ref, true
}

// resolve fills out with the value of each variable. It reports false when
// a variable has no single value and no default: such a pattern matches
// nothing.
func (p *pattern) resolve(ctx *Context, out []string) bool {
	for i := range p.vars {
		v := &p.vars[i]
		if e := ctx.lookup(v.key); e != nil {
			if vals := e.values(); len(vals) == 1 {
				out[i] = vals[0]
				continue
			}
		}
		if !v.hasDefault {
			return false
		}
		out[i] = v.def
	}
	return true
}

// match reports whether s matches the pattern; fold makes literal
// comparison ASCII case-insensitive. ok is false when a variable could not
// be resolved (the caller decides what that means).
func (p *pattern) match(s string, fold bool, ctx *Context) (matched, ok bool) {
	switch {
	case p.all:
		return true, true
	case p.literal:
		if fold {
			return len(s) == len(p.lit) && hasPrefix(s, p.lit, true), true
		}
		return s == p.lit, true
	case p.prefix:
		return hasPrefix(s, p.lit, fold), true
	}
	var buf [maxVars]string
	vals := buf[:0]
	if len(p.vars) > 0 {
		if len(p.vars) <= maxVars {
			vals = buf[:len(p.vars)]
		} else {
			vals = make([]string, len(p.vars))
		}
		if !p.resolve(ctx, vals) {
			return false, false
		}
	}
	return globMatch(p.elems, vals, s, fold), true
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	// ASCII case folding inline; anything else goes to strings.EqualFold.
	for i := 0; i < len(prefix); i++ {
		a, b := s[i], prefix[i]
		if a == b {
			continue
		}
		if a|b >= utf8.RuneSelf {
			return strings.EqualFold(s[:len(prefix)], prefix)
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// globMatch is the iterative wildcard matcher: on a mismatch it retries
// from the last '*', consuming one more character. Because everything
// between two stars has a fixed length once variables are resolved, the
// leftmost match of each such run is always a safe choice, so one
// backtrack point suffices.
func globMatch(elems []elem, vals []string, s string, fold bool) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for pi < len(elems) || si < len(s) {
		if pi < len(elems) {
			e := &elems[pi]
			switch e.kind {
			case eStar:
				pi++
				if pi == len(elems) {
					return true // a trailing star takes the rest
				}
				// Jump straight to the next occurrence of the text
				// that follows the star instead of trying every
				// position.
				j := nextAt(elems, vals, pi, s, si, fold)
				if j < 0 {
					return false
				}
				si = j
				starPi, starSi = pi-1, si
				continue
			case eOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case eLit:
				if hasPrefix(s[si:], e.lit, fold) {
					si += len(e.lit)
					pi++
					continue
				}
			case eVar:
				if t := vals[e.v]; hasPrefix(s[si:], t, fold) {
					si += len(t)
					pi++
					continue
				}
			}
		}
		if starPi >= 0 && starSi < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSi:])
			j := nextAt(elems, vals, starPi+1, s, starSi+n, fold)
			if j < 0 {
				return false
			}
			starSi = j
			pi, si = starPi+1, starSi
			continue
		}
		return false
	}
	return true
}

// nextAt returns the first position ≥ from where elems[pi] (literal text
// or a resolved variable) could start, from itself when elems[pi] is not
// text (or matching folds case), or -1 when the text does not occur again:
// then no later position can match either.
func nextAt(elems []elem, vals []string, pi int, s string, from int, fold bool) int {
	if pi >= len(elems) || from > len(s) {
		return from
	}
	var t string
	switch e := &elems[pi]; e.kind {
	case eLit:
		t = e.lit
	case eVar:
		t = vals[e.v]
	default:
		return from
	}
	if fold {
		return indexFold(s, t, from)
	}
	j := strings.Index(s[from:], t)
	if j < 0 {
		return -1
	}
	return from + j
}

// indexFold is strings.Index with ASCII case folding, from position from.
func indexFold(s, t string, from int) int {
	if t == "" {
		return from
	}
	c0 := lowerASCII(t[0])
	for i := from; i+len(t) <= len(s); i++ {
		if lowerASCII(s[i]) == c0 && hasPrefix(s[i:], t, true) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// arnPattern matches ARNs component by component: "*" and "?" never cross
// the ':' between the first five components, while the last component (the
// resource part, which may itself hold colons) takes the rest. A pattern
// with fewer components lets its last one take the rest too, so
// "arn:aws:s3:::*" and "*" behave as people expect.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
type arnPattern struct {
	raw   string
	all   bool
	parts []pattern
	// prefix is the text of the leading components that are plain text,
	// with their colons ("arn:aws:s3:::"): one comparison instead of one
	// per component. Matching goes on with parts[from:].
	prefix string
	from   int
}

func compileARNPattern(s string, vars bool) arnPattern {
	var a arena
	return a.arnPattern(s, vars)
}

func (a *arena) arnPattern(s string, vars bool) arnPattern {
	ap := arnPattern{raw: s}
	if s == "*" {
		ap.all = true
		return ap
	}
	// Split on ':' outside ${...}, at most 6 parts.
	var texts [6]string
	var starts [6]int
	n, start, depth := 0, 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			texts[n], starts[n] = s[start:i], start
			n++
			start = i + 1
		}
	}
	texts[n], starts[n] = s[start:], start
	n++
	ap.parts = carve(&a.pats, n, 32)
	for i := 0; i < n; i++ {
		ap.parts[i] = a.pattern(texts[i], true, vars)
	}
	k := 0
	for k < n-1 && ap.parts[k].literal && ap.parts[k].lit == texts[k] {
		k++
	}
	ap.prefix, ap.from = s[:starts[k]], k
	return ap
}

// match reports whether arn matches; ok is false when a variable could not
// be resolved.
func (ap *arnPattern) match(arn string, ctx *Context) (matched, ok bool) {
	if ap.all {
		return true, true
	}
	if len(arn) < len(ap.prefix) || arn[:len(ap.prefix)] != ap.prefix {
		return false, true
	}
	rest := arn[len(ap.prefix):]
	for i := ap.from; i < len(ap.parts); i++ {
		var comp string
		if i == len(ap.parts)-1 {
			comp = rest
		} else {
			j := strings.IndexByte(rest, ':')
			if j < 0 {
				return false, true
			}
			comp, rest = rest[:j], rest[j+1:]
		}
		if m, k := ap.parts[i].match(comp, false, ctx); !m {
			return false, k
		}
	}
	return true, true
}
