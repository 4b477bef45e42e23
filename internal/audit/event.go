// Package audit is iamd's audit trail: every API call as a CloudTrail
// record, written durably with group commit, hash-chained so that a changed,
// removed, inserted or reordered record is detected, and queried the way
// CloudTrail's LookupEvents queries its event history.
//
// It defines the record (Event, as CloudTrail's JSON has it, and Record,
// the stored form with its lookup columns and chain hashes), the Store
// interface that package store/sqlite and store/postgres implement, the
// Writer that batches concurrent appends into one transaction, Lookup's
// validation and paging, Verify, Export and retention.
//
// It does not know HTTP (package httpapi builds events from finished calls)
// nor SQL (the stores do). It never sees a secret: builders take only what
// may be recorded, and Hasher turns a session token into a keyed hash.
//
// Record format: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Constant field values of the records iamd writes.
const (
	EventVersion       = "1.08"
	EventTypeAPICall   = "AwsApiCall"
	CategoryManagement = "Management"
	// CategoryData is a data event's eventCategory (S3's object-level
	// calls); iamd returns them from LookupEvents too (docs/decisions/0014).
	CategoryData = "Data"
	// GlobalRegion is where CloudTrail records IAM's and STS's global
	// endpoint events.
	// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-global-service-events
	GlobalRegion = "us-east-1"
	// TimeFormat is eventTime's layout.
	TimeFormat = "2006-01-02T15:04:05Z"
)

// Event is one CloudTrail record, with CloudTrail's field names and order.
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
type Event struct {
	EventVersion       string         `json:"eventVersion"`
	UserIdentity       UserIdentity   `json:"userIdentity"`
	EventTime          string         `json:"eventTime"`
	EventSource        string         `json:"eventSource"`
	EventName          string         `json:"eventName"`
	AWSRegion          string         `json:"awsRegion"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestParameters  any            `json:"requestParameters"`
	ResponseElements   any            `json:"responseElements"`
	AdditionalData     map[string]any `json:"additionalEventData,omitempty"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"`
	ReadOnly           bool           `json:"readOnly"`
	Resources          []Resource     `json:"resources,omitempty"`
	EventType          string         `json:"eventType"`
	APIVersion         string         `json:"apiVersion,omitempty"`
	ManagementEvent    bool           `json:"managementEvent"`
	RecipientAccountID string         `json:"recipientAccountId"`
	EventCategory      string         `json:"eventCategory"`
	TLSDetails         *TLSDetails    `json:"tlsDetails,omitempty"`
}

// UserIdentity is who made the call.
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes temporary credentials.
type SessionContext struct {
	SessionIssuer  *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes     SessionAttributes `json:"attributes"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role (or user) that issued the session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes are the session's issue time and MFA state; CloudTrail
// writes mfaAuthenticated as the string "true" or "false".
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is a resource the call acted on.
type Resource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// TLSDetails is the connection's TLS, when it had one.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// FormatTime is t as eventTime writes it.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Username is what LookupEvents reports as an event's user: the IAM user's
// name, a role session's name, "root" for the account.
func (u *UserIdentity) Username() string {
	switch {
	case u.UserName != "":
		return u.UserName
	case u.Type == "AssumedRole":
		if _, s, ok := cut(u.PrincipalID, ':'); ok {
			return s
		}
	case u.Type == "Root":
		return "root"
	}
	return ""
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Record is an event as stored: its CloudTrail JSON, the columns lookups
// use, and its place in the hash chain.
type Record struct {
	Seq         int64 // position in the chain, from 1, assigned on append
	Time        int64 // eventTime, unix seconds
	EventID     string
	EventName   string
	EventSource string
	ReadOnly    bool
	AccessKeyID string
	Username    string
	Resources   []Resource
	Body        []byte // the CloudTrailEvent JSON, exactly as hashed
	PrevHash    []byte // the previous record's Hash (or the anchor's)
	Hash        []byte
}

// NewRecord encodes ev. Its Seq and hashes are set when it is appended.
func NewRecord(ev *Event) (*Record, error) {
	body, err := appendEvent(make([]byte, 0, 1024), ev)
	if err != nil {
		return nil, fmt.Errorf("audit: encode event: %w", err)
	}
	t, err := time.Parse(TimeFormat, ev.EventTime)
	if err != nil {
		return nil, fmt.Errorf("audit: event time %q: %w", ev.EventTime, err)
	}
	return &Record{
		Time: t.Unix(), EventID: ev.EventID, EventName: ev.EventName, EventSource: ev.EventSource,
		ReadOnly: ev.ReadOnly, AccessKeyID: ev.UserIdentity.AccessKeyID, Username: ev.UserIdentity.Username(),
		Resources: LookupResources(ev), Body: body,
	}, nil
}

// RecordFromBody rebuilds a record's lookup columns from its JSON, for
// Verify to check that stored columns say what the hashed body says.
func RecordFromBody(body []byte) (*Record, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, err
	}
	r, err := NewRecord(&ev)
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

// HashSize is the length of a chain hash.
const HashSize = sha256.Size

// Genesis is the previous hash of the first record ever written.
var Genesis = make([]byte, HashSize)

// Link is a record's chain hash: SHA-256(prev || seq as 8 big-endian
// bytes || body). The sequence number is hashed so that moving a record
// changes its hash.
func Link(prev []byte, seq int64, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	h.Write(b[:])
	h.Write(body)
	return h.Sum(nil)
}

// Chain assigns consecutive sequence numbers after (seq, hash) to recs
// and links them; it returns the new head.
func Chain(seq int64, hash []byte, recs []*Record) (int64, []byte) {
	for _, r := range recs {
		seq++
		r.Seq, r.PrevHash = seq, hash
		r.Hash = Link(hash, seq, r.Body)
		hash = r.Hash
	}
	return seq, hash
}

// Hasher computes the keyed hash iamd records instead of a secret
// (a session token), so that a record can be found by the secret without
// holding it, as Vault's audit devices do.
type Hasher struct{ key []byte }

// NewHasher derives the audit hashing key from the server's master key.
func NewHasher(master []byte) *Hasher {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("iamd audit hmac v1"))
	return &Hasher{key: m.Sum(nil)}
}

// Hash returns "hmac-sha256:<hex>" of v.
func (h *Hasher) Hash(v string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(v))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}
