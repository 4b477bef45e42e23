package httpapi

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
)

// Limits on what the Query decoder accepts, so that a hostile form cannot
// make us allocate without bound. AWS's own list limits are far lower.
const (
	maxListMembers = 1000
	maxParams      = 4000
)

// Params are the decoded parameters of an AWS Query request
// (Action=…&Version=…&Name.member.1=…).
//
// https://docs.aws.amazon.com/IAM/latest/APIReference/iam-api.pdf (Query requests)
type Params struct {
	v      url.Values
	prefix string
}

// ParseQuery decodes a form body or query string. It rejects what
// url.ParseQuery rejects (bad escapes, semicolons) and forms with too many
// parameters.
func ParseQuery(s string) (Params, error) {
	if n := strings.Count(s, "&"); n >= maxParams {
		return Params{}, apierr.New(apierr.MalformedQueryString, "Too many parameters in the request.")
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return Params{}, apierr.Wrap(apierr.MalformedQueryString, err, "The query string is malformed.")
	}
	for name, vals := range v {
		if !utf8.ValidString(name) {
			return Params{}, apierr.New(apierr.MalformedQueryString, "The query string is not valid UTF-8.")
		}
		for _, val := range vals {
			if !utf8.ValidString(val) {
				return Params{}, apierr.New(apierr.MalformedQueryString, "The value of parameter %s is not valid UTF-8.", name)
			}
		}
	}
	return Params{v: v}, nil
}

func (p Params) key(name string) string { return p.prefix + name }

// Has reports whether the parameter is present (possibly empty).
func (p Params) Has(name string) bool {
	_, ok := p.v[p.key(name)]
	return ok
}

// Get returns the parameter's value, "" if absent.
func (p Params) Get(name string) string { return p.v.Get(p.key(name)) }

// Names returns the distinct parameter names present (for auditing).
func (p Params) Values() url.Values { return p.v }

// List returns the members of a list parameter (Name.member.1, Name.member.2, …)
// in order. A bare "Name=" (how botocore sends an empty list) yields none.
func (p Params) List(name string) ([]string, error) {
	base := p.key(name) + ".member."
	var out []string
	for i := 1; ; i++ {
		vals, ok := p.v[base+strconv.Itoa(i)]
		if !ok {
			break
		}
		if i > maxListMembers {
			return nil, apierr.New(apierr.ValidationError, "Too many members in list %s.", name)
		}
		out = append(out, vals[0])
	}
	return out, nil
}

// Structs returns each member of a list of structures (Name.member.N.Field)
// as Params scoped to that member.
func (p Params) Structs(name string) ([]Params, error) {
	base := p.key(name) + ".member."
	var out []Params
	for i := 1; ; i++ {
		pre := base + strconv.Itoa(i) + "."
		found := false
		for k := range p.v {
			if strings.HasPrefix(k, pre) {
				found = true
				break
			}
		}
		if !found {
			break
		}
		if i > maxListMembers {
			return nil, apierr.New(apierr.ValidationError, "Too many members in list %s.", name)
		}
		out = append(out, Params{v: p.v, prefix: pre})
	}
	return out, nil
}

// field is the name AWS's validation messages use: the parameter name with
// its first letter lower-cased ("userName").
func field(name string) string {
	if name == "" {
		return name
	}
	return strings.ToLower(name[:1]) + name[1:]
}

// StringRule is a length and pattern constraint from the service model.
type StringRule struct {
	Min, Max int
	Pattern  *regexp.Regexp
	Expr     string // the pattern as AWS prints it in messages
}

// Required returns the parameter or AWS's "must not be null" ValidationError.
func (p Params) Required(name string, r StringRule) (string, error) {
	if !p.Has(name) {
		return "", apierr.New(apierr.ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field(name))
	}
	return p.Optional(name, r)
}

// Optional returns the parameter ("" if absent) after checking it against r.
func (p Params) Optional(name string, r StringRule) (string, error) {
	if !p.Has(name) {
		return "", nil
	}
	s := p.Get(name)
	if err := r.Check(field(name), s); err != nil {
		return "", err
	}
	return s, nil
}

// Check validates s against the rule, naming field in the error.
func (r StringRule) Check(fieldName, s string) error {
	n := utf8.RuneCountInString(s)
	if r.Min > 0 && n < r.Min {
		return apierr.Validation(fieldName, clip(s), "Member must have length greater than or equal to "+strconv.Itoa(r.Min))
	}
	if r.Max > 0 && n > r.Max {
		return apierr.Validation(fieldName, clip(s), "Member must have length less than or equal to "+strconv.Itoa(r.Max))
	}
	if r.Pattern != nil && !r.Pattern.MatchString(s) {
		return apierr.Validation(fieldName, clip(s), "Member must satisfy regular expression pattern: "+r.Expr)
	}
	return nil
}

// clip keeps error messages short when a client sends a huge value.
func clip(s string) string {
	if len(s) > 256 {
		return s[:256] + "…"
	}
	return s
}

// Int returns an optional integer parameter within [min, max]; def if absent.
func (p Params) Int(name string, min, max, def int) (int, error) {
	if !p.Has(name) {
		return def, nil
	}
	s := p.Get(name)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apierr.New(apierr.ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", clip(s), field(name))
	}
	if n < min {
		return 0, apierr.Validation(field(name), s, "Member must have value greater than or equal to "+strconv.Itoa(min))
	}
	if n > max {
		return 0, apierr.Validation(field(name), s, "Member must have value less than or equal to "+strconv.Itoa(max))
	}
	return n, nil
}

// Bool returns an optional boolean parameter.
func (p Params) Bool(name string) (bool, error) {
	switch s := p.Get(name); s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, apierr.New(apierr.ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", clip(s), field(name))
	}
}

// Pattern compiles a service-model pattern, anchored.
func Pattern(expr string) StringRule {
	return StringRule{Pattern: regexp.MustCompile(`^(?:` + expr + `)$`), Expr: expr}
}

// Len sets the rule's length bounds.
func (r StringRule) Len(min, max int) StringRule {
	r.Min, r.Max = min, max
	return r
}
