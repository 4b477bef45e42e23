package e2e

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/testserver"
)

// A conformance check of iamd's success responses against the output
// shapes of AWS's service models (botocore's service-2.json), in the spirit
// of testing/fstest: drive a real server through a scenario, then walk each
// response's XML alongside the operation's output shape. Golden files pin
// what iamd says; this test says whether it is what the model allows, so a
// typo'd element, a wrong nesting or a missing required member is caught
// even where no SDK field happens to be read.

// apiModel is the part of a botocore service model the check needs.
type apiModel struct {
	Metadata struct {
		Protocol     string `json:"protocol"`
		XMLNamespace string `json:"xmlNamespace"`
	} `json:"metadata"`
	Operations map[string]struct {
		Output *struct {
			Shape         string `json:"shape"`
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]*modelShape `json:"shapes"`
}

type modelShape struct {
	Type      string                 `json:"type"`
	Members   map[string]modelMember `json:"members"`
	Required  []string               `json:"required"`
	Member    *modelMember           `json:"member"`
	Key       *modelMember           `json:"key"`
	Value     *modelMember           `json:"value"`
	Enum      []string               `json:"enum"`
	Flattened bool                   `json:"flattened"`
}

type modelMember struct {
	Shape        string `json:"shape"`
	LocationName string `json:"locationName"`
}

// botocoreData is botocore's data directory, or "" when python3 or
// botocore is missing.
var botocoreData = sync.OnceValue(func() string {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return ""
	}
	return filepath.Join(strings.TrimSpace(string(out)), "data")
})

var (
	modelsMu sync.Mutex
	models   = map[string]*apiModel{}
)

