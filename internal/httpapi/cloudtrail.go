package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
)

// CloudTrail's JSON 1.1 API: LookupEvents over iamd's audit trail.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html

// CloudTrailTargetPrefix is CloudTrail's X-Amz-Target prefix.
const CloudTrailTargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

// CloudTrailService returns the CloudTrail JSON service reading st.
func CloudTrailService(st audit.Store) *JSONService {
	return &JSONService{Name: "cloudtrail", Version: "2013-11-01", TargetPrefix: CloudTrailTargetPrefix,
		Actions: map[string]JSONHandler{
			"LookupEvents": func(c *Call, body []byte) (any, error) { return lookupEvents(c, st, body) },
		}}
}

// epoch is a JSON timestamp: epoch seconds, integer or fractional.
type epoch struct{ t *time.Time }

func (e *epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(bytes.Trim(b, `"`)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return apierr.New(apierr.ValidationError, "Timestamps must be epoch seconds.")
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
	e.t = &t
	return nil
}

type lookupEventsInput struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue string
	}
	StartTime     epoch
	EndTime       epoch
	EventCategory string
	MaxResults    *int
	NextToken     string
}

type ctResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

type ctEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string `json:",omitempty"`
	EventTime       float64
	EventSource     string
	Username        string `json:",omitempty"`
	Resources       []ctResource
	CloudTrailEvent string
}

type lookupEventsOutput struct {
	Events    []ctEvent
	NextToken string `json:",omitempty"`
}

func lookupEvents(c *Call, st audit.Store, body []byte) (any, error) {
	var in lookupEventsInput
	if err := json.Unmarshal(body, &in); err != nil {
		if e := apierr.As(err); e != nil {
			return nil, e
		}
		return nil, apierr.New("SerializationException", "The request body is not valid JSON for LookupEvents.")
	}
	if err := c.Authorize("cloudtrail:LookupEvents", "*"); err != nil {
		return nil, err
	}
	q := audit.LookupInput{StartTime: in.StartTime.t, EndTime: in.EndTime.t, EventCategory: in.EventCategory,
		MaxResults: in.MaxResults, NextToken: in.NextToken}
	for _, a := range in.LookupAttributes {
		q.Attributes = append(q.Attributes, audit.Attribute{Key: a.AttributeKey, Value: a.AttributeValue})
	}
	res, err := audit.Lookup(c.Ctx, st, q)
	if err != nil {
		return nil, err
	}
	out := lookupEventsOutput{Events: make([]ctEvent, 0, len(res.Records)), NextToken: res.NextToken}
	for _, r := range res.Records {
		ev := ctEvent{EventId: r.EventID, EventName: r.EventName, ReadOnly: strconv.FormatBool(r.ReadOnly),
			AccessKeyId: r.AccessKeyID, EventTime: float64(r.Time), EventSource: r.EventSource, Username: r.Username,
			Resources: make([]ctResource, 0, len(r.Resources)), CloudTrailEvent: string(r.Body)}
		for _, x := range r.Resources {
			ev.Resources = append(ev.Resources, ctResource{ResourceType: x.Type, ResourceName: x.ARN})
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}
