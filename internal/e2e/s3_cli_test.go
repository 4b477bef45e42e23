package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/testserver"
)

// awsText runs the AWS CLI and returns its text output, failing the test
// on error.
func awsText(t *testing.T, s *testserver.Server, c testserver.Creds, args ...string) string {
	t.Helper()
	cmd := exec.Command(awsCLI(t), append([]string{"--endpoint-url", s.URL}, args...)...)
	cmd.Env = clientEnv(t, c)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// TestS3WithTheAWSCLI drives the object store with `aws s3` and
// `aws s3api`, including a multipart `cp` above the CLI's 8 MB threshold.
func TestS3WithTheAWSCLI(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := testserver.Admin()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.txt")
	os.WriteFile(small, []byte("small file\n"), 0o600)
	big := filepath.Join(dir, "big.bin")
	bigData := bytes.Repeat([]byte("0123456789abcdef"), (20<<20)/16) // 20 MiB: three 8 MiB parts
	os.WriteFile(big, bigData, 0o600)

	t.Run("aws s3 mb, cp, ls and rm work on a bucket", func(t *testing.T) {
		awsText(t, s, admin, "s3", "mb", "s3://cli-bucket")
		awsText(t, s, admin, "s3", "cp", small, "s3://cli-bucket/docs/small.txt")
		if out := awsText(t, s, admin, "s3", "ls"); !strings.Contains(out, "cli-bucket") {
			t.Errorf("aws s3 ls: got %q, want cli-bucket", out)
		}
		if out := awsText(t, s, admin, "s3", "ls", "s3://cli-bucket/"); !strings.Contains(out, "PRE docs/") {
			t.Errorf("aws s3 ls s3://cli-bucket/: got %q, want PRE docs/", out)
		}
		if out := awsText(t, s, admin, "s3", "ls", "--recursive", "s3://cli-bucket/"); !strings.Contains(out, "docs/small.txt") {
			t.Errorf("aws s3 ls --recursive: got %q", out)
		}
		back := filepath.Join(dir, "back.txt")
		awsText(t, s, admin, "s3", "cp", "s3://cli-bucket/docs/small.txt", back)
		if b, _ := os.ReadFile(back); string(b) != "small file\n" {
			t.Errorf("downloaded %q", b)
		}
	})

	t.Run("aws s3 cp of a 20 MiB file uploads in parts and downloads intact", func(t *testing.T) {
		awsText(t, s, admin, "s3", "cp", big, "s3://cli-bucket/big.bin")
		head := mustCLI(t, s, admin, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
		if etag := field(head, "ETag"); !strings.HasSuffix(etag, `-3"`) {
			t.Errorf("got ETag %s, want a 3-part multipart ETag", etag)
		}
		back := filepath.Join(dir, "big.back")
		awsText(t, s, admin, "s3", "cp", "s3://cli-bucket/big.bin", back)
		b, _ := os.ReadFile(back)
		if !bytes.Equal(b, bigData) {
			t.Errorf("downloaded %d bytes, want the %d uploaded", len(b), len(bigData))
		}
		awsText(t, s, admin, "s3", "cp", "s3://cli-bucket/big.bin", "s3://cli-bucket/copy/big.bin")
		head = mustCLI(t, s, admin, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "copy/big.bin")
		if n := head["ContentLength"]; n != float64(len(bigData)) {
			t.Errorf("copied object: got length %v", n)
		}
	})

	t.Run("aws s3 presign makes a URL that any HTTP client can GET", func(t *testing.T) {
		url := strings.TrimSpace(awsText(t, s, admin, "s3", "presign", "s3://cli-bucket/docs/small.txt", "--expires-in", "300"))
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "small file\n" {
			t.Errorf("GET presigned: got %d %q", resp.StatusCode, b)
		}
	})

	t.Run("aws s3api reports S3's errors", func(t *testing.T) {
		if _, code := cli(t, s, admin, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "missing", filepath.Join(dir, "x")); code != "NoSuchKey" {
			t.Errorf("get-object of a missing key: got %q, want NoSuchKey", code)
		}
		if _, code := cli(t, s, admin, "s3api", "delete-bucket", "--bucket", "cli-bucket"); code != "BucketNotEmpty" {
			t.Errorf("delete-bucket: got %q, want BucketNotEmpty", code)
		}
		if _, code := cli(t, s, admin, "s3api", "create-bucket", "--bucket", "Bad_Name"); code != "InvalidBucketName" {
			t.Errorf("create-bucket Bad_Name: got %q, want InvalidBucketName", code)
		}
		if _, code := cli(t, s, admin, "s3api", "get-bucket-policy", "--bucket", "cli-bucket"); code != "NoSuchBucketPolicy" {
			t.Errorf("get-bucket-policy: got %q, want NoSuchBucketPolicy", code)
		}
		out := mustCLI(t, s, admin, "s3api", "list-objects-v2", "--bucket", "cli-bucket", "--prefix", "docs/")
		if cs, _ := out["Contents"].([]any); len(cs) != 1 {
			t.Errorf("list-objects-v2 --prefix docs/: got %v, want one key", out["Contents"])
		}
	})

	t.Run("aws s3 rm and rb empty and remove the bucket", func(t *testing.T) {
		awsText(t, s, admin, "s3", "rm", "--recursive", "s3://cli-bucket/")
		awsText(t, s, admin, "s3", "rb", "s3://cli-bucket")
		if out := awsText(t, s, admin, "s3", "ls"); strings.Contains(out, "cli-bucket") {
			t.Errorf("bucket still listed: %q", out)
		}
	})
}

// TestS3WithBoto3 runs a boto3 script: botocore ≥ 1.36 sends CRC32
// checksums with every upload, and reads S3's errors by code.
func TestS3WithBoto3(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 not installed")
	}
	s := testserver.Start(t)
	reader := newUser(t, s, "pyreader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)
	script := `
import sys, io, boto3, botocore, hashlib, urllib.request
from botocore.config import Config
url, rk, rs = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
s3 = boto3.client("s3", endpoint_url=url, config=cfg)
s3.create_bucket(Bucket="py-bucket")
r = s3.put_object(Bucket="py-bucket", Key="a b/c+d.txt", Body=b"hello boto", Metadata={"k": "v"}, ContentType="text/plain")
assert r["ETag"] == '"%s"' % hashlib.md5(b"hello boto").hexdigest(), r
o = s3.get_object(Bucket="py-bucket", Key="a b/c+d.txt")
assert o["Body"].read() == b"hello boto" and o["Metadata"] == {"k": "v"} and o["ContentType"] == "text/plain", o
o = s3.get_object(Bucket="py-bucket", Key="a b/c+d.txt", Range="bytes=0-4")
assert o["Body"].read() == b"hello" and o["ResponseMetadata"]["HTTPStatusCode"] == 206
keys = [x["Key"] for x in s3.list_objects_v2(Bucket="py-bucket")["Contents"]]
assert keys == ["a b/c+d.txt"], keys
s3.upload_fileobj(io.BytesIO(b"x" * (9 << 20)), "py-bucket", "big", Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20))
h = s3.head_object(Bucket="py-bucket", Key="big")
assert h["ContentLength"] == 9 << 20 and h["ETag"].endswith('-2"'), h
try:
    s3.get_object(Bucket="py-bucket", Key="nope")
    raise SystemExit("get of a missing key succeeded")
except s3.exceptions.NoSuchKey as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
try:
    s3.get_object(Bucket="py-bucket", Key="a b/c+d.txt", Range="bytes=100-200")
    raise SystemExit("bad range succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidRange", e.response
ro = boto3.client("s3", endpoint_url=url, config=cfg, aws_access_key_id=rk, aws_secret_access_key=rs)
assert ro.get_object(Bucket="py-bucket", Key="big")["ContentLength"] == 9 << 20
try:
    ro.put_object(Bucket="py-bucket", Key="evil", Body=b"x")
    raise SystemExit("read-only user could put")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDenied", e.response
u = s3.generate_presigned_url("put_object", Params={"Bucket": "py-bucket", "Key": "pre"}, ExpiresIn=60)
urllib.request.urlopen(urllib.request.Request(u, data=b"presigned put", method="PUT")).read()
u = s3.generate_presigned_url("get_object", Params={"Bucket": "py-bucket", "Key": "pre"}, ExpiresIn=60)
assert urllib.request.urlopen(u).read() == b"presigned put"
d = s3.delete_objects(Bucket="py-bucket", Delete={"Objects": [{"Key": "pre"}, {"Key": "big"}, {"Key": "a b/c+d.txt"}]})
assert len(d["Deleted"]) == 3, d
s3.delete_bucket(Bucket="py-bucket")
print("ok")
`
	cmd := exec.Command(py, "-c", script, s.URL, reader.KeyID, reader.Secret)
	cmd.Env = clientEnv(t, testserver.Admin())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3 scenario: %v\n%s", err, out)
	}
}