// loadModel reads service's model (e.g. "iam/2010-05-08"), skipping the
// test when botocore is not installed.
func loadModel(t *testing.T, service string) *apiModel {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[service]; ok {
		return m
	}
	dir := botocoreData()
	if dir == "" {
		t.Skip("python3 with botocore is not installed; the service models come from it")
	}
	f, err := os.Open(filepath.Join(dir, service, "service-2.json.gz"))
	if err != nil {
		t.Skipf("no model for %s: %v", service, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("model %s: %v", service, err)
	}
	m := new(apiModel)
	if err := json.NewDecoder(zr).Decode(m); err != nil {
		t.Fatalf("model %s: %v", service, err)
	}
	models[service] = m
	return m
}

// xmlNode is a parsed XML element.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

// shapeChecker walks one response, collecting violations.
type shapeChecker struct {
	m          *apiModel
	listMember string // the default element of a list entry: member, or item for EC2
	violations []string
}

func (c *shapeChecker) errorf(path, format string, args ...any) {
	c.violations = append(c.violations, path+": "+fmt.Sprintf(format, args...))
}

// checkResponse checks body, the answer to op, against the model.
func (c *shapeChecker) checkResponse(op, body string) {
	var root xmlNode
	if err := xml.Unmarshal([]byte(body), &root); err != nil {
		c.errorf(op, "not XML: %v", err)
		return
	}
	o, ok := c.m.Operations[op]
	if !ok {
		c.errorf(op, "not an operation of the model")
		return
	}
	path := root.XMLName.Local
	if want := op + "Response"; path != want {
		c.errorf(path, "root element is %s, want %s", path, want)
	}
	if ns := strings.TrimSuffix(c.m.Metadata.XMLNamespace, "/"); ns != "" && strings.TrimSuffix(root.XMLName.Space, "/") != ns {
		c.errorf(path, "namespace %q, want %q", root.XMLName.Space, c.m.Metadata.XMLNamespace)
	}
	if c.m.Metadata.Protocol == "ec2" {
		// EC2: the output's members sit in the root, next to requestId.
		var rest []xmlNode
		for _, n := range root.Nodes {
			if n.XMLName.Local == "requestId" {
				continue
			}
			rest = append(rest, n)
		}
		if !slices.ContainsFunc(root.Nodes, func(n xmlNode) bool { return n.XMLName.Local == "requestId" }) {
			c.errorf(path, "no requestId")
		}
		if o.Output == nil {
			for _, n := range rest {
				c.errorf(path+"/"+n.XMLName.Local, "the operation has no output")
			}
			return
		}
		c.structure(path, o.Output.Shape, rest)
		return
	}
	var result *xmlNode
	sawMetadata := false
	for i, n := range root.Nodes {
		switch {
		case n.XMLName.Local == "ResponseMetadata":
			sawMetadata = true
			c.structure(path+"/ResponseMetadata", "", n.Nodes)
		case o.Output != nil && n.XMLName.Local == o.Output.ResultWrapper && result == nil:
			result = &root.Nodes[i]
		default:
			c.errorf(path+"/"+n.XMLName.Local, "unexpected element")
		}
	}
	if !sawMetadata {
		c.errorf(path, "no ResponseMetadata")
	}
	if o.Output == nil {
		return
	}
	if result == nil {
		if len(c.m.Shapes[o.Output.Shape].Members) > 0 {
			c.errorf(path, "no %s", o.Output.ResultWrapper)
		}
		return
	}
	c.structure(path+"/"+result.XMLName.Local, o.Output.Shape, result.Nodes)
}

// memberName is the element a structure member is sent as.
func memberName(name string, m modelMember) string {
	if m.LocationName != "" {
		return m.LocationName
	}
	return name
}

// structure checks the children of a structure element. An empty shape
// name is ResponseMetadata, which is not in the models.
func (c *shapeChecker) structure(path, shape string, nodes []xmlNode) {
	if shape == "" {
		for _, n := range nodes {
			if n.XMLName.Local != "RequestId" || len(n.Nodes) > 0 {
				c.errorf(path+"/"+n.XMLName.Local, "unexpected element in ResponseMetadata")
			}
		}
		return
	}
	s := c.m.Shapes[shape]
	byElem := map[string]string{}
	for name, m := range s.Members {
		byElem[memberName(name, m)] = name
	}
	seen := map[string]int{}
	for _, n := range nodes {
		p := path + "/" + n.XMLName.Local
		name, ok := byElem[n.XMLName.Local]
		if !ok {
			c.errorf(p, "not a member of %s", shape)
			continue
		}
		m := s.Members[name]
		ms := c.m.Shapes[m.Shape]
		seen[name]++
		if ms.Type == "list" && ms.Flattened {
			c.value(p, ms.Member.Shape, n)
			continue
		}
		if seen[name] == 2 {
			c.errorf(p, "repeated; %s is not a flattened list", name)
		}
		c.value(p, m.Shape, n)
	}
	for _, r := range s.Required {
		if seen[r] == 0 {
			c.errorf(path, "required member %s (element %s) of %s is missing", r, memberName(r, s.Members[r]), shape)
		}
	}
}

// awsDepartures are values AWS itself sends outside its model's enums;
// iamd sends them too (SDKs do not reject unknown enum values).
var awsDepartures = map[string]string{
	// The simulator's type for a policy passed in PolicyInputList, as AWS
	// answers SimulateCustomPolicy (see internal/iam/simulate.go).
	"PolicySourceType IAM Policy": "observed in AWS's answers",
	// iamd's type for a permissions boundary's statements. Unverified
	// against AWS, which has no boundary type in the enum; kept until
	// someone observes what AWS reports (the boundary is a managed
	// policy, so possibly user-managed or aws-managed).
	"PolicySourceType permissionsBoundary": "iamd's own, unverified",
}

var iso8601 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)

