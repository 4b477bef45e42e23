package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// `iamd respond KEY`: the leaked-credential playbook end to end.
//
//  1. Identify the key (whois: owner, issue, last use, state, the sessions
//     it issued).
//  2. Contain it. A session key (ASIA…): revoke that session
//     (RevokeSession AccessKeyId) and, if it minted sessions of its own
//     (role chaining), those too (RevokeSession IssuerAccessKeyId). A
//     long-term key (AKIA…): deactivate it (UpdateAccessKey Inactive,
//     AWS's remedy) and revoke every session it issued
//     (RevokeSession IssuerAccessKeyId, beyond AWS), in that order so that
//     no session can be minted after the cut-off.
//  3. Check it: read the key's state back; containment failed unless the
//     key no longer works and none of its sessions does.
//  4. Report what the key did: its audit timeline and that of the sessions
//     it issued (LookupEvents by AccessKeyId), denied calls included, and
//     the resources touched.
//
// Every step is idempotent: what is already done is reported as such and
// not done again. --dry-run shows the plan and changes nothing.

func init() {
	commands["respond"] = struct {
		run     func(context.Context, *Cmd) error
		summary string
	}{runRespond, "the leaked-credential playbook: identify a key, contain it, report what it did"}
}

// Respond is `iamd respond --output json`.
type Respond struct {
	AccessKeyId string
	DryRun      bool
	Key         KeyDetails
	// IssuedSessions are the live sessions the key issued, as they were
	// before the run.
	IssuedSessions []SessionInfo
	Actions        []RespondAction
	// Contained: the key and every session it issued are denied (checked
	// after the run; in a dry run, whether that is already so).
	Contained bool
	// Problems say what keeps it from being contained.
	Problems []string `json:",omitempty"`
	Timeline Timeline
}

// RespondAction is one containment step.
type RespondAction struct {
	Action       string // UpdateAccessKey or RevokeSession
	Target       string
	Status       string // Done, AlreadyDone, NotNeeded, WouldDo, Failed
	Detail       string `json:",omitempty"`
	RevocationId string `json:",omitempty"`
	Error        string `json:",omitempty"`
}

// Action statuses.
const (
	ActionDone        = "Done"
	ActionAlreadyDone = "AlreadyDone"
	ActionNotNeeded   = "NotNeeded"
	ActionWouldDo     = "WouldDo"
	ActionFailed      = "Failed"
)

// Timeline is what a key and the sessions it issued did, newest first.
type Timeline struct {
	AccessKeyIds []string // the key, then the sessions it issued
	Calls        int
	Denied       int // AccessDenied and the like: the caller was refused
	Failed       int // any other error
	Resources    []string
	Events       []TrailEvent
	Error        string `json:",omitempty"`
}

// ErrNotConfirmed is returned when respond would act but was not told to.
var ErrNotConfirmed = errors.New("not confirmed")

func runRespond(ctx context.Context, c *Cmd) error {
	dry := c.Flags.Bool("dry-run", false, "show what would be done and change nothing")
	yes := c.Flags.Bool("yes", false, "do not ask for confirmation")
	limit := c.Flags.Int("limit", 50, "how many events of each key to report")
	reason := c.Flags.String("reason", "", "why (kept with the revocations; default: leaked credential)")
	if err := c.Parse(); err != nil {
		return err
	}
	if len(c.Args) != 1 {
		return usagef("iamd respond ACCESS_KEY_ID [--dry-run] [--yes] [--limit N] [--output json]")
	}
	if *limit < 0 {
		return usagef("--limit must be 0 or more")
	}
	if *reason == "" {
		*reason = "iamd respond: leaked credential"
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return err
	}
	key := c.Args[0]
	w, err := whois(ctx, cl, key, 0)
	if err != nil {
		return fmt.Errorf("identify %s: %w", key, err)
	}
	if w.IssuedError != "" {
		return fmt.Errorf("identify %s: list the sessions it issued: %s", key, w.IssuedError)
	}
	r := &Respond{AccessKeyId: key, DryRun: *dry, Key: w.KeyDetails, IssuedSessions: w.IssuedSessions}
	if r.IssuedSessions == nil {
		r.IssuedSessions = []SessionInfo{}
	}
	steps, err := r.plan(ctx, cl, *reason)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range steps {
		if s.run != nil {
			pending++
		}
	}
	if pending > 0 && !*dry && !*yes {
		if err := c.confirm(r, steps); err != nil {
			return err
		}
	}
	for _, s := range steps {
		a := s.RespondAction
		if s.run != nil {
			if *dry {
				a.Status = ActionWouldDo
			} else if err := s.run(&a); err != nil {
				a.Status, a.Error = ActionFailed, err.Error()
			} else {
				a.Status = ActionDone
			}
		}
		r.Actions = append(r.Actions, a)
	}
	if err := r.check(ctx, cl); err != nil {
		r.Problems = append(r.Problems, "cannot check the key's state: "+err.Error())
	}
	r.Timeline = timeline(ctx, cl, key, r.IssuedSessions, *limit)
	if c.JSONOutput() {
		if err := c.JSON(r); err != nil {
			return err
		}
	} else {
		c.printRespond(r, cl.Now())
	}
	if !*dry && !r.Contained {
		return fmt.Errorf("containment of %s failed: %s", key, strings.Join(r.Problems, "; "))
	}
	return nil
}

