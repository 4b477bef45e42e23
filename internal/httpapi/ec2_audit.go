package httpapi

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
)

// EC2 calls in the audit trail. They go through serveQuery like IAM's and
// STS's, so they are recorded the same way (durably before the response
// when they change something), but CloudTrail shows EC2's records in EC2's
// own shapes, which this file builds:
//
//   - requestParameters of the classic actions use the XML API's names,
//     lists as {"items": [...]} ("instancesSet": {"items": [{"instanceId":
//     "i-…"}]}, "filterSet": {"items": [{"name": …, "valueSet": {"items":
//     [{"value": …}]}}]}); the newer actions (the IAM instance profile
//     associations) are wrapped in {"<Action>Request": {…}} with the Query
//     names as sent;
//   - responseElements carry the requestId and the response's XML as JSON
//     (launch times and association timestamps as epoch milliseconds), the
//     newer actions' wrapped in {"<Action>Response": {…}};
//   - errorCode is EC2's code as CloudTrail prefixes it, "Client.…" for a
//     client error and "Server.…" for a server one
//     ("Client.UnauthorizedOperation", "Client.InvalidInstanceID.NotFound").
//
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-with-cloudtrail.html
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html

// ec2Wrapped are the actions CloudTrail records in the newer,
// request/response-wrapped form.
var ec2Wrapped = map[string]bool{
	"AssociateIamInstanceProfile":            true,
	"DisassociateIamInstanceProfile":         true,
	"ReplaceIamInstanceProfileAssociation":   true,
	"DescribeIamInstanceProfileAssociations": true,
}

// ec2RequestParameters is requestParameters for an EC2 call.
func ec2RequestParameters(action string, p Params) any {
	switch action {
	case "RunInstances":
		return ec2RunParameters(p)
	case "DescribeInstances":
		return map[string]any{"instancesSet": ec2InstanceItems(p), "filterSet": ec2FilterItems(p)}
	case "StopInstances":
		return map[string]any{"instancesSet": ec2InstanceItems(p), "force": p.Get("Force") == "true"}
	case "StartInstances", "TerminateInstances":
		return map[string]any{"instancesSet": ec2InstanceItems(p)}
	}
	nested := ec2Nested(p)
	if ec2Wrapped[action] {
		return map[string]any{action + "Request": nested}
	}
	if len(nested) == 0 {
		return nil
	}
	return nested
}

// items is an EC2 XML list as CloudTrail writes it: {"items": [...]}, or
// {} when empty.
func items(list []any) map[string]any {
	if len(list) == 0 {
		return map[string]any{}
	}
	return map[string]any{"items": list}
}

func ec2InstanceItems(p Params) map[string]any {
	ids, _ := ec2List(p, "InstanceId")
	var list []any
	for _, id := range ids {
		list = append(list, map[string]any{"instanceId": id})
	}
	return items(list)
}

func ec2FilterItems(p Params) map[string]any {
	fs, _ := ec2Structs(p, "Filter")
	var list []any
	for _, f := range fs {
		vals, _ := ec2List(f, "Value")
		var vs []any
		for _, v := range vals {
			vs = append(vs, map[string]any{"value": v})
		}
		list = append(list, map[string]any{"name": f.Get("Name"), "valueSet": items(vs)})
	}
	return items(list)
}

// ec2Number is a numeric parameter as a number when it is one.
func ec2Number(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

func ec2RunParameters(p Params) map[string]any {
	spec := map[string]any{}
	if v := p.Get("ImageId"); v != "" {
		spec["imageId"] = v
	}
	for _, n := range []string{"MinCount", "MaxCount"} {
		if p.Has(n) {
			spec[lowerFirstASCII(n)] = ec2Number(p.Get(n))
		}
	}
	if v := p.Get("KeyName"); v != "" {
		spec["keyName"] = v
	}
	out := map[string]any{
		"instancesSet":          items([]any{spec}),
		"blockDeviceMapping":    map[string]any{},
		"monitoring":            map[string]any{"enabled": p.Get("Monitoring.Enabled") == "true"},
		"disableApiTermination": p.Get("DisableApiTermination") == "true",
	}
	if v := p.Get("InstanceType"); v != "" {
		out["instanceType"] = v
	}
	if v := p.Get("ClientToken"); v != "" {
		out["clientToken"] = v
	}
	prof := ec2Sub(p, "IamInstanceProfile")
	if n, a := prof.Get("Name"), prof.Get("Arn"); n != "" || a != "" {
		m := map[string]any{}
		if n != "" {
			m["name"] = n
		}
		if a != "" {
			m["arn"] = a
		}
		out["iamInstanceProfile"] = m
	}
	md := ec2Sub(p, "MetadataOptions")
	mo := map[string]any{}
	for _, n := range []string{"HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit"} {
		if md.Has(n) {
			mo[lowerFirstASCII(n)] = ec2Number(md.Get(n))
		}
	}
	if len(mo) > 0 {
		out["metadataOptions"] = mo
	}
	specs, _ := ec2Structs(p, "TagSpecification")
	var ts []any
	for _, s := range specs {
		tags, _ := ec2Structs(s, "Tag")
		var tl []any
		for _, t := range tags {
			tl = append(tl, map[string]any{"key": t.Get("Key"), "value": t.Get("Value")})
		}
		ts = append(ts, map[string]any{"resourceType": s.Get("ResourceType"), "tags": tl})
	}
	if len(ts) > 0 {
		out["tagSpecificationSet"] = items(ts)
	}
	return out
}

// ec2Nested turns flattened Query names (Filter.1.Value.1) into nested
// objects with arrays for the numbered lists, keeping the names as sent;
// Action, Version, the SigV4 query parameters and DryRun are left out.
func ec2Nested(p Params) map[string]any {
	root := map[string]any{}
	for k, vals := range p.Values() {
		if len(vals) == 0 || k == "Action" || k == "Version" || k == "DryRun" || strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			continue
		}
		parts := strings.Split(k, ".")
		node := root
		for i, part := range parts {
			if i == len(parts)-1 {
				node[part] = vals[0]
				break
			}
			child, ok := node[part].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[part] = child
			}
			node = child
		}
	}
	return ec2Lists(root).(map[string]any)
}

