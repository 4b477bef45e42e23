package sigv4_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/iamd/iamd/internal/sigv4"
)

var keys = sigv4.NewKeyCache(10000)

// lookupSecret stands in for iamd's key store.
func lookupSecret(accessKeyID string) (string, bool) { return "secret", accessKeyID == "AKIDEXAMPLE" }

// authenticate is the shape of iamd's authentication step for a Query API
// (IAM, STS) request: parse, check the clock, find the secret, verify.
func authenticate(r *http.Request, body []byte, now time.Time) (*sigv4.Parsed, error) {
	p, err := sigv4.Parse(r)
	if err != nil {
		return nil, err // MissingAuthenticationToken, IncompleteSignature, …
	}
	if err := p.CheckTime(now); err != nil {
		return nil, err
	}
	secret, ok := lookupSecret(p.AccessKeyID)
	if !ok {
		return nil, errors.New("InvalidClientTokenId") // the caller's code, not sigv4's
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	key := keys.Get(p.AccessKeyID, secret, p.Scope)
	if err := p.Verify(r, key, payloadHash, sigv4.Options{Service: "sts"}); err != nil {
		return nil, err
	}
	return p, nil
}

func Example() {
	r, _ := http.NewRequest("POST", "http://127.0.0.1:8080/", nil)
	_, err := authenticate(r, nil, time.Now())
	var e *sigv4.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code + ": " + e.Message)
	}
	// Output: MissingAuthenticationToken: Request is missing Authentication Token
}
