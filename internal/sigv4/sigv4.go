// Package sigv4 verifies AWS Signature Version 4 (SigV4) signed requests, the
// way AWS services do, so that unmodified AWS SDKs and the AWS CLI can talk to
// iamd.
//
// It implements the server half of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html:
//
//   - [Parse] pulls the authentication material out of a request, from the
//     Authorization header or from a presigned URL's query string, without
//     looking up any key;
//   - [Parsed.CheckTime] applies AWS's clock rules (a 15 minute window either
//     way for header auth, X-Amz-Expires for presigned URLs);
//   - [Parsed.Verify] rebuilds the canonical request and the string to sign,
//     signs it with the caller's signing key and compares in constant time;
//   - [DeriveKey] and [KeyCache] produce signing keys from secrets;
//   - [NewChunkedReader] verifies the per-chunk signatures of an S3
//     aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).
//
// What it does not do: it does not know any access key or secret (the caller
// looks the key id up and passes the secret or signing key), it does not read
// or hash the request body (the caller decides what the payload hash is:
// the body's hex SHA-256, or the signed X-Amz-Content-SHA256 value such as
// UNSIGNED-PAYLOAD), it does not check that a session token is valid, and it
// does not implement SigV4a (AWS4-ECDSA-P256-SHA256) or SigV2. It returns
// [*Error] values carrying the AWS error code; mapping them to iamd's API
// errors and HTTP statuses is the caller's job, so this package imports only
// the standard library.
package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm this package verifies.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator is the fixed last element of a credential scope.
const Terminator = "aws4_request"

// TimeFormat is the ISO 8601 basic format of X-Amz-Date.
const TimeFormat = "20060102T150405Z"

// ShortTimeFormat is the credential scope's date format.
const ShortTimeFormat = "20060102"

// MaxSkew is how far a header-signed request's time may be from the server's
// clock either way. The IAM guide says "in most cases" 5 minutes, but STS and
// IAM accept 15 minutes in practice (aws-notes 3.4), and so does S3.
const MaxSkew = 15 * time.Minute

// MaxExpires is the largest X-Amz-Expires a presigned URL may carry: 7 days.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
const MaxExpires = 604800 * time.Second

// AWS error codes returned in [Error.Code]. See
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
const (
	// CodeMissingAuthenticationToken: the request carries no SigV4 material at all (403).
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	// CodeIncompleteSignature: the Authorization header or the presigned
	// query parameters are malformed (400).
	CodeIncompleteSignature = "IncompleteSignature"
	// CodeSignatureDoesNotMatch: wrong signature, wrong credential scope,
	// or a header-signed request outside the clock window (403).
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeRequestExpired: a presigned URL used after X-Amz-Date + X-Amz-Expires (400).
	CodeRequestExpired = "RequestExpired"
	// CodeIncompleteBody: an aws-chunked body ended early or is malformed (400).
	CodeIncompleteBody = "IncompleteBody"
)

// msgSignatureDoesNotMatch is AWS's wording. AWS also appends its canonical
// request and string to sign; we do not, because the message reaches
// unauthenticated clients and iamd's audit log, and the canonical request can
// hold a session token. Callers that want them for debugging can call
// [CanonicalRequest] and [StringToSign] themselves.
const msgSignatureDoesNotMatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// Error is a verification failure with the AWS error code to return. sigv4
// does not import iamd's apierr: the caller maps Code to its API error (and
// HTTP status). Message is safe to show to the client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code string, parts ...string) *Error {
	return &Error{Code: code, Message: strings.Join(parts, "")}
}

// Scope is the credential scope: the date, region and service a signing key
// is valid for. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
type Scope struct {
	Date       string // YYYYMMDD
	Region     string
	Service    string
	Terminator string // always "aws4_request" once parsed
}

// String returns the scope as it appears in the string to sign:
// "20150830/us-east-1/iam/aws4_request".
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminator
}

// Parsed is the authentication material in a request, before any key lookup.
// Its string fields may share memory with the request's header and URL.
type Parsed struct {
	AccessKeyID   string
	Date          time.Time // from X-Amz-Date (header or query), or the Date header
	Scope         Scope
	SignedHeaders []string // lowercase, in the client's order (normally sorted)
	Signature     string   // hex, as sent
	SecurityToken string   // X-Amz-Security-Token (header or query), "" if none
	Presigned     bool
	Expires       time.Duration // presigned X-Amz-Expires; 0 when absent or header auth

	// tokenInQuery records that X-Amz-Security-Token came in a presigned
	// URL's query, so Verify can accept it both signed and appended after
	// signing (aws-notes 3.2).
	tokenInQuery bool
	sig          [32]byte // decoded Signature
	sigOK        bool     // Signature is 64 hex digits
	scope        string   // Scope.String(), shared with the Credential text
	signedLine   string   // SignedHeaders joined with ';'
	amzDate      string   // Date in TimeFormat
	// shArr backs SignedHeaders for up to 8 names, so that Parse makes a
	// single allocation for the usual request.
	shArr [8]string
}

