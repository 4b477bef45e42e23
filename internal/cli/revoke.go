package cli

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// RevokePolicyName is the inline policy the AWS console's "Revoke active
// sessions" writes.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
const RevokePolicyName = "AWSRevokeOlderSessions"

// RevokePolicy is the console's document: deny everything to sessions
// issued before cutoff (millisecond precision, as the console writes it).
func RevokePolicy(cutoff time.Time) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` +
		cutoff.UTC().Format("2006-01-02T15:04:05.000Z") + `"}}}]}`
}

const revokeUsage = `usage:
  iamd revoke --role NAME | --user NAME [--undo]
      AWS's remedy: put the console's AWSRevokeOlderSessions policy (every
      session issued before now is denied); --undo deletes it.
  iamd revoke ASIA… | --access-key-id ASIA…      one session
  iamd revoke --role NAME --session-name NAME     the role's sessions of that name
  iamd revoke --source-identity ID                every session carrying it
  iamd revoke --issued-by AKIA…|ASIA…             every session that key issued (and theirs)
  iamd revoke --role NAME | --user NAME --issued-before TIME
      every session issued before TIME (ISO 8601), without a policy
  iamd revoke --list [--role NAME | --user NAME]  revocations in force
  iamd revoke --undo --id rv-…                    remove one
flags:`

// Revocation is iamd's Revocation structure.
type Revocation struct {
	RevocationId    string
	Type            string
	AccessKeyId     string `json:",omitempty"`
	RoleName        string `json:",omitempty"`
	UserName        string `json:",omitempty"`
	PrincipalArn    string `json:",omitempty"`
	RoleSessionName string `json:",omitempty"`
	SourceIdentity  string `json:",omitempty"`
	// IssuerAccessKeyId: the key whose sessions it revokes (type
	// IssuerAccessKeyId); SessionsCovered: the live sessions issued from it
	// when it was made.
	IssuerAccessKeyId string `json:",omitempty"`
	SessionsCovered   int    `json:",omitempty"`
	IssuedBefore      string
	CreateDate        string
	ExpirationDate    string
	CreatedBy         string `json:",omitempty"`
	Reason            string `json:",omitempty"`
}

