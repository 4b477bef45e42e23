package httpapi

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/ec2"
)

// EC2's Query API for instances and their IAM instance profiles.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/OperationList-query.html

type ec2API struct {
	svc *ec2.Service
}

// EC2Service returns the EC2 Query service.
func EC2Service(svc *ec2.Service) *Service {
	a := &ec2API{svc: svc}
	return &Service{Name: "ec2", Version: EC2Version, Namespace: EC2Namespace, Protocol: ec2Protocol{}, Actions: map[string]Handler{
		"RunInstances":                           a.runInstances,
		"DescribeInstances":                      a.describeInstances,
		"StopInstances":                          a.stopInstances,
		"StartInstances":                         a.startInstances,
		"TerminateInstances":                     a.terminateInstances,
		"AssociateIamInstanceProfile":            a.associate,
		"DisassociateIamInstanceProfile":         a.disassociate,
		"ReplaceIamInstanceProfileAssociation":   a.replace,
		"DescribeIamInstanceProfileAssociations": a.describeAssociations,
	}}
}

// ec2List reads a flattened EC2 list: Name.1, Name.2, …
func ec2List(p Params, name string) ([]string, error) {
	var out []string
	for i := 1; ; i++ {
		vals, ok := p.v[p.key(name)+"."+strconv.Itoa(i)]
		if !ok {
			return out, nil
		}
		if i > maxListMembers {
			return nil, apierr.New(ec2.InvalidParameterValue, "Too many values for %s.", name)
		}
		out = append(out, vals[0])
	}
}

// ec2Structs reads a flattened list of structures: Name.N.Field.
func ec2Structs(p Params, name string) ([]Params, error) {
	var out []Params
	for i := 1; ; i++ {
		pre := p.key(name) + "." + strconv.Itoa(i) + "."
		found := false
		for k := range p.v {
			if strings.HasPrefix(k, pre) {
				found = true
				break
			}
		}
		if !found {
			return out, nil
		}
		if i > maxListMembers {
			return nil, apierr.New(ec2.InvalidParameterValue, "Too many values for %s.", name)
		}
		out = append(out, Params{v: p.v, prefix: pre})
	}
}

func ec2Sub(p Params, name string) Params { return Params{v: p.v, prefix: p.key(name) + "."} }

func ec2Required(p Params, name string) (string, error) {
	if p.Get(name) == "" {
		return "", apierr.New(ec2.MissingParameter, "The request must contain the parameter %s", name)
	}
	return p.Get(name), nil
}

func ec2Int(p Params, name string, required bool, lo, hi int) (int, error) {
	if !p.Has(name) {
		if required {
			return 0, apierr.New(ec2.MissingParameter, "The request must contain the parameter %s", name)
		}
		return 0, nil
	}
	n, err := strconv.Atoi(p.Get(name))
	if err != nil || n < lo || n > hi {
		return 0, apierr.New(ec2.InvalidParameterValue, "Invalid value '%s' for %s.", clip(p.Get(name)), name)
	}
	return n, nil
}

func ec2Enum(p Params, name string, allowed ...string) (string, error) {
	v := p.Get(name)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", apierr.New(ec2.InvalidParameterValue, "Value (%s) for parameter %s is invalid. Valid values: %s", clip(v), field(strings.ReplaceAll(name, ".", "")), strings.Join(allowed, ", "))
}

func ec2Filters(p Params) ([]ec2.Filter, error) {
	ms, err := ec2Structs(p, "Filter")
	if err != nil {
		return nil, err
	}
	out := make([]ec2.Filter, 0, len(ms))
	for _, m := range ms {
		vals, err := ec2List(m, "Value")
		if err != nil {
			return nil, err
		}
		out = append(out, ec2.Filter{Name: m.Get("Name"), Values: vals})
	}
	return out, nil
}