// ec2Lists turns objects whose keys are all 1, 2, … into arrays.
func ec2Lists(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	idx := make([]int, 0, len(m))
	for k, c := range m {
		m[k] = ec2Lists(c)
		if n, err := strconv.Atoi(k); err == nil && n > 0 {
			idx = append(idx, n)
		}
	}
	if len(m) == 0 || len(idx) != len(m) {
		return m
	}
	sort.Ints(idx)
	out := make([]any, len(idx))
	for i, n := range idx {
		out[i] = m[strconv.Itoa(n)]
	}
	return out
}

func lowerFirstASCII(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// ec2Event turns a record built by eventOf into EC2's: its error code,
// its response elements, and the region of a call that failed before it
// was authenticated.
func (s *Server) ec2Event(ev *audit.Event, c *CallRecord) {
	if c.Region == "" && c.Request != nil {
		if r := requestScopeRegion(c.Request); r != "" {
			ev.AWSRegion = r
		}
	}
	if c.Err != nil {
		e := apierr.As(c.Err)
		if e == nil {
			e = apierr.Internal(c.Err)
		}
		code, status := ec2ErrorCode(e.Code)
		prefix := "Client."
		if status >= 500 {
			prefix = "Server."
		}
		ev.ErrorCode = prefix + string(code)
		if code == ec2AuthFailure {
			ev.ErrorMessage = "AWS was not able to validate the provided access credentials"
		}
	} else if !ev.ReadOnly {
		ev.ResponseElements = ec2ResponseElements(c.Action, c.RequestID, c.Output)
	}
	ev.Resources = append(ev.Resources, ec2InstanceResources(ev.RecipientAccountID, ev.AWSRegion, ev.RequestParameters, ev.ResponseElements)...)
}

// ec2InstanceResources are the instances a call named or acted on: every
// instanceId in its request parameters and response elements (RunInstances'
// launched instances, the instance of an IAM instance profile association),
// so LookupEvents finds the call by ResourceType AWS::EC2::Instance and
// ResourceName i-…. A denied or failed call names them too: who tried to
// terminate an instance is worth finding.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
func ec2InstanceResources(account, region string, params, response any) []audit.Resource {
	seen := map[string]bool{}
	var ids []string
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			for k, c := range n {
				if id, ok := c.(string); ok && (k == "instanceId" || k == "InstanceId") && strings.HasPrefix(id, "i-") && !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(params)
	walk(response)
	sort.Strings(ids)
	out := make([]audit.Resource, len(ids))
	for i, id := range ids {
		out[i] = audit.Resource{AccountID: account, Type: audit.TypeEC2Instance, ARN: "arn:aws:ec2:" + region + ":" + account + ":instance/" + id}
	}
	return out
}

// ec2ResponseElements is responseElements for a successful EC2 call.
func ec2ResponseElements(action, requestID string, out any) any {
	m, _ := ec2Elements(reflect.ValueOf(out)).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["requestId"] = requestID
	if ec2Wrapped[action] {
		m["xmlns"] = EC2Namespace
		return map[string]any{action + "Response": m}
	}
	return m
}

var ec2TimeType = reflect.TypeFor[xmlEC2Time]()

// ec2Elements converts an EC2 wire structure (the xml-tagged types in
// ec2.go) to JSON values: fields by their XML names, "xSet>item" lists as
// {"items": [...]}, times as epoch milliseconds. EC2's responses carry no
// secret, so nothing is dropped.
func ec2Elements(v reflect.Value) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Type() == ec2TimeType {
		return time.Time(v.Interface().(xmlEC2Time)).UnixMilli()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = ec2Elements(v.Index(i))
		}
		return out
	case reflect.Struct:
		m := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "XMLName" {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("xml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			outer, _, list := strings.Cut(name, ">")
			c := ec2Elements(fv)
			if c == nil {
				continue
			}
			if list {
				l, _ := c.([]any)
				c = items(l)
			}
			m[outer] = c
		}
		return m
	}
	return nil
}

// requestScopeRegion is the region named in a request's credential scope.
func requestScopeRegion(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		if _, after, ok := strings.Cut(h, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 {
		return parts[2]
	}
	return ""
}