// step is a planned action; run is nil when there is nothing to do.
type step struct {
	RespondAction
	run func(*RespondAction) error
}

// plan decides the containment steps from the key's state.
func (r *Respond) plan(ctx context.Context, cl *Client, reason string) ([]step, error) {
	key, d := r.AccessKeyId, r.Key
	var steps []step
	revokeIssued := func(always bool) error {
		active := 0
		for _, s := range r.IssuedSessions {
			if s.Status == "Active" {
				active++
			}
		}
		a := RespondAction{Action: "RevokeSession", Target: "every session issued by " + key}
		// Is a revocation of the key's sessions already in force?
		var list struct {
			Revocations []Revocation `xml:"Revocations>member"`
		}
		p := url.Values{}
		if d.UserName != "" {
			p.Set("UserName", d.UserName)
		} else {
			p.Set("RoleName", d.RoleName)
		}
		if err := cl.IAM(ctx, "ListRevocations", p, &list); err != nil {
			return fmt.Errorf("list revocations: %w", err)
		}
		var existing *Revocation
		for i, rv := range list.Revocations {
			if rv.Type == "IssuerAccessKeyId" && rv.IssuerAccessKeyId == key {
				existing = &list.Revocations[i]
			}
		}
		switch {
		case active == 0 && existing != nil:
			a.Status, a.RevocationId = ActionAlreadyDone, existing.RevocationId
			a.Detail = fmt.Sprintf("revocation %s in force; %d live sessions, none active", existing.RevocationId, len(r.IssuedSessions))
			steps = append(steps, step{RespondAction: a})
		case active == 0 && !always:
			a.Status, a.Detail = ActionNotNeeded, "it issued no session that is still active"
			steps = append(steps, step{RespondAction: a})
		default:
			a.Detail = fmt.Sprintf("%d live sessions, %d active", len(r.IssuedSessions), active)
			steps = append(steps, step{RespondAction: a, run: func(a *RespondAction) error {
				var out struct {
					Revocation   Revocation
					LiveSessions *int
				}
				err := cl.IAM(ctx, "RevokeSession", url.Values{"IssuerAccessKeyId": {key}, "Reason": {reason}}, &out)
				if err != nil {
					return err
				}
				a.RevocationId = out.Revocation.RevocationId
				if out.LiveSessions != nil {
					a.Detail = fmt.Sprintf("revocation %s: %d live sessions revoked", a.RevocationId, *out.LiveSessions)
				} else {
					a.Detail = "revocation " + a.RevocationId
				}
				return nil
			}})
		}
		return nil
	}
	if d.Type == "AccessKey" {
		a := RespondAction{Action: "UpdateAccessKey", Target: key + " of user " + d.UserName + " → Inactive"}
		if d.Status == "Inactive" {
			a.Status, a.Detail = ActionAlreadyDone, "the key is inactive"
			steps = append(steps, step{RespondAction: a})
		} else {
			a.Detail = "the key is " + d.Status
			steps = append(steps, step{RespondAction: a, run: func(a *RespondAction) error {
				err := cl.IAM(ctx, "UpdateAccessKey", url.Values{"UserName": {d.UserName}, "AccessKeyId": {key}, "Status": {"Inactive"}}, nil)
				if err == nil {
					a.Detail = "the key is now inactive: every request signed with it fails"
				}
				return err
			}})
		}
		// Always on a first run: a session minted between the listing and
		// the deactivation is covered by the cut-off all the same.
		if err := revokeIssued(true); err != nil {
			return nil, err
		}
		return steps, nil
	}
	a := RespondAction{Action: "RevokeSession", Target: "session " + key}
	switch {
	case d.Status == "Expired":
		a.Status, a.Detail = ActionNotNeeded, "the session has expired"
		if d.Session != nil {
			a.Detail += " (" + d.Session.ExpirationDate + ")"
		}
		steps = append(steps, step{RespondAction: a})
	case d.Status == "Revoked" && d.Session != nil && strings.HasPrefix(d.Session.RevokedBy, "rv-"):
		a.Status, a.RevocationId, a.Detail = ActionAlreadyDone, d.Session.RevokedBy, "revoked by "+d.Session.RevokedBy
		steps = append(steps, step{RespondAction: a})
	default:
		a.Detail = "the session is " + d.Status
		steps = append(steps, step{RespondAction: a, run: func(a *RespondAction) error {
			var out struct{ Revocation Revocation }
			err := cl.IAM(ctx, "RevokeSession", url.Values{"AccessKeyId": {key}, "Reason": {reason}}, &out)
			if err != nil {
				return err
			}
			a.RevocationId = out.Revocation.RevocationId
			a.Detail = "revocation " + a.RevocationId + ": every request signed with it is denied"
			return nil
		}})
	}
	if len(r.IssuedSessions) > 0 {
		if err := revokeIssued(false); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// check reads the key's state back and sets Contained and Problems.
func (r *Respond) check(ctx context.Context, cl *Client) error {
	w, err := whois(ctx, cl, r.AccessKeyId, 0)
	if err != nil {
		return err
	}
	if w.IssuedError != "" {
		return errors.New(w.IssuedError)
	}
	var problems []string
	switch w.Status {
	case "Inactive", "Revoked", "Expired":
	default:
		problems = append(problems, fmt.Sprintf("%s is %s", r.AccessKeyId, w.Status))
	}
	for _, s := range w.IssuedSessions {
		if s.Status == "Active" {
			problems = append(problems, fmt.Sprintf("session %s it issued is active", s.AccessKeyId))
		}
	}
	r.Problems = append(r.Problems, problems...)
	r.Contained = len(problems) == 0
	return nil
}

// denied reports whether an error code means the caller was refused.
func denied(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation",
		"InvalidClientTokenId", "ExpiredToken", "SignatureDoesNotMatch":
		return true
	}
	return false
}

// timeline reads the events of key and of the sessions it issued.
func timeline(ctx context.Context, cl *Client, key string, issued []SessionInfo, limit int) Timeline {
	t := Timeline{AccessKeyIds: []string{key}, Events: []TrailEvent{}, Resources: []string{}}
	for _, s := range issued {
		t.AccessKeyIds = append(t.AccessKeyIds, s.AccessKeyId)
	}
	if limit == 0 {
		return t
	}
	resources := map[string]bool{}
	for _, k := range t.AccessKeyIds {
		evs, err := cl.LookupEventsByKey(ctx, k, limit)
		if err != nil {
			t.Error = err.Error()
			break
		}
		t.Events = append(t.Events, evs...)
	}
	sort.SliceStable(t.Events, func(i, j int) bool { return t.Events[i].EventTime > t.Events[j].EventTime })
	for _, e := range t.Events {
		t.Calls++
		switch {
		case denied(e.ErrorCode):
			t.Denied++
		case e.ErrorCode != "":
			t.Failed++
		}
		for _, x := range e.Resources {
			if x.ResourceName != "" {
				resources[x.ResourceName] = true
			}
		}
	}
	for k := range resources {
		t.Resources = append(t.Resources, k)
	}
	sort.Strings(t.Resources)
	return t
}

// confirm asks on the terminal, or refuses without one.
func (c *Cmd) confirm(r *Respond, steps []step) error {
	if !isTerminalReader(c.Env.Stdin) {
		return fmt.Errorf("%w: stdin is not a terminal to confirm on; run again with --yes to contain %s, or --dry-run to see the plan", ErrNotConfirmed, r.AccessKeyId)
	}
	fmt.Fprintf(c.Env.Stderr, "%s: %s %s\n", r.AccessKeyId, r.Key.Type, r.Key.Arn)
	for _, s := range steps {
		if s.run != nil {
			fmt.Fprintf(c.Env.Stderr, "  will %s: %s (%s)\n", s.Action, s.Target, s.Detail)
		}
	}
	fmt.Fprint(c.Env.Stderr, "Proceed? [y/N] ")
	line, err := bufio.NewReader(c.Env.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%w: nothing done", ErrNotConfirmed)
}

// isTerminalReader reports whether r is a terminal: a character device
// other than /dev/null (what a process started without stdin gets, as
// under cron, CI or exec with no input).
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

func (c *Cmd) printRespond(r *Respond, now time.Time) {
	d := r.Key
	title := "iamd respond " + r.AccessKeyId
	if r.DryRun {
		title += " (dry run: nothing changed)"
	}
	c.Print("%s\n", title)
	owner := "user " + d.UserName
	if d.RoleName != "" {
		owner = "role " + d.RoleName
	}
	pairs := [][2]string{{"key", d.AccessKeyId + " (" + d.Type + ")"}, {"arn", d.Arn}, {"owner", owner}}
	if s := d.Session; s != nil {
		pairs = append(pairs, [2]string{"issued", s.IssueDate + " to " + dash(s.SourceIp) + " by key " + dash(s.IssuerAccessKeyId)},
			[2]string{"expires", until(s.ExpirationDate, now)})
	} else {
		pairs = append(pairs, [2]string{"created", d.CreateDate})
	}
	if d.LastUsedDate != "" {
		pairs = append(pairs, [2]string{"last used", d.LastUsedDate + " (" + ago(d.LastUsedDate, now) + ")"})
	}
	pairs = append(pairs, [2]string{"status before", d.Status},
		[2]string{"sessions it issued", fmt.Sprintf("%d live", len(r.IssuedSessions))})
	_ = c.Fields(pairs...)

	c.Print("\ncontainment:")
	rows := make([][]string, 0, len(r.Actions))
	for _, a := range r.Actions {
		detail := a.Detail
		if a.Error != "" {
			detail = a.Error
		}
		rows = append(rows, []string{a.Action, a.Target, a.Status, detail})
	}
	_ = c.Table([]string{"ACTION", "TARGET", "RESULT", "DETAIL"}, rows)
	switch {
	case r.Contained && r.DryRun:
		c.Print("result: already contained")
	case r.Contained:
		c.Print("result: CONTAINED (checked: %s no longer works, nor does any session it issued)", r.AccessKeyId)
	case r.DryRun:
		c.Print("result: not contained yet: %s", strings.Join(r.Problems, "; "))
	default:
		c.Print("result: NOT CONTAINED: %s", strings.Join(r.Problems, "; "))
	}

	t := r.Timeline
	what := r.AccessKeyId
	if n := len(t.AccessKeyIds) - 1; n > 0 {
		what += fmt.Sprintf(" and the %d sessions it issued", n)
	}
	c.Print("\nwhat %s did (newest first): %d calls, %d denied, %d failed", what, t.Calls, t.Denied, t.Failed)
	if t.Error != "" {
		c.Print("  (cannot read the audit trail: %s)", t.Error)
	}
	if len(t.Events) > 0 {
		rows := make([][]string, 0, len(t.Events))
		for _, e := range t.Events {
			result := "ok"
			if e.ErrorCode != "" {
				result = e.ErrorCode
			}
			res := make([]string, 0, len(e.Resources))
			for _, x := range e.Resources {
				res = append(res, x.ResourceName)
			}
			rows = append(rows, []string{e.EventTime, e.AccessKeyId, strings.TrimSuffix(e.EventSource, ".amazonaws.com"),
				e.EventName, result, e.SourceIPAddress, strings.Join(res, " ")})
		}
		_ = c.Table([]string{"TIME", "ACCESS KEY", "SOURCE", "EVENT", "RESULT", "SOURCE IP", "RESOURCES"}, rows)
	}
	c.Print("\nresources touched:")
	if len(t.Resources) == 0 {
		c.Print("  none recorded")
	}
	for _, x := range t.Resources {
		c.Print("  %s", x)
	}
}