// Parse extracts the SigV4 fields from the Authorization header or from the
// presigned query string. It checks the syntax and that the credential
// scope's date, terminator and service name are well formed, and nothing that
// needs a key or the clock.
//
// Errors are [*Error]: MissingAuthenticationToken when there is no SigV4
// material, IncompleteSignature when it is malformed or both forms are
// present, SignatureDoesNotMatch for a bad credential scope.
func Parse(r *http.Request) (*Parsed, error) {
	auth := r.Header["Authorization"]
	q := r.URL.RawQuery
	queryAuth := false
	if q != "" {
		queryAuth = queryHasAuth(q)
	}
	switch {
	case len(auth) > 0 && queryAuth:
		// S3 says InvalidArgument with this wording; STS and IAM answer
		// IncompleteSignature for auth they cannot make sense of.
		return nil, errorf(CodeIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case len(auth) > 0:
		if len(auth) > 1 {
			return nil, errorf(CodeIncompleteSignature, "Only one Authorization header allowed")
		}
		return parseHeader(r, auth[0])
	case queryAuth:
		return parseQuery(r, q)
	}
	return nil, errorf(CodeMissingAuthenticationToken, "Request is missing Authentication Token")
}

// queryHasAuth reports whether the raw query names any presigned-URL auth
// parameter. The names are compared raw: SDKs never escape them.
func queryHasAuth(q string) bool {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature":
			return true
		}
	}
	return false
}

func isSep(c byte) bool { return c == ',' || c == ' ' || c == '\t' }

// parseHeader parses "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=…".
// Like AWS, it splits on commas and white space, so "Credential= AKID/…"
// yields the AWS complaint about 'AKID/…' having no equal sign.
func parseHeader(r *http.Request, h string) (*Parsed, error) {
	i := 0
	for i < len(h) && isSep(h[i]) {
		i++
	}
	j := i
	for j < len(h) && !isSep(h[j]) {
		j++
	}
	alg := h[i:j]
	if alg != Algorithm {
		if strings.Contains(alg, "=") || alg == "" {
			// No algorithm at all: AWS lists what is missing.
			return nil, missingParams(h, false, false, false, false)
		}
		return nil, errorf(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '", alg, "'")
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for j < len(h) {
		for j < len(h) && isSep(h[j]) {
			j++
		}
		k := j
		for k < len(h) && !isSep(h[k]) {
			k++
		}
		if k == j {
			break
		}
		tok := h[j:k]
		j = k
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, errorf(CodeIncompleteSignature, "'", tok, "' not a valid key=value pair (missing equal-sign) in Authorization header: '", h, "'.")
		}
		switch name {
		case "Credential":
			cred, haveCred = val, true
		case "SignedHeaders":
			signed, haveSigned = val, true
		case "Signature":
			sig, haveSig = val, true
		}
	}
	date, amzDate, haveDate, dateErr := requestDateHeader(r)
	if !haveCred || !haveSig || !haveSigned || !haveDate {
		return nil, missingParams(h, haveCred, haveSig, haveSigned, haveDate)
	}
	if dateErr != nil {
		return nil, dateErr
	}
	p := &Parsed{Date: date, amzDate: amzDate}
	if err := p.setCredential(cred); err != nil {
		return nil, err
	}
	if err := p.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	p.setSignature(sig)
	if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		p.SecurityToken = v[0]
	} else if tok, ok := queryParam(r.URL.RawQuery, "X-Amz-Security-Token"); ok {
		// A token in the query of a header-signed request is part of the
		// canonical query like any other parameter.
		p.SecurityToken = tok
	}
	return p, nil
}

// queryParam returns the decoded value of the first raw query parameter
// named name.
func queryParam(q, name string) (string, bool) {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return unescape(v)
		}
	}
	return "", false
}

