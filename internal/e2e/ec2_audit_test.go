package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/testserver"
)

// jsonPath walks a decoded record: object keys, and "0", "1"… for arrays.
func jsonPath(v any, path ...string) any {
	for _, p := range path {
		switch n := v.(type) {
		case map[string]any:
			v = n[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

// TestEC2CallsAreAudited drives EC2 with aws-sdk-go-v2 in eu-west-1 and
// finds every call with CloudTrail's LookupEvents, in EC2's record shapes.
func TestEC2CallsAreAudited(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	euCfg := w.s.Config(testserver.Admin())
	euCfg.Region = "eu-west-1"
	eu := ec2.NewFromConfig(euCfg)

	run := must[*ec2.RunInstancesOutput](t)(eu.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateRequired}}))
	id := aws.ToString(run.Instances[0].InstanceId)
	must[*ec2.DescribeInstancesOutput](t)(eu.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}}))
	must[*ec2.AssociateIamInstanceProfileOutput](t)(eu.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{
		InstanceId: aws.String(id), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app")}}))
	must[*ec2.StopInstancesOutput](t)(eu.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	_, err := eu.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	bob := newUser(t, w.s, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)
	bobCfg := w.s.Config(bob)
	bobCfg.Region = "eu-west-1"
	_, err = ec2.NewFromConfig(bobCfg).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "UnauthorizedOperation")

	time.Sleep(time.Second) // visible one second after the calls returned
	ct := cloudtrail.NewFromConfig(w.s.Config(testserver.Admin()))
	names, evs := lookup(t, ct, cttypes.LookupAttributeKeyEventSource, "ec2.amazonaws.com")
	want := []string{"TerminateInstances", "DescribeInstances", "StopInstances", "AssociateIamInstanceProfile", "DescribeInstances", "RunInstances"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("lookup by EventSource ec2.amazonaws.com (-want +got):\n%s", diff)
	}
	recs := make([]map[string]any, len(evs))
	for i, e := range evs {
		recs[i] = record(t, e)
	}
	terminate, notFound, stop, assoc, describe, runRec := recs[0], recs[1], recs[2], recs[3], recs[4], recs[5]

	t.Run("every record is EC2's, in the credential scope's region", func(t *testing.T) {
		for i, r := range recs {
			if r["eventSource"] != "ec2.amazonaws.com" || r["awsRegion"] != "eu-west-1" {
				t.Errorf("%s: got source %v region %v, want ec2.amazonaws.com eu-west-1", names[i], r["eventSource"], r["awsRegion"])
			}
		}
	})

	t.Run("RunInstances records its parameters as instancesSet items and the launched instance", func(t *testing.T) {
		if got := jsonPath(runRec, "requestParameters", "instancesSet", "items", "0", "imageId"); got != "ami-12345678" {
			t.Errorf("got imageId %v, want ami-12345678", got)
		}
		if got := jsonPath(runRec, "requestParameters", "instancesSet", "items", "0", "minCount"); got != 1.0 {
			t.Errorf("got minCount %v, want the number 1", got)
		}
		if got := jsonPath(runRec, "requestParameters", "metadataOptions", "httpTokens"); got != "required" {
			t.Errorf("got metadataOptions.httpTokens %v, want required", got)
		}
		if got := jsonPath(runRec, "responseElements", "instancesSet", "items", "0", "instanceId"); got != id {
			t.Errorf("got responseElements instance %v, want %s", got, id)
		}
		if got := jsonPath(runRec, "responseElements", "requestId"); got != runRec["requestID"] || got == nil {
			t.Errorf("got responseElements.requestId %v, want the record's requestID %v", got, runRec["requestID"])
		}
		if runRec["readOnly"] != false {
			t.Errorf("got readOnly %v, want false", runRec["readOnly"])
		}
	})

	t.Run("DescribeInstances records its filters and no response, read-only", func(t *testing.T) {
		got := jsonPath(describe, "requestParameters")
		wantP := map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{"items": []any{
			map[string]any{"name": "instance-state-name", "valueSet": map[string]any{"items": []any{map[string]any{"value": "running"}}}}}}}
		if diff := cmp.Diff(wantP, got); diff != "" {
			t.Errorf("requestParameters (-want +got):\n%s", diff)
		}
		if describe["responseElements"] != nil || describe["readOnly"] != true {
			t.Errorf("got responseElements %v readOnly %v, want null and true", describe["responseElements"], describe["readOnly"])
		}
	})

	t.Run("StopInstances records the instance and its state change", func(t *testing.T) {
		wantP := map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": id}}}, "force": false}
		if diff := cmp.Diff(wantP, stop["requestParameters"]); diff != "" {
			t.Errorf("requestParameters (-want +got):\n%s", diff)
		}
		item := jsonPath(stop, "responseElements", "instancesSet", "items", "0")
		if jsonPath(item, "currentState", "name") != "stopping" || jsonPath(item, "previousState", "code") != 16.0 {
			t.Errorf("got %v, want running(16) → stopping", item)
		}
	})

	t.Run("AssociateIamInstanceProfile records the wrapped request and response", func(t *testing.T) {
		if got := jsonPath(assoc, "requestParameters", "AssociateIamInstanceProfileRequest", "IamInstanceProfile", "Name"); got != "app" {
			t.Errorf("got %v, want the profile name app", assoc["requestParameters"])
		}
		a := jsonPath(assoc, "responseElements", "AssociateIamInstanceProfileResponse", "iamInstanceProfileAssociation")
		if jsonPath(a, "instanceId") != id || jsonPath(a, "state") != "associating" {
			t.Errorf("got %v, want the association of %s", a, id)
		}
		if _, ok := jsonPath(a, "timestamp").(float64); !ok {
			t.Errorf("got timestamp %v, want epoch milliseconds", jsonPath(a, "timestamp"))
		}
	})

	t.Run("failed calls carry EC2's error codes as CloudTrail prefixes them", func(t *testing.T) {
		if notFound["errorCode"] != "Client.InvalidInstanceID.NotFound" {
			t.Errorf("got %v, want Client.InvalidInstanceID.NotFound", notFound["errorCode"])
		}
		if terminate["errorCode"] != "Client.UnauthorizedOperation" || jsonPath(terminate, "userIdentity", "userName") != "bob" {
			t.Errorf("got %v by %v, want Client.UnauthorizedOperation by bob", terminate["errorCode"], jsonPath(terminate, "userIdentity", "userName"))
		}
		if terminate["responseElements"] != nil {
			t.Errorf("got responseElements %v on a denied call, want null", terminate["responseElements"])
		}
	})

	t.Run("a lookup by the instance id finds every call that named the instance", func(t *testing.T) {
		got, evs := lookup(t, ct, cttypes.LookupAttributeKeyResourceName, id)
		want := []string{"TerminateInstances", "StopInstances", "AssociateIamInstanceProfile", "RunInstances"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("lookup by ResourceName %s (-want +got):\n%s", id, diff)
		}
		for i, e := range evs {
			wantRes := []cttypes.Resource{{ResourceType: aws.String("AWS::EC2::Instance"), ResourceName: aws.String(id)}}
			if diff := cmp.Diff(wantRes, e.Resources, cmp.AllowUnexported(cttypes.Resource{})); diff != "" {
				t.Errorf("%s: LookupEvents resources (-want +got):\n%s", got[i], diff)
			}
		}
	})

	t.Run("EC2 records carry the instance as a resource by its ARN", func(t *testing.T) {
		acct, _ := runRec["recipientAccountId"].(string)
		want := []any{map[string]any{"accountId": acct, "type": "AWS::EC2::Instance", "ARN": "arn:aws:ec2:eu-west-1:" + acct + ":instance/" + id}}
		for name, r := range map[string]map[string]any{"RunInstances": runRec, "StopInstances": stop, "AssociateIamInstanceProfile": assoc, "TerminateInstances": terminate} {
			if diff := cmp.Diff(want, r["resources"]); diff != "" {
				t.Errorf("%s: resources (-want +got):\n%s", name, diff)
			}
		}
		if describe["resources"] != nil {
			t.Errorf("got resources %v on a DescribeInstances that named no instance, want none", describe["resources"])
		}
	})

	t.Run("a lookup by resource type finds every call that named an instance", func(t *testing.T) {
		got, _ := lookup(t, ct, cttypes.LookupAttributeKeyResourceType, "AWS::EC2::Instance")
		want := []string{"TerminateInstances", "DescribeInstances", "StopInstances", "AssociateIamInstanceProfile", "RunInstances"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lookup by ResourceType AWS::EC2::Instance (-want +got):\n%s", diff)
		}
	})

	t.Run("a lookup by event name finds RunInstances", func(t *testing.T) {
		got, evs := lookup(t, ct, cttypes.LookupAttributeKeyEventName, "RunInstances")
		if diff := cmp.Diff([]string{"RunInstances"}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(evs[0].CloudTrailEvent)), &r); err != nil || r["eventID"] != runRec["eventID"] {
			t.Errorf("got event %v (%v), want the RunInstances record %v", r["eventID"], err, runRec["eventID"])
		}
	})
}
