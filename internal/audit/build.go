package audit

import (
	"encoding"
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/principal"
)

// Builders that turn what a protocol handler knows of a finished call into
// a record's parts. None of them lets a secret through: parameters and
// response fields that carry one are dropped, and a session token becomes
// its keyed hash.

// Identity is the userIdentity of an authenticated caller.
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
func Identity(c *principal.Caller) UserIdentity {
	u := UserIdentity{Type: string(c.Type), PrincipalID: c.UserID, ARN: c.ARN,
		AccountID: string(c.Account), AccessKeyID: string(c.AccessKeyID)}
	switch c.Type {
	case principal.IAMUser:
		u.UserName = c.UserName
	case principal.Root:
		u.PrincipalID = string(c.Account)
	}
	if c.Temporary {
		sc := &SessionContext{SourceIdentity: c.SourceIdentity, Attributes: SessionAttributes{
			CreationDate: FormatTime(c.IssuedAt), MFAAuthenticated: strconv.FormatBool(c.MFA)}}
		switch c.Type {
		case principal.AssumedRole:
			sc.SessionIssuer = &SessionIssuer{Type: "Role", PrincipalID: c.RoleID, ARN: c.RoleARN,
				AccountID: string(c.Account), UserName: c.RoleName}
		case principal.FederatedUser:
			// CloudTrail names the IAM user that called GetFederationToken.
			sc.SessionIssuer = &SessionIssuer{Type: "IAMUser", PrincipalID: c.IssuerUserID,
				ARN: arn.User(c.Account, c.UserPath, c.UserName), AccountID: string(c.Account), UserName: c.UserName}
		}
		u.SessionContext = sc
	}
	return u
}

// UnknownIdentity is the userIdentity of a call that failed to
// authenticate: only the access key id it claimed, if any.
func UnknownIdentity(accessKeyID string) UserIdentity {
	return UserIdentity{Type: "Unknown", AccessKeyID: accessKeyID}
}

// ReadOnly reports whether CloudTrail marks an action read-only: it reads
// and changes nothing, and issues no credentials.
func ReadOnly(action string) bool {
	switch action {
	case "GetSessionToken", "GetFederationToken":
		return false
	}
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Simulate", "Head"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// secretParams are request parameters that are never recorded (compared
// case-insensitively, on the last name of a nested parameter), as
// CloudTrail omits them: MFA codes, passwords, keys and tokens.
var secretParams = map[string]bool{
	"tokencode": true, "authenticationcode1": true, "authenticationcode2": true,
	"password": true, "newpassword": true, "oldpassword": true,
	"secretaccesskey": true, "sessiontoken": true, "privatekey": true,
	"samlassertion": true, "webidentitytoken": true, "signature": true,
	"base32stringseed": true, "qrcodepng": true,
}

// integerParams are recorded as numbers, as CloudTrail shows them.
var integerParams = map[string]bool{
	"durationSeconds": true, "maxSessionDuration": true, "maxItems": true, "maxResults": true,
}

// QueryParameters turns an AWS Query request's parameters into
// requestParameters: names in camelCase, Name.member.N lists as arrays,
// Name.entry.N.key/value maps as objects; Action, Version, the SigV4 query
// parameters and every secret dropped. nil when nothing is left.
func QueryParameters(v url.Values) map[string]any {
	root := map[string]any{}
	for k, vals := range v {
		if len(vals) == 0 || k == "Action" || k == "Version" || strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			continue
		}
		parts := strings.Split(k, ".")
		if secretParams[strings.ToLower(parts[len(parts)-1])] || secretParams[strings.ToLower(parts[0])] {
			continue
		}
		insert(root, parts, vals[0])
	}
	if len(root) == 0 {
		return nil
	}
	return finish(root).(map[string]any)
}

// insert places value at path, with "member"/"entry" followed by an index
// building a list (kept as map[int]any until finish).
func insert(node map[string]any, parts []string, value string) {
	name := lowerFirst(parts[0])
	rest := parts[1:]
	if len(rest) == 0 {
		if integerParams[name] {
			if n, err := strconv.ParseInt(value, 10, 64); err == nil {
				node[name] = n
				return
			}
		}
		node[name] = value
		return
	}
	if (rest[0] == "member" || rest[0] == "entry") && len(rest) >= 2 {
		i, err := strconv.Atoi(rest[1])
		if err != nil {
			return
		}
		var list map[int]any
		switch l := node[name].(type) {
		case map[int]any:
			list = l
		case entryList:
			list = l
		default:
			list = map[int]any{}
			if rest[0] == "entry" {
				node[name] = entryList(list)
			} else {
				node[name] = list
			}
		}
		if len(rest) == 2 {
			list[i] = value
			return
		}
		child, _ := list[i].(map[string]any)
		if child == nil {
			child = map[string]any{}
			list[i] = child
		}
		insert(child, rest[2:], value)
		return
	}
	child, _ := node[name].(map[string]any)
	if child == nil {
		child = map[string]any{}
		node[name] = child
	}
	insert(child, rest, value)
}

// entryList is a Name.entry.N list being built: a map in JSON.
type entryList map[int]any

