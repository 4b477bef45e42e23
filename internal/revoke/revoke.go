// Package revoke is iamd's answer to a leaked credential beyond what AWS
// can do: the revocation set and the session inventory.
//
// The revocation set holds explicit, per-session revocations — by access
// key id (ASIA…), by role session name, by source identity, and "every
// session of this role or user issued before T" — persisted in the kv store
// and held in memory as an immutable snapshot behind an atomic pointer, so
// that authz can ask Check on every request for the price of a few map
// lookups. Every entry only matches sessions issued before it was made, so
// it can expire by itself: once every session it can match has expired, it
// is dropped (Expire).
//
// The session inventory records every session STS issues (who, from where,
// when, until when, with which key), and when each was last used. It is
// for people — `iamd sessions`, `iamd whois` — and is never read on the
// request path: session tokens stay stateless. Last use is noted in memory
// and flushed periodically, like iam.RecordKeyUse.
//
// What it does not do: it does not authorize (the HTTP layer does), it does
// not resolve role or user names (callers pass ids), and it knows nothing
// of AWS's own revocation mechanism (the AWSRevokeOlderSessions inline
// policy), which is plain IAM.
package revoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/principal"
)

// Kind is what a revocation matches sessions by.
type Kind string

const (
	// ByAccessKey matches the one session with this access key id.
	ByAccessKey Kind = "AccessKeyId"
	// BySessionName matches the role's sessions with this RoleSessionName
	// issued before the cut-off.
	BySessionName Kind = "RoleSessionName"
	// BySourceIdentity matches every session carrying this source identity
	// issued before the cut-off, whatever the role (source identity follows
	// role chains).
	BySourceIdentity Kind = "SourceIdentity"
	// IssuedBefore matches every session of a role or user issued before
	// the cut-off.
	IssuedBefore Kind = "IssuedBefore"
	// ByIssuer matches every session issued before the cut-off by a key
	// (AssumeRole, GetSessionToken or GetFederationToken called with it),
	// and the sessions those sessions issued in turn: a leaked AKIA… key
	// stops minting and so do its children. Beyond AWS.
	ByIssuer Kind = "IssuerAccessKeyId"
)

// Principal types an entry can name.
const (
	RolePrincipal = "role"
	UserPrincipal = "user"
)

// Longest lifetimes a session can have, which bound how long an entry that
// matches by something other than the access key id can match anything.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
const (
	MaxRoleSession = 12 * time.Hour
	MaxUserSession = 36 * time.Hour
)

// Entry is one revocation.
type Entry struct {
	ID             string `json:"id"`
	Kind           Kind   `json:"kind"`
	AccessKeyID    string `json:"key,omitempty"`
	PrincipalType  string `json:"ptype,omitempty"` // RolePrincipal or UserPrincipal
	PrincipalName  string `json:"pname,omitempty"`
	PrincipalID    string `json:"pid,omitempty"` // AROA… or AIDA…
	PrincipalARN   string `json:"parn,omitempty"`
	SessionName    string `json:"session,omitempty"`
	SourceIdentity string `json:"source,omitempty"`
	// IssuerKeyIDs (ByIssuer) are the issuing keys it matches: AccessKeyID
	// first, then the live sessions issued from it, transitively, when the
	// revocation was made (a chained session's token names only its
	// immediate issuer).
	IssuerKeyIDs []string  `json:"issuers,omitempty"`
	IssuedBefore time.Time `json:"before"`  // sessions issued before this match
	Created      time.Time `json:"created"` // when it was made (or last moved)
	Expires      time.Time `json:"expires"` // when every session it can match has expired
	CreatedBy    string    `json:"by,omitempty"`
	Reason       string    `json:"reason,omitempty"`
}

// Request asks for a revocation. The caller fills what Kind needs:
// AccessKeyID; Principal* and SessionName; SourceIdentity; or Principal*
// with an optional IssuedBefore (zero: now).
type Request struct {
	Kind           Kind
	AccessKeyID    string
	PrincipalType  string
	PrincipalName  string
	PrincipalID    string
	PrincipalARN   string
	SessionName    string
	SourceIdentity string
	IssuedBefore   time.Time
	CreatedBy      string
	Reason         string
}

// Config wires a Service.
type Config struct {
	Store kv.Store
	Now   func() time.Time
	Log   *slog.Logger
	// Retention is how long inventory records are kept after their session
	// expired (for whois); zero means 90 days, CloudTrail's event history.
	Retention time.Duration
}

// Service is the revocation set and the session inventory.
type Service struct {
	store     kv.Store
	now       func() time.Time
	log       *slog.Logger
	retention time.Duration

	snap atomic.Pointer[snapshot] // read on every request

	mu      sync.Mutex // serializes writers: store change + snapshot swap
	entries map[string]Entry
	version uint64 // revoke.meta version of entries

	use      sync.Map      // access key id → *useSlot (inventory.go)
	sessions *sessionBatch // group commit of inventory records (inventory_batch.go)
}

