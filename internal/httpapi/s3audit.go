package httpapi

import (
	"io"
	"net/http"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
)

// S3 calls are recorded like every other call: the record is written
// (durably, for a successful write) before the response's status goes out.
// requestParameters follow CloudTrail's S3 events: bucketName, Host, key.
// Object-level calls are data events (eventCategory "Data"), bucket-level
// ones management events; LookupEvents returns both (docs/decisions/0014).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html

// s3Params is an S3 event's requestParameters. A struct rather than a
// map: it is built on every call, and encodes with the same keys in the
// same order (a map's keys are sorted: "Host" < "bucketName" < "key").
type s3Params struct {
	Host       string `json:"Host"`
	BucketName string `json:"bucketName,omitempty"`
	Key        string `json:"key,omitempty"`
}

// AppendJSON writes what json.Marshal writes, without reflection: S3's
// parameters are encoded on every call (audit.JSONAppender).
func (p *s3Params) AppendJSON(b []byte) []byte {
	b = append(b, `{"Host":`...)
	b = audit.AppendJSONString(b, p.Host)
	if p.BucketName != "" {
		b = append(b, `,"bucketName":`...)
		b = audit.AppendJSONString(b, p.BucketName)
	}
	if p.Key != "" {
		b = append(b, `,"key":`...)
		b = audit.AppendJSONString(b, p.Key)
	}
	return append(b, '}')
}

// s3ManagementEvents are S3's bucket-level (control plane) calls, which
// CloudTrail records as management events; every other S3 call acts on
// objects and is a data event.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
var s3ManagementEvents = map[string]bool{
	"ListBuckets": true, "CreateBucket": true, "DeleteBucket": true, "HeadBucket": true,
	"GetBucketLocation": true, "GetBucketPolicy": true, "PutBucketPolicy": true, "DeleteBucketPolicy": true,
}

// s3DataEvent reports whether CloudTrail records op as a data event.
// A call that did not get as far as naming its operation counts as one
// when it names an object.
func (c *s3Call) s3DataEvent() bool {
	if c.op == "" {
		return c.key != ""
	}
	return !s3ManagementEvents[c.op]
}

func (c *s3Call) s3Resources() []audit.Resource {
	var rs []audit.Resource
	if c.key != "" {
		rs = append(rs, audit.Resource{Type: "AWS::S3::Object", ARN: objectARN(c.bucket, c.key)})
	}
	if c.bucket != "" {
		rs = append(rs, audit.Resource{AccountID: c.accountID(), Type: "AWS::S3::Bucket", ARN: bucketARN(c.bucket)})
	}
	return rs
}

func (c *s3Call) accountID() string {
	if c.caller != nil {
		return string(c.caller.Account)
	}
	return ""
}

// record writes the call's audit record once; err is the call's outcome.
// It returns the error to answer instead when a required durable record
// could not be written.
func (c *s3Call) record(err error) error {
	if c.audited {
		return nil
	}
	c.audited = true
	rec := &CallRecord{Request: c.r, Time: c.env.Now, RequestID: c.reqID, Service: "s3", Action: c.op,
		Region: c.env.Region, Caller: c.caller, Resources: c.s3Resources(), DataEvent: c.s3DataEvent(), Err: err,
		Parameters: &s3Params{Host: c.r.Host, BucketName: c.bucket, Key: c.key}}
	if rec.Action == "" {
		rec.Action = "Unknown"
	}
	return c.srv.Audit(rec)
}

// auditWriter records a successful call just before its status is
// written; if the record cannot be written, the client gets the error.
type auditWriter struct {
	http.ResponseWriter
	c      *s3Call
	failed bool
}

func (a *auditWriter) WriteHeader(code int) {
	if a.failed {
		return
	}
	if !a.c.audited && code < 400 {
		if err := a.c.record(nil); err != nil {
			a.failed = true
			a.c.writeError(a.ResponseWriter, apierr.As(err))
			return
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *auditWriter) Write(b []byte) (int, error) {
	if !a.c.audited {
		a.WriteHeader(http.StatusOK)
	}
	if a.failed {
		return len(b), nil
	}
	return a.ResponseWriter.Write(b)
}

// ReadFrom keeps net/http's sendfile path for object bodies.
func (a *auditWriter) ReadFrom(r io.Reader) (int64, error) {
	if !a.c.audited {
		a.WriteHeader(http.StatusOK)
	}
	if a.failed {
		return io.Copy(io.Discard, r)
	}
	if rf, ok := a.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(a.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (a *auditWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }
