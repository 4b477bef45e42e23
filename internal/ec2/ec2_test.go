package ec2_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/ec2"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/secretbox"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

const (
	account  = "123456789012"
	ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	userOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source shared by IAM, STS and EC2.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// endpoints records the metadata endpoints the service opens and closes.
type endpoints struct {
	mu   sync.Mutex
	open map[string]int
	next int
}

func (e *endpoints) Open(id string, port int) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if port == 0 {
		e.next++
		port = 40000 + e.next
	}
	e.open[id] = port
	return port, nil
}

func (e *endpoints) Close(id string) {
	e.mu.Lock()
	delete(e.open, id)
	e.mu.Unlock()
}

func (e *endpoints) isOpen(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.open[id]
	return ok
}

// world is an EC2 service over a fresh SQLite store, with real IAM and
// STS, a settable clock and a switch for the revocation check.
type world struct {
	ec2     *ec2.Service
	iam     *iam.Service
	clock   *clock
	eps     *endpoints
	mu      sync.Mutex
	revoked map[string]bool // access key ids the check reports revoked
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secretbox.New(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{clock: &clock{t: start}, eps: &endpoints{open: map[string]int{}}, revoked: map[string]bool{}}
	w.iam = iam.New(iam.Config{Store: st, Account: account, Now: w.clock.Now, Rand: rand.Reader, Secrets: box})
	k, err := token.NewKey(start.Add(-time.Hour), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.Active = true
	ring, err := token.NewRing(k)
	if err != nil {
		t.Fatal(err)
	}
	s := sts.New(sts.Config{IAM: w.iam, Ring: ring, Now: w.clock.Now, Rand: rand.Reader})
	w.ec2 = ec2.New(ec2.Config{Store: st, IAM: w.iam, STS: s, Account: account, Now: w.clock.Now, Rand: rand.Reader,
		Revoked: func(_ context.Context, sess *token.Session) bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.revoked[string(sess.AccessKeyID)]
		}})
	w.ec2.SetEndpoints(w.eps)
	return w
}

func (w *world) revoke(keyID string) {
	w.mu.Lock()
	w.revoked[keyID] = true
	w.mu.Unlock()
}

// profile creates a role with trust and maxSession (0: default) in a
// profile of the same name and resolves it.
func (w *world) profile(t *testing.T, name, trust string, maxSession int) *ec2.Profile {
	t.Helper()
	ctx := context.Background()
	if _, err := w.iam.CreateRole(ctx, iam.CreateRoleInput{Name: name, TrustPolicy: trust, MaxSessionDuration: maxSession}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.CreateInstanceProfile(ctx, iam.CreateInstanceProfileInput{Name: name}); err != nil {
		t.Fatal(err)
	}
	if err := w.iam.AddRoleToInstanceProfile(ctx, name, name); err != nil {
		t.Fatal(err)
	}
	p, err := w.ec2.ResolveProfile(ctx, ec2.ProfileSpec{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch runs one instance with the profile (nil: none).
func (w *world) launch(t *testing.T, p *ec2.Profile) *ec2.Instance {
	t.Helper()
	out, err := w.ec2.RunInstances(context.Background(), ec2.RunInput{ImageID: "ami-1", MinCount: 1, MaxCount: 1, Region: "us-east-1", Profile: p})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out[0]
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if !apierr.Is(err, code) {
		t.Fatalf("got error %v, want %s", err, code)
	}
}

func TestInstanceLifecycle(t *testing.T) {
	t.Parallel()
	type step struct {
		op       string // stop, start, terminate
		wantCode apierr.Code
		wantPrev string
		wantCur  string // the state the call reports
		stored   string // the state stored afterwards
		endpoint bool   // whether the metadata endpoint is open afterwards
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a running instance stops, reporting stopping, and its endpoint closes", []step{
			{"stop", "", ec2.Running, ec2.Stopping, ec2.Stopped, false},
		}},
		{"a stopped instance starts, reporting pending, and its endpoint opens again", []step{
			{"stop", "", ec2.Running, ec2.Stopping, ec2.Stopped, false},
			{"start", "", ec2.Stopped, ec2.Pending, ec2.Running, true},
		}},
		{"starting a running instance changes nothing", []step{
			{"start", "", ec2.Running, ec2.Running, ec2.Running, true},
		}},
		{"stopping a stopped instance changes nothing", []step{
			{"stop", "", ec2.Running, ec2.Stopping, ec2.Stopped, false},
			{"stop", "", ec2.Stopped, ec2.Stopped, ec2.Stopped, false},
		}},
		{"a stopped instance can be terminated", []step{
			{"stop", "", ec2.Running, ec2.Stopping, ec2.Stopped, false},
			{"terminate", "", ec2.Stopped, ec2.ShuttingDown, ec2.Terminated, false},
		}},
		{"a terminated instance cannot be started or stopped, and terminating it again changes nothing", []step{
			{"terminate", "", ec2.Running, ec2.ShuttingDown, ec2.Terminated, false},
			{"start", ec2.IncorrectInstanceState, "", "", ec2.Terminated, false},
			{"stop", ec2.IncorrectInstanceState, "", "", ec2.Terminated, false},
			{"terminate", "", ec2.Terminated, ec2.Terminated, ec2.Terminated, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ctx := context.Background()
			in := w.launch(t, nil)
			if in.State != ec2.Running || !w.eps.isOpen(in.ID) || in.Endpoint() == "" {
				t.Fatalf("launched: got state %s, endpoint open %v, want running with an open endpoint", in.State, w.eps.isOpen(in.ID))
			}
			for i, s := range tt.steps {
				var changes []ec2.StateChange
				var err error
				switch s.op {
				case "stop":
					changes, err = w.ec2.StopInstances(ctx, []string{in.ID})
				case "start":
					changes, err = w.ec2.StartInstances(ctx, []string{in.ID})
				case "terminate":
					changes, err = w.ec2.TerminateInstances(ctx, []string{in.ID})
				}
				wantCode(t, err, s.wantCode)
				if err == nil {
					want := []ec2.StateChange{{InstanceID: in.ID, Previous: s.wantPrev, Current: s.wantCur}}
					if !slices.Equal(changes, want) {
						t.Errorf("step %d (%s): got %+v, want %+v", i, s.op, changes, want)
					}
				}
				got, err := w.ec2.Instance(ctx, in.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != s.stored {
					t.Errorf("step %d (%s): got stored state %s, want %s", i, s.op, got.State, s.stored)
				}
				if w.eps.isOpen(in.ID) != s.endpoint {
					t.Errorf("step %d (%s): got endpoint open %v, want %v", i, s.op, w.eps.isOpen(in.ID), s.endpoint)
				}
			}
		})
	}
}

func TestInstanceIDs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	tests := []struct {
		name string
		ids  []string
		want apierr.Code
	}{
		{"an id that is not i- and hex is malformed", []string{"web-1"}, ec2.InvalidInstanceIDMalformed},
		{"an id with upper-case hex is malformed", []string{"i-0123456789ABCDEF0"}, ec2.InvalidInstanceIDMalformed},
		{"a well-formed unknown id is not found", []string{"i-0123456789abcdef0"}, ec2.InvalidInstanceIDNotFound},
		{"a short well-formed unknown id is not found", []string{"i-01234567"}, ec2.InvalidInstanceIDNotFound},
		{"no ids at all is a missing parameter", nil, ec2.MissingParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.ec2.StopInstances(ctx, tt.ids)
			wantCode(t, err, tt.want)
		})
	}
	t.Run("a RunInstances asking for more than the limit exceeds it", func(t *testing.T) {
		_, err := w.ec2.RunInstances(ctx, ec2.RunInput{ImageID: "ami-1", MinCount: ec2.MaxInstancesPerRun + 1, MaxCount: ec2.MaxInstancesPerRun + 1})
		wantCode(t, err, ec2.InstanceLimitExceeded)
	})
	t.Run("a RunInstances with MaxCount below MinCount is an invalid parameter", func(t *testing.T) {
		_, err := w.ec2.RunInstances(ctx, ec2.RunInput{ImageID: "ami-1", MinCount: 2, MaxCount: 1})
		wantCode(t, err, ec2.InvalidParameterValue)
	})
}

func TestDescribeInstancesFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	app := w.profile(t, "app", ec2Trust, 0)
	a := w.launch(t, app)
	w.clock.Advance(time.Second)
	b := w.launch(t, nil)
	if _, err := w.ec2.StopInstances(ctx, []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		filters []ec2.Filter
		want    []string
		code    apierr.Code
	}{
		{"no filter lists every instance in launch order", nil, []string{a.ID, b.ID}, ""},
		{"a state filter keeps the running one", []ec2.Filter{{Name: "instance-state-name", Values: []string{"running"}}}, []string{a.ID}, ""},
		{"a state code filter keeps the stopped one", []ec2.Filter{{Name: "instance-state-code", Values: []string{"80"}}}, []string{b.ID}, ""},
		{"a profile filter with a wildcard keeps the one with the profile", []ec2.Filter{{Name: "iam-instance-profile.arn", Values: []string{"*/app"}}}, []string{a.ID}, ""},
		{"the endpoint tag is a tag like any other", []ec2.Filter{{Name: "tag-key", Values: []string{ec2.EndpointTag}}}, []string{a.ID, b.ID}, ""},
		{"filters are ANDed", []ec2.Filter{{Name: "instance-state-name", Values: []string{"stopped"}}, {Name: "iam-instance-profile.arn", Values: []string{"*"}}}, nil, ""},
		{"an unknown filter is an invalid parameter", []ec2.Filter{{Name: "bogus", Values: []string{"x"}}}, nil, ec2.InvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.ec2.DescribeInstances(ctx, nil, tt.filters)
			wantCode(t, err, tt.code)
			var ids []string
			for _, in := range got {
				ids = append(ids, in.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestAssociationRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, w *world, app, other *ec2.Profile)
	}{
		{"an instance with a profile cannot take a second one", func(t *testing.T, w *world, app, other *ec2.Profile) {
			in := w.launch(t, app)
			_, err := w.ec2.AssociateIamInstanceProfile(ctx, in.ID, other)
			wantCode(t, err, ec2.IncorrectState)
		}},
		{"an instance without a profile takes one, reported as associating and stored as associated", func(t *testing.T, w *world, app, _ *ec2.Profile) {
			in := w.launch(t, nil)
			a, err := w.ec2.AssociateIamInstanceProfile(ctx, in.ID, app)
			wantCode(t, err, "")
			got, _ := w.ec2.Instance(ctx, in.ID)
			if a.State != "associating" || got.Association == nil || got.Association.State != "associated" || got.Association.ID != a.ID {
				t.Errorf("got reported %s and stored %+v, want associating and associated under %s", a.State, got.Association, a.ID)
			}
		}},
		{"a terminated instance cannot take a profile", func(t *testing.T, w *world, app, _ *ec2.Profile) {
			in := w.launch(t, nil)
			w.ec2.TerminateInstances(ctx, []string{in.ID})
			_, err := w.ec2.AssociateIamInstanceProfile(ctx, in.ID, app)
			wantCode(t, err, ec2.IncorrectInstanceState)
		}},
		{"a stopped instance can take a profile", func(t *testing.T, w *world, app, _ *ec2.Profile) {
			in := w.launch(t, nil)
			w.ec2.StopInstances(ctx, []string{in.ID})
			_, err := w.ec2.AssociateIamInstanceProfile(ctx, in.ID, app)
			wantCode(t, err, "")
		}},
		{"replacing gives a new association id and the old one is gone", func(t *testing.T, w *world, app, other *ec2.Profile) {
			in := w.launch(t, app)
			old := in.Association.ID
			a, err := w.ec2.ReplaceIamInstanceProfileAssociation(ctx, old, other)
			wantCode(t, err, "")
			if a.ID == old || a.ProfileARN != other.Profile.ARN || a.State != "associating" {
				t.Errorf("got %+v, want a new associating association of %s", a, other.Profile.ARN)
			}
			_, err = w.ec2.DisassociateIamInstanceProfile(ctx, old)
			wantCode(t, err, ec2.InvalidAssociationIDNotFound)
		}},
		{"disassociating reports disassociating and leaves the instance without a profile", func(t *testing.T, w *world, app, _ *ec2.Profile) {
			in := w.launch(t, app)
			a, err := w.ec2.DisassociateIamInstanceProfile(ctx, in.Association.ID)
			wantCode(t, err, "")
			got, _ := w.ec2.Instance(ctx, in.ID)
			if a.State != "disassociating" || got.Association != nil {
				t.Errorf("got reported %s and stored %+v, want disassociating and none", a.State, got.Association)
			}
			as, _ := w.ec2.DescribeAssociations(ctx, nil, nil)
			if len(as) != 0 {
				t.Errorf("got %d associations, want none", len(as))
			}
		}},
		{"terminating ends the association", func(t *testing.T, w *world, app, _ *ec2.Profile) {
			in := w.launch(t, app)
			w.ec2.TerminateInstances(ctx, []string{in.ID})
			_, err := w.ec2.AssociationInstance(ctx, in.Association.ID)
			wantCode(t, err, ec2.InvalidAssociationIDNotFound)
		}},
		{"an association id of the wrong shape is an invalid parameter", func(t *testing.T, w *world, _, _ *ec2.Profile) {
			_, err := w.ec2.DisassociateIamInstanceProfile(ctx, "assoc-1")
			wantCode(t, err, ec2.InvalidParameterValue)
		}},
		{"DescribeAssociations filters by instance id", func(t *testing.T, w *world, app, other *ec2.Profile) {
			a := w.launch(t, app)
			w.launch(t, other)
			as, err := w.ec2.DescribeAssociations(ctx, nil, []ec2.Filter{{Name: "instance-id", Values: []string{a.ID}}})
			wantCode(t, err, "")
			if len(as) != 1 || as[0].InstanceID != a.ID {
				t.Errorf("got %+v, want only %s's association", as, a.ID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.run(t, w, w.profile(t, "app", ec2Trust, 0), w.profile(t, "other", ec2Trust, 0))
		})
	}
}

func TestResolveProfile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	app := w.profile(t, "app", ec2Trust, 0)
	tests := []struct {
		name string
		spec ec2.ProfileSpec
		want apierr.Code
	}{
		{"a profile is found by name", ec2.ProfileSpec{Name: "app"}, ""},
		{"a profile is found by ARN", ec2.ProfileSpec{ARN: app.Profile.ARN}, ""},
		{"an unknown name is an invalid parameter", ec2.ProfileSpec{Name: "nope"}, ec2.InvalidParameterValue},
		{"name and ARN together are an invalid combination", ec2.ProfileSpec{Name: "app", ARN: app.Profile.ARN}, ec2.InvalidParameterCombination},
		{"neither is a missing parameter", ec2.ProfileSpec{}, ec2.MissingParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := w.ec2.ResolveProfile(context.Background(), tt.spec)
			wantCode(t, err, tt.want)
			if err == nil && (p.Role == nil || p.Role.Name != "app") {
				t.Errorf("got %+v, want the app role", p)
			}
		})
	}
}

func TestCredentialRefreshTiming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxSession int           // the role's MaxSessionDuration (0: one hour)
		wantLife   time.Duration // how long each session lasts
		wantRotate time.Duration // when the next one replaces it
	}{
		{"a one-hour role's session is replaced after half an hour", 0, time.Hour, 30 * time.Minute},
		{"a two-hour role's session is replaced after an hour", 7200, 2 * time.Hour, time.Hour},
		{"a twelve-hour role's session lasts six hours, as EC2's, and is replaced hourly", 43200, 6 * time.Hour, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ctx := context.Background()
			in := w.launch(t, w.profile(t, "app", ec2Trust, tt.maxSession))
			first, err := w.ec2.Credentials(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := first.Expiration.Sub(first.LastUpdated); got != tt.wantLife {
				t.Errorf("got a session of %v, want %v", got, tt.wantLife)
			}
			if first.RoleName != "app" || first.SessionToken == "" || first.LastUpdated != start {
				t.Errorf("got %s issued %v, want an app session issued now", first.RoleName, first.LastUpdated)
			}
			w.clock.Advance(tt.wantRotate - time.Second)
			same, _ := w.ec2.Credentials(ctx, in.ID)
			if same.AccessKeyID != first.AccessKeyID {
				t.Errorf("a second before rotation: got a new session %s, want %s", same.AccessKeyID, first.AccessKeyID)
			}
			w.clock.Advance(time.Second)
			next, _ := w.ec2.Credentials(ctx, in.ID)
			if next.AccessKeyID == first.AccessKeyID {
				t.Errorf("at rotation: got the same session, want a new one")
			}
			if left := first.Expiration.Sub(w.clock.Now()); left < tt.wantLife/2 {
				t.Errorf("the old session had %v left at rotation, want at least half its life", left)
			}
		})
	}
}

func TestCredentialManager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, w *world)
	}{
		{"a revoked session is replaced on the next fetch, before rotation is due", func(t *testing.T, w *world) {
			in := w.launch(t, w.profile(t, "app", ec2Trust, 0))
			first, _ := w.ec2.Credentials(ctx, in.ID)
			w.revoke(first.AccessKeyID)
			next, err := w.ec2.Credentials(ctx, in.ID)
			if err != nil || next.AccessKeyID == first.AccessKeyID {
				t.Errorf("got %v, %v, want a new session", next, err)
			}
		}},
		{"Maintain replaces a revoked session without a fetch and leaves the others", func(t *testing.T, w *world) {
			a := w.launch(t, w.profile(t, "app", ec2Trust, 0))
			b := w.launch(t, w.profile(t, "batch", ec2Trust, 0))
			ca, _ := w.ec2.Credentials(ctx, a.ID)
			cb, _ := w.ec2.Credentials(ctx, b.ID)
			w.revoke(ca.AccessKeyID)
			w.ec2.Maintain(ctx)
			sa, _ := w.ec2.CurrentSession(a.ID)
			sb, _ := w.ec2.CurrentSession(b.ID)
			if string(sa.AccessKeyID) == ca.AccessKeyID || string(sb.AccessKeyID) != cb.AccessKeyID {
				t.Errorf("got %s and %s, want a new session for app and %s kept for batch", sa.AccessKeyID, sb.AccessKeyID, cb.AccessKeyID)
			}
		}},
		{"a stopped instance has no credentials and a started one a new session", func(t *testing.T, w *world) {
			in := w.launch(t, w.profile(t, "app", ec2Trust, 0))
			first, _ := w.ec2.Credentials(ctx, in.ID)
			w.ec2.StopInstances(ctx, []string{in.ID})
			if _, err := w.ec2.Credentials(ctx, in.ID); !errors.Is(err, ec2.ErrNotRunning) {
				t.Errorf("stopped: got %v, want ErrNotRunning", err)
			}
			w.ec2.StartInstances(ctx, []string{in.ID})
			next, err := w.ec2.Credentials(ctx, in.ID)
			if err != nil || next.AccessKeyID == first.AccessKeyID {
				t.Errorf("started: got %v, %v, want a new session", next, err)
			}
		}},
		{"an instance without a profile has no credentials", func(t *testing.T, w *world) {
			in := w.launch(t, nil)
			if _, err := w.ec2.Credentials(ctx, in.ID); !errors.Is(err, ec2.ErrNoCredentials) {
				t.Errorf("got %v, want ErrNoCredentials", err)
			}
		}},
		{"replacing the profile serves the new role at once", func(t *testing.T, w *world) {
			in := w.launch(t, w.profile(t, "app", ec2Trust, 0))
			w.ec2.Credentials(ctx, in.ID)
			if _, err := w.ec2.ReplaceIamInstanceProfileAssociation(ctx, in.Association.ID, w.profile(t, "batch", ec2Trust, 0)); err != nil {
				t.Fatal(err)
			}
			c, err := w.ec2.Credentials(ctx, in.ID)
			if err != nil || c.RoleName != "batch" {
				t.Errorf("got %v, %v, want a batch session", c, err)
			}
		}},
		{"a role that does not trust EC2 yields a trust error", func(t *testing.T, w *world) {
			in := w.launch(t, w.profile(t, "locked", userOnly, 0))
			var te *ec2.TrustError
			if _, err := w.ec2.Credentials(ctx, in.ID); !errors.As(err, &te) || te.Role != "locked" {
				t.Errorf("got %v, want a TrustError for locked", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newWorld(t))
		})
	}
}
