package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamd/iamd/internal/testserver"
)

// S3 through aws-sdk-go-v2's client, path-style: the client is the oracle
// for the wire shapes, the errors and the ETags.

func s3Client(s *testserver.Server, c testserver.Creds) *s3.Client {
	return s3.NewFromConfig(s.Config(c), func(o *s3.Options) { o.UsePathStyle = true })
}

// httpStatus is the HTTP status of an SDK error, 0 if it has none.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestS3ThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := s3Client(srv, testserver.Admin())

	t.Run("a bucket is created, listed and found; creating it again is BucketAlreadyOwnedByYou", func(t *testing.T) {
		must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")}))
		must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("beta"),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}))
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) || httpStatus(err) != 409 {
			t.Errorf("got %v, want BucketAlreadyOwnedByYou 409", err)
		}
		out := must[*s3.ListBucketsOutput](t)(c.ListBuckets(ctx, &s3.ListBucketsInput{}))
		var names []string
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		if strings.Join(names, ",") != "alpha,beta" {
			t.Errorf("got buckets %v, want alpha,beta", names)
		}
		must[*s3.HeadBucketOutput](t)(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}))
		loc := must[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("beta")}))
		if loc.LocationConstraint != s3types.BucketLocationConstraintEuWest1 {
			t.Errorf("got location %q, want eu-west-1", loc.LocationConstraint)
		}
	})

	t.Run("bad bucket names are InvalidBucketName and unknown buckets NoSuchBucket", func(t *testing.T) {
		for _, name := range []string{"ab", "Upper", "a..b", "192.168.1.1", "-dash", strings.Repeat("x", 64)} {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
			if got := apiCode(err); got != "InvalidBucketName" {
				t.Errorf("CreateBucket %q: got %q (%v), want InvalidBucketName", name, got, err)
			}
		}
		_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")})
		if httpStatus(err) != 404 {
			t.Errorf("HeadBucket of a missing bucket: got %v, want 404", err)
		}
		_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
		var nsb *s3types.NoSuchBucket
		if !errors.As(err, &nsb) {
			t.Errorf("ListObjectsV2 of a missing bucket: got %v, want NoSuchBucket", err)
		}
	})

	t.Run("an object round-trips with its metadata, content type and MD5 ETag", func(t *testing.T) {
		body := []byte("hello, iamd")
		put := must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("alpha"), Key: aws.String("dir/hello.txt"), Body: bytes.NewReader(body),
			ContentType: aws.String("text/plain"), Metadata: map[string]string{"owner": "ops"},
		}))
		if got, want := aws.ToString(put.ETag), `"`+md5hex(body)+`"`; got != want {
			t.Errorf("got ETag %s, want %s", got, want)
		}
		get := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("dir/hello.txt")}))
		got, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if string(got) != string(body) || aws.ToString(get.ContentType) != "text/plain" || get.Metadata["owner"] != "ops" {
			t.Errorf("got %q %s %v, want the body, text/plain and owner=ops", got, aws.ToString(get.ContentType), get.Metadata)
		}
		head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("alpha"), Key: aws.String("dir/hello.txt")}))
		if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != aws.ToString(put.ETag) {
			t.Errorf("HeadObject: got length %d ETag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag))
		}
	})

	t.Run("a range read answers 206 with Content-Range; an unsatisfiable range is InvalidRange 416", func(t *testing.T) {
		get := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("dir/hello.txt"), Range: aws.String("bytes=7-")}))
		got, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if string(got) != "iamd" || aws.ToString(get.ContentRange) != "bytes 7-10/11" {
			t.Errorf("got %q %s, want iamd and bytes 7-10/11", got, aws.ToString(get.ContentRange))
		}
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("dir/hello.txt"), Range: aws.String("bytes=50-60")})
		if apiCode(err) != "InvalidRange" || httpStatus(err) != 416 {
			t.Errorf("got %v, want InvalidRange 416", err)
		}
	})

	t.Run("a missing key is NoSuchKey and a key over 1024 bytes KeyTooLongError", func(t *testing.T) {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("missing")})
		var nsk *s3types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Errorf("got %v, want NoSuchKey", err)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
		if apiCode(err) != "KeyTooLongError" {
			t.Errorf("got %v, want KeyTooLongError", err)
		}
	})

	t.Run("a wrong Content-MD5 is BadDigest and leaves nothing behind", func(t *testing.T) {
		wrong := md5.Sum([]byte("something else"))
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("bad-md5"),
			Body: strings.NewReader("payload"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
		if apiCode(err) != "BadDigest" {
			t.Errorf("got %v, want BadDigest", err)
		}
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("alpha"), Key: aws.String("bad-md5")})
		if httpStatus(err) != 404 {
			t.Errorf("HeadObject after BadDigest: got %v, want 404", err)
		}
	})

	t.Run("ListObjectsV2 rolls keys into common prefixes and pages with continuation tokens", func(t *testing.T) {
		for _, k := range []string{"logs/a", "logs/b", "logs/2024/x", "logs/2025/y", "top", "z+plus sign"} {
			must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("beta"), Key: aws.String(k), Body: strings.NewReader(k)}))
		}
		out := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("beta"), Prefix: aws.String("logs/"), Delimiter: aws.String("/")}))
		var keys, prefixes []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if strings.Join(keys, ",") != "logs/a,logs/b" || strings.Join(prefixes, ",") != "logs/2024/,logs/2025/" || aws.ToInt32(out.KeyCount) != 4 {
			t.Errorf("got keys %v prefixes %v count %d", keys, prefixes, aws.ToInt32(out.KeyCount))
		}
		var all []string
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("beta"), MaxKeys: aws.Int32(2)})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, o := range page.Contents {
				all = append(all, aws.ToString(o.Key))
			}
		}
		if want := "logs/2024/x,logs/2025/y,logs/a,logs/b,top,z+plus sign"; strings.Join(all, ",") != want || pages != 3 {
			t.Errorf("got %v in %d pages, want %s in 3", all, pages, want)
		}
		after := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("beta"), StartAfter: aws.String("logs/b")}))
		if len(after.Contents) != 2 || aws.ToString(after.Contents[0].Key) != "top" {
			t.Errorf("StartAfter logs/b: got %d keys", len(after.Contents))
		}
		v1 := must[*s3.ListObjectsOutput](t)(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("beta"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}))
		if !aws.ToBool(v1.IsTruncated) || aws.ToString(v1.NextMarker) != "logs/" {
			t.Errorf("ListObjects v1: got truncated %v next %q, want true and logs/", aws.ToBool(v1.IsTruncated), aws.ToString(v1.NextMarker))
		}
	})

	t.Run("DeleteBucket of a non-empty bucket is BucketNotEmpty", func(t *testing.T) {
		_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")})
		if apiCode(err) != "BucketNotEmpty" || httpStatus(err) != 409 {
			t.Errorf("got %v, want BucketNotEmpty 409", err)
		}
	})

	t.Run("CopyObject copies bytes and metadata, or replaces the metadata", func(t *testing.T) {
		cp := must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("beta"), Key: aws.String("copy.txt"), CopySource: aws.String("alpha/dir/hello.txt")}))
		if aws.ToString(cp.CopyObjectResult.ETag) != `"`+md5hex([]byte("hello, iamd"))+`"` {
			t.Errorf("got copy ETag %s", aws.ToString(cp.CopyObjectResult.ETag))
		}
		head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("beta"), Key: aws.String("copy.txt")}))
		if head.Metadata["owner"] != "ops" || aws.ToString(head.ContentType) != "text/plain" {
			t.Errorf("got metadata %v %s, want the source's", head.Metadata, aws.ToString(head.ContentType))
		}
		must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("beta"), Key: aws.String("copy.txt"), CopySource: aws.String("beta/copy.txt"),
			MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"owner": "dev"}}))
		head = must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("beta"), Key: aws.String("copy.txt")}))
		if head.Metadata["owner"] != "dev" {
			t.Errorf("got metadata %v after REPLACE, want owner=dev", head.Metadata)
		}
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("beta"), Key: aws.String("copy.txt"), CopySource: aws.String("beta/copy.txt")})
		if apiCode(err) != "InvalidRequest" {
			t.Errorf("copy onto itself: got %v, want InvalidRequest", err)
		}
	})

	t.Run("DeleteObjects deletes several keys and reports them unless quiet", func(t *testing.T) {
		out := must[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("beta"), Delete: &s3types.Delete{
			Objects: []s3types.ObjectIdentifier{{Key: aws.String("logs/a")}, {Key: aws.String("logs/b")}, {Key: aws.String("never-there")}}}}))
		if len(out.Deleted) != 3 || len(out.Errors) != 0 {
			t.Errorf("got %d deleted, %d errors, want 3 and 0", len(out.Deleted), len(out.Errors))
		}
		out = must[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("beta"), Delete: &s3types.Delete{
			Quiet: aws.Bool(true), Objects: []s3types.ObjectIdentifier{{Key: aws.String("logs/2024/x")}}}}))
		if len(out.Deleted) != 0 {
			t.Errorf("quiet: got %d deleted entries, want none", len(out.Deleted))
		}
		must[*s3.DeleteObjectOutput](t)(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("beta"), Key: aws.String("top")}))
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("beta"), Key: aws.String("top")})
		if httpStatus(err) != 404 {
			t.Errorf("HeadObject after DeleteObject: got %v, want 404", err)
		}
	})

	t.Run("a multipart upload completes with S3's ETag and ListParts sees its parts", func(t *testing.T) {
		part1 := bytes.Repeat([]byte("a"), 5<<20)
		part2 := []byte("tail")
		up := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("big"), ContentType: aws.String("application/x-big")}))
		var etags []string
		for i, b := range [][]byte{part1, part2} {
			p := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("alpha"), Key: aws.String("big"),
				UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(b)}))
			etags = append(etags, aws.ToString(p.ETag))
		}
		parts := must[*s3.ListPartsOutput](t)(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("alpha"), Key: aws.String("big"), UploadId: up.UploadId}))
		if len(parts.Parts) != 2 || aws.ToInt64(parts.Parts[0].Size) != 5<<20 {
			t.Errorf("ListParts: got %d parts", len(parts.Parts))
		}
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("big"), UploadId: up.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(2), ETag: aws.String(etags[1])}, {PartNumber: aws.Int32(1), ETag: aws.String(etags[0])}}}})
		if apiCode(err) != "InvalidPartOrder" {
			t.Errorf("parts out of order: got %v, want InvalidPartOrder", err)
		}
		done := must[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("big"), UploadId: up.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(etags[0])}, {PartNumber: aws.Int32(2), ETag: aws.String(etags[1])}}}}))
		s1, s2 := md5.Sum(part1), md5.Sum(part2)
		want := `"` + md5hex(append(s1[:], s2[:]...)) + `-2"`
		if aws.ToString(done.ETag) != want {
			t.Errorf("got ETag %s, want %s", aws.ToString(done.ETag), want)
		}
		get := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("big"), Range: aws.String("bytes=-6")}))
		got, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if string(got) != "aatail" || aws.ToString(get.ContentType) != "application/x-big" {
			t.Errorf("got tail %q type %s", got, aws.ToString(get.ContentType))
		}
		_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("big"), UploadId: up.UploadId})
		var nsu *s3types.NoSuchUpload
		if !errors.As(err, &nsu) {
			t.Errorf("abort after complete: got %v, want NoSuchUpload", err)
		}
	})

	t.Run("an aborted multipart upload is gone and a small middle part is EntityTooSmall", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("small")}))
		var cps []s3types.CompletedPart
		for i := int32(1); i <= 2; i++ {
			p := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("alpha"), Key: aws.String("small"),
				UploadId: up.UploadId, PartNumber: aws.Int32(i), Body: strings.NewReader("tiny")}))
			cps = append(cps, s3types.CompletedPart{PartNumber: aws.Int32(i), ETag: p.ETag})
		}
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("small"), UploadId: up.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: cps}})
		if apiCode(err) != "EntityTooSmall" {
			t.Errorf("got %v, want EntityTooSmall", err)
		}
		must[*s3.AbortMultipartUploadOutput](t)(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("alpha"), Key: aws.String("small"), UploadId: up.UploadId}))
		_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("alpha"), Key: aws.String("small"), UploadId: up.UploadId})
		if apiCode(err) != "NoSuchUpload" {
			t.Errorf("ListParts after abort: got %v, want NoSuchUpload", err)
		}
	})

	t.Run("presigned GET and PUT URLs work, and an expired one is AccessDenied", func(t *testing.T) {
		ps := s3.NewPresignClient(c)
		put := must[*v4Request](t)(ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("presigned")}))
		req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("via presign"))
		for k, v := range put.SignedHeader {
			req.Header[k] = v
		}
		resp := must[*http.Response](t)(http.DefaultClient.Do(req))
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: got %d", resp.StatusCode)
		}
		get := must[*v4Request](t)(ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("presigned")}))
		resp = must[*http.Response](t)(http.Get(get.URL))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "via presign" {
			t.Errorf("presigned GET: got %d %q", resp.StatusCode, b)
		}
		old := must[*v4Request](t)(ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("presigned")},
			s3.WithPresignExpires(time.Second)))
		time.Sleep(1100 * time.Millisecond)
		resp = must[*http.Response](t)(http.Get(old.URL))
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>AccessDenied</Code>") || !strings.Contains(string(b), "Request has expired") {
			t.Errorf("expired presigned GET: got %d %s", resp.StatusCode, b)
		}
	})

	t.Run("an unknown access key is InvalidAccessKeyId and a wrong secret SignatureDoesNotMatch", func(t *testing.T) {
		_, err := s3Client(srv, testserver.Creds{KeyID: "AKIAUNKNOWNUNKNOWN00", Secret: "x"}).ListBuckets(ctx, &s3.ListBucketsInput{})
		if apiCode(err) != "InvalidAccessKeyId" || httpStatus(err) != 403 {
			t.Errorf("got %v, want InvalidAccessKeyId 403", err)
		}
		_, err = s3Client(srv, testserver.Creds{KeyID: testserver.AdminKeyID, Secret: "wrong"}).ListBuckets(ctx, &s3.ListBucketsInput{})
		if apiCode(err) != "SignatureDoesNotMatch" || httpStatus(err) != 403 {
			t.Errorf("got %v, want SignatureDoesNotMatch 403", err)
		}
	})
}

