package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/iamd/iamd/internal/apierr"
)

// CloudTrail's LookupEvents errors (JSON 1.1 __type values).
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_Errors
const (
	InvalidLookupAttributes apierr.Code = "InvalidLookupAttributesException"
	InvalidTimeRange        apierr.Code = "InvalidTimeRangeException"
	InvalidMaxResults       apierr.Code = "InvalidMaxResultsException"
	InvalidNextToken        apierr.Code = "InvalidNextTokenException"
	InvalidEventCategory    apierr.Code = "InvalidEventCategoryException"
)

// MaxLookupResults is LookupEvents' largest and default page.
const MaxLookupResults = 50

// Attribute is one LookupAttribute.
type Attribute struct{ Key, Value string }

// LookupInput is a LookupEvents request.
type LookupInput struct {
	Attributes    []Attribute
	StartTime     *time.Time
	EndTime       *time.Time
	EventCategory string
	MaxResults    *int
	NextToken     string
}

// LookupOutput is a page of records, newest first.
type LookupOutput struct {
	Records   []*Record
	NextToken string
}

var validAttrs = map[string]bool{
	AttrEventID: true, AttrEventName: true, AttrReadOnly: true, AttrUsername: true,
	AttrResourceType: true, AttrResourceName: true, AttrEventSource: true, AttrAccessKeyID: true,
}

// Lookup validates in as CloudTrail does and returns one page.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
func Lookup(ctx context.Context, st Store, in LookupInput) (*LookupOutput, error) {
	q := Query{Limit: MaxLookupResults}
	switch len(in.Attributes) {
	case 0:
	case 1:
		a := in.Attributes[0]
		if !validAttrs[a.Key] {
			return nil, apierr.New(InvalidLookupAttributes, "Unsupported lookup attribute key: %s", a.Key)
		}
		if a.Value == "" || len(a.Value) > 2000 {
			return nil, apierr.New(InvalidLookupAttributes, "Lookup attribute value must be between 1 and 2000 characters.")
		}
		if a.Key == AttrReadOnly && a.Value != "true" && a.Value != "false" {
			return nil, apierr.New(InvalidLookupAttributes, "ReadOnly attribute value must be true or false.")
		}
		q.Attr, q.Value = a.Key, a.Value
	default:
		return nil, apierr.New(InvalidLookupAttributes, "You can only specify one lookup attribute.")
	}
	if in.StartTime != nil {
		q.Start = in.StartTime.Unix()
	}
	if in.EndTime != nil {
		q.End = in.EndTime.Unix()
	}
	if in.StartTime != nil && in.EndTime != nil && in.StartTime.After(*in.EndTime) {
		return nil, apierr.New(InvalidTimeRange, "Start time must be earlier than or equal to end time.")
	}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > MaxLookupResults {
			return nil, apierr.New(InvalidMaxResults, "Max results must be between 1 and %d.", MaxLookupResults)
		}
		q.Limit = *in.MaxResults
	}
	switch in.EventCategory {
	case "":
	case "insight":
		// iamd records no Insights events.
		return &LookupOutput{}, nil
	default:
		return nil, apierr.New(InvalidEventCategory, "Event category %s is not valid.", in.EventCategory)
	}
	digest := queryDigest(q)
	if in.NextToken != "" {
		c, err := parseToken(in.NextToken, digest)
		if err != nil {
			return nil, err
		}
		q.After = c
	}
	want := q.Limit
	q.Limit++ // one more tells whether there is a next page
	recs, err := st.Lookup(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	out := &LookupOutput{Records: recs}
	if len(recs) > want {
		out.Records = recs[:want]
		last := recs[want-1]
		out.NextToken = makeToken(Cursor{Time: last.Time, Seq: last.Seq}, digest)
	}
	return out, nil
}

// A NextToken is bound to the query it continues: it carries a digest of
// the other parameters, and a token sent with different ones is refused,
// as CloudTrail refuses it.
type token struct {
	T int64  `json:"t"`
	S int64  `json:"s"`
	Q string `json:"q"`
}

func queryDigest(q Query) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d", q.Attr, q.Value, q.Start, q.End))
	return hex.EncodeToString(sum[:8])
}

func makeToken(c Cursor, digest string) string {
	b, _ := json.Marshal(token{T: c.Time, S: c.Seq, Q: digest})
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseToken(s, digest string) (*Cursor, error) {
	bad := apierr.New(InvalidNextToken, "Invalid NextToken. The NextToken must be passed with the same parameters as the request that returned it.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var t token
	if err := json.Unmarshal(b, &t); err != nil || t.Q != digest || t.S <= 0 {
		return nil, bad
	}
	return &Cursor{Time: t.T, Seq: t.S}, nil
}
