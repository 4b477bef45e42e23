package httpapi

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/s3"
)

var base64URL = base64.RawURLEncoding

// metaOf reads the object metadata a PUT (or CreateMultipartUpload) sets.
func metaOf(h http.Header) s3.Meta {
	m := s3.Meta{
		ContentType: h.Get("Content-Type"), ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage: h.Get("Content-Language"), CacheControl: h.Get("Cache-Control"), Expires: h.Get("Expires"),
	}
	// aws-chunked is the transfer's encoding, not the object's.
	var enc []string
	for _, e := range strings.Split(h.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			enc = append(enc, e)
		}
	}
	m.ContentEncoding = strings.Join(enc, ",")
	for k, v := range h {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
			if m.User == nil {
				m.User = map[string]string{}
			}
			m.User[name] = strings.Join(v, ",")
		}
	}
	return m
}

// responseOverrides are the query parameters of a GET that override its
// response headers.
var responseOverrides = []struct{ param, header string }{
	{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
	{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
}

// writeMeta sets an object's headers on a GET or HEAD response.
func writeMeta(h http.Header, o *s3.Object, q url.Values) {
	ct := o.Meta.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	set("Content-Encoding", o.Meta.ContentEncoding)
	set("Content-Disposition", o.Meta.ContentDisposition)
	set("Content-Language", o.Meta.ContentLanguage)
	set("Cache-Control", o.Meta.CacheControl)
	set("Expires", o.Meta.Expires)
	for k, v := range o.Meta.User {
		h["X-Amz-Meta-"+k] = []string{v}
	}
	// Presigned GETs may override the response headers.
	if len(q) > 0 {
		for _, o := range responseOverrides {
			if v := q.Get(o.param); v != "" {
				h.Set(o.header, v)
			}
		}
	}
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("Last-Modified", httpDate(o.LastModified))
	h.Set("Accept-Ranges", "bytes")
	if o.Parts > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(o.Parts))
	}
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
func (c *s3Call) putObject() error {
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	p, err := c.body()
	if err != nil {
		return err
	}
	o, err := c.srv.cfg.S3.PutObject(c.ctx, &s3.PutInput{
		Bucket: c.bucket, Key: c.key, Body: p.r, Size: p.size,
		ContentMD5: c.r.Header.Get("Content-Md5"), Checksum: p.checksum, Meta: metaOf(c.r.Header),
	})
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	if o.Checksum != nil {
		h.Set("X-Amz-Checksum-"+o.Checksum.Algorithm, o.Checksum.Value)
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// getObject serves GetObject and HeadObject, with Range and the
// conditional headers.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
func (c *s3Call) getObject(head bool) error {
	// One read for the bucket policy and the object's record.
	_, pol, o, err := c.srv.cfg.S3.Lookup(c.ctx, c.bucket, c.key)
	c.policyLoaded, c.policy = true, pol
	if aerr := c.authorize("s3:GetObject", c.objectARN()); aerr != nil {
		return aerr
	}
	// A small object's bytes come from memory (s3.Service.ReadSmall); a
	// larger one is streamed from its file.
	var (
		f     io.ReadSeekCloser
		small []byte
	)
	if err == nil && !head {
		small, f, err = c.open(o)
		if err != nil && errors.Is(err, os.ErrNotExist) {
			// Replaced meanwhile: take the slow path that retries.
			var file *os.File
			o, file, err = c.srv.cfg.S3.GetObject(c.ctx, c.bucket, c.key)
			if err == nil {
				f = file
			}
		}
	}
	if err != nil {
		if apierr.Is(err, s3.CodeNoSuchKey) {
			// S3 says NoSuchKey only to callers who may list the bucket;
			// anyone else learns nothing: AccessDenied.
			if aerr := c.authorize("s3:ListBucket", bucketARN(c.bucket)); aerr != nil {
				return aerr
			}
		}
		return err
	}
	if f != nil {
		defer f.Close()
	}
	if code := checkConditions(c.r.Header, o); code != "" {
		writeMeta(c.w.Header(), o, nil)
		if code == s3.CodeNotModified {
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return apierr.New(code, "At least one of the pre-conditions you specified did not hold")
	}
	h := c.w.Header()
	writeMeta(h, o, url.Values(c.query))
	start, n, partial, err := parseRange(c.r.Header.Get("Range"), o.Size)
	if err != nil {
		c.rangeObjectSize = o.Size
		return err
	}
	if o.Checksum != nil && !partial && strings.EqualFold(c.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		h.Set("X-Amz-Checksum-"+o.Checksum.Algorithm, o.Checksum.Value)
	}
	h.Set("Content-Length", itoa64(n))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", "bytes "+itoa64(start)+"-"+itoa64(start+n-1)+"/"+itoa64(o.Size))
		status = http.StatusPartialContent
	}
	c.w.WriteHeader(status)
	if head || n == 0 {
		return nil
	}
	if f == nil {
		// Headers and body go out in one write.
		c.w.Write(small[start : start+n])
		return nil
	}
	if start > 0 {
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return nil // headers are out; the short body tells the client
		}
	}
	// *os.File through io.LimitReader: net/http can sendfile it.
	io.Copy(c.w, io.LimitReader(f, n))
	return nil
}

// open returns a small object's bytes, or a larger one's file.
func (c *s3Call) open(o *s3.Object) ([]byte, io.ReadSeekCloser, error) {
	if o.Size <= s3.SmallObjectSize {
		b, err := c.srv.cfg.S3.ReadSmall(o)
		return b, nil, err
	}
	f, err := c.srv.cfg.S3.Open(o)
	if err != nil {
		return nil, nil, err
	}
	return nil, f, nil
}

// checkConditions applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in S3's order; it returns the code to answer or "".
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
func checkConditions(h http.Header, o *s3.Object) apierr.Code {
	etagMatch := func(v string) bool {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.Trim(t, `"`) == o.ETag {
				return true
			}
		}
		return false
	}
	mod := o.LastModified.Truncate(time.Second)
	if v := h.Get("If-Match"); v != "" {
		if !etagMatch(v) {
			return s3.CodePreconditionFailed
		}
	} else if v := h.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return s3.CodePreconditionFailed
		}
	}
	if v := h.Get("If-None-Match"); v != "" {
		if etagMatch(v) {
			return s3.CodeNotModified
		}
	} else if v := h.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			return s3.CodeNotModified
		}
	}
	return ""
}

