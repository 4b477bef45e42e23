package revoke

import "time"

// snapshot is an immutable index of the entries, built on every change and
// read lock-free on every request. Where several entries share a target,
// the one with the latest cut-off stands for them: it matches a superset.
type snapshot struct {
	n       int
	keys    map[string]string      // access key id → entry id
	byPrin  map[string]*principals // role or user id → its cut-offs
	sources map[string]cut         // source identity → cut-off
	issuers map[string]cut         // issuing access key id → cut-off
}

// principals holds one role's or user's cut-offs, so that a request costs
// one lookup for its principal however the entries select it.
type principals struct {
	before cut            // every session; at == 0: none
	names  map[string]cut // role session name → cut-off
}

// cut is a cut-off: sessions issued strictly before at (unix nanoseconds)
// match.
type cut struct {
	at int64
	id string
}

func build(entries map[string]Entry) *snapshot {
	sn := &snapshot{n: len(entries)}
	later := func(m map[string]cut, k string, c cut) {
		if old, ok := m[k]; !ok || c.at > old.at {
			m[k] = c
		}
	}
	for _, e := range entries {
		c := cut{at: e.IssuedBefore.UnixNano(), id: e.ID}
		switch e.Kind {
		case ByAccessKey:
			if sn.keys == nil {
				sn.keys = map[string]string{}
			}
			sn.keys[e.AccessKeyID] = e.ID
		case IssuedBefore:
			p := sn.principal(e.PrincipalID)
			if c.at > p.before.at {
				p.before = c
			}
		case BySessionName:
			p := sn.principal(e.PrincipalID)
			if p.names == nil {
				p.names = map[string]cut{}
			}
			later(p.names, e.SessionName, c)
		case BySourceIdentity:
			if sn.sources == nil {
				sn.sources = map[string]cut{}
			}
			later(sn.sources, e.SourceIdentity, c)
		case ByIssuer:
			if sn.issuers == nil {
				sn.issuers = map[string]cut{}
			}
			for _, k := range e.IssuerKeyIDs {
				later(sn.issuers, k, c)
			}
		}
	}
	return sn
}

func (sn *snapshot) principal(id string) *principals {
	if sn.byPrin == nil {
		sn.byPrin = map[string]*principals{}
	}
	p := sn.byPrin[id]
	if p == nil {
		p = &principals{}
		sn.byPrin[id] = p
	}
	return p
}

// match reports the entry that revokes a session, if any. Lookups in nil
// maps are free, so kinds nobody used cost nothing.
func (sn *snapshot) match(keyID, principalID, sessionName, sourceIdentity, issuerKeyID string, issued time.Time) (string, bool) {
	if sn.n == 0 {
		return "", false
	}
	if id, ok := sn.keys[keyID]; ok {
		return id, true
	}
	at := issued.UnixNano()
	if p := sn.byPrin[principalID]; p != nil {
		if at < p.before.at {
			return p.before.id, true
		}
		if p.names != nil && sessionName != "" {
			if c, ok := p.names[sessionName]; ok && at < c.at {
				return c.id, true
			}
		}
	}
	if sourceIdentity != "" {
		if c, ok := sn.sources[sourceIdentity]; ok && at < c.at {
			return c.id, true
		}
	}
	if issuerKeyID != "" {
		if c, ok := sn.issuers[issuerKeyID]; ok && at < c.at {
			return c.id, true
		}
	}
	return "", false
}
