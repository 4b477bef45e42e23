package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// Session is the inventory's record of one issued session: everything
// about it but its secret.
type Session struct {
	AccessKeyID    string    `json:"key"`
	Kind           string    `json:"kind"` // "AssumedRole", "UserSession" or "Federated"
	Account        string    `json:"account"`
	PrincipalID    string    `json:"pid"`  // AROA… or AIDA… (a federated user's: the issuing user's)
	PrincipalName  string    `json:"name"` // role or user name
	PrincipalARN   string    `json:"parn"` // the role's or user's ARN
	ARN            string    `json:"arn"`  // the session's ARN (assumed-role/…, federated-user/…, or the user's)
	SessionName    string    `json:"session,omitempty"`
	SourceIdentity string    `json:"source,omitempty"`
	IssuerKeyID    string    `json:"issuer,omitempty"`
	IssuedAt       time.Time `json:"issued"`
	Expires        time.Time `json:"expires"`
	SourceIP       string    `json:"ip,omitempty"`
	UserAgent      string    `json:"ua,omitempty"`
	MFA            bool      `json:"mfa,omitempty"`
	Chained        bool      `json:"chained,omitempty"`
	// LastUsed is filled on read: the latest request it authenticated.
	LastUsed time.Time `json:"-"`
}

// PrincipalType is RolePrincipal or UserPrincipal.
func (r *Session) PrincipalType() string {
	if r.Kind == token.AssumedRole.String() {
		return RolePrincipal
	}
	return UserPrincipal
}

// Origin is where an issuing request came from.
type Origin struct {
	SourceIP  string
	UserAgent string
}

// RecordSession writes an issued session to the inventory and returns once
// the record is durable. STS calls it before it hands the credentials out,
// so every session anyone holds is in the inventory. Concurrent calls
// share one transaction (inventory_batch.go), written with UpdateUncached:
// nothing caches the inventory, so issuing a session does not make other
// nodes drop their caches.
func (s *Service) RecordSession(ctx context.Context, t *token.Session, o Origin) error {
	acct := arn.AccountID(t.Account)
	r := &Session{
		AccessKeyID: t.AccessKeyID, Kind: t.Kind.String(), Account: t.Account,
		PrincipalID: t.PrincipalID, PrincipalName: t.PrincipalName,
		SessionName: t.SessionName, SourceIdentity: t.SourceIdentity, IssuerKeyID: t.IssuerKeyID,
		IssuedAt: t.IssuedAt.UTC(), Expires: t.Expires.UTC(), SourceIP: o.SourceIP, UserAgent: o.UserAgent,
		MFA: t.MFA, Chained: t.Chained,
	}
	switch t.Kind {
	case token.AssumedRole:
		r.PrincipalARN = arn.Role(acct, t.PrincipalPath, t.PrincipalName)
		r.ARN = arn.AssumedRole(acct, t.PrincipalName, t.SessionName)
	case token.Federated:
		// The session is the federated user's; the IAM user that issued it
		// is its principal for revocation (IssuedBefore on the user ends
		// its federated sessions too).
		r.PrincipalARN = arn.User(acct, t.PrincipalPath, t.PrincipalName)
		r.ARN = FederatedUserARN(acct, t.SessionName)
	default:
		r.PrincipalARN = arn.User(acct, t.PrincipalPath, t.PrincipalName)
		r.ARN = r.PrincipalARN
	}
	b, err := json.Marshal(r)
	if err != nil {
		return apierr.Internal(err)
	}
	if err := s.sessions.write(ctx, &pendingSession{rec: r, val: b}); err != nil {
		return apierr.Internal(fmt.Errorf("revoke: record session: %w", err))
	}
	return nil
}

// FederatedUserARN is a GetFederationToken session's ARN.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_FederatedUser.html
func FederatedUserARN(acct arn.AccountID, name string) string {
	return "arn:aws:sts::" + string(acct) + ":federated-user/" + name
}

// issuerKey indexes sessions by the key that issued them, in issue order.
func issuerKey(r *Session) string {
	return r.IssuerKeyID + "/" + r.IssuedAt.UTC().Format("20060102T150405.000000Z") + "/" + r.AccessKeyID
}

// principalKey indexes sessions by principal, in issue order.
func principalKey(r *Session) string {
	return r.PrincipalID + "/" + r.IssuedAt.UTC().Format("20060102T150405.000000Z") + "/" + r.AccessKeyID
}

// Session returns the inventory record of an access key id (ASIA…), with
// its last use; NoSuchEntity if it was never issued here (or has been
// pruned).
func (s *Service) Session(ctx context.Context, keyID string) (*Session, error) {
	var r *Session
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		r, err = readSession(tx, keyID)
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return nil, apierr.New(apierr.NoSuchEntity, "The session with access key id %s cannot be found.", keyID)
	}
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("revoke: %w", err))
	}
	return r, nil
}

func readSession(tx kv.Tx, keyID string) (*Session, error) {
	b, err := tx.Get(tSessions, keyID)
	if err != nil {
		return nil, err
	}
	r := new(Session)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", tSessions, keyID, err)
	}
	if b, err := tx.Get(tSessionUse, keyID); err == nil {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			r.LastUsed = time.Unix(0, n).UTC()
		}
	} else if !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	return r, nil
}

// fillUse merges the use noted in memory but not yet flushed.
func (s *Service) fillUse(r *Session) {
	if v, ok := s.use.Load(r.AccessKeyID); ok {
		if t := v.(*useSlot).at.Load(); t > r.LastUsed.UnixNano() {
			r.LastUsed = time.Unix(0, t).UTC()
		}
	}
}

