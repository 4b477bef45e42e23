package httpapi

// S3's REST-XML protocol, path-style (/bucket/key): routing by method,
// path and subresource, SigV4 with S3's canonicalisation and payload
// modes, S3's error document and statuses, and every call authorized with
// S3's action names, ARNs, condition keys and the bucket policy.
// https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/s3"
	"github.com/iamd/iamd/internal/sigv4"
)

// S3Namespace is the XML namespace of S3's documents.
const S3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3BodyIdle bounds how long an S3 body may stall between reads; a large
// upload may take as long as it needs while bytes keep coming.
const s3BodyIdle = 60 * time.Second

// maxS3XMLBody bounds the XML bodies S3 reads whole (DeleteObjects with
// 1000 keys of 1 KiB, CompleteMultipartUpload with 10000 parts, policies).
const maxS3XMLBody = 2 << 20

// signingKeyer gives the S3 edge the signing key of an authenticated
// request, for aws-chunked chunk signatures. authz.Engine implements it.
type signingKeyer interface {
	SigningKey(r *http.Request, p *sigv4.Parsed) ([]byte, error)
}

// isS3Request tells S3 from the Query and JSON services on the shared
// port: the credential scope says "s3", or the request is neither a Query
// call (POST / with a form body, or Action in the query) nor a JSON call
// (X-Amz-Target).
func isS3Request(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); a != "" {
		return strings.Contains(a, "/s3/aws4_request")
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		return strings.Contains(c, "/s3/aws4_request")
	}
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if r.URL.Query().Has("Action") {
		return false
	}
	// S3 has no POST on the service root: an unsigned POST / is a Query
	// call whatever its content type, and gets the Query protocol's error.
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		return false
	}
	return true
}

// s3Call is one S3 request as the operations see it.
type s3Call struct {
	srv    *Server
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	reqID  string
	caller *principal.Caller
	env    authz.Env
	parsed *sigv4.Parsed
	hash   string // x-amz-content-sha256 (or UNSIGNED-PAYLOAD for presigned URLs)
	bucket string
	key    string
	query  map[string][]string

	// bucketPolicy is loaded once per call.
	policyLoaded bool
	policy       *policy.Named
	policyErr    error

	// rangeObjectSize is the object size an InvalidRange reports (-1: none).
	rangeObjectSize int64

	op      string // the operation, as CloudTrail names it
	audited bool
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	reqID := s.cfg.NewRequestID()
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("x-amz-id-2", s3HostID(reqID))
	c := &s3Call{srv: s, r: r, ctx: r.Context(), reqID: reqID, env: envOf(r, now), query: r.URL.Query(), rangeObjectSize: -1}
	c.w = &auditWriter{ResponseWriter: w, c: c}
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	c.bucket, c.key, _ = strings.Cut(path[1:], "/")
	if err := c.authenticate(now); err != nil {
		c.fail(err)
		return
	}
	if s.cfg.S3 == nil {
		c.fail(apierr.New(s3.CodeNotImplemented, "S3 is not enabled on this server."))
		return
	}
	if err := c.route(); err != nil {
		c.fail(err)
	}
}

// s3HostID is an x-amz-id-2 of the right shape, derived from the request id.
func s3HostID(reqID string) string {
	sum := sha256.Sum256([]byte(reqID))
	return hex.EncodeToString(sum[:])
}

// authenticate verifies the request's signature with S3's rules and maps
// authz's errors to S3's codes.
func (c *s3Call) authenticate(now time.Time) error {
	p, err := sigv4.Parse(c.r)
	if err != nil {
		return s3AuthError(fromSigV4Error(err), false)
	}
	c.parsed = p
	c.hash = c.r.Header.Get("X-Amz-Content-Sha256")
	if c.hash == "" {
		if !p.Presigned {
			return apierr.New(s3.CodeInvalidRequest, "Missing required header for this request: x-amz-content-sha256")
		}
		c.hash = "UNSIGNED-PAYLOAD"
	}
	if !validPayloadHash(c.hash) {
		return apierr.New(s3.CodeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD or a valid sha256 value.")
	}
	caller, region, err := c.srv.cfg.Authenticator.Authenticate(c.r, c.hash, "s3", now)
	if err != nil {
		return s3AuthError(err, p.Presigned)
	}
	c.caller, c.env.Region = caller, region
	return nil
}

func fromSigV4Error(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return apierr.New(apierr.Code(se.Code), "%s", se.Message)
	}
	return err
}