// parseRange reads a single "bytes=" range as S3 does: a malformed or
// multi-range header is ignored (the whole object), an unsatisfiable one
// is InvalidRange.
func parseRange(v string, size int64) (start, n int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	invalid := apierr.New(s3.CodeInvalidRange, "The requested range is not satisfiable")
	if first == "" {
		k, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || k < 0 {
			return 0, size, false, nil
		}
		if k == 0 || size == 0 {
			return 0, 0, false, invalid
		}
		k = min(k, size)
		return size - k, k, true, nil
	}
	s, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || s < 0 {
		return 0, size, false, nil
	}
	e := size - 1
	if last != "" {
		if e, perr = strconv.ParseInt(last, 10, 64); perr != nil || e < s {
			return 0, size, false, nil
		}
	}
	if s >= size {
		return 0, 0, false, invalid
	}
	e = min(e, size-1)
	return s, e - s + 1, true, nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
func (c *s3Call) deleteObject() error {
	if err := c.authorize("s3:DeleteObject", c.objectARN()); err != nil {
		return err
	}
	if err := c.srv.cfg.S3.DeleteObject(c.ctx, c.bucket, c.key); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type deleteRequest struct {
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"DeleteResult"`
	Xmlns   string          `xml:"xmlns,attr"`
	Deleted []deletedEntry  `xml:"Deleted"`
	Errors  []deleteFailure `xml:"Error"`
}

type deletedEntry struct{ Key string }

type deleteFailure struct {
	Key     string
	Code    string
	Message string
}

// DeleteObjects authorizes s3:DeleteObject for each key and reports each
// failure in the result, as S3 does; Quiet leaves out the successes.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
func (c *s3Call) deleteObjects() error {
	body, err := c.readXMLBody()
	if err != nil {
		return err
	}
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return apierr.New(s3.CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if _, err := c.srv.cfg.S3.Bucket(c.ctx, c.bucket); err != nil {
		if aerr := c.authorize("s3:DeleteObject", objectARN(c.bucket, req.Objects[0].Key)); aerr != nil {
			return aerr
		}
		return err
	}
	out := deleteResult{Xmlns: S3Namespace}
	for _, o := range req.Objects {
		err := s3.ValidKey(o.Key)
		if err == nil {
			err = c.authorize("s3:DeleteObject", objectARN(c.bucket, o.Key))
		}
		if err == nil {
			err = c.srv.cfg.S3.DeleteObject(c.ctx, c.bucket, o.Key)
		}
		if err != nil {
			e := apierr.As(err)
			if e == nil {
				c.srv.cfg.Log.Error("s3 delete failed", "request_id", c.reqID, "err", err)
				e = &apierr.Error{Code: s3.CodeInternalError, Message: "We encountered an internal error. Please try again."}
			}
			out.Errors = append(out.Errors, deleteFailure{Key: o.Key, Code: string(e.Code), Message: e.Message})
			continue
		}
		if !req.Quiet {
			out.Deleted = append(out.Deleted, deletedEntry{Key: o.Key})
		}
	}
	return c.writeXML(out)
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string
	ETag         string
}

// copySource parses x-amz-copy-source: "bucket/key" or "/bucket/key",
// URL-encoded, with an optional ?versionId.
func copySource(v string) (bucket, key string, err error) {
	v, _, _ = strings.Cut(v, "?versionId=")
	d, uerr := url.PathUnescape(v)
	if uerr != nil {
		return "", "", apierr.New(s3.CodeInvalidArgument, "Invalid copy source encoding")
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(d, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", "", apierr.New(s3.CodeInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}

// CopyObject needs s3:GetObject on the source (with the source bucket's
// policy) and s3:PutObject on the destination.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
func (c *s3Call) copyObject() error {
	sb, sk, err := copySource(c.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	if err := c.authorizeSource(sb, sk); err != nil {
		return err
	}
	var meta *s3.Meta
	switch d := c.r.Header.Get("X-Amz-Metadata-Directive"); d {
	case "", "COPY":
	case "REPLACE":
		m := metaOf(c.r.Header)
		meta = &m
	default:
		return apierr.New(s3.CodeInvalidArgument, "Unknown metadata directive.")
	}
	o, err := c.srv.cfg.S3.CopyObject(c.ctx, sb, sk, c.bucket, c.key, meta)
	if err != nil {
		return err
	}
	return c.writeXML(copyObjectResult{Xmlns: S3Namespace, LastModified: o.LastModified.Format(s3Time), ETag: `"` + o.ETag + `"`})
}

// authorizeSource checks s3:GetObject on a copy source under its own
// bucket's policy.
func (c *s3Call) authorizeSource(bucket, key string) error {
	src := &s3Call{srv: c.srv, w: c.w, r: c.r, ctx: c.ctx, reqID: c.reqID, caller: c.caller, env: c.env, bucket: bucket, key: key}
	return src.authorize("s3:GetObject", objectARN(bucket, key))
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr"`
	TagSet  struct{} `xml:"TagSet"`
}

// GetObjectTagging answers an empty tag set: iamd keeps no object tags,
// and `aws s3 cp` between buckets asks for them.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
func (c *s3Call) getObjectTagging() error {
	if err := c.authorize("s3:GetObjectTagging", c.objectARN()); err != nil {
		return err
	}
	if _, err := c.srv.cfg.S3.HeadObject(c.ctx, c.bucket, c.key); err != nil {
		return err
	}
	return c.writeXML(tagging{Xmlns: S3Namespace})
}
