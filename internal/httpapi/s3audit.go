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
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html

// s3Params is an S3 event's requestParameters.
func (c *s3Call) s3Params() map[string]any {
	p := map[string]any{"Host": c.r.Host}
	if c.bucket != "" {
		p["bucketName"] = c.bucket
	}
	if c.key != "" {
		p["key"] = c.key
	}
	return p
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
	rec := &CallRecord{Request: c.r, Time: c.env.Now, RequestID: c.reqID, Service: "s3", Action: c.op,
		Region: c.env.Region, Caller: c.caller, Parameters: c.s3Params(), Resources: c.s3Resources(), Err: err}
	if rec.Action == "" {
		rec.Action = "Unknown"
	}
	if c.audited {
		return nil
	}
	c.audited = true
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
