package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/s3"
)

// s3Time is the timestamp format of S3's XML documents.
const s3Time = "2006-01-02T15:04:05.000Z"

type s3Owner struct {
	ID          string
	DisplayName string `xml:",omitempty"`
}

// ownerOf is the account's canonical user id: 64 hex digits, as S3's are.
func (c *s3Call) owner() *s3Owner {
	sum := sha256.Sum256([]byte("iamd-canonical-user:" + string(c.caller.Account)))
	return &s3Owner{ID: hex.EncodeToString(sum[:]), DisplayName: string(c.caller.Account)}
}

type listAllMyBucketsResult struct {
	XMLName xml.Name  `xml:"ListAllMyBucketsResult"`
	Xmlns   string    `xml:"xmlns,attr"`
	Owner   *s3Owner  `xml:"Owner"`
	Buckets []s3Entry `xml:"Buckets>Bucket"`
}

type s3Entry struct {
	Name         string
	CreationDate string
	BucketRegion string `xml:",omitempty"`
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
func (c *s3Call) listBuckets() error {
	if err := c.authorize("s3:ListAllMyBuckets", "*"); err != nil {
		return err
	}
	bs, err := c.srv.cfg.S3.ListBuckets(c.ctx)
	if err != nil {
		return err
	}
	out := listAllMyBucketsResult{Xmlns: S3Namespace, Owner: c.owner(), Buckets: []s3Entry{}}
	for _, b := range bs {
		out.Buckets = append(out.Buckets, s3Entry{Name: b.Name, CreationDate: b.Created.UTC().Format(s3Time), BucketRegion: b.Region})
	}
	return c.writeXML(out)
}

type createBucketConfiguration struct {
	LocationConstraint string
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
func (c *s3Call) createBucket() error {
	if err := s3.ValidBucketName(c.bucket); err != nil {
		return err
	}
	if err := c.authorize("s3:CreateBucket", bucketARN(c.bucket)); err != nil {
		return err
	}
	body, err := c.readXMLBody()
	if err != nil {
		return err
	}
	region := c.env.Region
	if len(strings.TrimSpace(string(body))) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return apierr.New(s3.CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
		}
		if cfg.LocationConstraint != "" {
			region = cfg.LocationConstraint
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	if _, err := c.srv.cfg.S3.CreateBucket(c.ctx, c.bucket, region); err != nil {
		return err
	}
	c.w.Header().Set("Location", "/"+c.bucket)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
func (c *s3Call) headBucket() error {
	if err := c.authorize("s3:ListBucket", bucketARN(c.bucket)); err != nil {
		return err
	}
	b, err := c.srv.cfg.S3.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	c.w.Header().Set("X-Amz-Bucket-Region", b.Region)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
func (c *s3Call) deleteBucket() error {
	if err := c.authorize("s3:DeleteBucket", bucketARN(c.bucket)); err != nil {
		return err
	}
	if err := c.srv.cfg.S3.DeleteBucket(c.ctx, c.bucket); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// GetBucketLocation answers an empty constraint for us-east-1, as S3 does.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
func (c *s3Call) getBucketLocation() error {
	if err := c.authorize("s3:GetBucketLocation", bucketARN(c.bucket)); err != nil {
		return err
	}
	b, err := c.srv.cfg.S3.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	region := b.Region
	if region == "us-east-1" {
		region = ""
	}
	return c.writeXML(locationConstraint{Xmlns: S3Namespace, Region: region})
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
func (c *s3Call) getBucketPolicy() error {
	if err := c.authorize("s3:GetBucketPolicy", bucketARN(c.bucket)); err != nil {
		return err
	}
	doc, err := c.srv.cfg.S3.GetBucketPolicy(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	c.w.WriteHeader(http.StatusOK)
	c.w.Write([]byte(doc))
	return nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
func (c *s3Call) putBucketPolicy() error {
	if err := c.authorize("s3:PutBucketPolicy", bucketARN(c.bucket)); err != nil {
		return err
	}
	body, err := c.readXMLBody()
	if err != nil {
		return err
	}
	if err := c.srv.cfg.S3.PutBucketPolicy(c.ctx, c.bucket, string(body)); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html
func (c *s3Call) deleteBucketPolicy() error {
	if err := c.authorize("s3:DeleteBucketPolicy", bucketARN(c.bucket)); err != nil {
		return err
	}
	if err := c.srv.cfg.S3.DeleteBucketPolicy(c.ctx, c.bucket); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Marker                *string `xml:",omitempty"`
	NextMarker            string  `xml:",omitempty"`
	ContinuationToken     string  `xml:",omitempty"`
	NextContinuationToken string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	KeyCount              *int    `xml:",omitempty"`
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []s3Content
	CommonPrefixes        []s3Prefix
}

type s3Content struct {
	Key               string
	LastModified      string
	ETag              string
	ChecksumAlgorithm string `xml:",omitempty"`
	Size              int64
	Owner             *s3Owner `xml:",omitempty"`
	StorageClass      string
}

type s3Prefix struct {
	Prefix string
}

// listObjects serves ListObjects (version 1) and ListObjectsV2.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
func (c *s3Call) listObjects(version int) error {
	q := url.Values(c.query)
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v, ok := c.query["max-keys"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return apierr.New(s3.CodeInvalidArgument, "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return apierr.New(s3.CodeInvalidArgument, "Invalid Encoding Method specified in Request")
	}
	opts := []authz.Option{}
	if _, ok := c.query["prefix"]; ok {
		opts = append(opts, authz.WithKey("s3:prefix", prefix))
	}
	if _, ok := c.query["delimiter"]; ok {
		opts = append(opts, authz.WithKey("s3:delimiter", delim))
	}
	if _, ok := c.query["max-keys"]; ok {
		opts = append(opts, authz.WithKey("s3:max-keys", q.Get("max-keys")))
	}
	if err := c.authorize("s3:ListBucket", bucketARN(c.bucket), opts...); err != nil {
		return err
	}
	out := listBucketResult{Xmlns: S3Namespace, Name: c.bucket, Prefix: prefix, MaxKeys: maxKeys, Delimiter: delim, EncodingType: enc}
	in := s3.ListInput{Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys}
	if version == 2 {
		out.StartAfter = q.Get("start-after")
		in.After = out.StartAfter
		if tok, ok := c.query["continuation-token"]; ok {
			out.ContinuationToken = tok[0]
			after, err := decodeToken(tok[0])
			if err != nil {
				return apierr.New(s3.CodeInvalidArgument, "The continuation token provided is incorrect")
			}
			in.After = max(in.After, after)
		}
	} else {
		marker := q.Get("marker")
		out.Marker = &marker
		in.After = marker
	}
	res, err := c.srv.cfg.S3.ListObjects(c.ctx, c.bucket, in)
	if err != nil {
		return err
	}
	out.IsTruncated = res.Truncated
	esc := func(s string) string { return s }
	if enc == "url" {
		esc = s3URLEncode
		out.Prefix, out.Delimiter, out.StartAfter = esc(out.Prefix), esc(out.Delimiter), esc(out.StartAfter)
		if out.Marker != nil {
			m := esc(*out.Marker)
			out.Marker = &m
		}
	}
	for _, o := range res.Objects {
		ct := s3Content{Key: esc(o.Key), LastModified: o.LastModified.UTC().Format(s3Time), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
		if o.Checksum != nil {
			ct.ChecksumAlgorithm = o.Checksum.Algorithm
		}
		if version == 1 {
			ct.Owner = c.owner()
		}
		out.Contents = append(out.Contents, ct)
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, s3Prefix{Prefix: esc(p)})
	}
	if version == 2 {
		n := len(res.Objects) + len(res.CommonPrefixes)
		out.KeyCount = &n
		if res.Truncated {
			out.NextContinuationToken = encodeToken(res.Last)
		}
	} else if res.Truncated && delim != "" {
		out.NextMarker = esc(res.Last)
	}
	return c.writeXML(out)
}

// Continuation tokens are opaque to clients; ours carry the last key.
func encodeToken(last string) string { return base64URL.EncodeToString([]byte(last)) }

func decodeToken(t string) (string, error) {
	b, err := base64URL.DecodeString(t)
	return string(b), err
}

// s3URLEncode is encoding-type=url: percent-encoding of everything but
// unreserved characters and "/", which clients undo with unquote_plus or
// url.QueryUnescape.
func s3URLEncode(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.~/", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[ch>>4])
		b.WriteByte(hexd[ch&15])
	}
	return b.String()
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Uploads            []s3UploadEntry `xml:"Upload"`
}

type s3UploadEntry struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    *s3Owner
	Owner        *s3Owner
	StorageClass string
	Initiated    string
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
func (c *s3Call) listMultipartUploads() error {
	if err := c.authorize("s3:ListBucketMultipartUploads", bucketARN(c.bucket)); err != nil {
		return err
	}
	prefix := url.Values(c.query).Get("prefix")
	us, err := c.srv.cfg.S3.ListMultipartUploads(c.ctx, c.bucket, prefix)
	if err != nil {
		return err
	}
	out := listMultipartUploadsResult{Xmlns: S3Namespace, Bucket: c.bucket, Prefix: prefix, MaxUploads: 1000}
	for _, u := range us {
		out.Uploads = append(out.Uploads, s3UploadEntry{Key: u.Key, UploadID: u.ID, Initiator: c.owner(), Owner: c.owner(),
			StorageClass: "STANDARD", Initiated: u.Initiated.Format(s3Time)})
	}
	return c.writeXML(out)
}

// itoa64 formats an int64.
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// httpDate is the format of Last-Modified and friends.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
