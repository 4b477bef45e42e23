package httpapi

import (
	"encoding/base64"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
)

func (a *iamAPI) registerMFA(m map[string]Handler) {
	m["CreateVirtualMFADevice"] = a.createVirtualMFADevice
	m["EnableMFADevice"] = a.enableMFADevice
	m["DeactivateMFADevice"] = a.deactivateMFADevice
	m["ResyncMFADevice"] = a.resyncMFADevice
	m["ListMFADevices"] = a.listMFADevices
	m["ListVirtualMFADevices"] = a.listVirtualMFADevices
	m["DeleteVirtualMFADevice"] = a.deleteVirtualMFADevice
}

var (
	ruleMFAName          = Pattern(`[\w+=,.@-]+`).Len(1, 0) // virtualMFADeviceName
	ruleAssignmentStatus = Pattern(`Assigned|Unassigned|Any`)
)

// xmlBlob is a blob member: base64 on the wire, like every Query blob.
type xmlBlob []byte

func (b xmlBlob) MarshalText() ([]byte, error) {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	return out, nil
}

// xmlVirtualMFADevice is IAM's VirtualMFADevice structure. QRCodePNG is
// never sent: iamd does not draw QR codes, and an absent element is what
// the model allows, where a made-up one would not scan.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_VirtualMFADevice.html
type xmlVirtualMFADevice struct {
	SerialNumber     string
	Base32StringSeed xmlBlob     `xml:",omitempty"`
	User             *xmlUser    `xml:",omitempty"`
	EnableDate       *xmlTime    `xml:",omitempty"`
	Tags             *xmlTagList `xml:"Tags,omitempty"`
}

// xmlMFADevice is IAM's MFADevice structure.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_MFADevice.html
type xmlMFADevice struct {
	UserName     string
	SerialNumber string
	EnableDate   xmlTime
}

func timePtr(t time.Time) *xmlTime {
	if t.IsZero() {
		return nil
	}
	x := xmlTime(t)
	return &x
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateVirtualMFADevice.html
func (a *iamAPI) createVirtualMFADevice(c *Call) (any, error) {
	name, err := c.Params.Required("VirtualMFADeviceName", ruleMFAName)
	if err != nil {
		return nil, err
	}
	path, err := c.Params.Optional("Path", rulePath)
	if err != nil {
		return nil, err
	}
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:CreateVirtualMFADevice", arn.MFA(a.svc.Account(), path, name), requestTagKeys(tg)...); err != nil {
		return nil, err
	}
	d, err := a.svc.CreateVirtualMFADevice(c.Ctx, name, path, tg)
	if err != nil {
		return nil, err
	}
	return newVirtualMFAOf(d), nil
}

// mfaCodes reads the parameters EnableMFADevice and ResyncMFADevice share.
func mfaCodes(c *Call) (user, serial, code1, code2 string, err error) {
	if user, err = c.Params.Required("UserName", ruleUserName); err != nil {
		return
	}
	if serial, err = c.Params.Required("SerialNumber", ruleSerialNumber); err != nil {
		return
	}
	if code1, err = c.Params.Required("AuthenticationCode1", ruleAuthCode); err != nil {
		return
	}
	code2, err = c.Params.Required("AuthenticationCode2", ruleAuthCode)
	return
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableMFADevice.html
func (a *iamAPI) enableMFADevice(c *Call) (any, error) {
	user, serial, code1, code2, err := mfaCodes(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:EnableMFADevice", a.userARN(c, user)); err != nil {
		return nil, err
	}
	return nil, a.svc.EnableMFADevice(c.Ctx, user, serial, code1, code2)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResyncMFADevice.html
func (a *iamAPI) resyncMFADevice(c *Call) (any, error) {
	user, serial, code1, code2, err := mfaCodes(c)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ResyncMFADevice", a.userARN(c, user)); err != nil {
		return nil, err
	}
	return nil, a.svc.ResyncMFADevice(c.Ctx, user, serial, code1, code2)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeactivateMFADevice.html
func (a *iamAPI) deactivateMFADevice(c *Call) (any, error) {
	user, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	serial, err := c.Params.Required("SerialNumber", ruleSerialNumber)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeactivateMFADevice", a.userARN(c, user)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeactivateMFADevice(c.Ctx, user, serial)
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListMFADevices.html
func (a *iamAPI) listMFADevices(c *Call) (any, error) {
	user, err := resolveUserName(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListMFADevices", a.userARN(c, user)); err != nil {
		return nil, err
	}
	res, err := a.svc.ListMFADevices(c.Ctx, user, pg)
	if err != nil {
		return nil, err
	}
	return mfaListOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListVirtualMFADevices.html
func (a *iamAPI) listVirtualMFADevices(c *Call) (any, error) {
	status, err := c.Params.Optional("AssignmentStatus", ruleAny)
	if err != nil {
		return nil, err
	}
	if status != "" && !ruleAssignmentStatus.Pattern.MatchString(status) {
		return nil, apierr.Validation("assignmentStatus", clip(status), "Member must satisfy enum value set: [Unassigned, Any, Assigned]")
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:ListVirtualMFADevices", arn.IAM(a.svc.Account(), "mfa/*")); err != nil {
		return nil, err
	}
	res, err := a.svc.ListVirtualMFADevices(c.Ctx, status, pg)
	if err != nil {
		return nil, err
	}
	return virtualMFAListOf(res), nil
}

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteVirtualMFADevice.html
func (a *iamAPI) deleteVirtualMFADevice(c *Call) (any, error) {
	serial, err := c.Params.Required("SerialNumber", ruleSerialNumber)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize("iam:DeleteVirtualMFADevice", serial); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteVirtualMFADevice(c.Ctx, serial)
}

type xmlNewVirtualMFA struct{ VirtualMFADevice xmlVirtualMFADevice }

func newVirtualMFAOf(d *iam.NewVirtualMFADevice) xmlNewVirtualMFA {
	return xmlNewVirtualMFA{xmlVirtualMFADevice{
		SerialNumber: d.SerialNumber, Base32StringSeed: xmlBlob(d.Base32Seed), Tags: xmlTags(d.Tags),
	}}
}

type xmlMFAList struct {
	MFADevices  []xmlMFADevice `xml:"MFADevices>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func mfaListOf(res *iam.Paged[iam.MFADevice]) xmlMFAList {
	out := xmlMFAList{MFADevices: []xmlMFADevice{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, d := range res.Items {
		out.MFADevices = append(out.MFADevices, xmlMFADevice{UserName: d.UserName, SerialNumber: d.SerialNumber, EnableDate: xmlTime(d.EnableDate)})
	}
	return out
}

type xmlVirtualMFAList struct {
	VirtualMFADevices []xmlVirtualMFADevice `xml:"VirtualMFADevices>member"`
	IsTruncated       bool
	Marker            string `xml:",omitempty"`
}

// virtualMFAListOf shapes ListVirtualMFADevices: no seeds and, as with
// every IAM list, no tags.
func virtualMFAListOf(res *iam.Paged[iam.VirtualMFADevice]) xmlVirtualMFAList {
	out := xmlVirtualMFAList{VirtualMFADevices: []xmlVirtualMFADevice{}, IsTruncated: res.IsTruncated, Marker: res.Marker}
	for _, d := range res.Items {
		x := xmlVirtualMFADevice{SerialNumber: d.SerialNumber, EnableDate: timePtr(d.EnableDate)}
		if d.User != nil {
			u := userOf(d.User)
			u.Tags = nil
			x.User = &u
		}
		out.VirtualMFADevices = append(out.VirtualMFADevices, x)
	}
	return out
}