// LastUse is Session's LastUsed with what is noted in memory.
func (s *Service) LastUse(r *Session) time.Time {
	s.fillUse(r)
	return r.LastUsed
}

// Sessions returns the sessions of a role or user (by id) that have not
// expired, oldest first.
func (s *Service) Sessions(ctx context.Context, principalID string) ([]*Session, error) {
	now := s.now()
	var out []*Session
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var keys []string
		err := tx.Scan(tPrincipal, principalID+"/", "", 0, func(k string, _ []byte) error {
			keys = append(keys, k[strings.LastIndexByte(k, '/')+1:])
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			r, err := readSession(tx, k)
			if errors.Is(err, kv.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if now.Before(r.Expires) {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("revoke: list sessions: %w", err))
	}
	for _, r := range out {
		s.fillUse(r)
	}
	return out, nil
}

// IssuedSessions returns the sessions that have not expired issued with
// an access key (AKIA… or ASIA…), oldest first.
func (s *Service) IssuedSessions(ctx context.Context, issuerKeyID string) ([]*Session, error) {
	now := s.now()
	var out []*Session
	err := s.store.View(ctx, func(tx kv.Tx) error {
		var err error
		out, err = issued(tx, issuerKeyID, now)
		return err
	})
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("revoke: list issued sessions: %w", err))
	}
	for _, r := range out {
		s.fillUse(r)
	}
	return out, nil
}

func issued(tx kv.Tx, issuerKeyID string, now time.Time) ([]*Session, error) {
	var keys []string
	err := tx.Scan(tIssuer, issuerKeyID+"/", "", 0, func(k string, _ []byte) error {
		keys = append(keys, k[strings.LastIndexByte(k, '/')+1:])
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*Session
	for _, k := range keys {
		r, err := readSession(tx, k)
		if errors.Is(err, kv.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if now.Before(r.Expires) && r.IssuerKeyID == issuerKeyID {
			out = append(out, r)
		}
	}
	return out, nil
}

// maxIssuedClosure bounds how many keys one ByIssuer entry matches.
const maxIssuedClosure = 10000

// issuedClosure is keyID followed by every live session issued from it,
// directly or through a chain of sessions, as the inventory knows them.
func (s *Service) issuedClosure(ctx context.Context, keyID string) ([]string, error) {
	now := s.now()
	out := []string{keyID}
	err := s.store.View(ctx, func(tx kv.Tx) error {
		seen := map[string]bool{keyID: true}
		for i := 0; i < len(out) && len(out) < maxIssuedClosure; i++ {
			ss, err := issued(tx, out[i], now)
			if err != nil {
				return err
			}
			for _, r := range ss {
				if !seen[r.AccessKeyID] {
					seen[r.AccessKeyID] = true
					out = append(out, r.AccessKeyID)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("revoke: sessions issued by %s: %w", keyID, err))
	}
	return out, nil
}

// useSlot is the last use of one session, in unix nanoseconds.
type useSlot struct {
	at      atomic.Int64
	flushed atomic.Int64
	expires int64
}

// NoteUse records that a session authenticated a request. It is on the
// request path: a lock-free map read and, at most once a millisecond per
// session, an atomic store.
func (s *Service) NoteUse(keyID string, expires, at time.Time) {
	v, ok := s.use.Load(keyID)
	if !ok {
		slot := &useSlot{expires: expires.UnixNano()}
		v, _ = s.use.LoadOrStore(keyID, slot)
	}
	slot := v.(*useSlot)
	t := at.UnixNano()
	if t > slot.at.Load()+int64(time.Millisecond) {
		slot.at.Store(t)
	}
}

// FlushUse persists the last uses noted since the previous flush, and
// forgets sessions that have expired.
func (s *Service) FlushUse(ctx context.Context) error {
	now := s.now().UnixNano()
	type pending struct {
		slot *useSlot
		at   int64
	}
	batch := map[string]pending{}
	s.use.Range(func(k, v any) bool {
		slot := v.(*useSlot)
		if at := slot.at.Load(); at > slot.flushed.Load() {
			batch[k.(string)] = pending{slot, at}
		} else if slot.expires < now {
			s.use.Delete(k)
		}
		return true
	})
	if len(batch) == 0 {
		return nil
	}
	err := s.store.UpdateUncached(ctx, func(tx kv.Tx) error {
		for k, p := range batch {
			if err := tx.Put(tSessionUse, k, []byte(strconv.FormatInt(p.at, 10))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke: flush session use: %w", err)
	}
	for _, p := range batch {
		p.slot.flushed.Store(p.at)
	}
	return nil
}

// PruneSessions deletes inventory records of sessions that expired longer
// ago than the retention.
func (s *Service) PruneSessions(ctx context.Context) error {
	limit := s.now().Add(-s.retention)
	var dead []*Session
	err := s.store.View(ctx, func(tx kv.Tx) error {
		return tx.Scan(tSessions, "", "", 0, func(k string, b []byte) error {
			r := new(Session)
			if err := json.Unmarshal(b, r); err != nil {
				return fmt.Errorf("decode %s/%s: %w", tSessions, k, err)
			}
			if r.Expires.Before(limit) {
				dead = append(dead, r)
			}
			return nil
		})
	})
	if err != nil || len(dead) == 0 {
		return err
	}
	return s.store.UpdateUncached(ctx, func(tx kv.Tx) error {
		for _, r := range dead {
			for _, d := range [][2]string{{tSessions, r.AccessKeyID}, {tSessionUse, r.AccessKeyID}, {tPrincipal, principalKey(r)}, {tIssuer, issuerKey(r)}} {
				if err := tx.Delete(d[0], d[1]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