// value checks one element against shape.
func (c *shapeChecker) value(path, shape string, n xmlNode) {
	s := c.m.Shapes[shape]
	switch s.Type {
	case "structure":
		c.structure(path, shape, n.Nodes)
		return
	case "list":
		want := c.listMember
		if s.Member.LocationName != "" {
			want = s.Member.LocationName
		}
		for i, e := range n.Nodes {
			p := fmt.Sprintf("%s/%s[%d]", path, e.XMLName.Local, i+1)
			if e.XMLName.Local != want {
				c.errorf(p, "list entry is <%s>, want <%s>", e.XMLName.Local, want)
				continue
			}
			c.value(p, s.Member.Shape, e)
		}
		return
	case "map":
		key, val := "key", "value"
		if s.Key.LocationName != "" {
			key = s.Key.LocationName
		}
		if s.Value.LocationName != "" {
			val = s.Value.LocationName
		}
		for i, e := range n.Nodes {
			p := fmt.Sprintf("%s/%s[%d]", path, e.XMLName.Local, i+1)
			if e.XMLName.Local != "entry" {
				c.errorf(p, "map entry is <%s>, want <entry>", e.XMLName.Local)
				continue
			}
			var k, v int
			for _, kv := range e.Nodes {
				switch kv.XMLName.Local {
				case key:
					k++
					c.value(p+"/"+key, s.Key.Shape, kv)
				case val:
					v++
					c.value(p+"/"+val, s.Value.Shape, kv)
				default:
					c.errorf(p+"/"+kv.XMLName.Local, "not <%s> or <%s>", key, val)
				}
			}
			if k != 1 || v != 1 {
				c.errorf(p, "got %d keys and %d values, want one of each", k, v)
			}
		}
		return
	}
	if len(n.Nodes) > 0 {
		c.errorf(path, "%s is a %s but has child <%s>", shape, s.Type, n.Nodes[0].XMLName.Local)
		return
	}
	text := n.Text
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, text) && awsDepartures[shape+" "+text] == "" {
			c.errorf(path, "%q is not one of %s's values %v", text, shape, s.Enum)
		}
	case "integer", "long":
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			c.errorf(path, "%q is not an integer", text)
		}
	case "double", "float":
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			c.errorf(path, "%q is not a number", text)
		}
	case "boolean":
		if text != "true" && text != "false" {
			c.errorf(path, "%q is not true or false", text)
		}
	case "timestamp":
		if _, err := time.Parse(time.RFC3339, text); err != nil || !iso8601.MatchString(text) {
			c.errorf(path, "%q is not an ISO 8601 timestamp", text)
		}
	case "blob":
		if _, err := base64.StdEncoding.DecodeString(text); err != nil {
			c.errorf(path, "%q is not base64", text)
		}
	default:
		c.errorf(path, "shape %s has type %q the checker does not know", shape, s.Type)
	}
}

// shapeViolations checks body, the answer to op of service, against its model.
func shapeViolations(t *testing.T, service, op, body string) []string {
	t.Helper()
	c := &shapeChecker{m: loadModel(t, service), listMember: "member"}
	if c.m.Metadata.Protocol == "ec2" {
		c.listMember = "item"
	}
	c.checkResponse(op, body)
	return c.violations
}

// TestShapeCheckerCatchesViolations keeps the checker honest: each of
// these bodies breaks the IAM or EC2 model in one way.
func TestShapeCheckerCatchesViolations(t *testing.T) {
	const ns = `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`
	const meta = `<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>`
	user := func(inner string) string {
		return `<GetUserResponse ` + ns + `><GetUserResult><User>` + inner + `</User></GetUserResult>` + meta + `</GetUserResponse>`
	}
	const good = `<Path>/</Path><UserName>a</UserName><UserId>AIDA</UserId><Arn>arn</Arn><CreateDate>2024-01-02T03:04:05Z</CreateDate>`
	for _, tc := range []struct {
		name, service, op, body string
		want                    string // a substring of a violation; "" for none
	}{
		{"a well-formed GetUser passes", "iam/2010-05-08", "GetUser", user(good), ""},
		{"a missing required member is reported", "iam/2010-05-08", "GetUser", user(`<Path>/</Path><UserName>a</UserName><UserId>AIDA</UserId><Arn>arn</Arn>`), "required member CreateDate"},
		{"a misspelt element is reported", "iam/2010-05-08", "GetUser", user(good + `<Tag><member><Key>k</Key><Value>v</Value></member></Tag>`), "Tag: not a member of User"},
		{"a list without member entries is reported", "iam/2010-05-08", "GetUser", user(good + `<Tags><Tag><Key>k</Key><Value>v</Value></Tag></Tags>`), "want <member>"},
		{"a bad timestamp is reported", "iam/2010-05-08", "GetUser", user(strings.Replace(good, "2024-01-02T03:04:05Z", "Tue Jan 2 2024", 1)), "not an ISO 8601"},
		{"a wrong result wrapper is reported", "iam/2010-05-08", "GetUser", `<GetUserResponse ` + ns + `><GetUsersResult/>` + meta + `</GetUserResponse>`, "GetUsersResult: unexpected element"},
		{"an enum value outside the model is reported", "iam/2010-05-08", "CreateAccessKey", `<CreateAccessKeyResponse ` + ns + `><CreateAccessKeyResult><AccessKey><UserName>a</UserName><AccessKeyId>AKIA</AccessKeyId><Status>Enabled</Status><SecretAccessKey>s</SecretAccessKey></AccessKey></CreateAccessKeyResult>` + meta + `</CreateAccessKeyResponse>`, "not one of"},
		{"an EC2 list under member is reported", "ec2/2016-11-15", "StopInstances", `<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet><member><instanceId>i-1</instanceId></member></instancesSet></StopInstancesResponse>`, "want <item>"},
		{"an EC2 integer that is not one is reported", "ec2/2016-11-15", "StopInstances", `<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet><item><instanceId>i-1</instanceId><currentState><code>x</code><name>stopped</name></currentState></item></instancesSet></StopInstancesResponse>`, "not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shapeViolations(t, tc.service, tc.op, tc.body)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("got violations %q, want none", got)
			case tc.want != "" && !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tc.want) }):
				t.Errorf("got violations %q, want one containing %q", got, tc.want)
			}
		})
	}
}