// finish turns index maps into arrays, and entry lists into objects.
func finish(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			n[k] = finish(c)
		}
		return n
	case entryList:
		out := map[string]any{}
		for _, c := range n {
			if m, ok := c.(map[string]any); ok {
				if k, ok := m["key"].(string); ok {
					out[k] = m["value"]
				}
			}
		}
		return out
	case map[int]any:
		idx := make([]int, 0, len(n))
		for i := range n {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, len(idx))
		for j, i := range idx {
			out[j] = finish(n[i])
		}
		return out
	}
	return v
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	// Leading acronyms: "MFADevice" → "mFADevice" would be wrong; CloudTrail
	// lower-cases only the first letter of AWS's member names, so do the same.
	return string(s[0]+'a'-'A') + s[1:]
}

// JSONParameters turns a JSON protocol request body into
// requestParameters: member names in camelCase, secrets dropped.
func JSONParameters(body []byte) any {
	if len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	v = camelJSON(v)
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}

func camelJSON(v any) any {
	switch n := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, c := range n {
			if secretParams[strings.ToLower(k)] {
				continue
			}
			out[lowerFirst(k)] = camelJSON(c)
		}
		return out
	case []any:
		for i := range n {
			n[i] = camelJSON(n[i])
		}
	}
	return v
}

var timeType = reflect.TypeFor[time.Time]()

// ResponseElements turns a handler's output (the structure its protocol
// encoder renders) into responseElements: members in camelCase, secrets
// dropped, a session token replaced by hash(token). nil for no output.
func ResponseElements(out any, hash func(string) string) any {
	if out == nil {
		return nil
	}
	v := convert(reflect.ValueOf(out), "", hash)
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}

func convert(v reflect.Value, name string, hash func(string) string) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Type().ConvertibleTo(timeType) && v.Kind() == reflect.Struct {
		t := v.Convert(timeType).Interface().(time.Time).UTC()
		if name == "Expiration" {
			return t.Format("Jan 2, 2006, 3:04:05 PM")
		}
		return t.Format("Jan 2, 2006 3:04:05 PM")
	}
	if v.CanInterface() {
		if m, ok := v.Interface().(encoding.TextMarshaler); ok && v.Kind() != reflect.Struct {
			b, err := m.MarshalText()
			if err != nil {
				return nil
			}
			return string(b)
		}
	}
	switch v.Kind() {
	case reflect.String:
		if name == "SessionToken" && hash != nil {
			return hash(v.String())
		}
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = convert(v.Index(i), "", hash)
		}
		return out
	case reflect.Struct:
		m := map[string]any{}
		t := v.Type()
		var only any
		fields := 0
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "XMLName" {
				continue
			}
			tag := f.Tag.Get("xml")
			tname, opts, _ := strings.Cut(tag, ",")
			if tname == "-" || strings.Contains(opts, "attr") || strings.Contains(opts, "chardata") || strings.Contains(opts, "innerxml") {
				continue
			}
			if tname == "" {
				tname = f.Name
			}
			tname, _, _ = strings.Cut(tname, ">")
			if secretParams[strings.ToLower(tname)] && tname != "SessionToken" {
				continue
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			if f.Anonymous && fv.Kind() == reflect.Struct {
				if sub, ok := convert(fv, "", hash).(map[string]any); ok {
					for k, x := range sub {
						m[k] = x
					}
				}
				continue
			}
			c := convert(fv, tname, hash)
			if c == nil {
				continue
			}
			fields++
			if tname == "member" {
				only = c
			}
			m[lowerFirst(tname)] = c
		}
		// <Tags><member>…</member></Tags> is a list in JSON.
		if fields == 1 && only != nil {
			return only
		}
		return m
	}
	return nil
}

// TypeEC2Instance is the resource type of an EC2 instance.
const TypeEC2Instance = "AWS::EC2::Instance"

// LookupResources are the resources LookupEvents reports for an event and
// finds it by (ResourceType, ResourceName): the record's own resources, and
// the IAM entities and access keys named in its parameters and response.
// An EC2 instance is named by its id (i-…), as LookupEvents names it, not
// by the ARN its record carries.
func LookupResources(ev *Event) []Resource {
	var out []Resource
	seen := map[Resource]bool{}
	add := func(typ, name string) {
		r := Resource{Type: typ, ARN: name}
		if name != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range ev.Resources {
		name := r.ARN
		if r.Type == TypeEC2Instance {
			if _, id, ok := strings.Cut(r.ARN, ":instance/"); ok {
				name = id
			}
		}
		add(r.Type, name)
	}
	if p, ok := asMap(ev.RequestParameters); ok {
		for key, typ := range map[string]string{
			"userName": "AWS::IAM::User", "roleName": "AWS::IAM::Role", "groupName": "AWS::IAM::Group",
			"policyArn": "AWS::IAM::Policy", "accessKeyId": "AWS::IAM::AccessKey",
			"instanceProfileName": "AWS::IAM::InstanceProfile", "roleArn": "AWS::IAM::Role",
		} {
			if s, ok := p[key].(string); ok {
				add(typ, s)
			}
		}
	}
	if r, ok := asMap(ev.ResponseElements); ok {
		if c, ok := asMap(r["credentials"]); ok {
			if s, ok := c["accessKeyId"].(string); ok {
				add("AWS::IAM::AccessKey", s)
			}
		}
		if u, ok := asMap(r["assumedRoleUser"]); ok {
			if s, ok := u["arn"].(string); ok {
				add("AWS::STS::AssumedRole", s)
			}
		}
		if k, ok := asMap(r["accessKey"]); ok {
			if s, ok := k["accessKeyId"].(string); ok {
				add("AWS::IAM::AccessKey", s)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}

func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}