// missingParams builds AWS's aggregated complaint about an Authorization
// header that lacks parameters, e.g. "Authorization header requires
// 'Credential' parameter. Authorization header requires 'Signature'
// parameter. … Authorization=Bearer xyz".
func missingParams(h string, cred, sig, signed, date bool) *Error {
	var b strings.Builder
	if !cred {
		b.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if !sig {
		b.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !signed {
		b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if !date {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	b.WriteString("Authorization=")
	b.WriteString(h)
	return &Error{Code: CodeIncompleteSignature, Message: b.String()}
}

// requestDateHeader reads X-Amz-Date, falling back to Date as AWS does
// (https://docs.aws.amazon.com/general/latest/gr/sigv4-date-handling.html).
// Date may be ISO 8601 basic or an HTTP date.
func requestDateHeader(r *http.Request) (t time.Time, amzDate string, present bool, err error) {
	if v := r.Header["X-Amz-Date"]; len(v) > 0 {
		t, ok := parseAmzDate(v[0])
		if !ok {
			return t, "", true, badDate(v[0])
		}
		return t, v[0], true, nil
	}
	if v := r.Header["Date"]; len(v) > 0 {
		if t, ok := parseAmzDate(v[0]); ok {
			return t, v[0], true, nil
		}
		t, err := http.ParseTime(v[0])
		if err != nil {
			return t, "", true, badDate(v[0])
		}
		t = t.UTC()
		return t, t.Format(TimeFormat), true, nil
	}
	return time.Time{}, "", false, nil
}

func badDate(v string) *Error {
	return errorf(CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '", v, "'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// parseAmzDate parses YYYYMMDDTHHMMSSZ strictly and without allocating.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[4:6])
	d, ok3 := num(s[6:8])
	h, ok4 := num(s[9:11])
	mi, ok5 := num(s[11:13])
	se, ok6 := num(s[13:15])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d { // e.g. 20150231
		return time.Time{}, false
	}
	return t, true
}

// setCredential parses "AKID/YYYYMMDD/region/service/aws4_request" and
// checks the scope against p.amzDate, which must already be set.
// Messages follow https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html
func (p *Parsed) setCredential(cred string) error {
	akid, scope, ok := strings.Cut(cred, "/")
	if !ok || strings.Count(scope, "/") != 3 {
		return errorf(CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '", cred, "'")
	}
	p.AccessKeyID = akid
	p.scope = scope
	date, rest, _ := strings.Cut(scope, "/")
	region, rest, _ := strings.Cut(rest, "/")
	service, term, _ := strings.Cut(rest, "/")
	p.Scope = Scope{Date: date, Region: region, Service: service, Terminator: term}
	if date != p.amzDate[:8] {
		return errorf(CodeIncompleteSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '", date, "' != '", p.amzDate[:8], "', from '", p.amzDate, "'.")
	}
	// iamd accepts any region: SDKs pointed at a custom endpoint sign with
	// the client's region (aws-notes 1.1). It must still be a plausible name.
	if !validScopeName(region) {
		return errorf(CodeSignatureDoesNotMatch, "Credential should be scoped to a valid Region, not '", region, "'. ")
	}
	if !validScopeName(service) {
		return errorf(CodeSignatureDoesNotMatch, "Credential should be scoped to a valid service, not '", service, "'. ")
	}
	if term != Terminator {
		return errorf(CodeSignatureDoesNotMatch, "Credential should be scoped with a valid terminator: 'aws4_request', not '", term, "'. ")
	}
	return nil
}

// validScopeName accepts the lowercase names AWS uses for regions and
// signing names: letters, digits and '-', not empty.
func validScopeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// setSignedHeaders parses "host;x-amz-date". AWS requires the host header to
// be signed: without it a signature could be replayed against another host.
func (p *Parsed) setSignedHeaders(s string) error {
	if s == "" {
		return errorf(CodeIncompleteSignature, "Authorization header requires 'SignedHeaders' parameter.")
	}
	lower := strings.ToLower(s) // no allocation when already lowercase
	hs := p.shArr[:0]
	host := false
	for rest := lower; ; {
		h, next, more := strings.Cut(rest, ";")
		if h == "" {
			return errorf(CodeIncompleteSignature, "Empty header name in SignedHeaders: '", s, "'")
		}
		if h == "host" || h == ":authority" {
			host = true
		}
		hs = append(hs, h)
		if !more {
			break
		}
		rest = next
	}
	if !host {
		return errorf(CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	p.SignedHeaders = hs
	p.signedLine = lower
	return nil
}

func (p *Parsed) setSignature(sig string) {
	p.Signature = sig
	p.sig, p.sigOK = [32]byte{}, false
	if len(sig) != 64 {
		return
	}
	for i := range p.sig {
		hi, lo := sig[2*i], sig[2*i+1]
		if !ishex(hi) || !ishex(lo) {
			return
		}
		p.sig[i] = unhex(hi)<<4 | unhex(lo)
	}
	p.sigOK = true
}

// parseQuery parses a presigned URL:
// ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-SignedHeaders=host[&X-Amz-Security-Token=…]&X-Amz-Signature=…
func parseQuery(r *http.Request, q string) (*Parsed, error) {
	var alg, cred, date, expires, signed, sig, token string
	var haveAlg, haveCred, haveDate, haveExpires, haveSigned, haveSig, haveToken bool
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		dv, ok := unescape(v)
		if !ok {
			return nil, errorf(CodeIncompleteSignature, "Invalid URL encoding in query parameter '", k, "'")
		}
		switch k {
		case "X-Amz-Algorithm":
			alg, haveAlg = dv, true
		case "X-Amz-Credential":
			cred, haveCred = dv, true
		case "X-Amz-Date":
			date, haveDate = dv, true
		case "X-Amz-Expires":
			expires, haveExpires = dv, true
		case "X-Amz-SignedHeaders":
			signed, haveSigned = dv, true
		case "X-Amz-Signature":
			sig, haveSig = dv, true
		case "X-Amz-Security-Token":
			token, haveToken = dv, true
		}
	}
	var missing strings.Builder
	for _, m := range []struct {
		name string
		ok   bool
	}{{"X-Amz-Algorithm", haveAlg}, {"X-Amz-Credential", haveCred}, {"X-Amz-Signature", haveSig}, {"X-Amz-SignedHeaders", haveSigned}, {"X-Amz-Date", haveDate}} {
		if !m.ok {
			missing.WriteString("AWS query-string parameters must include '" + m.name + "'. ")
		}
	}
	if missing.Len() > 0 {
		missing.WriteString("Re-examine the query-string parameters.")
		return nil, &Error{Code: CodeIncompleteSignature, Message: missing.String()}
	}
	if alg != Algorithm {
		return nil, errorf(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '", alg, "'")
	}
	t, ok := parseAmzDate(date)
	if !ok {
		return nil, badDate(date)
	}
	p := &Parsed{Date: t, amzDate: date, Presigned: true}
	if haveExpires {
		n, err := strconv.ParseInt(expires, 10, 64)
		switch {
		case err != nil && !strings.HasPrefix(expires, "-"):
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires should be a number")
		case err != nil || n < 0:
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires must be non-negative")
		case n == 0:
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires must be greater than zero")
		case n > int64(MaxExpires/time.Second):
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		p.Expires = time.Duration(n) * time.Second
	}
	if err := p.setCredential(cred); err != nil {
		return nil, err
	}
	if err := p.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	p.setSignature(sig)
	if haveToken {
		p.SecurityToken, p.tokenInQuery = token, true
	} else if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		p.SecurityToken = v[0]
	}
	return p, nil
}

// CheckTime applies AWS's clock rules given the server's now. Header auth
// (and a presigned URL without X-Amz-Expires) must be within [MaxSkew] of now
// either way, else SignatureDoesNotMatch with AWS's "Signature expired" /
// "Signature not yet current" messages. A presigned URL is valid from
// X-Amz-Date (less the skew) until X-Amz-Date + X-Amz-Expires, then
// RequestExpired (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
func (p *Parsed) CheckTime(now time.Time) error {
	now = now.UTC()
	if p.Date.After(now.Add(MaxSkew)) {
		return errorf(CodeSignatureDoesNotMatch, "Signature not yet current: ", p.Date.Format(TimeFormat),
			" is still later than ", now.Add(MaxSkew).Format(TimeFormat), " (", now.Format(TimeFormat), " + 15 min.)")
	}
	if p.Presigned && p.Expires > 0 {
		if now.After(p.Date.Add(p.Expires)) {
			return errorf(CodeRequestExpired, "Request has expired")
		}
		return nil
	}
	if p.Date.Before(now.Add(-MaxSkew)) {
		return errorf(CodeSignatureDoesNotMatch, "Signature expired: ", p.Date.Format(TimeFormat),
			" is now earlier than ", now.Add(-MaxSkew).Format(TimeFormat), " (", now.Format(TimeFormat), " - 15 min.)")
	}
	return nil
}
