package authz

import (
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/revoke"
)

// ByRevocation is Decision.DeniedBy for a session iamd revoked (package
// revoke): an explicit deny that no policy can override.
const ByRevocation = "revocation"

// UseRevocations makes Decide deny sessions revoked in r. Call it before
// serving.
func (e *Engine) UseRevocations(r *revoke.Service) { e.rev = r }

// revoked is Decide's first question. Its cost on the request path is a
// pointer load and a few map lookups (BenchmarkRevocationCheck).
func (e *Engine) revoked(c *principal.Caller) (policy.Decision, bool) {
	if e.rev == nil {
		return policy.Decision{}, false
	}
	id, ok := e.rev.Check(c)
	if !ok {
		return policy.Decision{}, false
	}
	return policy.Decision{
		Result:   policy.ExplicitDeny,
		DeniedBy: ByRevocation,
		Matched:  []policy.Match{{PolicyID: id, PolicyType: ByRevocation}},
	}, true
}

// revokedMessage says the session was revoked, and by which entry, so the
// holder knows to get new credentials and the operator can find the entry.
func revokedMessage(msg string, d policy.Decision) string {
	msg += " because the session was revoked"
	if len(d.Matched) > 0 {
		msg += " (iamd revocation " + d.Matched[0].PolicyID + ")"
	}
	return msg
}
