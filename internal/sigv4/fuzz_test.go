package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary Authorization headers, dates and query strings
// to Parse: it must never panic, and must fail only with an *Error.
func FuzzParse(f *testing.F) {
	f.Add(goodAuth, "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request,SignedHeaders=host,Signature=", "Sun, 30 Aug 2015 12:36:00 GMT", "")
	f.Add("", "", presign+"&X-Amz-Expires=60&X-Amz-Security-Token=a%2Bb")
	f.Add("AWS4-HMAC-SHA256 Credential= a", "x", "X-Amz-Signature=%zz")
	f.Add("AWS4-HMAC-SHA256 ,,, =", "20150830T123600Z", "a=b&&=&X-Amz-Algorithm")
	f.Fuzz(func(t *testing.T, auth, date, query string) {
		r := &http.Request{Method: "GET", Host: "h", URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		p, err := Parse(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("Parse returned %T %v, want *Error with code and message", err, err)
			}
			return
		}
		if p.Scope.Terminator != Terminator || len(p.SignedHeaders) == 0 {
			t.Fatalf("accepted an invalid scope or signed header list: %+v", p)
		}
		_ = p.CheckTime(time.Unix(0, 0))
		_ = p.Verify(r, make([]byte, 32), emptySHA256, Options{})
	})
}

// FuzzVerify signs arbitrary requests (method, path, query, a header value,
// body hash) with our own canonicalisation and checks that Verify accepts
// exactly that signature and rejects any other. It must never panic.
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/a b/%2F/../c", "x=1&y=a+b&X-Amz-Security-Token=t", "v  1", emptySHA256, false)
	f.Add("POST", "/", "", "application/x-www-form-urlencoded; charset=utf-8", "UNSIGNED-PAYLOAD", true)
	f.Add("PUT", "//é/./", "%zz=%&=", "\t", "", false)
	key := DeriveKey("secret", "20150830", "us-east-1", "service")
	f.Fuzz(func(t *testing.T, method, rawPath, query, hval, payloadHash string, s3 bool) {
		u, err := url.Parse("http://example.com" + rawPath)
		if err != nil || u.Host != "example.com" || !strings.HasPrefix(rawPath, "/") {
			return
		}
		u.RawQuery = query
		opts := Options{}
		if s3 {
			opts = S3Options()
			opts.Service = ""
		}
		r := &http.Request{Method: method, Host: "example.com", URL: u, Header: http.Header{}}
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		r.Header["My-Header"] = []string{hval}
		signed := []string{"host", "my-header", "x-amz-date"}
		scope := Scope{"20150830", "us-east-1", "service", Terminator}
		date := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
		sig := Sign(key, StringToSign(date, scope, CanonicalRequest(r, signed, payloadHash, opts)))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/"+scope.String()+", SignedHeaders=host;my-header;x-amz-date, Signature="+sig)
		if strings.Contains(query, "X-Amz-Algorithm") || strings.Contains(query, "X-Amz-Credential") || strings.Contains(query, "X-Amz-Signature") {
			if _, err := Parse(r); err == nil {
				t.Fatal("Parse accepted header and query auth together")
			}
			return
		}
		p, err := Parse(r)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if err := p.Verify(r, key, payloadHash, opts); err != nil {
			t.Fatalf("Verify rejected its own signature: %v", err)
		}
		bad := *p
		bad.setSignature(flipBit(sig, 5))
		if err := bad.Verify(r, key, payloadHash, opts); err == nil {
			t.Fatal("Verify accepted a wrong signature")
		}
	})
}
