package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// `iamd whois KEY`: who owns an access key (AKIA… or ASIA…), when and from
// where it was issued, when it was last used, whether it still works
// (iamd's GetAccessKeyDetails); then its record timeline, newest first
// (CloudTrail's LookupEvents by AccessKeyId); and, for a long-term key, the
// live sessions it issued (ListSessions by IssuerAccessKeyId).

// KeyDetails is GetAccessKeyDetails's result.
type KeyDetails struct {
	AccessKeyId     string
	Type            string // AccessKey, AssumedRole, UserSession or Federated
	Arn             string
	UserName        string       `json:",omitempty"`
	RoleName        string       `json:",omitempty"`
	Session         *SessionInfo `json:",omitempty"`
	CreateDate      string       `json:",omitempty"`
	Status          string
	LastUsedDate    string `json:",omitempty"`
	LastUsedService string `json:",omitempty"`
	LastUsedRegion  string `json:",omitempty"`
}

// Whois is `iamd whois --output json`: the key's details, its timeline and,
// for a long-term key, the live sessions it issued.
type Whois struct {
	KeyDetails
	Events []TrailEvent
	// EventsError says why the timeline could not be read (say, the caller
	// may not call cloudtrail:LookupEvents); the details still stand.
	EventsError    string        `json:",omitempty"`
	IssuedSessions []SessionInfo `json:",omitempty"`
	IssuedError    string        `json:",omitempty"`
}

// TrailEvent is one line of a key's timeline: what LookupEvents returns,
// with the fields of the CloudTrail record a responder reads.
type TrailEvent struct {
	EventTime       string
	EventSource     string
	EventName       string
	ErrorCode       string `json:",omitempty"`
	ErrorMessage    string `json:",omitempty"`
	SourceIPAddress string `json:",omitempty"`
	AccessKeyId     string `json:",omitempty"`
	EventId         string
	ReadOnly        bool
	Resources       []TrailResource `json:",omitempty"`
}

// TrailResource is a resource an event names.
type TrailResource struct {
	ResourceType string `json:",omitempty"`
	ResourceName string
}

func runWhois(ctx context.Context, c *Cmd) error {
	limit := c.Flags.Int("limit", 20, "how many of the key's events to show, newest first (0: none)")
	if err := c.Parse(); err != nil {
		return err
	}
	if len(c.Args) != 1 {
		return usagef("iamd whois ACCESS_KEY_ID [--limit N]")
	}
	if *limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	w, err := whois(ctx, cl, c.Args[0], *limit)
	if err != nil {
		return err
	}
	if c.JSONOutput() {
		return c.JSON(w)
	}
	return c.printWhois(w, cl.Now())
}

// whois gathers what `iamd whois` shows. Only the details are required: a
// caller who may not read the trail or list sessions still gets them.
func whois(ctx context.Context, cl *Client, key string, limit int) (*Whois, error) {
	w := &Whois{Events: []TrailEvent{}}
	if err := cl.IAM(ctx, "GetAccessKeyDetails", url.Values{"AccessKeyId": {key}}, &w.KeyDetails); err != nil {
		return nil, err
	}
	if limit > 0 {
		evs, err := cl.LookupEventsByKey(ctx, key, limit)
		if err != nil {
			w.EventsError = err.Error()
		} else {
			w.Events = evs
		}
	}
	// A long-term key's sessions are always shown (none is news too); a
	// session's only when it minted some (role chaining).
	ss, err := cl.IssuedSessions(ctx, key)
	switch {
	case err != nil && w.Type == "AccessKey":
		w.IssuedError = err.Error()
	case err == nil && (len(ss) > 0 || w.Type == "AccessKey"):
		w.IssuedSessions = ss
	}
	return w, nil
}

// IssuedSessions lists the live sessions key issued (iamd's ListSessions
// by IssuerAccessKeyId).
func (cl *Client) IssuedSessions(ctx context.Context, key string) ([]SessionInfo, error) {
	var out struct {
		Sessions []SessionInfo `xml:"Sessions>member"`
	}
	if err := cl.IAM(ctx, "ListSessions", url.Values{"IssuerAccessKeyId": {key}}, &out); err != nil {
		return nil, err
	}
	if out.Sessions == nil {
		out.Sessions = []SessionInfo{}
	}
	return out.Sessions, nil
}

