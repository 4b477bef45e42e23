package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// suiteDir is the AWS SigV4 test suite (awslabs/aws-c-auth, see its
// PROVENANCE.md), read in place: it is not copied into the repository.
const suiteDir = "../../../shared/testdata/sigv4"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Expiration       int       `json:"expiration_in_seconds"`
	Normalize        bool      `json:"normalize"`
	Region           string    `json:"region"`
	Service          string    `json:"service"`
	SignBody         bool      `json:"sign_body"`
	Timestamp        time.Time `json:"timestamp"`
	OmitSessionToken bool      `json:"omit_session_token"`
}

// readRawRequest parses the suite's raw HTTP requests. It cannot use
// http.ReadRequest: the suite's request lines hold raw spaces and UTF-8, and
// its header lines have no space after the colon and use obs-fold.
func readRawRequest(t *testing.T, text string) *http.Request {
	t.Helper()
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(head, "\n")
	first := lines[0]
	method, rest, _ := strings.Cut(first, " ")
	target := rest[:strings.LastIndex(rest, " ")]
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		p = rawPath
	}
	r := &http.Request{
		Method: method,
		URL:    &url.URL{Path: p, RawPath: rawPath, RawQuery: rawQuery},
		Header: http.Header{},
		Body:   io.NopCloser(strings.NewReader(body)),
	}
	var name string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' { // obs-fold, joined as net/textproto does
			vs := r.Header[name]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, _ := strings.Cut(l, ":")
		name = textproto.CanonicalMIMEHeaderKey(k)
		if name == "Host" {
			r.Host = strings.TrimSpace(v)
			continue
		}
		r.Header[name] = append(r.Header[name], strings.TrimSpace(v))
	}
	return r
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func bodyHash(t *testing.T, r *http.Request) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestAWSSuite(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Skipf("AWS SigV4 test suite not found at %s (see /work/shared/testdata/sigv4/PROVENANCE.md): %v", suiteDir, err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(suiteDir, e.Name())
		var ctx suiteContext
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "context.json"))), &ctx); err != nil {
			// Some context files carry a trailing comma; skip none silently.
			t.Fatalf("%s: context.json: %v", e.Name(), err)
		}
		n++
		opts := Options{Service: ctx.Service, DisablePathNormalization: !ctx.Normalize}
		for _, form := range []string{"header", "query"} {
			t.Run(e.Name()+"/"+form, func(t *testing.T) {
				t.Parallel()
				r := readRawRequest(t, readFile(t, filepath.Join(dir, form+"-signed-request.txt")))
				p, err := Parse(r)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got, want := p.Presigned, form == "query"; got != want {
					t.Errorf("Presigned = %v, want %v", got, want)
				}
				if got, want := p.AccessKeyID, ctx.Credentials.AccessKeyID; got != want {
					t.Errorf("AccessKeyID = %q, want %q", got, want)
				}
				if got, want := p.SecurityToken, ctx.Credentials.Token; got != want {
					t.Errorf("SecurityToken = %q, want %q", got, want)
				}
				if p.Presigned {
					if got, want := p.Expires, time.Duration(ctx.Expiration)*time.Second; got != want {
						t.Errorf("Expires = %v, want %v", got, want)
					}
				}
				payloadHash := r.Header.Get("X-Amz-Content-Sha256")
				if payloadHash == "" {
					payloadHash = bodyHash(t, r)
				}

				// Each intermediate: canonical request, string to sign, signature.
				cr := r
				if p.Presigned && ctx.OmitSessionToken {
					// The token was appended after signing; the suite's
					// canonical request is the one without it.
					cr = r.Clone(r.Context())
					cr.URL.RawQuery = dropQueryParam(r.URL.RawQuery, "X-Amz-Security-Token")
				}
				creq := CanonicalRequest(cr, p.SignedHeaders, payloadHash, opts)
				if want := readFile(t, filepath.Join(dir, form+"-canonical-request.txt")); creq != want {
					t.Errorf("canonical request:\ngot:\n%s\nwant:\n%s", creq, want)
				}
				sts := StringToSign(p.Date, p.Scope, creq)
				if want := readFile(t, filepath.Join(dir, form+"-string-to-sign.txt")); sts != want {
					t.Errorf("string to sign:\ngot:\n%s\nwant:\n%s", sts, want)
				}
				key := DeriveKey(ctx.Credentials.SecretAccessKey, p.Scope.Date, ctx.Region, ctx.Service)
				wantSig := strings.TrimSpace(readFile(t, filepath.Join(dir, form+"-signature.txt")))
				if got := Sign(key, sts); got != wantSig {
					t.Errorf("signature = %s, want %s", got, wantSig)
				}
				if p.Signature != wantSig {
					t.Errorf("parsed Signature = %s, want %s", p.Signature, wantSig)
				}

				if err := p.CheckTime(ctx.Timestamp.Add(time.Minute)); err != nil {
					t.Errorf("CheckTime: %v", err)
				}
				if err := p.Verify(r, key, payloadHash, opts); err != nil {
					t.Fatalf("Verify: %v", err)
				}

				// A one-bit change anywhere must fail.
				wantMismatch := func(what string, err error) {
					t.Helper()
					var e *Error
					if !errors.As(err, &e) || e.Code != CodeSignatureDoesNotMatch {
						t.Errorf("Verify with %s: got %v, want SignatureDoesNotMatch", what, err)
					}
				}
				bad := *p
				bad.setSignature(flipBit(p.Signature, 0))
				wantMismatch("a flipped signature bit", bad.Verify(r, key, payloadHash, opts))
				badKey := append([]byte(nil), key...)
				badKey[31] ^= 1
				wantMismatch("a flipped key bit", p.Verify(r, badKey, payloadHash, opts))
				wantMismatch("a flipped payload hash bit", p.Verify(r, key, flipBit(payloadHash, 63), opts))
				r2 := r.Clone(r.Context())
				r2.Method = flipBit(r.Method, 0)
				wantMismatch("a flipped method bit", p.Verify(r2, key, payloadHash, opts))
			})
		}
	}
	if n == 0 {
		t.Skip("AWS SigV4 test suite is empty")
	}
}

// flipBit flips the lowest bit of s[i], keeping hex digits hex digits.
func flipBit(s string, i int) string {
	b := []byte(s)
	b[i] ^= 1
	return string(b)
}

func dropQueryParam(q, name string) string {
	var out []string
	for kv := range strings.SplitSeq(q, "&") {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return strings.Join(out, "&")
}
