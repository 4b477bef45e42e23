package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func newReq(rawQuery string, hdr ...string) *http.Request {
	r := &http.Request{Method: "POST", Host: "iam.example.com", URL: &url.URL{Path: "/", RawQuery: rawQuery}, Header: http.Header{}}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

const presign = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func TestParseErrors(t *testing.T) {
	t.Parallel()
	date := "20150830T123600Z"
	cases := []struct {
		name string
		r    *http.Request
		code string
		msg  string // exact
	}{
		{"no credentials at all is MissingAuthenticationToken", newReq("Action=GetCallerIdentity"),
			CodeMissingAuthenticationToken, "Request is missing Authentication Token"},
		{"a token without '=' is named", newReq("", "X-Amz-Date", date, "Authorization", "AWS4-HMAC-SHA256 Credential= AKID/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab"),
			CodeIncompleteSignature, "'AKID/20150830/us-east-1/sts/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= AKID/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab'."},
		{"missing parameters are all listed", newReq("", "Authorization", "AWS4-HMAC-SHA256 SignedHeaders=host"),
			CodeIncompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host"},
		{"a header with no algorithm lists everything", newReq("", "Authorization", "Bearer=xyz"),
			CodeIncompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer=xyz"},
		{"an unsupported algorithm is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)),
			CodeIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},
		{"SigV2 is refused", newReq("", "X-Amz-Date", date, "Authorization", "AWS AKID:c2lnbmF0dXJl"),
			CodeIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS'"},
		{"a scope date that differs from X-Amz-Date is refused", newReq("", "X-Amz-Date", "20150831T000000Z", "Authorization", goodAuth),
			CodeIncompleteSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150830' != '20150831', from '20150831T000000Z'."},
		{"a malformed X-Amz-Date is refused", newReq("", "X-Amz-Date", "2015-08-30T12:36:00Z", "Authorization", goodAuth),
			CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"a credential with four elements is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "/iam/aws4_request", "/iam", 1)),
			CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/iam'"},
		{"a wrong terminator is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "aws4_request", "aws4_reqest", 1)),
			CodeSignatureDoesNotMatch, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. "},
		{"an upper-case service is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "/iam/", "/IAM/", 1)),
			CodeSignatureDoesNotMatch, "Credential should be scoped to a valid service, not 'IAM'. "},
		{"an empty region is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "/us-east-1/", "//", 1)),
			CodeSignatureDoesNotMatch, "Credential should be scoped to a valid Region, not ''. "},
		{"unsigned host is refused", newReq("", "X-Amz-Date", date, "Authorization", strings.Replace(goodAuth, "content-type;host;x-amz-date", "x-amz-date", 1)),
			CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"header and query auth together are refused", newReq(presign, "X-Amz-Date", date, "Authorization", goodAuth),
			CodeIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"},
		{"two Authorization headers are refused", newReq("", "X-Amz-Date", date, "Authorization", goodAuth, "Authorization", goodAuth),
			CodeIncompleteSignature, "Only one Authorization header allowed"},
		{"presigned without a signature lists what is missing", newReq("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + date),
			CodeIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{"presigned with another algorithm is refused", newReq(strings.Replace(presign, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)),
			CodeIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"},
		{"X-Amz-Expires over a week is refused", newReq(presign + "&X-Amz-Expires=604801"),
			CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{"X-Amz-Expires of zero is refused", newReq(presign + "&X-Amz-Expires=0"),
			CodeIncompleteSignature, "X-Amz-Expires must be greater than zero"},
		{"negative X-Amz-Expires is refused", newReq(presign + "&X-Amz-Expires=-5"),
			CodeIncompleteSignature, "X-Amz-Expires must be non-negative"},
		{"non-numeric X-Amz-Expires is refused", newReq(presign + "&X-Amz-Expires=1h"),
			CodeIncompleteSignature, "X-Amz-Expires should be a number"},
		{"presigned with a bad date is refused", newReq(strings.Replace(presign, date, "20150830", 1)),
			CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '20150830'. See http://en.wikipedia.org/wiki/ISO_8601"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(c.r)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %+v, %v; want *Error %s", p, err, c.code)
			}
			if e.Code != c.code || e.Message != c.msg {
				t.Errorf("got %s %q\nwant %s %q", e.Code, e.Message, c.code, c.msg)
			}
		})
	}
}

func TestParseAcceptsDateHeaderFallback(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"20150830T123600Z", "Sun, 30 Aug 2015 12:36:00 GMT"} {
		p, err := Parse(newReq("", "Date", d, "Authorization", goodAuth))
		if err != nil {
			t.Fatalf("Date %q: %v", d, err)
		}
		if want := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC); !p.Date.Equal(want) {
			t.Errorf("Date %q: got %v, want %v", d, p.Date, want)
		}
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	p, err := Parse(newReq("", "X-Amz-Date", "20150830T123600Z", "Authorization", goodAuth, "X-Amz-Security-Token", "tok"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s %s %v %s %s %v", "AKIDEXAMPLE", "20150830/us-east-1/iam/aws4_request", []string{"content-type", "host", "x-amz-date"}, "tok", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", false)
	got := fmt.Sprintf("%s %s %v %s %s %v", p.AccessKeyID, p.Scope, p.SignedHeaders, p.SecurityToken, p.Signature, p.Presigned)
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestCheckTime(t *testing.T) {
	t.Parallel()
	d := time.Date(2022, 1, 27, 0, 14, 27, 0, time.UTC)
	cases := []struct {
		name      string
		presigned bool
		expires   time.Duration
		now       time.Time
		code, msg string
	}{
		{name: "header auth 15 minutes old is accepted", now: d.Add(15 * time.Minute)},
		{name: "header auth 15 minutes early is accepted", now: d.Add(-15 * time.Minute)},
		{name: "header auth more than 15 minutes old is expired", now: time.Date(2022, 1, 27, 1, 59, 28, 0, time.UTC),
			code: CodeSignatureDoesNotMatch, msg: "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"},
		{name: "header auth more than 15 minutes early is not yet current", now: d.Add(-16 * time.Minute),
			code: CodeSignatureDoesNotMatch, msg: "Signature not yet current: 20220127T001427Z is still later than 20220127T001327Z (20220126T235827Z + 15 min.)"},
		{name: "presigned within its expiry is accepted", presigned: true, expires: 7 * 24 * time.Hour, now: d.Add(6 * 24 * time.Hour)},
		{name: "presigned past its expiry is RequestExpired", presigned: true, expires: time.Hour, now: d.Add(time.Hour + time.Second),
			code: CodeRequestExpired, msg: "Request has expired"},
		{name: "presigned dated in the future is not yet current", presigned: true, expires: time.Hour, now: d.Add(-16 * time.Minute),
			code: CodeSignatureDoesNotMatch, msg: "Signature not yet current: 20220127T001427Z is still later than 20220127T001327Z (20220126T235827Z + 15 min.)"},
		{name: "presigned without X-Amz-Expires follows the header rule", presigned: true, now: d.Add(16 * time.Minute),
			code: CodeSignatureDoesNotMatch, msg: "Signature expired: 20220127T001427Z is now earlier than 20220127T001527Z (20220127T003027Z - 15 min.)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &Parsed{Date: d, Presigned: c.presigned, Expires: c.expires}
			err := p.CheckTime(c.now)
			if c.code == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || e.Message != c.msg {
				t.Errorf("got %v\nwant %s: %s", err, c.code, c.msg)
			}
		})
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, rawPath string
		opts          Options
		want          string
	}{
		{"an escaped space is encoded again", "/a%20b", Options{}, "/a%2520b"},
		{"S3 keeps an escaped space", "/a%20b", S3Options(), "/a%20b"},
		{"S3 keeps an escaped slash", "/a%2Fb", S3Options(), "/a%2Fb"},
		{"dot segments and double slashes are removed", "/a/./b//../c/", Options{}, "/a/c/"},
		{"S3 keeps dot segments", "/a/./b//../c", S3Options(), "/a/./b//../c"},
		{"an empty path is a slash", "", Options{}, "/"},
		{"dotdot above the root stays at the root", "/../..", Options{}, "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse("http://h" + c.rawPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(appendCanonicalURI(nil, wirePath(u), c.opts)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, want string }{
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"a&b=", "a=&b="},
		{"k=a+b&k2=a%20b&k3=%7e%2a", "k=a%20b&k2=a%20b&k3=~%2A"},
		{"a%2Fb=1&a-b=2", "a%2Fb=1&a-b=2"}, // sorted after encoding: '%' < '-'
		{"X-Amz-Signature=abc&x=1", "x=1"},
		{"bad=%zz", "bad=%25zz"},
	}
	for _, c := range cases {
		if got := string(appendCanonicalQuery(nil, c.raw, false)); got != c.want {
			t.Errorf("query %q: got %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestVerifyRejectsMalformedSignature(t *testing.T) {
	t.Parallel()
	r := newReq("", "X-Amz-Date", "20150830T123600Z", "Authorization", strings.Replace(goodAuth, "Signature=5f", "Signature=zz", 1))
	p, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := p.Verify(r, DeriveKey("s", "20150830", "us-east-1", "iam"), emptySHA256, Options{}); !errors.As(err, &e) || e.Code != CodeSignatureDoesNotMatch || e.Message != msgSignatureDoesNotMatch {
		t.Errorf("got %v, want SignatureDoesNotMatch", err)
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	// The example in https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
	// (formerly general/latest/gr/signature-v4-examples.html).
	got := fmt.Sprintf("%x", DeriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"))
	if want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	long := strings.Repeat("k", 100) // longer than an HMAC block
	if a, b := DeriveKey(long, "20120215", "us-east-1", "iam"), DeriveKey(long+"x", "20120215", "us-east-1", "iam"); string(a) == string(b) {
		t.Error("different long secrets derived the same key")
	}
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	scope := Scope{Date: "20150830", Region: "us-east-1", Service: "iam", Terminator: Terminator}
	c := NewKeyCache(2)
	k1 := c.Get("AKID", "secret1", scope)
	if want := DeriveKey("secret1", scope.Date, scope.Region, scope.Service); string(k1) != string(want) {
		t.Fatal("cached key differs from DeriveKey")
	}
	if k := c.Get("AKID", "secret1", scope); &k[0] != &k1[0] {
		t.Error("second Get derived again, want the cached key")
	}
	t.Run("a rotated secret for the same key id gets a fresh key", func(t *testing.T) {
		k2 := c.Get("AKID", "secret2", scope)
		if want := DeriveKey("secret2", scope.Date, scope.Region, scope.Service); string(k2) != string(want) {
			t.Error("got the stale key for the old secret")
		}
	})
	t.Run("the cache stays within its bound", func(t *testing.T) {
		for i := range 10 {
			c.Get(fmt.Sprint("AKID", i), "s", scope)
		}
		if c.Len() > 2 {
			t.Errorf("Len = %d, want <= 2", c.Len())
		}
	})
	t.Run("concurrent use is safe", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 200 {
					s := Scope{Date: "20150830", Region: "r", Service: fmt.Sprint("s", (i+j)%5), Terminator: Terminator}
					if got, want := c.Get("AKID", "secret", s), DeriveKey("secret", s.Date, s.Region, s.Service); string(got) != string(want) {
						t.Error("wrong key under concurrency")
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestKeyCacheHitDoesNotAllocate(t *testing.T) {
	scope := Scope{Date: "20150830", Region: "us-east-1", Service: "iam", Terminator: Terminator}
	c := NewKeyCache(8)
	c.Get("AKID", "secret", scope)
	if n := testing.AllocsPerRun(100, func() { c.Get("AKID", "secret", scope) }); n != 0 {
		t.Errorf("a hit allocates %v times, want 0", n)
	}
}

func TestHMACMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 32, 63, 64, 65, 200} {
		key := []byte(strings.Repeat("k", n))
		msg := []byte(strings.Repeat("m", n*3))
		h := hmac.New(sha256.New, key)
		h.Write(msg)
		got := hmacSHA256(key, msg)
		if !hmac.Equal(got[:], h.Sum(nil)) {
			t.Errorf("key length %d: hmacSHA256 differs from crypto/hmac", n)
		}
	}
}

func TestParseSecurityToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"from the header", newReq("", "X-Amz-Date", "20150830T123600Z", "Authorization", goodAuth, "X-Amz-Security-Token", "a+b/c="), "a+b/c="},
		{"from the query of a header-signed request", newReq("X-Amz-Security-Token=a%2Bb%2Fc%3D", "X-Amz-Date", "20150830T123600Z", "Authorization", goodAuth), "a+b/c="},
		{"from a presigned URL", newReq(presign + "&X-Amz-Security-Token=a%2Bb%2Fc%3D"), "a+b/c="},
		{"absent", newReq("", "X-Amz-Date", "20150830T123600Z", "Authorization", goodAuth), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(c.r)
			if err != nil {
				t.Fatal(err)
			}
			if p.SecurityToken != c.want {
				t.Errorf("got %q, want %q", p.SecurityToken, c.want)
			}
		})
	}
}
