package e2e

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/testserver"
)

// The point of iamd's trail: given a leaked key, find everything it did,
// reads of the bucket included. S3's object-level calls are CloudTrail
// data events, which AWS's LookupEvents never returns; iamd's does.
func TestS3LeakedKeyReadsAreFoundByLookupEvents(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	admin := s3Client(srv, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("payroll")}))
	must[*s3.PutObjectOutput](t)(admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("payroll"),
		Key: aws.String("2025/salaries.csv"), Body: strings.NewReader("name,salary\n")}))

	leaked := newUser(t, srv, "build-bot", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::payroll","arn:aws:s3:::payroll/*"]}]}`)
	thief := s3Client(srv, leaked)
	must[*s3.ListObjectsV2Output](t)(thief.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("payroll")}))
	get := must[*s3.GetObjectOutput](t)(thief.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("payroll"), Key: aws.String("2025/salaries.csv")}))
	io.Copy(io.Discard, get.Body)
	get.Body.Close()
	_, err := thief.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("payroll"), Key: aws.String("2025/salaries.csv"), Body: strings.NewReader("x")})
	wantCode(t, err, "AccessDenied")
	_, err = thief.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, err, "AccessDenied")

	// Read-only records are written within the writer's flush interval.
	time.Sleep(time.Second)
	ct := cloudtrail.NewFromConfig(srv.Config(testserver.Admin()))
	got, evs := lookup(t, ct, cttypes.LookupAttributeKeyAccessKeyId, leaked.KeyID)

	t.Run("a lookup by the leaked key returns every S3 call it made, newest first", func(t *testing.T) {
		want := []string{"ListBuckets", "PutObject", "GetObject", "ListObjectsV2"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})

	t.Run("the GetObject event names the bucket and key in requestParameters and resources", func(t *testing.T) {
		i := s3EventIndex(got, "GetObject")
		if i < 0 {
			t.Fatalf("no GetObject among %v", got)
		}
		e := evs[i]
		rec := record(t, e)
		params, _ := rec["requestParameters"].(map[string]any)
		if params["bucketName"] != "payroll" || params["key"] != "2025/salaries.csv" {
			t.Errorf("got requestParameters %v, want bucketName payroll and key 2025/salaries.csv", params)
		}
		var res []string
		for _, r := range e.Resources {
			res = append(res, aws.ToString(r.ResourceType)+" "+aws.ToString(r.ResourceName))
		}
		want := []string{"AWS::S3::Bucket arn:aws:s3:::payroll", "AWS::S3::Object arn:aws:s3:::payroll/2025/salaries.csv"}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("resources (-want +got):\n%s", diff)
		}
		if rec["eventSource"] != "s3.amazonaws.com" || rec["readOnly"] != true || rec["errorCode"] != nil {
			t.Errorf("got source %v readOnly %v error %v, want s3.amazonaws.com, true, none", rec["eventSource"], rec["readOnly"], rec["errorCode"])
		}
	})

	t.Run("object-level calls are data events and bucket-level calls management events", func(t *testing.T) {
		for i, name := range got {
			rec := record(t, evs[i])
			wantCat, wantMgmt := "Data", false
			if name == "ListBuckets" {
				wantCat, wantMgmt = "Management", true
			}
			if rec["eventCategory"] != wantCat || rec["managementEvent"] != wantMgmt {
				t.Errorf("%s: got eventCategory %v managementEvent %v, want %s %v", name, rec["eventCategory"], rec["managementEvent"], wantCat, wantMgmt)
			}
		}
	})

	t.Run("a lookup by the object's ARN finds the read", func(t *testing.T) {
		names, _ := lookup(t, ct, cttypes.LookupAttributeKeyResourceName, "arn:aws:s3:::payroll/2025/salaries.csv")
		if s3EventIndex(names, "GetObject") < 0 {
			t.Errorf("got %v, want a GetObject among them", names)
		}
	})
}

func s3EventIndex(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}