func TestS3Authorization(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	admin := s3Client(srv, testserver.Admin())
	must[*s3.CreateBucketOutput](t)(admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}))
	must[*s3.PutObjectOutput](t)(admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a"), Body: strings.NewReader("a")}))
	must[*s3.PutObjectOutput](t)(admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("secret/b"), Body: strings.NewReader("b")}))

	reader := s3Client(srv, newUser(t, srv, "reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}`))
	outsider := s3Client(srv, newUser(t, srv, "outsider", ""))
	lister := s3Client(srv, newUser(t, srv, "lister", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data","Condition":{"StringEquals":{"s3:prefix":"public/"}}}]}`))

	t.Run("a user with a read-only policy reads but is denied PutObject", func(t *testing.T) {
		must[*s3.GetObjectOutput](t)(reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a")}))
		_, err := reader.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("public/new"), Body: strings.NewReader("x")})
		if apiCode(err) != "AccessDenied" || httpStatus(err) != 403 {
			t.Fatalf("got %v, want AccessDenied 403", err)
		}
		var ae smithy.APIError
		errors.As(err, &ae)
		if !strings.Contains(ae.ErrorMessage(), "user/reader is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::data/public/new") {
			t.Errorf("got message %q, want AWS's wording", ae.ErrorMessage())
		}
	})

	t.Run("a user without policies is denied, and learns nothing of missing keys", func(t *testing.T) {
		_, err := outsider.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a")})
		wantCode(t, err, "AccessDenied")
		_, err = outsider.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantCode(t, err, "AccessDenied")
	})

	t.Run("s3:prefix conditions limit what a user may list", func(t *testing.T) {
		must[*s3.ListObjectsV2Output](t)(lister.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("public/")}))
		_, err := lister.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("secret/")})
		wantCode(t, err, "AccessDenied")
	})

	t.Run("a bucket policy grants another user, and deleting it takes the grant away", func(t *testing.T) {
		_, err := admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data")})
		wantCode(t, err, "NoSuchBucketPolicy")
		_, err = admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`)})
		wantCode(t, err, "MalformedPolicy")
		_, err = admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`)})
		wantCode(t, err, "MalformedPolicy")
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/outsider"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/public/*"}]}`
		must[*s3.PutBucketPolicyOutput](t)(admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(doc)}))
		got := must[*s3.GetBucketPolicyOutput](t)(admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data")}))
		if aws.ToString(got.Policy) != doc {
			t.Errorf("got policy %s, want %s", aws.ToString(got.Policy), doc)
		}
		must[*s3.GetObjectOutput](t)(outsider.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a")}))
		_, err = outsider.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("secret/b")})
		wantCode(t, err, "AccessDenied")
		must[*s3.DeleteBucketPolicyOutput](t)(admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("data")}))
		_, err = outsider.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a")})
		wantCode(t, err, "AccessDenied")
	})

	t.Run("a bucket policy's explicit deny overrides the identity policy", func(t *testing.T) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/secret/*"}]}`
		must[*s3.PutBucketPolicyOutput](t)(admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(doc)}))
		defer admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("data")})
		_, err := reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("secret/b")})
		wantCode(t, err, "AccessDenied")
		must[*s3.GetObjectOutput](t)(reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a")}))
	})
}

type v4Request = v4.PresignedHTTPRequest
