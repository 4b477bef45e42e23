package cli

import (
	"context"
	"net/url"
	"strconv"
)

// KeyDetails is GetAccessKeyDetails's result.
type KeyDetails struct {
	AccessKeyId     string
	Type            string // AccessKey, AssumedRole or UserSession
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

func runWhois(ctx context.Context, c *Cmd) error {
	if err := c.Parse(); err != nil {
		return err
	}
	if len(c.Args) != 1 {
		return usagef("iamd whois ACCESS_KEY_ID")
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	var d KeyDetails
	if err := cl.IAM(ctx, "GetAccessKeyDetails", url.Values{"AccessKeyId": {c.Args[0]}}, &d); err != nil {
		return err
	}
	if c.JSONOutput() {
		return c.JSON(d)
	}
	now := cl.Now()
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
	return c.Fields(pairs...)
}