func validPayloadHash(h string) bool {
	switch h {
	case "UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", sigv4.StreamingPayload, sigv4.StreamingPayload + "-TRAILER":
		return true
	}
	if len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// s3AuthError turns the authenticator's Query-flavoured errors into S3's.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
func s3AuthError(err error, presigned bool) error {
	e := apierr.As(err)
	if e == nil {
		return err
	}
	malformed := s3.CodeAuthorizationHeaderMalformed
	if presigned {
		malformed = s3.CodeAuthorizationQueryParametersError
	}
	switch e.Code {
	case apierr.InvalidClientTokenID:
		return apierr.New(s3.CodeInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
	case apierr.ExpiredToken:
		return apierr.New(apierr.ExpiredToken, "The provided token has expired.")
	case apierr.RequestExpired:
		return apierr.New(s3.CodeAccessDenied, "Request has expired")
	case apierr.MissingAuthenticationToken:
		return apierr.New(s3.CodeAccessDenied, "Access Denied")
	case apierr.IncompleteSignature:
		return apierr.New(malformed, "%s", e.Message)
	case apierr.SignatureDoesNotMatch:
		switch {
		case strings.HasPrefix(e.Message, "Signature expired"), strings.HasPrefix(e.Message, "Signature not yet current"):
			return apierr.New(s3.CodeRequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
		case strings.HasPrefix(e.Message, "Credential should be scoped"), strings.HasPrefix(e.Message, "Date in Credential scope"):
			return apierr.New(malformed, "The authorization header is malformed; %s", e.Message)
		}
	}
	return e
}

// authorize asks authz with the bucket policy as the resource policy.
func (c *s3Call) authorize(action, resource string, opts ...authz.Option) error {
	req := &authz.Request{Caller: c.caller, Action: action, Resource: resource, Env: c.env}
	if pol := c.bucketPolicy(); pol != nil {
		req.ResourcePolicy = pol
	}
	if acl := c.r.Header.Get("X-Amz-Acl"); acl != "" {
		req.Keys = append(req.Keys, authz.Key{Name: "s3:x-amz-acl", Values: []string{acl}})
	}
	for _, o := range opts {
		o(req)
	}
	err := c.srv.cfg.Authorizer.Authorize(c.ctx, req)
	if err != nil {
		return err
	}
	// A bucket policy that cannot be loaded must not be skipped silently.
	if c.policyErr != nil && !apierr.Is(c.policyErr, s3.CodeNoSuchBucket) {
		return c.policyErr
	}
	return nil
}

// bucketPolicy returns the bucket's compiled policy, nil when there is
// none or no such bucket (the operation then reports NoSuchBucket).
func (c *s3Call) bucketPolicy() *policy.Named {
	if !c.policyLoaded && c.bucket != "" {
		c.policyLoaded = true
		_, c.policy, c.policyErr = c.srv.cfg.S3.BucketPolicy(c.ctx, c.bucket)
	}
	return c.policy
}

func bucketARN(b string) string     { return "arn:aws:s3:::" + b }
func objectARN(b, k string) string  { return "arn:aws:s3:::" + b + "/" + k }
func (c *s3Call) objectARN() string { return objectARN(c.bucket, c.key) }

// route picks the operation from method, path and subresource.
func (c *s3Call) route() error {
	q, m := c.query, c.r.Method
	has := func(k string) bool { _, ok := q[k]; return ok }
	if c.bucket == "" {
		if m == http.MethodGet {
			c.op = "ListBuckets"
			return c.listBuckets()
		}
		return errMethodNotAllowed()
	}
	if strings.HasPrefix(c.bucket, "_") {
		// /_iamd/ is iamd's own; no bucket name starts with "_".
		return s3.ValidBucketName(c.bucket)
	}
	if c.key == "" {
		switch {
		case has("policy"):
			switch m {
			case http.MethodGet:
				c.op = "GetBucketPolicy"
				return c.getBucketPolicy()
			case http.MethodPut:
				c.op = "PutBucketPolicy"
				return c.putBucketPolicy()
			case http.MethodDelete:
				c.op = "DeleteBucketPolicy"
				return c.deleteBucketPolicy()
			}
		case has("location") && m == http.MethodGet:
			c.op = "GetBucketLocation"
			return c.getBucketLocation()
		case has("uploads") && m == http.MethodGet:
			c.op = "ListMultipartUploads"
			return c.listMultipartUploads()
		case has("delete") && m == http.MethodPost:
			c.op = "DeleteObjects"
			return c.deleteObjects()
		case len(subresources(q)) > 0:
			return apierr.New(s3.CodeNotImplemented, "A header or query you provided implies functionality that is not implemented.")
		case m == http.MethodPut:
			c.op = "CreateBucket"
			return c.createBucket()
		case m == http.MethodHead:
			c.op = "HeadBucket"
			return c.headBucket()
		case m == http.MethodDelete:
			c.op = "DeleteBucket"
			return c.deleteBucket()
		case m == http.MethodGet && url.Values(q).Get("list-type") == "2":
			c.op = "ListObjectsV2"
			return c.listObjects(2)
		case m == http.MethodGet:
			c.op = "ListObjects"
			return c.listObjects(1)
		}
		return errMethodNotAllowed()
	}
	if err := s3.ValidKey(c.key); err != nil {
		return err
	}
	switch {
	case has("uploadId"):
		switch m {
		case http.MethodPut:
			if c.r.Header.Get("X-Amz-Copy-Source") != "" {
				c.op = "UploadPartCopy"
				return c.uploadPartCopy()
			}
			c.op = "UploadPart"
			return c.uploadPart()
		case http.MethodPost:
			c.op = "CompleteMultipartUpload"
			return c.completeMultipartUpload()
		case http.MethodDelete:
			c.op = "AbortMultipartUpload"
			return c.abortMultipartUpload()
		case http.MethodGet:
			c.op = "ListParts"
			return c.listParts()
		}
	case has("uploads") && m == http.MethodPost:
		c.op = "CreateMultipartUpload"
		return c.createMultipartUpload()
	case has("tagging") && m == http.MethodGet:
		c.op = "GetObjectTagging"
		return c.getObjectTagging()
	case len(subresources(q)) > 0:
		return apierr.New(s3.CodeNotImplemented, "A header or query you provided implies functionality that is not implemented.")
	case m == http.MethodPut && c.r.Header.Get("X-Amz-Copy-Source") != "":
		c.op = "CopyObject"
		return c.copyObject()
	case m == http.MethodPut:
		c.op = "PutObject"
		return c.putObject()
	case m == http.MethodGet:
		c.op = "GetObject"
		return c.getObject(false)
	case m == http.MethodHead:
		c.op = "HeadObject"
		return c.getObject(true)
	case m == http.MethodDelete:
		c.op = "DeleteObject"
		return c.deleteObject()
	}
	return errMethodNotAllowed()
}

// subresources are the query parameters that select an operation iamd does
// not implement (acl, tagging, versioning, …).
func subresources(q map[string][]string) []string {
	var out []string
	for k := range q {
		switch k {
		case "acl", "tagging", "versioning", "versions", "lifecycle", "cors", "website", "notification",
			"replication", "encryption", "logging", "object-lock", "retention", "legal-hold", "torrent",
			"restore", "select", "accelerate", "requestPayment", "analytics", "inventory", "metrics",
			"ownershipControls", "publicAccessBlock", "intelligent-tiering", "attributes", "policyStatus":
			out = append(out, k)
		}
	}
	return out
}

func errMethodNotAllowed() error {
	return apierr.New(s3.CodeMethodNotAllowed, "The specified method is not allowed against this resource.")
}

// s3ErrorDoc is S3's error document.
type s3ErrorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

// fail renders err as S3's <Error> document with S3's status; a HEAD
// response carries the status only.
func (c *s3Call) fail(err error) {
	e := apierr.As(err)
	if e == nil || e.Code == apierr.InternalFailure {
		c.srv.cfg.Log.Error("s3 request failed", "request_id", c.reqID, "err", err)
		e = &apierr.Error{Code: s3.CodeInternalError, Message: "We encountered an internal error. Please try again."}
	}
	if aerr := c.record(e); aerr != nil {
		e = apierr.As(aerr)
	}
	c.writeError(c.w.(*auditWriter).ResponseWriter, e)
}

// writeError writes S3's error document for e to w.
func (c *s3Call) writeError(w http.ResponseWriter, e *apierr.Error) {
	status := S3Status(e.Code)
	h := w.Header()
	for k := range h {
		if k != "X-Amz-Request-Id" && k != "X-Amz-Id-2" && k != "Connection" {
			delete(h, k)
		}
	}
	if s := c.r.Header.Get("Content-Length"); s != "" && s != "0" && e.Code != s3.CodeIncompleteBody {
		// The body may be unread; do not wait for it.
		h.Set("Connection", "close")
	}
	if e.Code == s3.CodeInvalidRange {
		if o := c.rangeObjectSize; o >= 0 {
			h.Set("Content-Range", "bytes */"+itoa64(o))
		}
	}
	if c.r.Method == http.MethodHead || status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	resource := c.r.URL.Path
	body, _ := xml.Marshal(s3ErrorDoc{Code: string(e.Code), Message: e.Message, Resource: resource, RequestID: c.reqID, HostID: s3HostID(c.reqID)})
	h.Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// writeXML renders an S3 result document with a 200.
func (c *s3Call) writeXML(v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return apierr.Internal(err)
	}
	c.w.Header().Set("Content-Type", "application/xml")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write([]byte(xml.Header))
	c.w.Write(b)
	return nil
}