// shapeStep is one call of the scenario. Form values may name what an
// earlier step captured as {name}.
type shapeStep struct {
	service string // iam, sts or ec2
	action  string
	params  string
	capture map[string]string // variable → the element whose first text it takes
}

var versions = map[string]string{"iam": "2010-05-08", "sts": "2011-06-15", "ec2": "2016-11-15"}

// TestResponsesMatchTheServiceModels drives every implemented Query action
// it practically can and checks each success response against the model.
func TestResponsesMatchTheServiceModels(t *testing.T) {
	if botocoreData() == "" {
		t.Skip("python3 with botocore is not installed; the service models come from it")
	}
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	q := url.QueryEscape
	acct := "arn:aws:iam::000000000000:"
	allow := q(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	allow2 := q(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)
	trust := q(trustUsers("admin"))
	ec2Trusts := q(ec2Trust)

	steps := []shapeStep{
		// Users, tags, keys, login profiles.
		{"iam", "CreateUser", "UserName=alice&Path=/team/&Tags.member.1.Key=team&Tags.member.1.Value=red", nil},
		{"iam", "GetUser", "UserName=alice", nil},
		{"iam", "GetUser", "", nil},
		{"iam", "ListUsers", "", nil},
		{"iam", "UpdateUser", "UserName=alice&NewPath=/people/", nil},
		{"iam", "TagUser", "UserName=alice&Tags.member.1.Key=env&Tags.member.1.Value=dev", nil},
		{"iam", "ListUserTags", "UserName=alice", nil},
		{"iam", "UntagUser", "UserName=alice&TagKeys.member.1=env", nil},
		{"iam", "CreateAccessKey", "UserName=alice", map[string]string{"key": "AccessKeyId", "secret": "SecretAccessKey"}},
		{"iam", "ListAccessKeys", "UserName=alice", nil},
		{"iam", "UpdateAccessKey", "UserName=alice&AccessKeyId={key}&Status=Inactive", nil},
		{"iam", "UpdateAccessKey", "UserName=alice&AccessKeyId={key}&Status=Active", nil},
		{"iam", "GetAccessKeyLastUsed", "AccessKeyId={key}", nil},
		{"iam", "CreateLoginProfile", "UserName=alice&Password=" + q("Corr3ct-horse-battery") + "&PasswordResetRequired=true", nil},
		{"iam", "GetLoginProfile", "UserName=alice", nil},
		{"iam", "UpdateLoginProfile", "UserName=alice&PasswordResetRequired=false", nil},
		{"iam", "PutUserPolicy", "UserName=alice&PolicyName=read&PolicyDocument=" + allow, nil},
		{"iam", "GetUserPolicy", "UserName=alice&PolicyName=read", nil},
		{"iam", "ListUserPolicies", "UserName=alice", nil},

		// Groups.
		{"iam", "CreateGroup", "GroupName=devs&Path=/eng/", nil},
		{"iam", "AddUserToGroup", "GroupName=devs&UserName=alice", nil},
		{"iam", "GetGroup", "GroupName=devs", nil},
		{"iam", "ListGroups", "", nil},
		{"iam", "ListGroupsForUser", "UserName=alice", nil},
		{"iam", "PutGroupPolicy", "GroupName=devs&PolicyName=read&PolicyDocument=" + allow, nil},
		{"iam", "GetGroupPolicy", "GroupName=devs&PolicyName=read", nil},
		{"iam", "ListGroupPolicies", "GroupName=devs", nil},
		{"iam", "UpdateGroup", "GroupName=devs&NewPath=/engineering/", nil},

		// Roles.
		{"iam", "CreateRole", "RoleName=ops&Path=/svc/&Description=operators&AssumeRolePolicyDocument=" + trust + "&Tags.member.1.Key=team&Tags.member.1.Value=red", nil},
		{"iam", "GetRole", "RoleName=ops", nil},
		{"iam", "ListRoles", "", nil},
		{"iam", "UpdateRole", "RoleName=ops&MaxSessionDuration=7200", nil},
		{"iam", "UpdateRoleDescription", "RoleName=ops&Description=ops", nil},
		{"iam", "UpdateAssumeRolePolicy", "RoleName=ops&PolicyDocument=" + trust, nil},
		{"iam", "TagRole", "RoleName=ops&Tags.member.1.Key=env&Tags.member.1.Value=dev", nil},
		{"iam", "ListRoleTags", "RoleName=ops", nil},
		{"iam", "UntagRole", "RoleName=ops&TagKeys.member.1=env", nil},
		{"iam", "PutRolePolicy", "RoleName=ops&PolicyName=read&PolicyDocument=" + allow, nil},
		{"iam", "GetRolePolicy", "RoleName=ops&PolicyName=read", nil},
		{"iam", "ListRolePolicies", "RoleName=ops", nil},

		// Managed policies and their versions.
		{"iam", "CreatePolicy", "PolicyName=readers&Path=/shared/&Description=read&PolicyDocument=" + allow + "&Tags.member.1.Key=team&Tags.member.1.Value=red", nil},
		{"iam", "GetPolicy", "PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "CreatePolicyVersion", "PolicyArn=" + acct + "policy/shared/readers&PolicyDocument=" + allow2, nil},
		{"iam", "ListPolicyVersions", "PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "GetPolicyVersion", "PolicyArn=" + acct + "policy/shared/readers&VersionId=v2", nil},
		{"iam", "SetDefaultPolicyVersion", "PolicyArn=" + acct + "policy/shared/readers&VersionId=v2", nil},
		{"iam", "ListPolicies", "Scope=Local", nil},
		{"iam", "TagPolicy", "PolicyArn=" + acct + "policy/shared/readers&Tags.member.1.Key=env&Tags.member.1.Value=dev", nil},
		{"iam", "ListPolicyTags", "PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "UntagPolicy", "PolicyArn=" + acct + "policy/shared/readers&TagKeys.member.1=env", nil},
		{"iam", "AttachUserPolicy", "UserName=alice&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "AttachGroupPolicy", "GroupName=devs&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "AttachRolePolicy", "RoleName=ops&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "ListAttachedUserPolicies", "UserName=alice", nil},
		{"iam", "ListAttachedGroupPolicies", "GroupName=devs", nil},
		{"iam", "ListAttachedRolePolicies", "RoleName=ops", nil},
		{"iam", "ListEntitiesForPolicy", "PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "PutUserPermissionsBoundary", "UserName=alice&PermissionsBoundary=" + acct + "policy/shared/readers", nil},
		{"iam", "PutRolePermissionsBoundary", "RoleName=ops&PermissionsBoundary=" + acct + "policy/shared/readers", nil},
		{"iam", "GetRole", "RoleName=ops", nil},
		{"iam", "GetUser", "UserName=alice", nil},

		// Instance profiles.
		{"iam", "CreateRole", "RoleName=web&AssumeRolePolicyDocument=" + ec2Trusts, nil},
		{"iam", "CreateInstanceProfile", "InstanceProfileName=web&Tags.member.1.Key=team&Tags.member.1.Value=red", nil},
		{"iam", "AddRoleToInstanceProfile", "InstanceProfileName=web&RoleName=web", nil},
		{"iam", "GetInstanceProfile", "InstanceProfileName=web", nil},
		{"iam", "ListInstanceProfiles", "", nil},
		{"iam", "ListInstanceProfilesForRole", "RoleName=web", nil},
		{"iam", "TagInstanceProfile", "InstanceProfileName=web&Tags.member.1.Key=env&Tags.member.1.Value=dev", nil},
		{"iam", "ListInstanceProfileTags", "InstanceProfileName=web", nil},
		{"iam", "UntagInstanceProfile", "InstanceProfileName=web&TagKeys.member.1=env", nil},
		{"iam", "CreateInstanceProfile", "InstanceProfileName=spare", nil},

		// MFA devices.
		{"iam", "CreateVirtualMFADevice", "VirtualMFADeviceName=alice&Tags.member.1.Key=team&Tags.member.1.Value=red", map[string]string{"serial": "SerialNumber", "seed": "Base32StringSeed"}},
		{"iam", "ListVirtualMFADevices", "", nil},
		{"iam", "EnableMFADevice", "UserName=alice&SerialNumber={serial}&AuthenticationCode1={totp1}&AuthenticationCode2={totp2}", nil},
		{"iam", "ListMFADevices", "UserName=alice", nil},
		{"iam", "ListVirtualMFADevices", "AssignmentStatus=Assigned", nil},
		{"iam", "ResyncMFADevice", "UserName=alice&SerialNumber={serial}&AuthenticationCode1={totp3}&AuthenticationCode2={totp4}", nil},
		{"iam", "TagMFADevice", "SerialNumber={serial}&Tags.member.1.Key=env&Tags.member.1.Value=dev", nil},
		{"iam", "ListMFADeviceTags", "SerialNumber={serial}", nil},
		{"iam", "UntagMFADevice", "SerialNumber={serial}&TagKeys.member.1=env", nil},

		// The account.
		{"iam", "CreateAccountAlias", "AccountAlias=shape-test", nil},
		{"iam", "ListAccountAliases", "", nil},
		{"iam", "UpdateAccountPasswordPolicy", "MinimumPasswordLength=12&RequireSymbols=true&MaxPasswordAge=90&PasswordReusePrevention=3&AllowUsersToChangePassword=true", nil},
		{"iam", "ChangePassword", "OldPassword=" + q("Corr3ct-horse-battery") + "&NewPassword=" + q("N3w-horse-battery-staple"), nil},
		{"iam", "GetAccountPasswordPolicy", "", nil},
		{"iam", "GetAccountSummary", "", nil},
		{"iam", "GetAccountAuthorizationDetails", "", nil},

		// The simulator.
		{"iam", "SimulatePrincipalPolicy", "PolicySourceArn=" + acct + "user/people/alice&ActionNames.member.1=s3:GetObject&ActionNames.member.2=iam:ListUsers&ResourceArns.member.1=" + q("arn:aws:s3:::b/k"), nil},
		{"iam", "SimulateCustomPolicy", "PolicyInputList.member.1=" + allow + "&ActionNames.member.1=s3:GetObject&ContextEntries.member.1.ContextKeyName=aws:CurrentTime&ContextEntries.member.1.ContextKeyValues.member.1=2019-04-25T11:00:00Z&ContextEntries.member.1.ContextKeyType=date", nil},
		{"iam", "GetContextKeysForCustomPolicy", "PolicyInputList.member.1=" + q(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"a"}}}]}`), nil},
		{"iam", "GetContextKeysForPrincipalPolicy", "PolicySourceArn=" + acct + "user/people/alice", nil},

		// Service-linked roles.
		{"iam", "CreateServiceLinkedRole", "AWSServiceName=autoscaling.amazonaws.com&Description=scaling", nil},
		{"iam", "DeleteServiceLinkedRole", "RoleName=AWSServiceRoleForAutoScaling", map[string]string{"task": "DeletionTaskId"}},
		{"iam", "GetServiceLinkedRoleDeletionStatus", "DeletionTaskId={task}", nil},

		// STS.
		{"sts", "GetCallerIdentity", "", nil},
		{"sts", "AssumeRole", "RoleArn=" + acct + "role/svc/ops&RoleSessionName=shape&Policy=" + allow, nil},
		{"sts", "GetSessionToken", "DurationSeconds=900", nil},
		{"sts", "GetFederationToken", "Name=fed&Policy=" + allow, nil},
		{"sts", "GetAccessKeyInfo", "AccessKeyId={key}", nil},

		// EC2.
		{"ec2", "RunInstances", "ImageId=ami-12345678&MinCount=1&MaxCount=1&InstanceType=t3.micro&IamInstanceProfile.Name=web&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web", map[string]string{"instance": "instanceId"}},
		{"ec2", "DescribeInstances", "InstanceId.1={instance}", nil},
		{"ec2", "DescribeIamInstanceProfileAssociations", "", map[string]string{"assoc": "associationId"}},
		{"ec2", "ReplaceIamInstanceProfileAssociation", "AssociationId={assoc}&IamInstanceProfile.Name=web", map[string]string{"assoc2": "associationId"}},
		{"ec2", "DisassociateIamInstanceProfile", "AssociationId={assoc2}", nil},
		{"ec2", "AssociateIamInstanceProfile", "InstanceId={instance}&IamInstanceProfile.Name=web", nil},
		{"ec2", "StopInstances", "InstanceId.1={instance}", nil},
		{"ec2", "StartInstances", "InstanceId.1={instance}", nil},
		{"ec2", "TerminateInstances", "InstanceId.1={instance}", nil},
		{"ec2", "DescribeInstances", "", nil},

		// Taking it all down again.
		{"iam", "DeactivateMFADevice", "UserName=alice&SerialNumber={serial}", nil},
		{"iam", "DeleteVirtualMFADevice", "SerialNumber={serial}", nil},
		{"iam", "DeleteAccountPasswordPolicy", "", nil},
		{"iam", "DeleteAccountAlias", "AccountAlias=shape-test", nil},
		{"iam", "RemoveRoleFromInstanceProfile", "InstanceProfileName=web&RoleName=web", nil},
		{"iam", "DeleteInstanceProfile", "InstanceProfileName=spare", nil},
		{"iam", "DeleteRolePermissionsBoundary", "RoleName=ops", nil},
		{"iam", "DeleteUserPermissionsBoundary", "UserName=alice", nil},
		{"iam", "DetachUserPolicy", "UserName=alice&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "DetachGroupPolicy", "GroupName=devs&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "DetachRolePolicy", "RoleName=ops&PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "DeletePolicyVersion", "PolicyArn=" + acct + "policy/shared/readers&VersionId=v1", nil},
		{"iam", "DeletePolicy", "PolicyArn=" + acct + "policy/shared/readers", nil},
		{"iam", "DeleteRolePolicy", "RoleName=ops&PolicyName=read", nil},
		{"iam", "DeleteRole", "RoleName=ops", nil},
		{"iam", "DeleteGroupPolicy", "GroupName=devs&PolicyName=read", nil},
		{"iam", "RemoveUserFromGroup", "GroupName=devs&UserName=alice", nil},
		{"iam", "DeleteGroup", "GroupName=devs", nil},
		{"iam", "DeleteUserPolicy", "UserName=alice&PolicyName=read", nil},
		{"iam", "DeleteLoginProfile", "UserName=alice", nil},
		{"iam", "DeleteAccessKey", "UserName=alice&AccessKeyId={key}", nil},
		{"iam", "DeleteUser", "UserName=alice", nil},
	}

	vars := map[string]string{}
	fill := func(t *testing.T, params string) string {
		now := time.Now() // one clock reading, so that the codes are consecutive
		return regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(params, func(v string) string {
			name := v[1 : len(v)-1]
			switch name {
			case "totp1", "totp2", "totp3", "totp4":
				// The seed is a blob: base64 on the wire of the base32 text.
				seed, err := base64.StdEncoding.DecodeString(vars["seed"])
				if err != nil {
					t.Fatalf("Base32StringSeed %q is not base64: %v", vars["seed"], err)
				}
				// Consecutive codes: totp1 is the previous, totp2 the current.
				n := int(name[4] - '0')
				return totpAt(t, seed, now.Add(time.Duration(n-2)*30*time.Second))
			}
			got, ok := vars[name]
			if !ok {
				t.Fatalf("no %s captured by an earlier step", name)
			}
			return q(got)
		})
	}
	for i, st := range steps {
		t.Run(fmt.Sprintf("%02d %s answers in the shape of the %s model", i+1, st.action, st.service), func(t *testing.T) {
			form := "Action=" + st.action + "&Version=" + versions[st.service]
			if st.params != "" {
				form += "&" + fill(t, st.params)
			}
			caller := admin
			if st.action == "ChangePassword" {
				// A user changes their own password: sign as alice.
				caller = testserver.Creds{KeyID: vars["key"], Secret: vars["secret"]}
			}
			status, body := rawCall(t, s, caller, st.service, form)
			if status != 200 {
				t.Fatalf("%s: got HTTP %d, want 200 (the scenario is broken, not the shape):\n%s", form, status, body)
			}
			for v, elem := range st.capture {
				m := regexp.MustCompile(`<` + elem + `>([^<]*)</` + elem + `>`).FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("no <%s> to capture as {%s} in\n%s", elem, v, body)
				}
				vars[v] = m[1]
			}
			vs := shapeViolations(t, st.service+"/"+versions[st.service], st.action, body)
			for _, v := range vs {
				t.Errorf("%s %s", st.action, v)
			}
			if len(vs) > 0 || testing.Verbose() {
				t.Logf("%s answered:\n%s", form, body)
			}
		})
	}
}
