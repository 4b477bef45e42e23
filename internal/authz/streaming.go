package authz

import (
	"net/http"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/sigv4"
)

// SigningKey returns the SigV4 signing key of a request that Authenticate
// has already accepted, so that the S3 edge can verify the chunk signatures
// of an aws-chunked body (sigv4.NewChunkedReader) as it streams. It checks
// nothing Authenticate did not; call it only after Authenticate succeeded.
func (e *Engine) SigningKey(r *http.Request, p *sigv4.Parsed) ([]byte, error) {
	if arn.AccessKeyID(p.AccessKeyID).Temporary() {
		s, err := e.ring.OpenFor(p.SecurityToken, p.AccessKeyID)
		if err != nil {
			return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
		}
		return e.keys.Get(s.AccessKeyID, s.SecretAccessKey, p.Scope), nil
	}
	k, err := e.iam.AccessKeyAuth(r.Context(), p.AccessKeyID)
	if err != nil {
		if apierr.Is(err, apierr.NoSuchEntity) {
			return nil, apierr.New(apierr.InvalidClientTokenID, msgInvalidToken)
		}
		return nil, err
	}
	return e.keys.Get(k.ID, k.Secret, p.Scope), nil
}