// Table names in the kv store.
const (
	tEntries    = "revoke.entries"     // entry id → Entry
	tMeta       = "revoke.meta"        // "version" → decimal, advanced on every entries change
	tSessions   = "revoke.sessions"    // access key id → Session
	tPrincipal  = "revoke.principal"   // principal id/issued/key id → ""
	tSessionUse = "revoke.session_use" // access key id → unix nanoseconds of last use
	tIssuer     = "revoke.issuer"      // issuer key id/issued/key id → ""
)

const metaVersion = "version"

// New loads the revocation set from the store.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retention == 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	s := &Service{store: cfg.Store, now: cfg.Now, log: cfg.Log, retention: cfg.Retention, entries: map[string]Entry{}}
	s.sessions = newSessionBatch(cfg.Store)
	s.snap.Store(&snapshot{})
	s.version = ^uint64(0) // force the first load
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Check reports whether the caller's session is revoked, and by which
// entry. It is on the request path: a lock-free snapshot and at most five
// map lookups, no allocation.
func (s *Service) Check(c *principal.Caller) (string, bool) {
	if !c.Temporary {
		return "", false
	}
	sn := s.snap.Load()
	if sn.n == 0 {
		return "", false
	}
	pid := c.UserID
	if c.Type == principal.AssumedRole {
		pid = c.RoleID
	}
	if c.Type == principal.FederatedUser {
		pid = c.IssuerUserID
	}
	return sn.match(string(c.AccessKeyID), pid, c.SessionName, c.SourceIdentity, c.IssuerKeyID, c.IssuedAt)
}

// Matches reports whether a recorded session is revoked, and by which
// entry. Expired entries do not count.
func (s *Service) Matches(r *Session) (string, bool) {
	return s.snap.Load().match(r.AccessKeyID, r.PrincipalID, r.SessionName, r.SourceIdentity, r.IssuerKeyID, r.IssuedAt)
}

// Revoke adds a revocation, or moves an existing one on the same target to
// the later cut-off (revoking twice is not an error, and never narrows a
// revocation). It is in force in this process before Revoke returns.
func (s *Service) Revoke(ctx context.Context, r Request) (*Entry, error) {
	now := s.now().UTC()
	e, err := s.entryFor(ctx, r, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[e.ID]; ok {
		if old.IssuedBefore.After(e.IssuedBefore) {
			e.IssuedBefore = old.IssuedBefore
		}
		if old.Expires.After(e.Expires) {
			e.Expires = old.Expires
		}
		if e.Reason == "" {
			e.Reason = old.Reason
		}
		e.IssuerKeyIDs = union(old.IssuerKeyIDs, e.IssuerKeyIDs)
	}
	err = s.write(ctx, func(tx kv.Tx) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return tx.Put(tEntries, e.ID, b)
	})
	if err != nil {
		return nil, err
	}
	s.entries[e.ID] = *e
	s.install()
	return e, nil
}

// entryFor validates r and builds its entry.
func (s *Service) entryFor(ctx context.Context, r Request, now time.Time) (*Entry, error) {
	e := &Entry{Kind: r.Kind, Created: now, CreatedBy: r.CreatedBy, Reason: r.Reason, IssuedBefore: now.Truncate(time.Microsecond)}
	life := MaxRoleSession
	if r.PrincipalType == UserPrincipal {
		life = MaxUserSession
	}
	switch r.Kind {
	case ByAccessKey:
		sess, err := s.Session(ctx, r.AccessKeyID)
		if err != nil {
			return nil, err
		}
		if !now.Before(sess.Expires) {
			return nil, apierr.New(apierr.InvalidInput, "The session %s expired at %s; it can no longer be used and needs no revocation.", r.AccessKeyID, sess.Expires.UTC().Format(time.RFC3339))
		}
		e.AccessKeyID = sess.AccessKeyID
		e.PrincipalType, e.PrincipalName, e.PrincipalID, e.PrincipalARN = sess.PrincipalType(), sess.PrincipalName, sess.PrincipalID, sess.PrincipalARN
		e.SessionName, e.SourceIdentity = sess.SessionName, sess.SourceIdentity
		e.Expires = sess.Expires
		e.ID = entryID(r.Kind, sess.AccessKeyID)
		return e, nil
	case ByIssuer:
		if r.AccessKeyID == "" {
			return nil, apierr.New(apierr.InvalidInput, "Revoking by issuer needs the issuing access key id.")
		}
		keys, err := s.issuedClosure(ctx, r.AccessKeyID)
		if err != nil {
			return nil, err
		}
		e.AccessKeyID, e.IssuerKeyIDs = r.AccessKeyID, keys
		e.ID = entryID(r.Kind, r.AccessKeyID)
		// A key can issue user sessions (GetSessionToken and
		// GetFederationToken, up to 36 hours) as well as role sessions.
		life = MaxUserSession
	case BySessionName:
		if r.PrincipalType != RolePrincipal || r.PrincipalID == "" || r.SessionName == "" {
			return nil, apierr.New(apierr.InvalidInput, "Revoking by session name needs a role and a RoleSessionName.")
		}
		e.SessionName = r.SessionName
		e.ID = entryID(r.Kind, r.PrincipalID, r.SessionName)
	case BySourceIdentity:
		if r.SourceIdentity == "" {
			return nil, apierr.New(apierr.InvalidInput, "Revoking by source identity needs a SourceIdentity.")
		}
		e.SourceIdentity = r.SourceIdentity
		e.ID = entryID(r.Kind, r.SourceIdentity)
		// Only role sessions carry a source identity.
		life = MaxRoleSession
	case IssuedBefore:
		if r.PrincipalID == "" || (r.PrincipalType != RolePrincipal && r.PrincipalType != UserPrincipal) {
			return nil, apierr.New(apierr.InvalidInput, "Revoking by issue time needs a role or a user.")
		}
		if !r.IssuedBefore.IsZero() {
			t := r.IssuedBefore.UTC().Truncate(time.Microsecond)
			if t.After(now) {
				return nil, apierr.New(apierr.InvalidInput, "IssuedBefore %s is in the future; a revocation covers sessions already issued.", r.IssuedBefore.UTC().Format(time.RFC3339Nano))
			}
			e.IssuedBefore = t
		}
		e.ID = entryID(r.Kind, r.PrincipalID)
	default:
		return nil, apierr.New(apierr.InvalidInput, "Unknown revocation kind %q.", r.Kind)
	}
	if r.Kind != BySourceIdentity {
		e.PrincipalType, e.PrincipalName, e.PrincipalID, e.PrincipalARN = r.PrincipalType, r.PrincipalName, r.PrincipalID, r.PrincipalARN
	}
	e.Expires = e.IssuedBefore.Add(life)
	if !now.Before(e.Expires) {
		return nil, apierr.New(apierr.InvalidInput, "No session issued before %s can still be valid; nothing to revoke.", e.IssuedBefore.Format(time.RFC3339Nano))
	}
	return e, nil
}

