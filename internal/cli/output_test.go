package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Canned answers, in the wire format of each protocol.
const (
	noSessions = `<ListSessionsResponse><ListSessionsResult><Sessions/></ListSessionsResult></ListSessionsResponse>`
	oneSession = `<ListSessionsResponse><ListSessionsResult><Sessions><member>
<AccessKeyId>ASIAEXAMPLESESSION1</AccessKeyId><Arn>arn:aws:sts::000000000000:assumed-role/app/deploy</Arn>
<Type>AssumedRole</Type><RoleSessionName>deploy</RoleSessionName><IssueDate>2026-01-02T03:04:05Z</IssueDate>
<ExpirationDate>2026-01-02T04:04:05Z</ExpirationDate><SourceIp>192.0.2.7</SourceIp><MFA>false</MFA><Status>Active</Status>
</member></Sessions></ListSessionsResult></ListSessionsResponse>`
	noRevocations = `<ListRevocationsResponse><ListRevocationsResult><Revocations/></ListRevocationsResult></ListRevocationsResponse>`
	keyDetails    = `<GetAccessKeyDetailsResponse><GetAccessKeyDetailsResult><AccessKeyId>AKIAEXAMPLE</AccessKeyId>
<Type>AccessKey</Type><Arn>arn:aws:iam::000000000000:user/alice</Arn><UserName>alice</UserName>
<CreateDate>2026-01-01T00:00:00Z</CreateDate><Status>Active</Status></GetAccessKeyDetailsResult></GetAccessKeyDetailsResponse>`
	noEvents      = `{"Events":[]}`
	noInstances   = `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet/></DescribeInstancesResponse>`
	someInstances = `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet><item><instancesSet>
<item><instanceId>i-0123456789abcdef0</instanceId><imageId>ami-1</imageId><instanceType>t3.micro</instanceType>
<instanceState><name>running</name></instanceState><launchTime>2026-01-02T03:04:05.000Z</launchTime>
<iamInstanceProfile><arn>arn:aws:iam::000000000000:instance-profile/web</arn></iamInstanceProfile>
<tagSet><item><key>iamd:imds-endpoint</key><value>http://127.0.0.1:41000</value></item></tagSet></item>
<item><instanceId>i-0fedcba9876543210</instanceId><instanceState><name>stopped</name></instanceState>
<launchTime>2026-01-02T03:04:05.000Z</launchTime></item>
</instancesSet></item></reservationSet></DescribeInstancesResponse>`
	webProfile = `<GetInstanceProfileResponse><GetInstanceProfileResult><InstanceProfile><Roles><member>
<RoleName>web-role</RoleName><Arn>arn:aws:iam::000000000000:role/web-role</Arn></member></Roles>
</InstanceProfile></GetInstanceProfileResult></GetInstanceProfileResponse>`
)

var whoisReplies = map[string]reply{
	"GetAccessKeyDetails": {body: keyDetails},
	"LookupEvents":        {body: noEvents},
	"ListSessions":        {body: noSessions},
}

func TestTableAlignsColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string
		rows   [][]string
		want   string
	}{
		{
			name:   "columns are as wide as their widest cell plus two spaces",
			header: []string{"ID", "NAME", "STATUS"},
			rows:   [][]string{{"rv-1", "app", "Active"}, {"rv-22222", "a", "Revoked"}},
			want: "ID        NAME  STATUS\n" +
				"rv-1      app   Active\n" +
				"rv-22222  a     Revoked\n",
		},
		{
			name:   "an empty cell shows as a dash and keeps the columns aligned",
			header: []string{"KEY", "SESSION", "IP"},
			rows:   [][]string{{"ASIA1", "", "192.0.2.1"}, {"ASIA2", "deploy", ""}},
			want: "KEY    SESSION  IP\n" +
				"ASIA1  -        192.0.2.1\n" +
				"ASIA2  deploy   -\n",
		},
		{
			name:   "no rows print the header alone",
			header: []string{"ID", "TYPE"},
			rows:   nil,
			want:   "ID  TYPE\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			c := &Cmd{Env: Env{Stdout: &out}}
			if err := c.Table(tt.header, tt.rows); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldsSkipsEmptyValues(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &Cmd{Env: Env{Stdout: &out}}
	if err := c.Fields([2]string{"access key", "AKIA1"}, [2]string{"user", ""}, [2]string{"status", "Active"}); err != nil {
		t.Fatal(err)
	}
	want := "access key:  AKIA1\nstatus:      Active\n"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTimeShowsHowLongAgoOrUntil(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"a zero time is blank", time.Time{}, ""},
		{"a past time says how long ago", now.Add(-90 * time.Second), "2026-01-02T11:58:30.000Z (1m30s ago)"},
		{"a future time says in how long", now.Add(time.Hour), "2026-01-02T13:00:00.000Z (in 1h0m0s)"},
		{"another zone is shown in UTC", now.In(time.FixedZone("X", 3600)), "2026-01-02T12:00:00.000Z (0s ago)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Time(tt.t, now); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONOutputShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		replies map[string]reply
		cmd     string
		args    []string
		want    string
	}{
		{
			name:    "sessions with none is an empty list, not null",
			replies: map[string]reply{"ListSessions": {body: noSessions}},
			cmd:     "sessions", args: []string{"--role", "app"},
			want: `{"Sessions": []}`,
		},
		{
			name:    "sessions lists each session with its fields",
			replies: map[string]reply{"ListSessions": {body: oneSession}},
			cmd:     "sessions", args: []string{"--role", "app"},
			want: `{"Sessions": [{"AccessKeyId": "ASIAEXAMPLESESSION1", "Arn": "arn:aws:sts::000000000000:assumed-role/app/deploy",
				"Type": "AssumedRole", "RoleSessionName": "deploy", "IssueDate": "2026-01-02T03:04:05Z",
				"ExpirationDate": "2026-01-02T04:04:05Z", "SourceIp": "192.0.2.7", "MFA": false, "Status": "Active"}]}`,
		},
		{
			name:    "revoke --list with none is an empty list, not null",
			replies: map[string]reply{"ListRevocations": {body: noRevocations}},
			cmd:     "revoke", args: []string{"--list"},
			want: `{"Revocations": []}`,
		},
		{
			name:    "revoke --undo --id says what it removed",
			replies: map[string]reply{"DeleteRevocation": {body: `<DeleteRevocationResponse/>`}},
			cmd:     "revoke", args: []string{"--undo", "--id", "rv-123"},
			want: `{"RevocationId": "rv-123", "Status": "Deleted"}`,
		},
		{
			// IssuedSessions is omitempty: "issued none" and "not a
			// long-term key" read the same in JSON (the table says "none").
			name:    "whois of a long-term key has its details and an empty timeline",
			replies: whoisReplies,
			cmd:     "whois", args: []string{"AKIAEXAMPLE"},
			want: `{"AccessKeyId": "AKIAEXAMPLE", "Type": "AccessKey", "Arn": "arn:aws:iam::000000000000:user/alice",
				"UserName": "alice", "CreateDate": "2026-01-01T00:00:00Z", "Status": "Active",
				"Events": []}`,
		},
		{
			name:    "instances with none is an empty list, not null",
			replies: map[string]reply{"DescribeInstances": {body: noInstances}},
			cmd:     "instances",
			want:    `{"Instances": []}`,
		},
		{
			name:    "instances names each profile's role and the metadata endpoint",
			replies: map[string]reply{"DescribeInstances": {body: someInstances}, "GetInstanceProfile": {body: webProfile}},
			cmd:     "instances",
			want: `{"Instances": [
				{"InstanceId": "i-0123456789abcdef0", "State": "running", "InstanceType": "t3.micro", "ImageId": "ami-1",
				 "InstanceProfileArn": "arn:aws:iam::000000000000:instance-profile/web", "RoleName": "web-role",
				 "RoleArn": "arn:aws:iam::000000000000:role/web-role", "ImdsEndpoint": "http://127.0.0.1:41000",
				 "LaunchTime": "2026-01-02T03:04:05.000Z"},
				{"InstanceId": "i-0fedcba9876543210", "State": "stopped", "LaunchTime": "2026-01-02T03:04:05.000Z"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(tt.replies)
			stdout, stderr, err := run(t, a.client(), nil, tt.cmd, append(tt.args, "--output", "json")...)
			if err != nil {
				t.Fatalf("got error %v (stderr %q), want none", err, stderr)
			}
			var got, want any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTableOutputOfCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		replies    map[string]reply
		cmd        string
		args       []string
		wantHeader []string
		wantRows   [][]string // leading cells of each row; the rest depend on the clock
	}{
		{
			name:    "sessions with none prints the header alone",
			replies: map[string]reply{"ListSessions": {body: noSessions}},
			cmd:     "sessions", args: []string{"--user", "alice"},
			wantHeader: []string{"ACCESS KEY", "SESSION", "SOURCE IDENTITY", "ISSUED", "EXPIRES", "SOURCE IP", "LAST USED", "STATUS"},
		},
		{
			name:    "sessions prints a row a session, with a dash for what is unknown",
			replies: map[string]reply{"ListSessions": {body: oneSession}},
			cmd:     "sessions", args: []string{"--role", "app"},
			wantHeader: []string{"ACCESS KEY", "SESSION", "SOURCE IDENTITY", "ISSUED", "EXPIRES", "SOURCE IP", "LAST USED", "STATUS"},
			wantRows:   [][]string{{"ASIAEXAMPLESESSION1", "deploy", "-", "2026-01-02T03:04:05Z"}},
		},
		{
			name:    "revoke --list with none prints the header alone",
			replies: map[string]reply{"ListRevocations": {body: noRevocations}},
			cmd:     "revoke", args: []string{"--list", "--role", "app"},
			wantHeader: []string{"ID", "TYPE", "ROLE/USER", "MATCHES", "ISSUED BEFORE", "EXPIRES", "REASON"},
		},
		{
			name:       "instances prints a row an instance, its profile by name",
			replies:    map[string]reply{"DescribeInstances": {body: someInstances}, "GetInstanceProfile": {body: webProfile}},
			cmd:        "instances",
			wantHeader: []string{"INSTANCE", "STATE", "PROFILE", "ROLE", "IMDS ENDPOINT", "LAUNCHED"},
			wantRows: [][]string{
				{"i-0123456789abcdef0", "running", "web", "web-role", "http://127.0.0.1:41000"},
				{"i-0fedcba9876543210", "stopped", "-", "-", "-"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(tt.replies)
			stdout, _, err := run(t, a.client(), nil, tt.cmd, tt.args...)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			// Columns are separated by at least two spaces; a header may
			// hold one ("ACCESS KEY").
			split := func(l string) []string {
				var out []string
				for _, f := range strings.Split(l, "  ") {
					if f = strings.TrimSpace(f); f != "" {
						out = append(out, f)
					}
				}
				return out
			}
			if diff := cmp.Diff(tt.wantHeader, split(lines[0])); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if got, want := len(lines)-1, len(tt.wantRows); got != want {
				t.Fatalf("got %d rows, want %d:\n%s", got, want, stdout)
			}
			for i, want := range tt.wantRows {
				got := split(lines[i+1])
				if len(got) < len(want) {
					t.Errorf("row %d: got %q, want it to start with %q", i, got, want)
					continue
				}
				if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
					t.Errorf("row %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}
