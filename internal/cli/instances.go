package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// `iamd instances`: the EC2 instances, each with its state, its instance
// profile and role, the metadata endpoint to point an SDK at
// (AWS_EC2_METADATA_SERVICE_ENDPOINT) and its launch time. It calls EC2's
// DescribeInstances, and IAM's GetInstanceProfile to name each profile's
// role when the caller may (the column stays empty otherwise).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html

// The command is registered here rather than in cli.go's table so that
// the EC2 client stays in one file.
func init() {
	commands["instances"] = struct {
		run     func(context.Context, *Cmd) error
		summary string
	}{runInstances, "list EC2 instances: state, instance profile and role, metadata endpoint, launch time"}
}

// EC2Version is the EC2 Query API version.
const EC2Version = "2016-11-15"

// imdsEndpointTag is the instance tag iamd publishes the endpoint in.
const imdsEndpointTag = "iamd:imds-endpoint"

// InstanceInfo is one row of `iamd instances`.
type InstanceInfo struct {
	InstanceId         string
	State              string
	InstanceType       string `json:",omitempty"`
	ImageId            string `json:",omitempty"`
	InstanceProfileArn string `json:",omitempty"`
	RoleName           string `json:",omitempty"`
	RoleArn            string `json:",omitempty"`
	ImdsEndpoint       string `json:",omitempty"`
	LaunchTime         string
}

// ec2Instance is the part of DescribeInstances' <item> the command uses.
type ec2Instance struct {
	InstanceID   string `xml:"instanceId"`
	ImageID      string `xml:"imageId"`
	InstanceType string `xml:"instanceType"`
	State        struct {
		Name string `xml:"name"`
	} `xml:"instanceState"`
	LaunchTime string `xml:"launchTime"`
	Profile    *struct {
		ARN string `xml:"arn"`
	} `xml:"iamInstanceProfile"`
	Tags []struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	} `xml:"tagSet>item"`
}

type ec2DescribeInstances struct {
	Reservations []struct {
		Instances []ec2Instance `xml:"instancesSet>item"`
	} `xml:"reservationSet>item"`
	NextToken string `xml:"nextToken"`
}

func runInstances(ctx context.Context, c *Cmd) error {
	state := c.Flags.String("state", "", "only instances in this state (pending, running, stopped, terminated…)")
	if err := c.Parse(); err != nil {
		return err
	}
	p := url.Values{}
	for i, id := range c.Args {
		p.Set("InstanceId."+strconv.Itoa(i+1), id)
	}
	if *state != "" {
		p.Set("Filter.1.Name", "instance-state-name")
		p.Set("Filter.1.Value.1", *state)
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	var insts []ec2Instance
	for page := 0; ; page++ {
		var out ec2DescribeInstances
		if err := cl.EC2(ctx, "DescribeInstances", p, &out); err != nil {
			return err
		}
		for _, r := range out.Reservations {
			insts = append(insts, r.Instances...)
		}
		if out.NextToken == "" || page >= 1000 {
			break
		}
		p.Set("NextToken", out.NextToken)
	}
	roles := map[string][2]string{} // profile ARN → role name, role ARN
	rows := make([]InstanceInfo, 0, len(insts))
	for _, in := range insts {
		row := InstanceInfo{InstanceId: in.InstanceID, State: in.State.Name, InstanceType: in.InstanceType,
			ImageId: in.ImageID, LaunchTime: in.LaunchTime}
		for _, t := range in.Tags {
			if t.Key == imdsEndpointTag {
				row.ImdsEndpoint = t.Value
			}
		}
		if in.Profile != nil && in.Profile.ARN != "" {
			row.InstanceProfileArn = in.Profile.ARN
			role, ok := roles[in.Profile.ARN]
			if !ok {
				role = profileRole(ctx, cl, in.Profile.ARN)
				roles[in.Profile.ARN] = role
			}
			row.RoleName, row.RoleArn = role[0], role[1]
		}
		rows = append(rows, row)
	}
	if c.JSONOutput() {
		return c.JSON(struct{ Instances []InstanceInfo }{rows})
	}
	now := cl.Now()
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		launched := r.LaunchTime
		if t, err := time.Parse(time.RFC3339Nano, r.LaunchTime); err == nil {
			launched = Time(t, now)
		}
		table = append(table, []string{r.InstanceId, r.State, profileName(r.InstanceProfileArn), r.RoleName, r.ImdsEndpoint, launched})
	}
	return c.Table([]string{"INSTANCE", "STATE", "PROFILE", "ROLE", "IMDS ENDPOINT", "LAUNCHED"}, table)
}

// profileName is the name in an instance profile ARN
// (arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME).
func profileName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// profileRole names the role in an instance profile, or nothing when the
// caller may not read the profile.
func profileRole(ctx context.Context, cl *Client, profileARN string) [2]string {
	var out struct {
		Roles []struct {
			RoleName string
			Arn      string
		} `xml:"InstanceProfile>Roles>member"`
	}
	if err := cl.IAM(ctx, "GetInstanceProfile", url.Values{"InstanceProfileName": {profileName(profileARN)}}, &out); err != nil || len(out.Roles) == 0 {
		return [2]string{}
	}
	return [2]string{out.Roles[0].RoleName, out.Roles[0].Arn}
}

// EC2 calls an EC2 Query action and decodes the <ActionResponse> into
// out. EC2's dialect has no Result wrapper and answers errors as
// <Response><Errors><Error>, so it has its own decoder.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
func (cl *Client) EC2(ctx context.Context, action string, params url.Values, out any) error {
	resp, b, err := cl.postForm(ctx, "ec2", EC2Version, action, params)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Errors []struct {
				Code    string
				Message string
			} `xml:"Errors>Error"`
			RequestID string
		}
		if xml.Unmarshal(b, &e) != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
			return unparsedError(resp, b)
		}
		return &APIError{StatusCode: resp.StatusCode, Code: e.Errors[0].Code, Message: e.Errors[0].Message, RequestID: e.RequestID}
	}
	if out == nil {
		return nil
	}
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
		return fmt.Errorf("%s: decode response: %w", action, err)
	}
	return nil
}
