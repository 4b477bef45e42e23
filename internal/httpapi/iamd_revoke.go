package httpapi

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/revoke"
)

// iamd's own actions, in the IAM Query namespace (Version=2010-05-08), for
// leaked-credential response beyond what AWS offers: surgical revocation,
// the session inventory and whois. Each is authorized as iam:<Action> on
// the role or user it concerns, so ordinary IAM policies grant them.
// docs/revocation.md documents them for curl; internal/cli drives them.

// iamdAPI serves iamd's own actions.
type iamdAPI struct {
	iam *iam.Service
	rev *revoke.Service
}

// registerIamd declares iamd's own actions on the IAM service.
func (a *iamAPI) registerIamd(m map[string]Handler) {
	x := &iamdAPI{iam: a.svc, rev: a.rev}
	m["RevokeSession"] = x.revokeSession
	m["ListRevocations"] = x.listRevocations
	m["DeleteRevocation"] = x.deleteRevocation
	m["ListSessions"] = x.listSessions
	m["GetAccessKeyDetails"] = x.getAccessKeyDetails
}

var (
	ruleRevocationID = Pattern(`rv-[0-9a-f]{16}`).Len(19, 19)
	ruleReason       = StringRule{}.Len(0, 1000)
)

// xmlTimeMs is a timestamp with milliseconds: revocation cut-offs and
// issue times are compared at that precision (aws:TokenIssueTime).
type xmlTimeMs time.Time

func (t xmlTimeMs) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z")), nil
}

type xmlRevocation struct {
	RevocationId    string
	Type            string
	AccessKeyId     string `xml:",omitempty"`
	RoleName        string `xml:",omitempty"`
	UserName        string `xml:",omitempty"`
	PrincipalArn    string `xml:",omitempty"`
	RoleSessionName string `xml:",omitempty"`
	SourceIdentity  string `xml:",omitempty"`
	// IssuerAccessKeyId (type IssuerAccessKeyId): the key whose sessions
	// it revokes; SessionsCovered: how many live sessions issued from it,
	// directly or through chains, it named when made.
	IssuerAccessKeyId string `xml:",omitempty"`
	SessionsCovered   int    `xml:",omitempty"`
	IssuedBefore      xmlTimeMs
	CreateDate        xmlTimeMs
	ExpirationDate    xmlTimeMs
	CreatedBy         string `xml:",omitempty"`
	Reason            string `xml:",omitempty"`
}

func revocationOf(e *revoke.Entry) xmlRevocation {
	x := xmlRevocation{
		RevocationId: e.ID, Type: string(e.Kind), AccessKeyId: e.AccessKeyID, PrincipalArn: e.PrincipalARN,
		RoleSessionName: e.SessionName, SourceIdentity: e.SourceIdentity,
		IssuedBefore: xmlTimeMs(e.IssuedBefore), CreateDate: xmlTimeMs(e.Created), ExpirationDate: xmlTimeMs(e.Expires),
		CreatedBy: e.CreatedBy, Reason: e.Reason,
	}
	if e.PrincipalType == revoke.RolePrincipal {
		x.RoleName = e.PrincipalName
	} else {
		x.UserName = e.PrincipalName
	}
	if e.Kind == revoke.ByIssuer {
		x.AccessKeyId, x.IssuerAccessKeyId = "", e.AccessKeyID
		x.SessionsCovered = len(e.IssuerKeyIDs) - 1
	}
	return x
}

