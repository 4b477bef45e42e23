package revoke

import "time"

// snapshot is an immutable index of the entries, built on every change and
// read lock-free on every request. Where several entries share a target,
// the one with the latest cut-off stands for them: it matches a superset.
type snapshot struct {
	n       int
	keys    map[string]string         // access key id → entry id
	before  map[string]cut            // principal id → cut-off
	names   map[string]map[string]cut // role id → session name → cut-off
	sources map[string]cut            // source identity → cut-off
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
			if sn.before == nil {
				sn.before = map[string]cut{}
			}
			later(sn.before, e.PrincipalID, c)
		case BySessionName:
			if sn.names == nil {
				sn.names = map[string]map[string]cut{}
			}
			m := sn.names[e.PrincipalID]
			if m == nil {
				m = map[string]cut{}
				sn.names[e.PrincipalID] = m
			}
			later(m, e.SessionName, c)
		case BySourceIdentity:
			if sn.sources == nil {
				sn.sources = map[string]cut{}
			}
			later(sn.sources, e.SourceIdentity, c)
		}
	}
	return sn
}

// match reports the entry that revokes a session, if any. Lookups in nil
// maps are free, so kinds nobody used cost nothing.
func (sn *snapshot) match(keyID, principalID, sessionName, sourceIdentity string, issued time.Time) (string, bool) {
	if sn.n == 0 {
		return "", false
	}
	if id, ok := sn.keys[keyID]; ok {
		return id, true
	}
	at := issued.UnixNano()
	if c, ok := sn.before[principalID]; ok && at < c.at {
		return c.id, true
	}
	if sn.names != nil && sessionName != "" {
		if c, ok := sn.names[principalID][sessionName]; ok && at < c.at {
			return c.id, true
		}
	}
	if sourceIdentity != "" {
		if c, ok := sn.sources[sourceIdentity]; ok && at < c.at {
			return c.id, true
		}
	}
	return "", false
}