func runRevoke(ctx context.Context, c *Cmd) error {
	role := c.Flags.String("role", "", "role name")
	user := c.Flags.String("user", "", "user name")
	undo := c.Flags.Bool("undo", false, "undo: delete the AWSRevokeOlderSessions policy, or the revocation --id")
	id := c.Flags.String("id", "", "revocation id (with --undo)")
	key := c.Flags.String("access-key-id", "", "revoke the one session with this ASIA… key")
	session := c.Flags.String("session-name", "", "revoke the role's sessions with this RoleSessionName")
	source := c.Flags.String("source-identity", "", "revoke every session with this source identity")
	issuedBy := c.Flags.String("issued-by", "", "revoke every session this access key issued (AssumeRole, GetSessionToken, GetFederationToken), and the sessions those issued")
	before := c.Flags.String("issued-before", "", "revoke the sessions issued before this time (ISO 8601), without a policy")
	list := c.Flags.Bool("list", false, "list the revocations in force")
	reason := c.Flags.String("reason", "", "why (kept with the revocation)")
	c.Flags.Usage = func() {
		fmt.Fprintln(c.Flags.Output(), revokeUsage)
		c.Flags.PrintDefaults()
	}
	if err := c.Parse(); err != nil {
		return err
	}
	switch len(c.Args) {
	case 0:
	case 1:
		if *key != "" {
			return usagef("pass the access key id once")
		}
		*key = c.Args[0]
	default:
		return usagef("unexpected arguments %v", c.Args[1:])
	}
	if *role != "" && *user != "" {
		return usagef("--role and --user are exclusive")
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	principal := url.Values{}
	if *role != "" {
		principal.Set("RoleName", *role)
	}
	if *user != "" {
		principal.Set("UserName", *user)
	}
	surgical := *key != "" || *session != "" || *source != "" || *before != "" || *issuedBy != ""
	switch {
	case *list:
		if surgical || *undo {
			return usagef("--list takes only --role or --user")
		}
		return c.listRevocations(ctx, cl, principal)
	case *undo && *id != "":
		if surgical || len(principal) > 0 {
			return usagef("--undo --id takes nothing else")
		}
		if err := cl.IAM(ctx, "DeleteRevocation", url.Values{"RevocationId": {*id}}, nil); err != nil {
			return err
		}
		c.Print("revocation %s removed", *id)
		if c.JSONOutput() {
			return c.JSON(map[string]string{"RevocationId": *id, "Status": "Deleted"})
		}
		return nil
	case *id != "":
		return usagef("--id goes with --undo")
	case surgical:
		if *undo {
			return usagef("--undo takes --id (see --list), or --role/--user alone")
		}
		p := url.Values{}
		for k, v := range principal {
			p[k] = v
		}
		set := func(k, v string) {
			if v != "" {
				p.Set(k, v)
			}
		}
		set("AccessKeyId", *key)
		set("RoleSessionName", *session)
		set("SourceIdentity", *source)
		set("IssuedBefore", *before)
		set("IssuerAccessKeyId", *issuedBy)
		set("Reason", *reason)
		var out struct {
			Revocation   Revocation
			LiveSessions *int `json:",omitempty"`
		}
		if err := cl.IAM(ctx, "RevokeSession", p, &out); err != nil {
			return err
		}
		if c.JSONOutput() {
			return c.JSON(out)
		}
		if err := c.revocationTable([]Revocation{out.Revocation}); err != nil {
			return err
		}
		if out.LiveSessions != nil {
			c.Print("live sessions now revoked by it: %d", *out.LiveSessions)
		}
		return nil
	case *role != "" || *user != "":
		return c.awsRevoke(ctx, cl, *role, *user, *undo)
	}
	c.Flags.Usage()
	return usagef("nothing to revoke")
}

// awsRevoke writes or deletes the console's AWSRevokeOlderSessions
// policy, with plain IAM calls.
func (c *Cmd) awsRevoke(ctx context.Context, cl *Client, role, user string, undo bool) error {
	kind, name, p := "role", role, url.Values{"PolicyName": {RevokePolicyName}}
	put, del := "PutRolePolicy", "DeleteRolePolicy"
	if user != "" {
		kind, name = "user", user
		put, del = "PutUserPolicy", "DeleteUserPolicy"
		p.Set("UserName", user)
	} else {
		p.Set("RoleName", role)
	}
	if undo {
		err := cl.IAM(ctx, del, p, nil)
		status := "Deleted"
		if Code(err) == "NoSuchEntity" {
			// Undoing what is not there is a no-op, but say so; the entity
			// itself must exist.
			if _, gerr := c.entityExists(ctx, cl, kind, name); gerr != nil {
				return gerr
			}
			status, err = "NotPresent", nil
		}
		if err != nil {
			return err
		}
		if c.JSONOutput() {
			return c.JSON(map[string]string{kindKey(kind): name, "PolicyName": RevokePolicyName, "Status": status})
		}
		if status == "NotPresent" {
			c.Print("%s %s has no %s policy; nothing to undo", kind, name, RevokePolicyName)
		} else {
			c.Print("%s policy deleted from %s %s: its older sessions work again", RevokePolicyName, kind, name)
		}
		return nil
	}
	cutoff := cl.Now().UTC().Truncate(time.Millisecond)
	p.Set("PolicyDocument", RevokePolicy(cutoff))
	if err := cl.IAM(ctx, put, p, nil); err != nil {
		return err
	}
	ts := cutoff.Format("2006-01-02T15:04:05.000Z")
	if c.JSONOutput() {
		return c.JSON(map[string]string{kindKey(kind): name, "PolicyName": RevokePolicyName, "TokenIssueTime": ts})
	}
	c.Print("%s %s: every session issued before %s is denied (inline policy %s)", kind, name, ts, RevokePolicyName)
	return nil
}

func kindKey(kind string) string {
	if kind == "user" {
		return "UserName"
	}
	return "RoleName"
}

// entityExists turns "no such policy" into "no such role/user" when the
// entity is the thing missing.
func (c *Cmd) entityExists(ctx context.Context, cl *Client, kind, name string) (bool, error) {
	if kind == "user" {
		return true, cl.IAM(ctx, "GetUser", url.Values{"UserName": {name}}, nil)
	}
	return true, cl.IAM(ctx, "GetRole", url.Values{"RoleName": {name}}, nil)
}

func (c *Cmd) listRevocations(ctx context.Context, cl *Client, principal url.Values) error {
	var out struct {
		Revocations []Revocation `xml:"Revocations>member"`
	}
	if err := cl.IAM(ctx, "ListRevocations", principal, &out); err != nil {
		return err
	}
	if out.Revocations == nil {
		out.Revocations = []Revocation{}
	}
	if c.JSONOutput() {
		return c.JSON(out)
	}
	return c.revocationTable(out.Revocations)
}

func (c *Cmd) revocationTable(rs []Revocation) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		who := r.RoleName
		if who == "" {
			who = r.UserName
		}
		match := r.AccessKeyId
		switch r.Type {
		case "RoleSessionName":
			match = r.RoleSessionName
		case "SourceIdentity":
			match = r.SourceIdentity
		case "IssuedBefore":
			match = "all"
		case "IssuerAccessKeyId":
			match = "issued by " + r.IssuerAccessKeyId
		}
		rows = append(rows, []string{r.RevocationId, r.Type, who, match, r.IssuedBefore, r.ExpirationDate, r.Reason})
	}
	return c.Table([]string{"ID", "TYPE", "ROLE/USER", "MATCHES", "ISSUED BEFORE", "EXPIRES", "REASON"}, rows)
}