// dryRun authorizes and, when DryRun=true, answers DryRunOperation.
func dryRun(c *Call) error {
	if c.Params.Get("DryRun") == "true" {
		return apierr.New(ec2DryRunOperation, "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

func (a *ec2API) region(c *Call) string {
	if c.Env.Region == "" {
		return "us-east-1"
	}
	return c.Env.Region
}

func (a *ec2API) instanceARN(c *Call, id string) string {
	return "arn:aws:ec2:" + a.region(c) + ":" + string(a.svc.Account()) + ":instance/" + id
}

// passRole authorizes handing the profile's role to EC2.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
func (a *ec2API) passRole(c *Call, p *ec2.Profile) error {
	if p == nil || p.Role == nil {
		return nil
	}
	return c.Authorize("iam:PassRole", p.Role.ARN, authz.WithKey("iam:PassedToService", ec2.ServicePrincipal))
}

func profileSpec(p Params) ec2.ProfileSpec {
	sub := ec2Sub(p, "IamInstanceProfile")
	return ec2.ProfileSpec{Name: sub.Get("Name"), ARN: sub.Get("Arn")}
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
func (a *ec2API) runInstances(c *Call) (any, error) {
	p := c.Params
	image, err := ec2Required(p, "ImageId")
	if err != nil {
		return nil, err
	}
	minN, err := ec2Int(p, "MinCount", true, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	maxN, err := ec2Int(p, "MaxCount", true, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	md := ec2Sub(p, "MetadataOptions")
	tokens, err := ec2Enum(md, "HttpTokens", ec2.TokensOptional, ec2.TokensRequired)
	if err != nil {
		return nil, err
	}
	endpoint, err := ec2Enum(md, "HttpEndpoint", ec2.EndpointEnabled, ec2.EndpointOff)
	if err != nil {
		return nil, err
	}
	hops, err := ec2Int(md, "HttpPutResponseHopLimit", false, 1, 64)
	if err != nil {
		return nil, err
	}
	tags, err := instanceTags(p)
	if err != nil {
		return nil, err
	}
	itype := p.Get("InstanceType")
	opts := []authzOption{}
	if itype != "" {
		opts = append(opts, withKey("ec2:InstanceType", itype))
	}
	for _, t := range tags {
		opts = append(opts, withKey("aws:RequestTag/"+t.Key, t.Value))
	}
	if err := c.Authorize("ec2:RunInstances", a.instanceARN(c, "*"), opts...); err != nil {
		return nil, err
	}
	var prof *ec2.Profile
	if spec := profileSpec(p); !spec.Empty() {
		if prof, err = a.svc.ResolveProfile(c.Ctx, spec); err != nil {
			return nil, err
		}
		if err := a.passRole(c, prof); err != nil {
			return nil, err
		}
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	insts, err := a.svc.RunInstances(c.Ctx, ec2.RunInput{
		ImageID: image, InstanceType: itype, KeyName: p.Get("KeyName"), MinCount: minN, MaxCount: maxN,
		Region: a.region(c), Profile: prof, Tags: tags,
		Metadata: ec2.MetadataOptions{HTTPTokens: tokens, HTTPEndpoint: endpoint, HopLimit: hops},
	})
	if err != nil {
		return nil, err
	}
	// EC2 answers RunInstances before the instances boot: they are
	// pending in the response (and running, here at once, afterwards).
	shown := make([]*ec2.Instance, len(insts))
	for i, in := range insts {
		cp := *in
		cp.State = ec2.Pending
		shown[i] = &cp
	}
	return a.reservation(insts[0].ReservationID, shown), nil
}

// instanceTags reads the TagSpecification entries for instances.
func instanceTags(p Params) ([]ec2.Tag, error) {
	specs, err := ec2Structs(p, "TagSpecification")
	if err != nil {
		return nil, err
	}
	var out []ec2.Tag
	for _, s := range specs {
		if rt := s.Get("ResourceType"); rt != "instance" {
			continue // volumes, network interfaces…: not modelled
		}
		ms, err := ec2Structs(s, "Tag")
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			k := m.Get("Key")
			switch {
			case k == "" || len(k) > 128 || len(m.Get("Value")) > 256:
				return nil, apierr.New(ec2.InvalidParameterValue, "Tag keys must be 1 to 128 characters and values at most 256.")
			case strings.HasPrefix(strings.ToLower(k), "aws:"):
				return nil, apierr.New(ec2.InvalidParameterValue, "Tag keys starting with 'aws:' are reserved for internal use")
			case k == ec2.EndpointTag:
				return nil, apierr.New(ec2.InvalidParameterValue, "Tag key '%s' is reserved by iamd", k)
			}
			out = append(out, ec2.Tag{Key: k, Value: m.Get("Value")})
		}
	}
	return out, nil
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func (a *ec2API) describeInstances(c *Call) (any, error) {
	ids, err := ec2List(c.Params, "InstanceId")
	if err != nil {
		return nil, err
	}
	filters, err := ec2Filters(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("ec2:DescribeInstances", "*"); err != nil {
		return nil, err
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	insts, err := a.svc.DescribeInstances(c.Ctx, ids, filters)
	if err != nil {
		return nil, err
	}
	var order []string
	by := map[string][]*ec2.Instance{}
	for _, in := range insts {
		if _, ok := by[in.ReservationID]; !ok {
			order = append(order, in.ReservationID)
		}
		by[in.ReservationID] = append(by[in.ReservationID], in)
	}
	out := xmlDescribeInstances{}
	for _, r := range order {
		out.Reservations = append(out.Reservations, a.reservation(r, by[r]))
	}
	return out, nil
}

func (a *ec2API) changeState(c *Call, action string, do func([]string) ([]ec2.StateChange, error)) (any, error) {
	ids, err := ec2List(c.Params, "InstanceId")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		c.AllowWithoutPolicy()
		return nil, apierr.New(ec2.MissingParameter, "The request must contain the parameter InstanceId")
	}
	for _, id := range ids {
		if err := ec2.CheckInstanceID(id); err != nil {
			c.AllowWithoutPolicy()
			return nil, err
		}
	}
	for _, id := range ids {
		if err := c.Authorize("ec2:"+action, a.instanceARN(c, id)); err != nil {
			return nil, err
		}
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	changes, err := do(ids)
	if err != nil {
		return nil, err
	}
	out := xmlStateChanges{}
	for _, ch := range changes {
		out.Items = append(out.Items, xmlStateChange{
			InstanceID: ch.InstanceID, Current: stateOf(ch.Current), Previous: stateOf(ch.Previous),
		})
	}
	return out, nil
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html
func (a *ec2API) stopInstances(c *Call) (any, error) {
	return a.changeState(c, "StopInstances", func(ids []string) ([]ec2.StateChange, error) {
		return a.svc.StopInstances(c.Ctx, ids)
	})
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html
func (a *ec2API) startInstances(c *Call) (any, error) {
	return a.changeState(c, "StartInstances", func(ids []string) ([]ec2.StateChange, error) {
		return a.svc.StartInstances(c.Ctx, ids)
	})
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
func (a *ec2API) terminateInstances(c *Call) (any, error) {
	return a.changeState(c, "TerminateInstances", func(ids []string) ([]ec2.StateChange, error) {
		return a.svc.TerminateInstances(c.Ctx, ids)
	})
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html
func (a *ec2API) associate(c *Call) (any, error) {
	id, err := ec2Required(c.Params, "InstanceId")
	if err != nil {
		c.AllowWithoutPolicy()
		return nil, err
	}
	if err := ec2.CheckInstanceID(id); err != nil {
		c.AllowWithoutPolicy()
		return nil, err
	}
	if err := c.Authorize("ec2:AssociateIamInstanceProfile", a.instanceARN(c, id)); err != nil {
		return nil, err
	}
	prof, err := a.passedProfile(c)
	if err != nil {
		return nil, err
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	as, err := a.svc.AssociateIamInstanceProfile(c.Ctx, id, prof)
	if err != nil {
		return nil, err
	}
	return xmlAssociationResult{Association: associationOf(as)}, nil
}

// authorizeAssociation reads AssociationId, finds its instance and
// authorizes action on that instance: the opening of Disassociate and
// Replace. A malformed or unknown id is answered without a policy check,
// as before.
func (a *ec2API) authorizeAssociation(c *Call, action string) (string, error) {
	assoc, err := ec2Required(c.Params, "AssociationId")
	if err != nil {
		c.AllowWithoutPolicy()
		return "", err
	}
	in, err := a.svc.AssociationInstance(c.Ctx, assoc)
	if err != nil {
		c.AllowWithoutPolicy()
		return "", err
	}
	return assoc, c.Authorize(action, a.instanceARN(c, in.ID))
}

// passedProfile resolves the request's IamInstanceProfile and checks that
// the caller may pass its role to EC2 (iam:PassRole).
func (a *ec2API) passedProfile(c *Call) (*ec2.Profile, error) {
	prof, err := a.svc.ResolveProfile(c.Ctx, profileSpec(c.Params))
	if err != nil {
		return nil, err
	}
	return prof, a.passRole(c, prof)
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateIamInstanceProfile.html
func (a *ec2API) disassociate(c *Call) (any, error) {
	assoc, err := a.authorizeAssociation(c, "ec2:DisassociateIamInstanceProfile")
	if err != nil {
		return nil, err
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	as, err := a.svc.DisassociateIamInstanceProfile(c.Ctx, assoc)
	if err != nil {
		return nil, err
	}
	return xmlAssociationResult{Association: associationOf(as)}, nil
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceIamInstanceProfileAssociation.html
func (a *ec2API) replace(c *Call) (any, error) {
	assoc, err := a.authorizeAssociation(c, "ec2:ReplaceIamInstanceProfileAssociation")
	if err != nil {
		return nil, err
	}
	prof, err := a.passedProfile(c)
	if err != nil {
		return nil, err
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	as, err := a.svc.ReplaceIamInstanceProfileAssociation(c.Ctx, assoc, prof)
	if err != nil {
		return nil, err
	}
	return xmlAssociationResult{Association: associationOf(as)}, nil
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeIamInstanceProfileAssociations.html
func (a *ec2API) describeAssociations(c *Call) (any, error) {
	ids, err := ec2List(c.Params, "AssociationId")
	if err != nil {
		return nil, err
	}
	filters, err := ec2Filters(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("ec2:DescribeIamInstanceProfileAssociations", "*"); err != nil {
		return nil, err
	}
	if err := dryRun(c); err != nil {
		return nil, err
	}
	as, err := a.svc.DescribeAssociations(c.Ctx, ids, filters)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(as, func(i, j int) bool { return as[i].Timestamp.Before(as[j].Timestamp) })
	out := xmlAssociations{}
	for _, x := range as {
		out.Items = append(out.Items, *associationOf(x))
	}
	return out, nil
}

// Wire shapes.

type xmlEC2Time time.Time

func (t xmlEC2Time) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z")), nil
}

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateOf(s string) xmlState { return xmlState{Code: ec2.StateCode(s), Name: s} }

type xmlProfileRef struct {
	ARN string `xml:"arn"`
	ID  string `xml:"id"`
}

type xmlEC2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlMetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type xmlPlacement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type xmlMonitoring struct {
	State string `xml:"state"`
}

type xmlInstance struct {
	InstanceID         string             `xml:"instanceId"`
	ImageID            string             `xml:"imageId"`
	State              xmlState           `xml:"instanceState"`
	PrivateDNSName     string             `xml:"privateDnsName"`
	DNSName            string             `xml:"dnsName"`
	Reason             string             `xml:"reason"`
	KeyName            string             `xml:"keyName,omitempty"`
	AmiLaunchIndex     int                `xml:"amiLaunchIndex"`
	InstanceType       string             `xml:"instanceType"`
	LaunchTime         xmlEC2Time         `xml:"launchTime"`
	Placement          xmlPlacement       `xml:"placement"`
	Monitoring         xmlMonitoring      `xml:"monitoring"`
	PrivateIPAddress   string             `xml:"privateIpAddress"`
	Architecture       string             `xml:"architecture"`
	RootDeviceType     string             `xml:"rootDeviceType"`
	IamInstanceProfile *xmlProfileRef     `xml:"iamInstanceProfile,omitempty"`
	Tags               []xmlEC2Tag        `xml:"tagSet>item"`
	VirtualizationType string             `xml:"virtualizationType"`
	Hypervisor         string             `xml:"hypervisor"`
	MetadataOptions    xmlMetadataOptions `xml:"metadataOptions"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	GroupSet      struct{}      `xml:"groupSet"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type xmlDescribeInstances struct {
	Reservations []xmlReservation `xml:"reservationSet>item"`
}

type xmlStateChange struct {
	InstanceID string   `xml:"instanceId"`
	Current    xmlState `xml:"currentState"`
	Previous   xmlState `xml:"previousState"`
}

type xmlStateChanges struct {
	Items []xmlStateChange `xml:"instancesSet>item"`
}

type xmlAssociation struct {
	AssociationID      string        `xml:"associationId"`
	InstanceID         string        `xml:"instanceId"`
	IamInstanceProfile xmlProfileRef `xml:"iamInstanceProfile"`
	State              string        `xml:"state"`
	Timestamp          xmlEC2Time    `xml:"timestamp"`
}

type xmlAssociationResult struct {
	Association *xmlAssociation `xml:"iamInstanceProfileAssociation"`
}

type xmlAssociations struct {
	Items []xmlAssociation `xml:"iamInstanceProfileAssociationSet>item"`
}

func associationOf(a *ec2.Association) *xmlAssociation {
	return &xmlAssociation{
		AssociationID: a.ID, InstanceID: a.InstanceID, State: a.State, Timestamp: xmlEC2Time(a.Timestamp),
		IamInstanceProfile: xmlProfileRef{ARN: a.ProfileARN, ID: a.ProfileID},
	}
}

func (a *ec2API) reservation(id string, insts []*ec2.Instance) xmlReservation {
	r := xmlReservation{ReservationID: id, OwnerID: string(a.svc.Account())}
	for _, in := range insts {
		r.Instances = append(r.Instances, instanceOf(in))
	}
	return r
}

func instanceOf(in *ec2.Instance) xmlInstance {
	x := xmlInstance{
		InstanceID: in.ID, ImageID: in.ImageID, State: stateOf(in.State), KeyName: in.KeyName,
		AmiLaunchIndex: in.LaunchIndex, InstanceType: in.InstanceType, LaunchTime: xmlEC2Time(in.LaunchTime),
		Placement:    xmlPlacement{AvailabilityZone: in.Region + "a", Tenancy: "default"},
		Monitoring:   xmlMonitoring{State: "disabled"},
		Architecture: "x86_64", RootDeviceType: "ebs", VirtualizationType: "hvm", Hypervisor: "xen",
		MetadataOptions: xmlMetadataOptions{
			State: "applied", HTTPTokens: in.Metadata.HTTPTokens, HTTPPutResponseHopLimit: in.Metadata.HopLimit,
			HTTPEndpoint: in.Metadata.HTTPEndpoint, HTTPProtocolIpv6: "disabled", InstanceMetadataTags: "disabled",
		},
	}
	if in.State == ec2.Running || in.State == ec2.Pending {
		x.PrivateDNSName, x.PrivateIPAddress = "localhost", "127.0.0.1"
	}
	if in.State == ec2.Stopped {
		x.Reason = "User initiated"
	}
	if in.Association != nil {
		x.IamInstanceProfile = &xmlProfileRef{ARN: in.Association.ProfileARN, ID: in.Association.ProfileID}
	}
	for _, t := range ec2.AllTags(in) {
		x.Tags = append(x.Tags, xmlEC2Tag{Key: t.Key, Value: t.Value})
	}
	return x
}
