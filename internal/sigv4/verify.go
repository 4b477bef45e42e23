package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// Verify recomputes the request's signature with signingKey (see [DeriveKey]
// and [KeyCache]) and compares it with the one sent, in constant time.
//
// payloadHash is the last line of the canonical request: the hex SHA-256 of
// the body, or the X-Amz-Content-SHA256 header's value when the client sent
// one (UNSIGNED-PAYLOAD, STREAMING-…); the caller decides and passes it.
//
// A session token in a presigned URL's query is accepted whether the client
// signed it or appended it after signing (aws-notes 3.2); in a header it is
// signed exactly when it is listed in SignedHeaders.
//
// Any mismatch is SignatureDoesNotMatch with AWS's message.
func (p *Parsed) Verify(r *http.Request, signingKey []byte, payloadHash string, opts Options) error {
	if opts.Service != "" && p.Scope.Service != opts.Service {
		return errorf(CodeSignatureDoesNotMatch, "Credential should be scoped to correct service: '", opts.Service, "'. ")
	}
	if p.sigOK && p.verify(r, signingKey, payloadHash, opts, false) {
		return nil
	}
	if p.sigOK && p.tokenInQuery && p.verify(r, signingKey, payloadHash, opts, true) {
		return nil
	}
	return &Error{Code: CodeSignatureDoesNotMatch, Message: msgSignatureDoesNotMatch}
}

// verify builds the canonical request and string to sign in a stack buffer,
// so that a typical request verifies without heap allocation.
func (p *Parsed) verify(r *http.Request, key []byte, payloadHash string, opts Options, dropToken bool) bool {
	var stack [1024]byte
	b := appendCanonicalRequest(stack[:0], r, p.SignedHeaders, p.signedLine, payloadHash, opts, dropToken)
	crHash := sha256.Sum256(b)
	b = appendStringToSign(b[:0], p.amzDate, p.scope, &crHash)
	mac := hmacSHA256(key, b)
	return subtle.ConstantTimeCompare(mac[:], p.sig[:]) == 1
}

// Sign returns the hex signature of a string to sign. It is what a client
// puts in Signature=; iamd uses it in tests and to sign aws-chunked chunks.
func Sign(signingKey []byte, stringToSign string) string {
	mac := hmacSHA256(signingKey, []byte(stringToSign))
	const hexdigits = "0123456789abcdef"
	var out [64]byte
	for i, c := range mac {
		out[2*i], out[2*i+1] = hexdigits[c>>4], hexdigits[c&15]
	}
	return string(out[:])
}

// DeriveKey computes the signing key kSigning from a secret access key and
// a credential scope:
//
//	kDate    = HMAC("AWS4" + secret, date)
//	kRegion  = HMAC(kDate, region)
//	kService = HMAC(kRegion, service)
//	kSigning = HMAC(kService, "aws4_request")
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#derive-signing-key
func DeriveKey(secret, date, region, service string) []byte {
	kDate := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	kRegion := hmacSHA256(kDate[:], []byte(region))
	kService := hmacSHA256(kRegion[:], []byte(service))
	kSigning := hmacSHA256(kService[:], []byte(Terminator))
	return kSigning[:]
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) written out so that neither the key
// nor the message escapes to the heap: Verify signs a stack buffer, and
// crypto/hmac's hash.Hash interface would force it onto the heap.
// TestHMACMatchesCryptoHMAC checks it against crypto/hmac.
func hmacSHA256(key, msg []byte) [32]byte {
	const block = 64
	var pad [block]byte
	if len(key) > block {
		k := sha256.Sum256(key) // RFC 2104: long keys are hashed first
		copy(pad[:], k[:])
	} else {
		copy(pad[:], key)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	h := sha256.New()
	h.Write(pad[:])
	h.Write(msg)
	var inner [32]byte
	h.Sum(inner[:0])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	h.Write(inner[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}