// keyOwner finds the user that owns a long-term key, or the role or user
// of a session key, and authorizes action on it. An unknown key is
// NoSuchEntity, once the caller may act on "*".
func (x *iamdAPI) keyOwner(c *Call, keyID, action string) (*principalRef, error) {
	unknown := func(err error) (*principalRef, error) {
		if aerr := c.Authorize(action, "*"); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	var p *principalRef
	if arn.AccessKeyID(keyID).Temporary() {
		s, err := x.rev.Session(c.Ctx, keyID)
		if err != nil {
			return unknown(err)
		}
		p = &principalRef{typ: s.PrincipalType(), name: s.PrincipalName, id: s.PrincipalID, arn: s.PrincipalARN}
	} else {
		owner, _, err := x.iam.GetAccessKeyLastUsed(c.Ctx, keyID)
		if apierr.Is(err, apierr.NoSuchEntity) {
			return unknown(apierr.New(apierr.NoSuchEntity, "The access key %s is not known to this account.", keyID))
		}
		if err != nil {
			return nil, err
		}
		u, err := x.iam.GetUser(c.Ctx, owner)
		if err != nil {
			return unknown(err)
		}
		p = &principalRef{typ: revoke.UserPrincipal, name: u.Name, id: u.ID, arn: u.ARN}
	}
	if err := c.Authorize(action, p.arn); err != nil {
		return nil, err
	}
	return p, nil
}

// principalRef is a role or user named by RoleName or UserName.
type principalRef struct {
	typ, name, id, arn string
}

// principalParam reads RoleName or UserName (not both). required says
// whether one must be there.
func (x *iamdAPI) principalParam(c *Call, required bool) (*principalRef, error) {
	role, err := c.Params.Optional("RoleName", ruleRoleName)
	if err != nil {
		return nil, err
	}
	user, err := c.Params.Optional("UserName", ruleUserName)
	if err != nil {
		return nil, err
	}
	switch {
	case role != "" && user != "":
		return nil, apierr.New(apierr.InvalidParameterCombination, "Pass RoleName or UserName, not both.")
	case role != "":
		return &principalRef{typ: revoke.RolePrincipal, name: role}, nil
	case user != "":
		return &principalRef{typ: revoke.UserPrincipal, name: user}, nil
	case required:
		return nil, apierr.New(apierr.MissingParameter, "RoleName or UserName is required.")
	}
	return nil, nil
}

// resolve finds the role or user. Before it is authorized a caller only
// learns the ARN it is authorized against (a path-less one for an entity
// that does not exist); after, NoSuchEntity.
func (x *iamdAPI) resourceOf(c *Call, p *principalRef) string {
	if p.typ == revoke.RolePrincipal {
		if r, err := x.iam.GetRole(c.Ctx, p.name); err == nil {
			p.id, p.arn, p.name = r.ID, r.ARN, r.Name
			return r.ARN
		}
		return arn.Role(x.iam.Account(), "/", p.name)
	}
	if u, err := x.iam.GetUser(c.Ctx, p.name); err == nil {
		p.id, p.arn, p.name = u.ID, u.ARN, u.Name
		return u.ARN
	}
	return arn.User(x.iam.Account(), "/", p.name)
}

func (p *principalRef) mustExist() error {
	if p.id == "" {
		return apierr.NoEntity(p.typ, p.name)
	}
	return nil
}

// parseTime reads an ISO 8601 time parameter.
func parseTime(c *Call, name string) (time.Time, error) {
	v := c.Params.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, apierr.New(apierr.InvalidInput, "%s %q is not an ISO 8601 time such as 2024-10-10T09:43:48.085Z.", name, v)
}

// RevokeSession revokes the sessions one of these selects:
// AccessKeyId (one session); RoleName and RoleSessionName; SourceIdentity;
// RoleName or UserName with an optional IssuedBefore (default now);
// IssuerAccessKeyId (every session that key issued, and theirs, until now).
func (x *iamdAPI) revokeSession(c *Call) (any, error) {
	keyID, err := c.Params.Optional("AccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	sessionName, err := c.Params.Optional("RoleSessionName", ruleSessionName)
	if err != nil {
		return nil, err
	}
	source, err := c.Params.Optional("SourceIdentity", ruleSourceIdentity)
	if err != nil {
		return nil, err
	}
	before, err := parseTime(c, "IssuedBefore")
	if err != nil {
		return nil, err
	}
	reason, err := c.Params.Optional("Reason", ruleReason)
	if err != nil {
		return nil, err
	}
	issuer, err := c.Params.Optional("IssuerAccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	p, err := x.principalParam(c, false)
	if err != nil {
		return nil, err
	}
	req := revoke.Request{CreatedBy: c.Caller.ARN, Reason: reason, IssuedBefore: before}
	combo := func(msg string) error { return apierr.New(apierr.InvalidParameterCombination, "%s", msg) }
	resource := "*"
	switch {
	case issuer != "":
		if keyID != "" || p != nil || sessionName != "" || source != "" || !before.IsZero() {
			return nil, combo("IssuerAccessKeyId selects the sessions one key issued; pass it alone.")
		}
		owner, err := x.keyOwner(c, issuer, "iam:RevokeSession")
		if err != nil {
			return nil, err
		}
		resource = owner.arn
		req.Kind, req.AccessKeyID = revoke.ByIssuer, issuer
		req.PrincipalType, req.PrincipalName, req.PrincipalID, req.PrincipalARN = owner.typ, owner.name, owner.id, owner.arn
	case keyID != "":
		if p != nil || sessionName != "" || source != "" || !before.IsZero() {
			return nil, combo("AccessKeyId selects one session; pass it alone.")
		}
		if !arn.AccessKeyID(keyID).Temporary() {
			if err := c.Authorize("iam:RevokeSession", "*"); err != nil {
				return nil, err
			}
			return nil, apierr.New(apierr.InvalidInput, "%s is a long-term access key: deactivate it with UpdateAccessKey (RevokeSession with IssuerAccessKeyId, iamd revoke --issued-by, ends the sessions it issued).", keyID)
		}
		sess, err := x.rev.Session(c.Ctx, keyID)
		if err != nil {
			if err := c.Authorize("iam:RevokeSession", "*"); err != nil {
				return nil, err
			}
			return nil, err
		}
		resource = sess.PrincipalARN
		req.Kind, req.AccessKeyID = revoke.ByAccessKey, keyID
	case source != "":
		if p != nil || sessionName != "" || !before.IsZero() {
			return nil, combo("SourceIdentity covers every role; pass it alone.")
		}
		req.Kind, req.SourceIdentity = revoke.BySourceIdentity, source
	case sessionName != "":
		if p == nil || p.typ != revoke.RolePrincipal {
			return nil, apierr.New(apierr.MissingParameter, "RoleSessionName needs the RoleName it belongs to.")
		}
		if !before.IsZero() {
			return nil, combo("RoleSessionName revokes the sessions issued until now; IssuedBefore does not apply.")
		}
		resource = x.resourceOf(c, p)
		req.Kind, req.SessionName = revoke.BySessionName, sessionName
	case p != nil:
		resource = x.resourceOf(c, p)
		req.Kind = revoke.IssuedBefore
	default:
		return nil, apierr.New(apierr.MissingParameter, "Pass AccessKeyId, IssuerAccessKeyId, RoleName with RoleSessionName, SourceIdentity, or RoleName or UserName with IssuedBefore.")
	}
	if err := c.Authorize("iam:RevokeSession", resource); err != nil {
		return nil, err
	}
	if p != nil {
		if err := p.mustExist(); err != nil {
			return nil, err
		}
		req.PrincipalType, req.PrincipalName, req.PrincipalID, req.PrincipalARN = p.typ, p.name, p.id, p.arn
	}
	e, err := x.rev.Revoke(c.Ctx, req)
	if err != nil {
		return nil, err
	}
	out := struct {
		Revocation   xmlRevocation
		LiveSessions *int `xml:",omitempty"`
	}{Revocation: revocationOf(e)}
	// How many recorded live sessions it ended (not for source identity,
	// which would need a scan of every principal).
	switch {
	case e.Kind == revoke.ByIssuer:
		n := 0
		for _, k := range e.IssuerKeyIDs {
			if ss, err := x.rev.IssuedSessions(c.Ctx, k); err == nil {
				for _, s := range ss {
					if _, ok := x.rev.Matches(s); ok {
						n++
					}
				}
			}
		}
		out.LiveSessions = &n
	case e.PrincipalID != "":
		if ss, err := x.rev.Sessions(c.Ctx, e.PrincipalID); err == nil {
			n := 0
			for _, s := range ss {
				if _, ok := x.rev.Matches(s); ok {
					n++
				}
			}
			out.LiveSessions = &n
		}
	}
	return out, nil
}

// ListRevocations lists the revocations in force, newest first, optionally
// for one role or user.
func (x *iamdAPI) listRevocations(c *Call) (any, error) {
	p, err := x.principalParam(c, false)
	if err != nil {
		return nil, err
	}
	resource, pid := "*", ""
	if p != nil {
		resource = x.resourceOf(c, p)
		pid = p.id
	}
	if err := c.Authorize("iam:ListRevocations", resource); err != nil {
		return nil, err
	}
	if p != nil {
		if err := p.mustExist(); err != nil {
			return nil, err
		}
	}
	out := struct {
		Revocations []xmlRevocation `xml:"Revocations>member"`
	}{Revocations: []xmlRevocation{}}
	for _, e := range x.rev.List(pid) {
		out.Revocations = append(out.Revocations, revocationOf(&e))
	}
	return out, nil
}

// DeleteRevocation undoes a revocation: the sessions it matched work
// again (unless something else revokes them).
func (x *iamdAPI) deleteRevocation(c *Call) (any, error) {
	id, err := c.Params.Required("RevocationId", ruleRevocationID)
	if err != nil {
		return nil, err
	}
	resource := "*"
	e, ok := x.rev.Get(id)
	if ok && e.PrincipalARN != "" {
		resource = e.PrincipalARN
	}
	if err := c.Authorize("iam:DeleteRevocation", resource); err != nil {
		return nil, err
	}
	if _, err := x.rev.Undo(c.Ctx, id); err != nil {
		return nil, err
	}
	return nil, nil
}

type xmlSession struct {
	AccessKeyId       string
	Arn               string
	RoleSessionName   string `xml:",omitempty"`
	SourceIdentity    string `xml:",omitempty"`
	IssuerAccessKeyId string `xml:",omitempty"`
	IssueDate         xmlTimeMs
	ExpirationDate    xmlTimeMs
	SourceIp          string `xml:",omitempty"`
	UserAgent         string `xml:",omitempty"`
	MFA               bool
	LastUsedDate      *xmlTimeMs `xml:",omitempty"`
	Type              string     `xml:",omitempty"` // AssumedRole, UserSession or Federated
	Status            string     // Active, Revoked or Expired
	RevokedBy         string     `xml:",omitempty"` // a revocation id, or AWSRevokeOlderSessions
}

// awsCutoff is the aws:TokenIssueTime cut-off of the principal's
// AWSRevokeOlderSessions inline policy, if it has one.
func (x *iamdAPI) awsCutoff(c *Call, typ, name string) (time.Time, bool) {
	kind := iam.KindRole
	if typ == revoke.UserPrincipal {
		kind = iam.KindUser
	}
	p, err := x.iam.GetInlinePolicy(c.Ctx, kind, name, "AWSRevokeOlderSessions")
	if err != nil {
		return time.Time{}, false
	}
	return tokenIssueCutoff(p.Document)
}

// tokenIssueCutoff finds a Deny statement's DateLessThan aws:TokenIssueTime
// in a policy document (the console's revoke-sessions policy).
func tokenIssueCutoff(doc string) (time.Time, bool) {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return time.Time{}, false
	}
	type stmt struct {
		Effect    string
		Condition map[string]map[string]json.RawMessage
	}
	var ss []stmt
	if json.Unmarshal(d.Statement, &ss) != nil {
		var one stmt
		if json.Unmarshal(d.Statement, &one) != nil {
			return time.Time{}, false
		}
		ss = []stmt{one}
	}
	var best time.Time
	for _, s := range ss {
		if s.Effect != "Deny" {
			continue
		}
		for op, keys := range s.Condition {
			if !strings.EqualFold(op, "DateLessThan") {
				continue
			}
			for k, raw := range keys {
				if !strings.EqualFold(k, "aws:TokenIssueTime") {
					continue
				}
				var v string
				if json.Unmarshal(raw, &v) != nil {
					var vs []string
					if json.Unmarshal(raw, &vs) != nil || len(vs) == 0 {
						continue
					}
					v = vs[0]
				}
				if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.After(best) {
					best = t
				}
			}
		}
	}
	return best, !best.IsZero()
}

// status is Active, Expired or Revoked, with what revoked it.
func (x *iamdAPI) status(s *revoke.Session, now time.Time, cutoff time.Time, hasCutoff bool) (string, string) {
	if !now.Before(s.Expires) {
		return "Expired", ""
	}
	if id, ok := x.rev.Matches(s); ok {
		return "Revoked", id
	}
	// The policy compares aws:TokenIssueTime at millisecond precision.
	if hasCutoff && s.IssuedAt.Truncate(time.Millisecond).Before(cutoff) {
		return "Revoked", "AWSRevokeOlderSessions"
	}
	return "Active", ""
}

func (x *iamdAPI) sessionOf(s *revoke.Session, status, by string) xmlSession {
	out := xmlSession{
		AccessKeyId: s.AccessKeyID, Arn: s.ARN, RoleSessionName: s.SessionName, SourceIdentity: s.SourceIdentity,
		IssuerAccessKeyId: s.IssuerKeyID, IssueDate: xmlTimeMs(s.IssuedAt), ExpirationDate: xmlTimeMs(s.Expires),
		SourceIp: s.SourceIP, UserAgent: s.UserAgent, MFA: s.MFA, Type: s.Kind, Status: status, RevokedBy: by,
	}
	if lu := x.rev.LastUse(s); !lu.IsZero() {
		t := xmlTimeMs(lu)
		out.LastUsedDate = &t
	}
	return out
}

// ListSessions lists the live sessions of a role or user, oldest first,
// with their last use and whether they are revoked.
//
// With IssuerAccessKeyId instead, it lists the live sessions that key
// issued (AssumeRole, GetSessionToken, GetFederationToken called with it),
// whatever their role: authorized as iam:ListSessions on the key's owner,
// since whoever may see a user's sessions may see what its keys minted.
func (x *iamdAPI) listSessions(c *Call) (any, error) {
	issuer, err := c.Params.Optional("IssuerAccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	p, err := x.principalParam(c, issuer == "")
	if err != nil {
		return nil, err
	}
	var ss []*revoke.Session
	if issuer != "" {
		if p != nil {
			return nil, apierr.New(apierr.InvalidParameterCombination, "Pass IssuerAccessKeyId, or RoleName or UserName, not both.")
		}
		if _, err := x.keyOwner(c, issuer, "iam:ListSessions"); err != nil {
			return nil, err
		}
		if ss, err = x.rev.IssuedSessions(c.Ctx, issuer); err != nil {
			return nil, err
		}
	} else {
		if err := c.Authorize("iam:ListSessions", x.resourceOf(c, p)); err != nil {
			return nil, err
		}
		if err := p.mustExist(); err != nil {
			return nil, err
		}
		if ss, err = x.rev.Sessions(c.Ctx, p.id); err != nil {
			return nil, err
		}
	}
	type cutoffOf struct {
		t   time.Time
		has bool
	}
	cutoffs := map[string]cutoffOf{} // principal ARN → its AWSRevokeOlderSessions cut-off
	out := struct {
		Sessions []xmlSession `xml:"Sessions>member"`
	}{Sessions: []xmlSession{}}
	for _, s := range ss {
		co, ok := cutoffs[s.PrincipalARN]
		if !ok {
			co.t, co.has = x.awsCutoff(c, s.PrincipalType(), s.PrincipalName)
			cutoffs[s.PrincipalARN] = co
		}
		st, by := x.status(s, c.Env.Now, co.t, co.has)
		out.Sessions = append(out.Sessions, x.sessionOf(s, st, by))
	}
	return out, nil
}

// GetAccessKeyDetails tells who owns an access key (AKIA… or ASIA…), when
// and from where it was issued, when it was last used and whether it still
// works: `iamd whois`.
func (x *iamdAPI) getAccessKeyDetails(c *Call) (any, error) {
	id, err := c.Params.Required("AccessKeyId", ruleAccessKeyID)
	if err != nil {
		return nil, err
	}
	type result struct {
		AccessKeyId     string
		Type            string // AccessKey, AssumedRole, UserSession or Federated
		Arn             string
		UserName        string `xml:",omitempty"`
		RoleName        string `xml:",omitempty"`
		Session         *xmlSession
		CreateDate      *xmlTimeMs `xml:",omitempty"`
		Status          string
		LastUsedDate    *xmlTimeMs `xml:",omitempty"`
		LastUsedService string     `xml:",omitempty"`
		LastUsedRegion  string     `xml:",omitempty"`
	}
	unknown := func() (any, error) {
		if err := c.Authorize("iam:GetAccessKeyDetails", "*"); err != nil {
			return nil, err
		}
		return nil, apierr.New(apierr.NoSuchEntity, "The access key %s is not known to this account.", id)
	}
	if arn.AccessKeyID(id).Temporary() {
		s, err := x.rev.Session(c.Ctx, id)
		if apierr.Is(err, apierr.NoSuchEntity) {
			return unknown()
		}
		if err != nil {
			return nil, err
		}
		if err := c.Authorize("iam:GetAccessKeyDetails", s.PrincipalARN); err != nil {
			return nil, err
		}
		cutoff, has := x.awsCutoff(c, s.PrincipalType(), s.PrincipalName)
		st, by := x.status(s, c.Env.Now, cutoff, has)
		xs := x.sessionOf(s, st, by)
		r := result{AccessKeyId: id, Type: s.Kind, Arn: s.ARN, Session: &xs, CreateDate: &xs.IssueDate, Status: st, LastUsedDate: xs.LastUsedDate}
		if s.PrincipalType() == revoke.RolePrincipal {
			r.RoleName = s.PrincipalName
		} else {
			r.UserName = s.PrincipalName
		}
		return r, nil
	}
	owner, used, err := x.iam.GetAccessKeyLastUsed(c.Ctx, id)
	if apierr.Is(err, apierr.NoSuchEntity) {
		return unknown()
	}
	if err != nil {
		return nil, err
	}
	u, err := x.iam.GetUser(c.Ctx, owner)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:GetAccessKeyDetails", u.ARN); err != nil {
		return nil, err
	}
	r := result{AccessKeyId: id, Type: "AccessKey", Arn: u.ARN, UserName: u.Name}
	keys, err := x.iam.ListAccessKeys(c.Ctx, owner, iam.Page{MaxItems: 1000})
	if err != nil {
		return nil, err
	}
	for _, k := range keys.Items {
		if k.ID == id {
			t := xmlTimeMs(k.CreateDate)
			r.CreateDate, r.Status = &t, k.Status
		}
	}
	if !used.Date.IsZero() {
		t := xmlTimeMs(used.Date)
		r.LastUsedDate, r.LastUsedService, r.LastUsedRegion = &t, used.ServiceName, used.Region
	}
	return r, nil
}
