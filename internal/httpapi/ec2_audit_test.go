package httpapi

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
)

func TestEC2RequestParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		query  string
		want   any
	}{
		{"DescribeInstances without ids or filters has empty sets", "DescribeInstances", "Action=DescribeInstances&Version=2016-11-15",
			map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{}}},
		{"DescribeInstances lists ids and filters as items", "DescribeInstances", "InstanceId.1=i-1&InstanceId.2=i-2&Filter.1.Name=tag:Name&Filter.1.Value.1=web",
			map[string]any{
				"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-1"}, map[string]any{"instanceId": "i-2"}}},
				"filterSet": map[string]any{"items": []any{map[string]any{"name": "tag:Name",
					"valueSet": map[string]any{"items": []any{map[string]any{"value": "web"}}}}}},
			}},
		{"StopInstances records force", "StopInstances", "InstanceId.1=i-1&Force=true",
			map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-1"}}}, "force": true}},
		{"RunInstances records counts as numbers, the profile, metadata options and tags", "RunInstances",
			"ImageId=ami-1&MinCount=1&MaxCount=2&InstanceType=t3.micro&IamInstanceProfile.Name=app&MetadataOptions.HttpTokens=required&MetadataOptions.HttpPutResponseHopLimit=2&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web",
			map[string]any{
				"instancesSet":          map[string]any{"items": []any{map[string]any{"imageId": "ami-1", "minCount": int64(1), "maxCount": int64(2)}}},
				"instanceType":          "t3.micro",
				"blockDeviceMapping":    map[string]any{},
				"monitoring":            map[string]any{"enabled": false},
				"disableApiTermination": false,
				"iamInstanceProfile":    map[string]any{"name": "app"},
				"metadataOptions":       map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": int64(2)},
				"tagSpecificationSet": map[string]any{"items": []any{map[string]any{"resourceType": "instance",
					"tags": []any{map[string]any{"key": "Name", "value": "web"}}}}},
			}},
		{"the association actions are wrapped in their request, with the names as sent", "ReplaceIamInstanceProfileAssociation",
			"AssociationId=iip-assoc-1&IamInstanceProfile.Arn=arn:aws:iam::1:instance-profile/app&DryRun=false",
			map[string]any{"ReplaceIamInstanceProfileAssociationRequest": map[string]any{
				"AssociationId": "iip-assoc-1", "IamInstanceProfile": map[string]any{"Arn": "arn:aws:iam::1:instance-profile/app"}}}},
		{"numbered lists of the wrapped actions become arrays", "DescribeIamInstanceProfileAssociations",
			"AssociationId.1=iip-assoc-1&AssociationId.2=iip-assoc-2",
			map[string]any{"DescribeIamInstanceProfileAssociationsRequest": map[string]any{"AssociationId": []any{"iip-assoc-1", "iip-assoc-2"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ec2RequestParameters(tt.action, p)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEC2ResponseElementsAndErrors(t *testing.T) {
	t.Parallel()
	launched := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t.Run("state changes are items with their codes, and the request id is kept", func(t *testing.T) {
		out := xmlStateChanges{Items: []xmlStateChange{{InstanceID: "i-1", Current: stateOf("stopping"), Previous: stateOf("running")}}}
		want := map[string]any{"requestId": "req-1", "instancesSet": map[string]any{"items": []any{map[string]any{
			"instanceId":    "i-1",
			"currentState":  map[string]any{"code": int64(64), "name": "stopping"},
			"previousState": map[string]any{"code": int64(16), "name": "running"},
		}}}}
		if diff := cmp.Diff(want, ec2ResponseElements("StopInstances", "req-1", out)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("an association response is wrapped and its timestamp is epoch milliseconds", func(t *testing.T) {
		out := xmlAssociationResult{Association: &xmlAssociation{AssociationID: "iip-assoc-1", InstanceID: "i-1", State: "associating",
			Timestamp: xmlEC2Time(launched), IamInstanceProfile: xmlProfileRef{ARN: "arn", ID: "AIPA"}}}
		got := ec2ResponseElements("AssociateIamInstanceProfile", "req-2", out)
		want := map[string]any{"AssociateIamInstanceProfileResponse": map[string]any{
			"requestId": "req-2", "xmlns": EC2Namespace,
			"iamInstanceProfileAssociation": map[string]any{"associationId": "iip-assoc-1", "instanceId": "i-1", "state": "associating",
				"timestamp": launched.UnixMilli(), "iamInstanceProfile": map[string]any{"arn": "arn", "id": "AIPA"}},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	errs := []struct {
		name string
		err  error
		want string
	}{
		{"a denial is Client.UnauthorizedOperation", apierr.New(apierr.AccessDenied, "no"), "Client.UnauthorizedOperation"},
		{"EC2's own codes are kept under Client.", apierr.New("InvalidInstanceID.NotFound", "no"), "Client.InvalidInstanceID.NotFound"},
		{"a bad signature is Client.AuthFailure", apierr.New(apierr.SignatureDoesNotMatch, "no"), "Client.AuthFailure"},
		{"an internal failure is Server.InternalError", apierr.Internal(nil), "Server.InternalError"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{}
			ev := &audit.Event{ErrorCode: "x"}
			s.ec2Event(ev, &CallRecord{Service: "ec2", Action: "StopInstances", Region: "eu-west-1", Err: tt.err})
			if ev.ErrorCode != tt.want {
				t.Errorf("got %s, want %s", ev.ErrorCode, tt.want)
			}
		})
	}
}
