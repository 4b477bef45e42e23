package policy

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small JSON reader of our own instead of encoding/json because policy
// documents need things encoding/json cannot give: rejection of duplicate
// keys (IAM rejects them, encoding/json keeps the last), the source position
// of every value (the simulator reports statement positions), key order, and
// the raw text of numbers (condition values are compared as written).

// maxDepth bounds nesting. The deepest valid policy shape is
// document → Statement array → statement → Condition → operator → key →
// value array: 7 levels. Anything deeper is not a policy and is refused
// before it can cost stack.
const maxDepth = 8

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jBool:
		return "boolean"
	case jNumber:
		return "number"
	case jString:
		return "string"
	case jArray:
		return "array"
	default:
		return "object"
	}
}

// jvalue is one parsed JSON value. str holds the string value, the raw
// number text, or "true"/"false".
type jvalue struct {
	kind       jkind
	str        string
	arr        []*jvalue
	obj        []jmember
	start, end int // byte offsets of the first and last byte of the value
}

type jmember struct {
	key string
	val *jvalue
}

type jparser struct {
	src  string
	pos  int
	segs []pathSeg // the path of the value being read, built into a string only for errors
	// Values, members and array elements are carved from slabs. Members
	// and elements are gathered on a scratch stack first (nested values
	// push above their parent's) and copied out once their count is known.
	slab    []jvalue
	mslab   []jmember
	aslab   []*jvalue
	mstack  []jmember
	astack  []*jvalue
	chunk   int // values per slab
	segsBuf [maxDepth + 1]pathSeg
}

type pathSeg struct {
	key string
	idx int // -1 for an object member
}

func (p *jparser) path() string {
	var b strings.Builder
	b.WriteString("$")
	for _, sg := range p.segs {
		if sg.idx >= 0 {
			b.WriteString("[" + strconv.Itoa(sg.idx) + "]")
		} else {
			b.WriteString("." + sg.key)
		}
	}
	return b.String()
}

func (p *jparser) newValue(kind jkind, start int) *jvalue {
	if len(p.slab) == 0 {
		p.slab = make([]jvalue, p.chunk)
	}
	v := &p.slab[0]
	p.slab = p.slab[1:]
	v.kind, v.start = kind, start
	return v
}

// parseJSON parses exactly one JSON value surrounded by optional whitespace.
func parseJSON(src string) (*jvalue, error) {
	p := &jparser{src: src}
	p.segs = p.segsBuf[:0]
	// About one value per 12 bytes of a typical policy.
	p.chunk = min(max(len(src)/12, 16), 1024)
	p.skipWS()
	v, err := p.value(1)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.src) {
		return nil, p.errAt(p.pos, "Syntax error: unexpected text after the end of the policy document")
	}
	return v, nil
}

func (p *jparser) errAt(off int, msg string) *ParseError {
	line, col := position(p.src, off)
	path := p.path()
	return &ParseError{Message: msg + " at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col), Path: path, Line: line, Column: col}
}

func (p *jparser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.pos, "Syntax error: policy document is nested too deeply")
	}
	if p.pos >= len(p.src) {
		return nil, p.errAt(p.pos, "Syntax error: unexpected end of policy document")
	}
	start := p.pos
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		v := p.newValue(jString, start)
		v.str, v.end = s, p.pos-1
		return v, nil
	case c == 't' && strings.HasPrefix(p.src[p.pos:], "true"):
		p.pos += 4
		v := p.newValue(jBool, start)
		v.str, v.end = "true", p.pos-1
		return v, nil
	case c == 'f' && strings.HasPrefix(p.src[p.pos:], "false"):
		p.pos += 5
		v := p.newValue(jBool, start)
		v.str, v.end = "false", p.pos-1
		return v, nil
	case c == 'n' && strings.HasPrefix(p.src[p.pos:], "null"):
		p.pos += 4
		v := p.newValue(jNull, start)
		v.end = p.pos - 1
		return v, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errAt(p.pos, "Syntax error: unexpected character "+strconv.QuoteRune(rune(c)))
	}
}

