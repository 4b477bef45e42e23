package ec2

import (
	"context"
	"sort"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/kv"
)

// MaxInstancesPerRun bounds one RunInstances call.
const MaxInstancesPerRun = 20

// ProfileSpec names an instance profile by Name or Arn
// (IamInstanceProfileSpecification).
type ProfileSpec struct {
	Name string
	ARN  string
}

// Empty reports whether no profile was named.
func (p ProfileSpec) Empty() bool { return p.Name == "" && p.ARN == "" }

// Profile is a resolved instance profile and the role in it (nil if empty).
type Profile struct {
	Profile *iam.InstanceProfile
	Role    *iam.Role
}

// ResolveProfile finds the instance profile a specification names, with
// EC2's error for one that does not exist.
func (s *Service) ResolveProfile(ctx context.Context, spec ProfileSpec) (*Profile, error) {
	ref, param := spec.Name, "iamInstanceProfile.name"
	switch {
	case spec.Name != "" && spec.ARN != "":
		return nil, apierr.New(InvalidParameterCombination, "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	case spec.ARN != "":
		ref, param = spec.ARN, "iamInstanceProfile.arn"
	case spec.Name == "":
		return nil, apierr.New(MissingParameter, "The request must contain the parameter iamInstanceProfile")
	}
	ip, r, err := s.iam.InstanceProfileRole(ctx, ref)
	if apierr.Is(err, apierr.NoSuchEntity) {
		kind := "name"
		if spec.ARN != "" {
			kind = "ARN"
		}
		return nil, apierr.New(InvalidParameterValue, "Value (%s) for parameter %s is invalid. Invalid IAM Instance Profile %s", ref, param, kind)
	}
	if err != nil {
		return nil, err
	}
	return &Profile{Profile: ip, Role: r}, nil
}

// RunInput is RunInstances' input after decoding.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
type RunInput struct {
	ImageID      string
	InstanceType string
	KeyName      string
	MinCount     int
	MaxCount     int
	Region       string
	Profile      *Profile // nil: none
	Metadata     MetadataOptions
	Tags         []Tag
}

// RunInstances creates MaxCount instances (at most MaxInstancesPerRun),
// running at once, each with its metadata endpoint open.
func (s *Service) RunInstances(ctx context.Context, in RunInput) ([]*Instance, error) {
	if in.MinCount < 1 || in.MaxCount < in.MinCount {
		return nil, apierr.New(InvalidParameterValue, "Invalid value '%d' for maxCount. Must be at least minCount (%d) and greater than 0", in.MaxCount, in.MinCount)
	}
	if in.MinCount > MaxInstancesPerRun {
		return nil, apierr.New(InstanceLimitExceeded, "You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type.", in.MinCount, MaxInstancesPerRun)
	}
	n := min(in.MaxCount, MaxInstancesPerRun)
	md := in.Metadata
	if md.HTTPTokens == "" {
		md.HTTPTokens = TokensOptional
	}
	if md.HTTPEndpoint == "" {
		md.HTTPEndpoint = EndpointEnabled
	}
	if md.HopLimit == 0 {
		md.HopLimit = 1
	}
	if in.InstanceType == "" {
		in.InstanceType = "m1.small"
	}
	now := s.now().UTC().Truncate(1e9)
	resID := s.newID("r-")
	out := make([]*Instance, 0, n)
	for i := range n {
		inst := &Instance{
			ID: s.newID("i-"), ReservationID: resID, ImageID: in.ImageID, InstanceType: in.InstanceType,
			KeyName: in.KeyName, State: Running, LaunchTime: now, Region: in.Region, LaunchIndex: i,
			Tags: in.Tags, Metadata: md, ContainerToken: s.newToken(),
		}
		if in.Profile != nil {
			inst.Association = &Association{
				ID: s.newID("iip-assoc-"), InstanceID: inst.ID, ProfileARN: in.Profile.Profile.ARN,
				ProfileID: in.Profile.Profile.ID, State: "associated", Timestamp: now,
			}
		}
		if ep := s.eps(); ep != nil {
			port, err := ep.Open(inst.ID, 0)
			if err != nil {
				for _, o := range out {
					ep.Close(o.ID)
				}
				return nil, apierr.Internal(err)
			}
			inst.IMDSPort = port
		}
		out = append(out, inst)
	}
	err := s.update(ctx, func(tx kv.Tx) error {
		for _, inst := range out {
			if err := putInstance(tx, inst); err != nil {
				return err
			}
			if a := inst.Association; a != nil {
				if err := tx.Put(tAssociations, a.ID, []byte(inst.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if ep := s.eps(); ep != nil {
			for _, o := range out {
				ep.Close(o.ID)
			}
		}
		return nil, err
	}
	return out, nil
}

// Instance returns one instance.
func (s *Service) Instance(ctx context.Context, id string) (*Instance, error) {
	var out *Instance
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		out, err = getInstance(tx, id)
		return err
	})
	return out, err
}

// Filter is one DescribeInstances filter: any of Values matches.
type Filter struct {
	Name   string
	Values []string
}

// DescribeInstances returns the named instances (all when ids is empty)
// that pass every filter, in launch order. Unknown ids are
// InvalidInstanceID.NotFound, as EC2 reports them.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func (s *Service) DescribeInstances(ctx context.Context, ids []string, filters []Filter) ([]*Instance, error) {
	for _, id := range ids {
		if err := CheckInstanceID(id); err != nil {
			return nil, err
		}
	}
	for _, f := range filters {
		if !knownFilter(f.Name) {
			return nil, apierr.New(InvalidParameterValue, "The filter '%s' is invalid", f.Name)
		}
	}
	var all []*Instance
	err := s.view(ctx, func(tx kv.Tx) error {
		if len(ids) > 0 {
			var missing []string
			for _, id := range ids {
				in, err := getInstance(tx, id)
				if apierr.Is(err, InvalidInstanceIDNotFound) {
					missing = append(missing, id)
					continue
				}
				if err != nil {
					return err
				}
				all = append(all, in)
			}
			switch len(missing) {
			case 0:
			case 1:
				return notFound(missing[0])
			default:
				return apierr.New(InvalidInstanceIDNotFound, "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
			}
			return nil
		}
		return tx.Scan(tInstances, "", "", 0, func(k string, _ []byte) error {
			in, err := getInstance(tx, k)
			if err == nil {
				all = append(all, in)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if matchAll(in, filters) {
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LaunchTime.Equal(out[j].LaunchTime) {
			return out[i].LaunchTime.Before(out[j].LaunchTime)
		}
		if out[i].ReservationID != out[j].ReservationID {
			return out[i].ReservationID < out[j].ReservationID
		}
		return out[i].LaunchIndex < out[j].LaunchIndex
	})
	return out, nil
}

func knownFilter(name string) bool {
	switch name {
	case "instance-state-name", "instance-state-code", "instance-id", "image-id", "instance-type",
		"reservation-id", "tag-key", "iam-instance-profile.arn", "iam-instance-profile.id":
		return true
	}
	return strings.HasPrefix(name, "tag:")
}

func matchAll(in *Instance, fs []Filter) bool {
	for _, f := range fs {
		if !match(in, f) {
			return false
		}
	}
	return true
}

// match applies one filter; values may use EC2's * and ? wildcards.
func match(in *Instance, f Filter) bool {
	var have []string
	switch f.Name {
	case "instance-state-name":
		have = []string{in.State}
	case "instance-state-code":
		have = []string{itoa(StateCode(in.State))}
	case "instance-id":
		have = []string{in.ID}
	case "image-id":
		have = []string{in.ImageID}
	case "instance-type":
		have = []string{in.InstanceType}
	case "reservation-id":
		have = []string{in.ReservationID}
	case "tag-key":
		for _, t := range AllTags(in) {
			have = append(have, t.Key)
		}
	case "iam-instance-profile.arn":
		if in.Association != nil {
			have = []string{in.Association.ProfileARN}
		}
	case "iam-instance-profile.id":
		if in.Association != nil {
			have = []string{in.Association.ProfileID}
		}
	default: // tag:Key
		key := strings.TrimPrefix(f.Name, "tag:")
		for _, t := range AllTags(in) {
			if t.Key == key {
				have = append(have, t.Value)
			}
		}
	}
	for _, h := range have {
		for _, v := range f.Values {
			if wildcard(v, h) {
				return true
			}
		}
	}
	return false
}

// AllTags are the instance's tags with iamd's endpoint tag.
func AllTags(in *Instance) []Tag {
	out := append([]Tag(nil), in.Tags...)
	if ep := in.Endpoint(); ep != "" {
		out = append(out, Tag{Key: EndpointTag, Value: ep})
	}
	return out
}

// wildcard matches s against a pattern with * (any run) and ? (one).
func wildcard(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcard(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// StateChange is one instance's transition (InstanceStateChange).
type StateChange struct {
	InstanceID string
	Previous   string
	Current    string
}

// transition moves each instance: allowed reports whether the move is
// legal from a state (false: IncorrectInstanceState with verb), reported
// is the state the response shows, final the state stored.
func (s *Service) transition(ctx context.Context, ids []string, verb string, allowed func(string) bool, reported, final string) ([]StateChange, []*Instance, error) {
	if len(ids) == 0 {
		return nil, nil, apierr.New(MissingParameter, "The request must contain the parameter InstanceId")
	}
	for _, id := range ids {
		if err := CheckInstanceID(id); err != nil {
			return nil, nil, err
		}
	}
	var changes []StateChange
	var moved []*Instance
	err := s.update(ctx, func(tx kv.Tx) error {
		changes, moved = changes[:0], moved[:0]
		for _, id := range ids {
			in, err := getInstance(tx, id)
			if err != nil {
				return err
			}
			prev := in.State
			if prev == final {
				// Already there: EC2 reports no change.
				changes = append(changes, StateChange{InstanceID: id, Previous: prev, Current: prev})
				continue
			}
			if !allowed(prev) {
				return apierr.New(IncorrectInstanceState, "The instance '%s' is not in a state from which it can be %s.", id, verb)
			}
			in.State = final
			if final == Terminated && in.Association != nil {
				if err := tx.Delete(tAssociations, in.Association.ID); err != nil {
					return err
				}
				in.Association = nil
			}
			if err := putInstance(tx, in); err != nil {
				return err
			}
			changes = append(changes, StateChange{InstanceID: id, Previous: prev, Current: reported})
			moved = append(moved, in)
		}
		return nil
	})
	return changes, moved, err
}

// StopInstances stops running instances: their metadata endpoints close
// and their sessions are forgotten.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html
func (s *Service) StopInstances(ctx context.Context, ids []string) ([]StateChange, error) {
	changes, moved, err := s.transition(ctx, ids, "stopped",
		func(st string) bool { return st == Running || st == Pending || st == Stopping }, Stopping, Stopped)
	if err != nil {
		return nil, err
	}
	for _, in := range moved {
		s.down(in.ID)
	}
	return changes, nil
}

// TerminateInstances terminates instances; their associations end.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
func (s *Service) TerminateInstances(ctx context.Context, ids []string) ([]StateChange, error) {
	changes, moved, err := s.transition(ctx, ids, "terminated",
		func(st string) bool { return true }, ShuttingDown, Terminated)
	if err != nil {
		return nil, err
	}
	for _, in := range moved {
		s.down(in.ID)
	}
	return changes, nil
}

// StartInstances starts stopped instances: their metadata endpoints open
// again (on the same port when it is free) and hand out a new session.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html
func (s *Service) StartInstances(ctx context.Context, ids []string) ([]StateChange, error) {
	changes, moved, err := s.transition(ctx, ids, "started",
		func(st string) bool { return st == Stopped || st == Stopping || st == Pending }, Pending, Running)
	if err != nil {
		return nil, err
	}
	for _, in := range moved {
		if err := s.up(ctx, in); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

func (s *Service) down(id string) {
	if ep := s.eps(); ep != nil {
		ep.Close(id)
	}
	s.creds.forget(id)
}

// up opens a running instance's endpoint and records its port if it moved.
func (s *Service) up(ctx context.Context, in *Instance) error {
	s.creds.forget(in.ID)
	ep := s.eps()
	if ep == nil {
		return nil
	}
	port, err := ep.Open(in.ID, in.IMDSPort)
	if err != nil {
		return apierr.Internal(err)
	}
	if port == in.IMDSPort {
		return nil
	}
	return s.update(ctx, func(tx kv.Tx) error {
		cur, err := getInstance(tx, in.ID)
		if err != nil {
			return err
		}
		cur.IMDSPort = port
		return putInstance(tx, cur)
	})
}

// ResumeEndpoints opens the metadata endpoint of every running instance;
// the server calls it when it starts.
func (s *Service) ResumeEndpoints(ctx context.Context) error {
	running, err := s.DescribeInstances(ctx, nil, []Filter{{Name: "instance-state-name", Values: []string{Running}}})
	if err != nil {
		return err
	}
	for _, in := range running {
		if err := s.up(ctx, in); err != nil {
			return err
		}
	}
	return nil
}
