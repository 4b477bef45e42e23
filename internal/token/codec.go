package token

import (
	"encoding/binary"
	"errors"
	"time"
)

// The plaintext inside a version-1 token is a fixed sequence of fields, no
// field tags: every field is always present, so there is nothing to skip and
// nothing to look up, which is what keeps Open near a microsecond. A new
// field means a new token version (the header byte) with its own decoder.
//
//	kind      byte (1 AssumedRole, 2 UserSession, 3 Federated)
//	flags     byte (bit 0 MFA, bit 1 Chained; other bits must be 0)
//	strings   AccessKeyID SecretAccessKey Account PrincipalID PrincipalName
//	          PrincipalPath SessionName SourceIdentity IssuerKeyID Policy
//	times     IssuedAt Expires MFAAuthTime
//	tags      count, then key value pairs
//	lists     TransitiveTagKeys, PolicyARNs: count, then strings
//
// A string is a uvarint length and its bytes. A count is a uvarint. A time is
// a zigzag varint of microseconds since 0001-01-01 UTC, so the zero time is
// the single byte 0 and every other instant round-trips exactly.

const (
	flagMFA     = 1 << 0
	flagChained = 1 << 1

	// maxItems caps each list (tags, transitive keys, policy ARNs). AWS
	// allows 50 session tags and 10 policy ARNs; the cap is what a decoder
	// will ever allocate for, whatever a count says.
	maxItems = 128
)

// zeroMicros is time.Time{} in Unix microseconds: the origin of the time
// encoding.
var zeroMicros = time.Time{}.UnixMicro()

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func timeBits(t time.Time) int64 { return t.UnixMicro() - zeroMicros }

func timeLen(t time.Time) int {
	x := timeBits(t)
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

// payloadSize is the exact encoded size of s, so Seal allocates once.
func payloadSize(s *Session) int {
	n := 2
	for _, f := range [...]string{s.AccessKeyID, s.SecretAccessKey, s.Account, s.PrincipalID, s.PrincipalName,
		s.PrincipalPath, s.SessionName, s.SourceIdentity, s.IssuerKeyID, s.Policy} {
		n += strLen(f)
	}
	n += timeLen(s.IssuedAt) + timeLen(s.Expires) + timeLen(s.MFAAuthTime)
	n += uvarintLen(uint64(len(s.Tags)))
	for _, t := range s.Tags {
		n += strLen(t.Key) + strLen(t.Value)
	}
	for _, l := range [...][]string{s.TransitiveTagKeys, s.PolicyARNs} {
		n += uvarintLen(uint64(len(l)))
		for _, v := range l {
			n += strLen(v)
		}
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendSession(b []byte, s *Session) []byte {
	var flags byte
	if s.MFA {
		flags |= flagMFA
	}
	if s.Chained {
		flags |= flagChained
	}
	b = append(b, byte(s.Kind), flags)
	for _, f := range [...]string{s.AccessKeyID, s.SecretAccessKey, s.Account, s.PrincipalID, s.PrincipalName,
		s.PrincipalPath, s.SessionName, s.SourceIdentity, s.IssuerKeyID, s.Policy} {
		b = appendString(b, f)
	}
	b = binary.AppendVarint(b, timeBits(s.IssuedAt))
	b = binary.AppendVarint(b, timeBits(s.Expires))
	b = binary.AppendVarint(b, timeBits(s.MFAAuthTime))
	b = binary.AppendUvarint(b, uint64(len(s.Tags)))
	for _, t := range s.Tags {
		b = appendString(b, t.Key)
		b = appendString(b, t.Value)
	}
	for _, l := range [...][]string{s.TransitiveTagKeys, s.PolicyARNs} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, v := range l {
			b = appendString(b, v)
		}
	}
	return b
}

var errDecode = errors.New("token: malformed session encoding")

// decoder reads the payload. Strings are slices of one string copied from the
// plaintext once, so decoding costs one allocation for all of them. Errors
// are sticky: after the first, every read returns a zero value and the
// caller checks once at the end.
type decoder struct {
	s   string
	off int
	bad bool
}

func (d *decoder) byte() byte {
	if d.bad || d.off >= len(d.s) {
		d.bad = true
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint() uint64 {
	// Fast path: nearly every length and count is below 128, one byte.
	if d.off < len(d.s) && d.s[d.off] < 0x80 {
		d.off++
		return uint64(d.s[d.off-1])
	}
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c := d.byte()
		if d.bad {
			return 0
		}
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflows 64 bits
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.bad = true
	return 0
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.s)-d.off) {
		d.bad = true
		return ""
	}
	v := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

func (d *decoder) time() time.Time {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	if d.bad {
		return time.Time{}
	}
	return time.UnixMicro(x + zeroMicros).UTC()
}

// count reads a list length. It must fit maxItems and, since each item takes
// at least minSize bytes, what is left of the payload: a lying count fails
// here instead of allocating.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.bad || n > maxItems || n*uint64(minSize) > uint64(len(d.s)-d.off) {
		d.bad = true
		return 0
	}
	return int(n)
}

// strings reads a counted list of strings; nil when empty so that a session
// without lists costs no allocation.
func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = d.str()
	}
	return l
}

func decodeSession(p []byte) (*Session, error) {
	d := decoder{s: string(p)}
	s := new(Session)
	s.Kind = Kind(d.byte())
	flags := d.byte()
	if s.Kind == 0 || s.Kind > maxKind || flags&^(flagMFA|flagChained) != 0 {
		return nil, errDecode
	}
	s.MFA = flags&flagMFA != 0
	s.Chained = flags&flagChained != 0
	s.AccessKeyID = d.str()
	s.SecretAccessKey = d.str()
	s.Account = d.str()
	s.PrincipalID = d.str()
	s.PrincipalName = d.str()
	s.PrincipalPath = d.str()
	s.SessionName = d.str()
	s.SourceIdentity = d.str()
	s.IssuerKeyID = d.str()
	s.Policy = d.str()
	s.IssuedAt = d.time()
	s.Expires = d.time()
	s.MFAAuthTime = d.time()
	if n := d.count(2); n > 0 {
		s.Tags = make([]Tag, n)
		for i := range s.Tags {
			s.Tags[i] = Tag{Key: d.str(), Value: d.str()}
		}
	}
	s.TransitiveTagKeys = d.strings()
	s.PolicyARNs = d.strings()
	if d.bad || d.off != len(d.s) {
		return nil, errDecode
	}
	return s, nil
}
