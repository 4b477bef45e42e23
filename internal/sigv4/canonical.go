package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options selects the per-service canonicalisation rules. The zero value is
// right for IAM, STS and every service except S3.
type Options struct {
	// Service, when not empty, is the signing name the endpoint answers to
	// ("sts", "iam", "s3"); Verify rejects a credential scoped to another one
	// with AWS's "Credential should be scoped to correct service" message.
	Service string

	// DisablePathNormalization keeps "." and ".." segments and repeated
	// slashes in the canonical URI. S3 object keys may contain them.
	DisablePathNormalization bool

	// DisableDoubleEncoding signs the path as sent instead of URI-encoding
	// the already-encoded path again. S3 only.
	DisableDoubleEncoding bool
}

// S3Options returns the options for S3: no path normalisation, single URI
// encoding (aws-notes 3.3; botocore S3SigV4Auth, aws-sdk-go-v2
// DisableURIPathEscaping).
func S3Options() Options {
	return Options{Service: "s3", DisablePathNormalization: true, DisableDoubleEncoding: true}
}

// CanonicalRequest returns the canonical request of r as AWS defines it in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// signedHeaders are lowercase header names; only those headers are used, in
// that order. X-Amz-Signature is left out of the query, as for presigned URLs.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, opts Options) string {
	var b []byte
	b = appendCanonicalRequest(b, r, signedHeaders, strings.Join(signedHeaders, ";"), payloadHash, opts, false)
	return string(b)
}

// StringToSign returns the string to sign for a canonical request:
//
//	AWS4-HMAC-SHA256 \n YYYYMMDDTHHMMSSZ \n scope \n hex(SHA256(canonical request))
func StringToSign(t time.Time, scope Scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return string(appendStringToSign(nil, t.UTC().Format(TimeFormat), scope.String(), &sum))
}

func appendStringToSign(b []byte, amzDate, scope string, crHash *[32]byte) []byte {
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, crHash[:])
}

func appendCanonicalRequest(b []byte, r *http.Request, signedHeaders []string, signedLine, payloadHash string, opts Options, dropToken bool) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, wirePath(r.URL), opts)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, dropToken)
	b = append(b, '\n')
	for _, h := range signedHeaders {
		b = append(b, h...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, h)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, signedLine...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b
}

// wirePath returns the request path as the client sent it, still escaped:
// that is what SDKs sign (aws-sdk-go-v2 GetURIPath uses URL.EscapedPath,
// botocore the prepared URL's path). RawPath is preferred whenever it decodes
// to Path, even where URL.EscapedPath would reject it (e.g. raw UTF-8 bytes),
// because the client signed those bytes.
func wirePath(u *url.URL) string {
	if u.Opaque != "" {
		// "//host/path" or "scheme:opaque": the path starts at the first "/"
		// after the authority, as in aws-sdk-go-v2's GetURIPath.
		o := u.Opaque
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	if u.RawPath != "" {
		if p, ok := unescapePath(u.RawPath); ok && p == u.Path {
			return u.RawPath
		}
	}
	if u.Path == "" {
		return "/"
	}
	return u.EscapedPath()
}

// appendCanonicalURI normalises (unless disabled) and encodes the wire path.
// With double encoding (every service but S3) each byte that is not
// unreserved or '/' is percent-encoded, so an escape "%20" becomes "%2520",
// exactly as botocore's quote(path, safe='/~') and aws-sdk-go-v2's
// EscapePath do. In single-encoding mode valid escapes are kept as sent.
func appendCanonicalURI(b []byte, p string, opts Options) []byte {
	if !opts.DisablePathNormalization {
		p = normalizePath(p)
	}
	if p == "" {
		return append(b, '/')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case unreserved(c) || c == '/':
			b = append(b, c)
		case c == '%' && opts.DisableDoubleEncoding && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]):
			b = append(b, p[i:i+3]...)
			i += 2
		default:
			b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return b
}

// normalizePath removes "." and ".." segments and empty segments (repeated
// slashes), keeping a leading slash and a trailing one if anything is left.
// This is botocore's remove_dot_segments, which AWS's test suite matches;
// AWS collapses repeated slashes in addition to RFC 3986 section 5.2.4.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && p[0] == '/' {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

type queryPair struct{ k, v string }

// appendCanonicalQuery writes the canonical query string: each name and
// value URI-encoded with the RFC 3986 unreserved set (space is "%20", and
// "+" in the request means space as in form encoding), sorted by encoded
// name then encoded value, "name=" for an empty value. X-Amz-Signature is
// left out; so is X-Amz-Security-Token when dropToken is set.
func appendCanonicalQuery(b []byte, raw string, dropToken bool) []byte {
	if raw == "" {
		return b
	}
	var arr [16]queryPair
	pairs := arr[:0]
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if k == "X-Amz-Signature" || dropToken && k == "X-Amz-Security-Token" {
			continue
		}
		pairs = append(pairs, queryPair{canonicalComponent(k), canonicalComponent(v)})
	}
	if len(pairs) > 1 {
		slices.SortFunc(pairs, func(a, b queryPair) int {
			if c := strings.Compare(a.k, b.k); c != 0 {
				return c
			}
			return strings.Compare(a.v, b.v)
		})
	}
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

// canonicalComponent returns the canonical encoding of one raw query name or
// value. SDKs already send the canonical form, so that case returns s itself
// without allocating.
func canonicalComponent(s string) string {
	if isCanonical(s) {
		return s
	}
	d, ok := unescape(s)
	if !ok {
		d = s // malformed escapes are signed as literal text
	}
	var b []byte
	for i := 0; i < len(d); i++ {
		c := d[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return string(b)
}

// isCanonical reports whether s is already URI-encoded the SigV4 way: only
// unreserved bytes and upper-case escapes of bytes that must be escaped.
func isCanonical(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			continue
		}
		if c != '%' || i+2 >= len(s) || !isupperhex(s[i+1]) || !isupperhex(s[i+2]) {
			return false
		}
		if unreserved(unhex(s[i+1])<<4 | unhex(s[i+2])) {
			return false
		}
		i += 2
	}
	return true
}

// appendHeaderValue writes the canonical value of header h (lowercase):
// each value trimmed, runs of spaces collapsed to one, repeated headers
// joined with ','. The host comes from r.Host, where net/http keeps it.
func appendHeaderValue(b []byte, r *http.Request, h string) []byte {
	if h == "host" || h == ":authority" {
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(b, host)
	}
	vs := headerValues(r.Header, h)
	if vs == nil && h == "content-length" && r.ContentLength > 0 {
		// net/http moves Content-Length of client requests out of Header;
		// aws-sdk-go-v2 signs r.ContentLength.
		return strconv.AppendInt(b, r.ContentLength, 10)
	}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed trims spaces and tabs and collapses inner runs of spaces, as
// aws-sdk-go-v2's StripExcessSpaces and the AWS test suite do.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return append(b, v...) // the usual case: nothing to collapse
	}
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = append(b, c)
	}
	return b
}

// headerValues looks a lowercase header name up in h without allocating:
// the canonical MIME form is built on the stack. Keys that net/http did not
// canonicalise are found by a case-insensitive scan.
func headerValues(h http.Header, name string) []string {
	var arr [64]byte
	if len(name) <= len(arr) {
		k := arr[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			k[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(k)]; ok {
			return v
		}
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

const upperhex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isupperhex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// unescape decodes a query component ("+" is a space). It returns s itself
// when there is nothing to decode.
func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	d, err := url.QueryUnescape(s)
	return d, err == nil
}

func unescapePath(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	d, err := url.PathUnescape(s)
	return d, err == nil
}