func (c *Cmd) printWhois(w *Whois, now time.Time) error {
	d := w.KeyDetails
	used := ""
	if d.LastUsedDate != "" {
		used = d.LastUsedDate + " (" + ago(d.LastUsedDate, now) + ")"
		if d.LastUsedService != "" {
			used += " " + d.LastUsedService + " " + d.LastUsedRegion
		}
	}
	status := d.Status
	pairs := [][2]string{{"access key", d.AccessKeyId}, {"type", d.Type}, {"arn", d.Arn}, {"user", d.UserName}, {"role", d.RoleName}}
	if s := d.Session; s != nil {
		if s.RevokedBy != "" {
			status += " (" + s.RevokedBy + ")"
		}
		pairs = append(pairs,
			[2]string{"session name", s.RoleSessionName}, [2]string{"source identity", s.SourceIdentity},
			[2]string{"issued", s.IssueDate}, [2]string{"issued by key", s.IssuerAccessKeyId},
			[2]string{"issued to", s.SourceIp}, [2]string{"user agent", s.UserAgent},
			[2]string{"mfa", strconv.FormatBool(s.MFA)}, [2]string{"expires", until(s.ExpirationDate, now)})
	} else {
		pairs = append(pairs, [2]string{"created", d.CreateDate})
	}
	pairs = append(pairs, [2]string{"last used", used}, [2]string{"status", status})
	if err := c.Fields(pairs...); err != nil {
		return err
	}
	if w.IssuedSessions != nil || w.IssuedError != "" {
		c.Print("\nlive sessions issued by %s:", d.AccessKeyId)
		if w.IssuedError != "" {
			c.Print("  (cannot list them: %s)", w.IssuedError)
		} else if len(w.IssuedSessions) == 0 {
			c.Print("  none")
		} else if err := c.sessionTable(w.IssuedSessions, now); err != nil {
			return err
		}
	}
	c.Print("\ntimeline (newest first):")
	switch {
	case w.EventsError != "":
		c.Print("  (cannot read the audit trail: %s)", w.EventsError)
		return nil
	case len(w.Events) == 0:
		c.Print("  no recorded calls")
		return nil
	}
	return c.eventTable(w.Events)
}

func (c *Cmd) sessionTable(ss []SessionInfo, now time.Time) error {
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		status := s.Status
		if s.RevokedBy != "" {
			status += " (" + s.RevokedBy + ")"
		}
		rows = append(rows, []string{s.AccessKeyId, s.Arn, s.IssueDate, until(s.ExpirationDate, now), ago(s.LastUsedDate, now), status})
	}
	return c.Table([]string{"ACCESS KEY", "ARN", "ISSUED", "EXPIRES", "LAST USED", "STATUS"}, rows)
}

func (c *Cmd) eventTable(evs []TrailEvent) error {
	rows := make([][]string, 0, len(evs))
	for _, e := range evs {
		result := "ok"
		if e.ErrorCode != "" {
			result = e.ErrorCode
		}
		rows = append(rows, []string{e.EventTime, strings.TrimSuffix(e.EventSource, ".amazonaws.com"), e.EventName, result, e.SourceIPAddress})
	}
	return c.Table([]string{"TIME", "SOURCE", "EVENT", "RESULT", "SOURCE IP"}, rows)
}

// cloudTrailTarget is the JSON 1.1 target prefix of CloudTrail's actions.
const cloudTrailTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

// LookupEventsByKey returns up to limit events recorded for an access key,
// newest first, following NextToken (LookupEvents returns at most 50 a
// page).
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
func (cl *Client) LookupEventsByKey(ctx context.Context, key string, limit int) ([]TrailEvent, error) {
	out := []TrailEvent{}
	next := ""
	for len(out) < limit {
		in := map[string]any{
			"LookupAttributes": []map[string]string{{"AttributeKey": "AccessKeyId", "AttributeValue": key}},
			"MaxResults":       min(50, limit-len(out)),
		}
		if next != "" {
			in["NextToken"] = next
		}
		var page struct {
			Events []struct {
				EventId         string
				EventName       string
				EventSource     string
				AccessKeyId     string
				ReadOnly        string
				Resources       []TrailResource
				CloudTrailEvent string
			}
			NextToken string
		}
		if err := cl.JSON(ctx, "cloudtrail", cloudTrailTarget+"LookupEvents", in, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			var rec struct {
				EventTime       string `json:"eventTime"`
				ErrorCode       string `json:"errorCode"`
				ErrorMessage    string `json:"errorMessage"`
				SourceIPAddress string `json:"sourceIPAddress"`
			}
			_ = json.Unmarshal([]byte(e.CloudTrailEvent), &rec)
			out = append(out, TrailEvent{
				EventTime: rec.EventTime, EventSource: e.EventSource, EventName: e.EventName,
				ErrorCode: rec.ErrorCode, ErrorMessage: rec.ErrorMessage, SourceIPAddress: rec.SourceIPAddress,
				AccessKeyId: e.AccessKeyId, EventId: e.EventId, ReadOnly: e.ReadOnly == "true", Resources: e.Resources,
			})
		}
		if page.NextToken == "" || len(page.Events) == 0 {
			break
		}
		next = page.NextToken
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// JSON calls a JSON 1.1 action (X-Amz-Target target) signed as service,
// and decodes its answer into out (nil: ignore it).
func (cl *Client) JSON(ctx context.Context, service, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	action := target[strings.LastIndexByte(target, '.')+1:]
	h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {target}}
	resp, b, err := cl.send(ctx, service, action, body, h)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		if json.Unmarshal(b, &e) != nil || e.Type == "" {
			return unparsedError(resp, b)
		}
		code := e.Type[strings.LastIndexByte(e.Type, '#')+1:]
		if e.Message == "" {
			e.Message = e.Msg
		}
		return &APIError{StatusCode: resp.StatusCode, Code: code, Message: e.Message, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