func (p *jparser) object(depth int) (*jvalue, error) {
	v := p.newValue(jObject, p.pos)
	p.pos++ // {
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		v.end = p.pos
		p.pos++
		return v, nil
	}
	var seen map[string]bool // only for large objects; small ones scan the stack
	base := len(p.mstack)
	for {
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errAt(p.pos, "Syntax error: expected a quoted member name")
		}
		keyPos := p.pos
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		dup := false
		if seen != nil {
			dup = seen[key]
			seen[key] = true
		} else {
			members := p.mstack[base:]
			for i := range members {
				if members[i].key == key {
					dup = true
					break
				}
			}
			if len(members) >= 16 {
				seen = make(map[string]bool, 32)
				for _, m := range members {
					seen[m.key] = true
				}
				seen[key] = true
			}
		}
		p.segs = append(p.segs, pathSeg{key: key, idx: -1})
		if dup {
			return nil, p.errAt(keyPos, "Syntax error: duplicate key "+strconv.Quote(key))
		}
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errAt(p.pos, "Syntax error: expected ':' after member name")
		}
		p.pos++
		p.skipWS()
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.segs = p.segs[:len(p.segs)-1]
		p.mstack = append(p.mstack, jmember{key: key, val: val})
		p.skipWS()
		if p.pos >= len(p.src) {
			return nil, p.errAt(p.pos, "Syntax error: unexpected end of policy document")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			v.end = p.pos
			p.pos++
			v.obj = carve(&p.mslab, len(p.mstack)-base, 64)
			copy(v.obj, p.mstack[base:])
			p.mstack = p.mstack[:base]
			return v, nil
		default:
			return nil, p.errAt(p.pos, "Syntax error: expected ',' or '}'")
		}
	}
}

func (p *jparser) array(depth int) (*jvalue, error) {
	v := p.newValue(jArray, p.pos)
	p.pos++ // [
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		v.end = p.pos
		p.pos++
		return v, nil
	}
	base := len(p.astack)
	for {
		p.skipWS()
		p.segs = append(p.segs, pathSeg{idx: len(p.astack) - base})
		el, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.segs = p.segs[:len(p.segs)-1]
		p.astack = append(p.astack, el)
		p.skipWS()
		if p.pos >= len(p.src) {
			return nil, p.errAt(p.pos, "Syntax error: unexpected end of policy document")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			v.end = p.pos
			p.pos++
			v.arr = carve(&p.aslab, len(p.astack)-base, 64)
			copy(v.arr, p.astack[base:])
			p.astack = p.astack[:base]
			return v, nil
		default:
			return nil, p.errAt(p.pos, "Syntax error: expected ',' or ']'")
		}
	}
}

func (p *jparser) number() (*jvalue, error) {
	start := p.pos
	s := p.src
	i := p.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return nil, p.errAt(i, "Syntax error: malformed number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return nil, p.errAt(i, "Syntax error: malformed number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return nil, p.errAt(i, "Syntax error: malformed number")
		}
	}
	p.pos = i
	v := p.newValue(jNumber, start)
	v.str, v.end = s[start:i], i-1
	return v, nil
}

// str reads a JSON string starting at the opening quote.
func (p *jparser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for i := p.pos; i < len(p.src); i++ {
		c := p.src[i]
		if c == '"' {
			p.pos = i + 1
			return p.src[start:i], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errAt(i, "Syntax error: control character in string")
		}
	}
	var b strings.Builder
	i := start
	for i < len(p.src) {
		c := p.src[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			return "", p.errAt(i, "Syntax error: control character in string")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		i++ // backslash
		if i >= len(p.src) {
			break
		}
		switch e := p.src[i]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, ok := hex4(p.src[i+1:])
			if !ok {
				return "", p.errAt(i, "Syntax error: malformed \\u escape")
			}
			i += n
			if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(p.src[i+1:], "\\u") {
				if r2, n2, ok := hex4(p.src[i+3:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 2 + n2
				}
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			return "", p.errAt(i, "Syntax error: invalid escape character")
		}
		i++
	}
	return "", p.errAt(len(p.src), "Syntax error: unterminated string")
}

func hex4(s string) (rune, int, bool) {
	if len(s) < 4 {
		return 0, 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0, false
		}
	}
	return r, 4, true
}

// position converts a byte offset into a 1-based line and column, the column
// counted in characters as a person reading the document would count them.
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line, col = 1, 1
	for i, r := range src[:off] {
		_ = i
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