// union is a followed by the elements of b it lacks.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, l := range [][]string{a, b} {
		for _, k := range l {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// entryID is stable for a target, so revoking the same thing twice finds
// the first entry.
func entryID(k Kind, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(k))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "rv-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// Undo removes a revocation. Removing one that is not there (or has
// expired) is NoSuchEntity.
func (s *Service) Undo(ctx context.Context, id string) (*Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || !s.now().Before(e.Expires) {
		return nil, apierr.New(apierr.NoSuchEntity, "The revocation with id %s cannot be found.", id)
	}
	if err := s.write(ctx, func(tx kv.Tx) error { return tx.Delete(tEntries, id) }); err != nil {
		return nil, err
	}
	delete(s.entries, id)
	s.install()
	return &e, nil
}

// Get returns an entry in force.
func (s *Service) Get(id string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || !s.now().Before(e.Expires) {
		return Entry{}, false
	}
	return e, true
}

// List returns the entries in force, newest first. principalID, when not
// empty, keeps those naming that role or user.
func (s *Service) List(principalID string) []Entry {
	now := s.now()
	s.mu.Lock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		if now.Before(e.Expires) && (principalID == "" || e.PrincipalID == principalID) {
			out = append(out, e)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Expire drops the entries whose sessions have all expired, from memory
// and from the store.
func (s *Service) Expire(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var dead []string
	for id, e := range s.entries {
		if !now.Before(e.Expires) {
			dead = append(dead, id)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx kv.Tx) error {
		for _, id := range dead {
			if err := tx.Delete(tEntries, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range dead {
		delete(s.entries, id)
	}
	s.install()
	return nil
}

// Reload re-reads the entries when another node changed them (the
// version in revoke.meta moved). It is cheap when nothing changed.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		ver     uint64
		entries map[string]Entry
	)
	err := s.store.View(ctx, func(tx kv.Tx) error {
		v, err := readVersion(tx)
		if err != nil || v == s.version {
			ver = v
			return err
		}
		ver, entries = v, map[string]Entry{}
		return tx.Scan(tEntries, "", "", 0, func(k string, b []byte) error {
			var e Entry
			if err := json.Unmarshal(b, &e); err != nil {
				return fmt.Errorf("decode %s/%s: %w", tEntries, k, err)
			}
			entries[k] = e
			return nil
		})
	})
	if err != nil {
		return apierr.Internal(fmt.Errorf("revoke: reload: %w", err))
	}
	if entries != nil {
		s.entries, s.version = entries, ver
		s.install()
	}
	return nil
}

// write runs fn and advances the version in one transaction, so that
// other nodes reload. Callers hold s.mu.
func (s *Service) write(ctx context.Context, fn func(kv.Tx) error) error {
	var ver uint64
	err := s.store.Update(ctx, func(tx kv.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		ver = v + 1
		return tx.Put(tMeta, metaVersion, []byte(strconv.FormatUint(ver, 10)))
	})
	if err != nil {
		if apierr.As(err) != nil {
			return err
		}
		return apierr.Internal(fmt.Errorf("revoke: %w", err))
	}
	s.version = ver
	return nil
}

func readVersion(tx kv.Tx) (uint64, error) {
	b, err := tx.Get(tMeta, metaVersion)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(b), 10, 64)
}

// install builds a new snapshot from s.entries and publishes it. Callers
// hold s.mu.
func (s *Service) install() {
	s.snap.Store(build(s.entries))
}
