// Package token seals and opens iamd's STS session tokens.
//
// A session token is the whole temporary credential: the session it belongs
// to (account, role or user, session name, issue and expiry time, MFA,
// source identity, tags, session policies) and the secret access key, sealed
// with AES-256-GCM under a key from a Ring. Verifying a request signed with
// temporary credentials therefore needs no storage read: the server opens
// the token, checks that its access key id is the one the request names, and
// derives the SigV4 signing key from the secret inside.
//
// Token text, version 1 (see docs/decisions/0003-session-tokens.md):
//
//	base64url-no-padding( 0x01 | key id (8 bytes) | nonce (12) | GCM(session) )
//
// with the 9-byte header (version and key id) as additional authenticated
// data, so a token cannot be moved to another key or format version.
//
// The Ring holds the sealing keys: one active key that seals, and retired
// keys that still open the tokens they sealed until those tokens can no
// longer be valid. Keys are persisted through a small KeyStore interface,
// each wrapped (AES-256-GCM) under a master key that never leaves the
// process; see LoadRing and LoadOrCreateMasterKey.
//
// What this package does not do: it does not check expiry (an expired token
// is ExpiredToken, an unopenable one InvalidClientTokenId — different AWS
// errors, so the caller decides), it knows nothing of revocation (a valid
// token of a revoked session still opens; authz denies it), and it does not
// choose session lifetimes or validate session contents against IAM.
// ids.go also provides AWS-shaped identifiers (access key ids, secrets,
// unique ids) for the rest of iamd.
package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Errors. Open reports every token it cannot open as ErrInvalid (or
// ErrUnknownKey, which is also ErrInvalid) and never says why in more detail:
// the client gets InvalidClientTokenId either way, and a more precise answer
// would only help someone forging tokens.
var (
	// ErrInvalid: the token is changed, truncated, garbage, or sealed by a
	// key this ring does not hold.
	ErrInvalid = errors.New("token: invalid session token")
	// ErrUnknownKey is the ErrInvalid case of a well-formed token whose key id
	// the ring does not know. In a multi-node deployment that can mean another
	// node rotated and this one has not reloaded yet, so a caller may Reload
	// (rate-limited) and retry once.
	ErrUnknownKey = fmt.Errorf("%w: unknown sealing key", ErrInvalid)
	// ErrTooLarge: the session does not fit in a token (MaxTokenLen). STS
	// reports it as PackedPolicyTooLarge, as AWS does when session policies
	// and tags are too big.
	ErrTooLarge = errors.New("token: session too large for a session token")
	// ErrNoActiveKey: Seal on a ring without an active key (a zero Ring).
	ErrNoActiveKey = errors.New("token: ring has no active sealing key")
)

// Kind says how a session was issued. Stored in one byte; zero is invalid so
// a forgotten Kind is caught by Seal rather than sealed.
type Kind uint8

const (
	// AssumedRole is a session from AssumeRole: its principal is a role.
	AssumedRole Kind = 1
	// UserSession is a session from GetSessionToken: its principal is an IAM
	// user.
	UserSession Kind = 2
	// Federated is a session from GetFederationToken: its principal is a
	// federated user (SessionName is the federated user's name) acting
	// with the permissions of the IAM user that issued it (PrincipalID,
	// PrincipalName), limited by the session policies.
	Federated Kind = 3
	// maxKind is the highest Kind this version knows. A new kind extends
	// the list; older binaries reject tokens of kinds they do not know
	// rather than misreading them.
	maxKind = Federated
)

func (k Kind) String() string {
	switch k {
	case AssumedRole:
		return "AssumedRole"
	case UserSession:
		return "UserSession"
	case Federated:
		return "Federated"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Tag is a session tag.
type Tag struct{ Key, Value string }

// Session is everything iamd knows about a temporary credential. Times are
// kept to the microsecond and come back from Open in UTC.
type Session struct {
	AccessKeyID       string // ASIA…, 20 chars
	SecretAccessKey   string
	Account           string // "000000000000"
	Kind              Kind
	PrincipalID       string // role id AROA… or user id AIDA…
	PrincipalName     string // role name or user name
	PrincipalPath     string // "/" …
	SessionName       string // RoleSessionName (role sessions)
	IssuedAt          time.Time
	Expires           time.Time
	MFA               bool
	MFAAuthTime       time.Time // zero if no MFA
	SourceIdentity    string
	Tags              []Tag
	TransitiveTagKeys []string
	Policy            string   // inline session policy JSON, "" if none
	PolicyARNs        []string // session managed policy ARNs
	Chained           bool     // issued with temporary credentials (role chaining)
	IssuerKeyID       string   // the access key that called AssumeRole/GetSessionToken
}

// String names the session without its secret, so a Session that ends up in
// a log line or an error message does not leak the credential.
func (s Session) String() string {
	return fmt.Sprintf("session %s (%s %s/%s, expires %s)", s.AccessKeyID, s.Kind, s.PrincipalName, s.SessionName, s.Expires.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the secret too.
func (s Session) GoString() string { return "token.Session{" + s.String() + "}" }

// LogValue is what slog records for a Session: identifying fields only.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", s.AccessKeyID),
		slog.String("kind", s.Kind.String()),
		slog.String("principal_id", s.PrincipalID),
		slog.String("principal", s.PrincipalName),
		slog.String("session_name", s.SessionName),
		slog.Time("issued", s.IssuedAt),
		slog.Time("expires", s.Expires),
	)
}

// Token layout constants.
const (
	version1   = 1
	keyIDLen   = 8
	headerLen  = 1 + keyIDLen
	nonceLen   = 12 // GCM standard nonce
	tagLen     = 16 // GCM tag
	sealedOver = headerLen + nonceLen + tagLen

	// MaxTokenLen caps the token text. It bounds what Open will even look at
	// (and so the work and memory an attacker can make it spend) and keeps
	// tokens well inside HTTP header limits. AWS's own tokens run to about
	// 1 KB plus the packed policies and tags; 8 KB leaves room for a 2 KB
	// session policy and dozens of tags.
	MaxTokenLen = 8192
	// maxSealedLen is the most binary a MaxTokenLen text can decode to.
	maxSealedLen = MaxTokenLen * 6 / 8
)

// enc is unpadded URL-safe base64: its alphabet (A–Z a–z 0–9 - _) is all
// "unreserved" in RFC 3986, so the token is the same bytes in an HTTP header,
// in a percent-encoded query string and in a form body, whatever the client
// escapes. Strict rejects non-zero trailing bits, so every byte sequence has
// exactly one token text and changing the last character always changes the
// token.
var enc = base64.RawURLEncoding.Strict()

// Seal returns the token text for s, sealed under the ring's active key with
// a fresh nonce read from rand.
//
// Random 96-bit nonces are safe for about 2^32 tokens per key; rotate keys
// long before that (daily rotation is many orders of magnitude inside it).
func (r *Ring) Seal(s *Session, rand io.Reader) (string, error) {
	set := r.set.Load()
	if set == nil || set.active == nil {
		return "", ErrNoActiveKey
	}
	if s.Kind == 0 || s.Kind > maxKind {
		return "", fmt.Errorf("token: seal: unknown session kind %d", s.Kind)
	}
	if len(s.Tags) > maxItems || len(s.TransitiveTagKeys) > maxItems || len(s.PolicyARNs) > maxItems {
		return "", ErrTooLarge
	}
	n := payloadSize(s)
	if enc.EncodedLen(sealedOver+n) > MaxTokenLen {
		return "", ErrTooLarge
	}
	k := set.active
	buf := make([]byte, headerLen+nonceLen, sealedOver+n)
	buf[0] = version1
	copy(buf[1:headerLen], k.ID)
	if _, err := io.ReadFull(rand, buf[headerLen:headerLen+nonceLen]); err != nil {
		return "", fmt.Errorf("token: seal: nonce: %w", err)
	}
	plain := appendSession(buf[headerLen+nonceLen:], s)
	// Seal in place: the ciphertext overwrites the plaintext it came from.
	sealed := k.aead.Seal(plain[:0], buf[headerLen:headerLen+nonceLen], plain, buf[:headerLen])
	return enc.EncodeToString(buf[:headerLen+nonceLen+len(sealed)]), nil
}

// bufPool holds decode buffers for Open so the hot path does not allocate
// one per request. Each buffer has room for the token text (copied in,
// because the base64 decoder reads bytes) and its decoded form.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, MaxTokenLen+maxSealedLen)
	return &b
}}

// Open authenticates and decodes a token sealed by a key in the ring. Every
// failure is ErrInvalid (ErrUnknownKey when only the key id is unknown); Open
// never panics and never allocates more than the token's own size. It does
// not check expiry: the caller compares Expires with its clock, because an
// expired token is a different AWS error (ExpiredToken) from an invalid one.
//
// The returned Session may be shared with other callers that opened the
// same token (see openedCache): treat it as read-only.
func (r *Ring) Open(tok string) (*Session, error) {
	set := r.set.Load()
	if set != nil {
		if s := set.opened.get(tok); s != nil {
			return s, nil
		}
	}
	s, err := r.open(tok, set)
	if err != nil {
		return nil, err
	}
	set.opened.put(tok, s)
	return s, nil
}

// open is Open without the cache.
func (r *Ring) open(tok string, set *keySet) (*Session, error) {
	if len(tok) < enc.EncodedLen(sealedOver) || len(tok) > MaxTokenLen {
		return nil, ErrInvalid
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	text := buf[:copy(buf[:MaxTokenLen], tok)]
	raw := buf[MaxTokenLen:]
	n, err := enc.Decode(raw, text)
	// The stdlib decoder skips CR and LF. A text that decodes to fewer bytes
	// than its length implies had some: reject it, so that one sealed token
	// has exactly one accepted text (callers may key caches on it).
	if err != nil || n < sealedOver || enc.EncodedLen(n) != len(tok) {
		return nil, ErrInvalid
	}
	raw = raw[:n]
	if raw[0] != version1 {
		return nil, ErrInvalid
	}
	if set == nil {
		return nil, ErrUnknownKey
	}
	k := set.find(raw[1:headerLen])
	if k == nil {
		return nil, ErrUnknownKey
	}
	plain, err := k.aead.Open(raw[headerLen+nonceLen:headerLen+nonceLen], raw[headerLen:headerLen+nonceLen], raw[headerLen+nonceLen:], raw[:headerLen])
	if err != nil {
		return nil, ErrInvalid
	}
	s, err := decodeSession(plain)
	if err != nil {
		return nil, ErrInvalid
	}
	return s, nil
}

// OpenFor opens tok and checks that it belongs to accessKeyID, the key the
// request was signed with. A token presented with another session's access
// key id is invalid (AWS: InvalidClientTokenId), not a different session.
func (r *Ring) OpenFor(tok, accessKeyID string) (*Session, error) {
	s, err := r.Open(tok)
	if err != nil {
		return nil, err
	}
	if s.AccessKeyID != accessKeyID {
		return nil, ErrInvalid
	}
	return s, nil
}
