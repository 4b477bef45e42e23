package cli

import (
	"context"
	"net/url"
	"time"
)

// SessionInfo is iamd's Session structure (ListSessions, GetAccessKeyDetails).
type SessionInfo struct {
	AccessKeyId       string
	Arn               string
	Type              string `json:",omitempty"` // AssumedRole, UserSession or Federated
	RoleSessionName   string `json:",omitempty"`
	SourceIdentity    string `json:",omitempty"`
	IssuerAccessKeyId string `json:",omitempty"`
	IssueDate         string
	ExpirationDate    string
	SourceIp          string `json:",omitempty"`
	UserAgent         string `json:",omitempty"`
	MFA               bool
	LastUsedDate      string `json:",omitempty"`
	Status            string
	RevokedBy         string `json:",omitempty"`
}

func runSessions(ctx context.Context, c *Cmd) error {
	role := c.Flags.String("role", "", "role name")
	user := c.Flags.String("user", "", "user name (its GetSessionToken sessions)")
	if err := c.Parse(); err != nil {
		return err
	}
	if len(c.Args) > 0 {
		return usagef("unexpected arguments %v", c.Args)
	}
	p := url.Values{}
	switch {
	case *role != "" && *user != "":
		return usagef("--role and --user are exclusive")
	case *role != "":
		p.Set("RoleName", *role)
	case *user != "":
		p.Set("UserName", *user)
	default:
		return usagef("iamd sessions --role NAME | --user NAME")
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	var out struct {
		Sessions []SessionInfo `xml:"Sessions>member"`
	}
	if err := cl.IAM(ctx, "ListSessions", p, &out); err != nil {
		return err
	}
	if out.Sessions == nil {
		out.Sessions = []SessionInfo{}
	}
	if c.JSONOutput() {
		return c.JSON(out)
	}
	now := cl.Now()
	rows := make([][]string, 0, len(out.Sessions))
	for _, s := range out.Sessions {
		status := s.Status
		if s.RevokedBy != "" {
			status += " (" + s.RevokedBy + ")"
		}
		rows = append(rows, []string{s.AccessKeyId, s.RoleSessionName, s.SourceIdentity, s.IssueDate, until(s.ExpirationDate, now),
			s.SourceIp, ago(s.LastUsedDate, now), status})
	}
	return c.Table([]string{"ACCESS KEY", "SESSION", "SOURCE IDENTITY", "ISSUED", "EXPIRES", "SOURCE IP", "LAST USED", "STATUS"}, rows)
}

// ago and until add a relative hint to a wire timestamp.
func ago(ts string, now time.Time) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func until(ts string, now time.Time) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return ts + " (in " + t.Sub(now).Round(time.Second).String() + ")"
}
