package iam

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/kv"
)

// Virtual MFA devices: an account-level TOTP seed that EnableMFADevice
// binds to one user once the user proves they hold it with two
// consecutive codes.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html

const (
	// seedBytes is the seed length: 160 bits, RFC 4226's recommendation
	// and what AWS issues (a 32-character base32 string).
	seedBytes = 20
	// maxMFADevicesPerUser is IAM's quota on MFA devices per user.
	maxMFADevicesPerUser = 8
	// enableWindow is how many steps either side of now EnableMFADevice
	// and VerifyMFA's clients may be off; resync searches wider.
	enableWindow = 5
	resyncWindow = 60 // 30 minutes either way
	// verifyWindow: a code is accepted for the step before and after now.
	verifyWindow = 1
)

// Messages AWS uses for failed MFA checks.
const (
	msgBadEnableCode = "Authentication code for device is not valid."
	msgBadMFACode    = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	msgBadMFASerial  = "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user."
)

// Assignment statuses of ListVirtualMFADevices.
const (
	AssignmentAssigned   = "Assigned"
	AssignmentUnassigned = "Unassigned"
	AssignmentAny        = "Any"
)

// NewVirtualMFADevice is a device as CreateVirtualMFADevice returns it,
// with its seed in base32, the one time the seed leaves the service.
type NewVirtualMFADevice struct {
	MFADevice
	Base32Seed string
}

// VirtualMFADevice is a device with the user it is assigned to, if any.
type VirtualMFADevice struct {
	MFADevice
	User *User
}

// CreateVirtualMFADevice creates an unassigned virtual MFA device.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateVirtualMFADevice.html
func (s *Service) CreateVirtualMFADevice(ctx context.Context, name, path string, tags []Tag) (*NewVirtualMFADevice, error) {
	if err := checkName("virtualMFADeviceName", name, 226); err != nil {
		return nil, err
	}
	path, err := checkPath("path", path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	serial := arn.MFA(s.account, path, name)
	if len(serial) > 256 {
		return nil, apierr.New(apierr.InvalidInput, "The serial number of the device would exceed 256 characters; use a shorter name or path.")
	}
	seed := make([]byte, seedBytes)
	if _, err := io.ReadFull(s.rand, seed); err != nil {
		return nil, apierr.Internal(fmt.Errorf("iam: mfa seed: %w", err))
	}
	sealed, err := s.secrets.Seal(seed)
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("iam: seal mfa seed: %w", err))
	}
	d := &MFADevice{SerialNumber: serial, Name: name, Path: path, Seed: sealed, CreateDate: s.now().UTC(), Tags: tags}
	err = s.update(ctx, func(tx kv.Tx) error {
		if ok, err := exists(tx, tMFADevices, serial); err != nil || ok {
			if ok {
				return apierr.New(apierr.EntityAlreadyExists, "MFADevice entity at the same path and name already exists.")
			}
			return err
		}
		return putJSON(tx, tMFADevices, serial, d)
	})
	if err != nil {
		return nil, err
	}
	return &NewVirtualMFADevice{MFADevice: *d, Base32Seed: base32.StdEncoding.EncodeToString(seed)}, nil
}

// mfaSeed opens a device's sealed seed.
func (s *Service) mfaSeed(d *MFADevice) ([]byte, error) {
	seed, err := s.secrets.Open(d.Seed)
	if err != nil {
		return nil, fmt.Errorf("open mfa seed of %s: %w", d.SerialNumber, err)
	}
	return seed, nil
}

// noDevice is NoSuchEntity for a serial number.
func noDevice(serial string) error {
	return apierr.New(apierr.NoSuchEntity, "MFA device with serial number %s does not exist.", serial)
}

// EnableMFADevice assigns a device to a user, given two consecutive codes
// from it.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableMFADevice.html
func (s *Service) EnableMFADevice(ctx context.Context, userName, serial, code1, code2 string) error {
	now := s.now()
	return s.update(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		d, err := getJSON[MFADevice](tx, tMFADevices, serial)
		if errors.Is(err, kv.ErrNotFound) {
			return noDevice(serial)
		}
		if err != nil {
			return err
		}
		if d.UserName != "" {
			return apierr.New(apierr.EntityAlreadyExists, "MFA Device is already in use.")
		}
		n := 0
		if err := tx.Scan(tUserMFA, lower(u.Name)+"/", "", maxMFADevicesPerUser, func(string, []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n >= maxMFADevicesPerUser {
			return apierr.New(apierr.LimitExceeded, "Cannot exceed quota for MFADevicesPerUser: %d", maxMFADevicesPerUser)
		}
		seed, err := s.mfaSeed(d)
		if err != nil {
			return err
		}
		cur := totpCounter(now)
		c, ok := totpFindPair(seed, max(cur-enableWindow, d.LastCounter+1), cur+enableWindow-1, code1, code2)
		if !ok {
			return apierr.New(apierr.InvalidAuthenticationCode, msgBadEnableCode)
		}
		d.UserName = u.Name
		d.EnableDate = now.UTC()
		d.LastCounter = c + 1
		d.Drift = 0
		if err := putJSON(tx, tMFADevices, serial, d); err != nil {
			return err
		}
		return tx.Put(tUserMFA, lower(u.Name)+"/"+serial, nil)
	})
}

// userDevice reads a device and checks it is enabled for the user.
func userDevice(tx kv.Tx, userName, serial string) (*User, *MFADevice, error) {
	u, err := getJSON[User](tx, tUsers, lower(userName))
	if err != nil {
		return nil, nil, notFound(err, "user", userName)
	}
	d, err := getJSON[MFADevice](tx, tMFADevices, serial)
	if errors.Is(err, kv.ErrNotFound) || err == nil && lower(d.UserName) != lower(u.Name) {
		return nil, nil, noDevice(serial)
	}
	if err != nil {
		return nil, nil, err
	}
	return u, d, nil
}

// DeactivateMFADevice unassigns a device from its user; the device
// remains and can be enabled again.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeactivateMFADevice.html
func (s *Service) DeactivateMFADevice(ctx context.Context, userName, serial string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		u, d, err := userDevice(tx, userName, serial)
		if err != nil {
			return err
		}
		// LastCounter stays: codes already used stay used.
		d.UserName, d.EnableDate, d.Drift = "", time.Time{}, 0
		if err := putJSON(tx, tMFADevices, serial, d); err != nil {
			return err
		}
		return tx.Delete(tUserMFA, lower(u.Name)+"/"+serial)
	})
}

// ResyncMFADevice re-learns the offset of a device's clock from two
// consecutive codes, searching a wider window than EnableMFADevice.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResyncMFADevice.html
func (s *Service) ResyncMFADevice(ctx context.Context, userName, serial, code1, code2 string) error {
	now := s.now()
	return s.update(ctx, func(tx kv.Tx) error {
		_, d, err := userDevice(tx, userName, serial)
		if err != nil {
			return err
		}
		seed, err := s.mfaSeed(d)
		if err != nil {
			return err
		}
		cur := totpCounter(now)
		c, ok := totpFindPair(seed, max(cur-resyncWindow, d.LastCounter+1), cur+resyncWindow-1, code1, code2)
		if !ok {
			return apierr.New(apierr.InvalidAuthenticationCode, msgBadEnableCode)
		}
		d.LastCounter = c + 1
		d.Drift = c + 1 - cur
		return putJSON(tx, tMFADevices, serial, d)
	})
}

// ListMFADevices lists the devices enabled for a user, by serial number.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListMFADevices.html
func (s *Service) ListMFADevices(ctx context.Context, userName string, p Page) (*Paged[MFADevice], error) {
	var out *Paged[MFADevice]
	err := s.view(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		out, err = scanRefPage(tx, tUserMFA, lower(u.Name)+"/", p, func(serial string) (*MFADevice, error) {
			return getJSON[MFADevice](tx, tMFADevices, serial)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range out.Items {
		d.Seed = nil
	}
	return out, nil
}

// MFAForUser returns every device enabled for a user (no seeds).
func (s *Service) MFAForUser(ctx context.Context, userName string) ([]*MFADevice, error) {
	var out []*MFADevice
	err := s.view(ctx, func(tx kv.Tx) error {
		u, err := getJSON[User](tx, tUsers, lower(userName))
		if err != nil {
			return notFound(err, "user", userName)
		}
		serials, err := scanKeys(tx, tUserMFA, lower(u.Name)+"/")
		if err != nil {
			return err
		}
		for _, sn := range serials {
			d, err := getJSON[MFADevice](tx, tMFADevices, sn)
			if err != nil {
				return fmt.Errorf("mfa device %s of %s: %w", sn, u.Name, err)
			}
			d.Seed = nil
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// ListVirtualMFADevices lists the account's virtual devices by serial
// number, filtered by assignment status ("" means Any).
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListVirtualMFADevices.html
func (s *Service) ListVirtualMFADevices(ctx context.Context, status string, p Page) (*Paged[VirtualMFADevice], error) {
	var keep func(*MFADevice) bool
	switch status {
	case "", AssignmentAny:
	case AssignmentAssigned:
		keep = func(d *MFADevice) bool { return d.UserName != "" }
	case AssignmentUnassigned:
		keep = func(d *MFADevice) bool { return d.UserName == "" }
	default:
		return nil, apierr.Validation("assignmentStatus", status, "Member must satisfy enum value set: [Unassigned, Any, Assigned]")
	}
	out := &Paged[VirtualMFADevice]{}
	err := s.view(ctx, func(tx kv.Tx) error {
		res, err := scanPage(tx, tMFADevices, "", p, keep)
		if err != nil {
			return err
		}
		out.IsTruncated, out.Marker, out.Items = res.IsTruncated, res.Marker, nil
		for _, d := range res.Items {
			d.Seed = nil
			v := &VirtualMFADevice{MFADevice: *d}
			if d.UserName != "" {
				if v.User, err = getJSON[User](tx, tUsers, lower(d.UserName)); err != nil {
					return fmt.Errorf("user of mfa device %s: %w", d.SerialNumber, err)
				}
			}
			out.Items = append(out.Items, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVirtualMFADevice deletes a device that is not enabled for a user.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteVirtualMFADevice.html
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, serial string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		d, err := getJSON[MFADevice](tx, tMFADevices, serial)
		if errors.Is(err, kv.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "VirtualMFADevice with serial number %s doesn't exist.", serial)
		}
		if err != nil {
			return err
		}
		if d.UserName != "" {
			return apierr.New(apierr.DeleteConflict, "MFA Device is already in use.")
		}
		return tx.Delete(tMFADevices, serial)
	})
}

// VerifyMFA checks a one-time code for sts (GetSessionToken, AssumeRole
// with SerialNumber and TokenCode). The device must be enabled for the
// user and the code must be that of a step within one of now (after the
// device's learnt drift). A code is accepted once: the step is recorded in
// the same transaction, and no step at or before it is accepted again.
func (s *Service) VerifyMFA(ctx context.Context, userName, serial, code string, now time.Time) error {
	// No snapshot holds MFA counters, so this write leaves caches valid.
	return s.updateUncached(ctx, func(tx kv.Tx) error {
		d, err := getJSON[MFADevice](tx, tMFADevices, serial)
		if errors.Is(err, kv.ErrNotFound) || err == nil && (d.UserName == "" || lower(d.UserName) != lower(userName)) {
			return apierr.New(apierr.AccessDenied, msgBadMFASerial)
		}
		if err != nil {
			return err
		}
		seed, err := s.mfaSeed(d)
		if err != nil {
			return err
		}
		cur := totpCounter(now) + d.Drift
		// Steps at or before the last accepted one are never candidates.
		found, at := false, int64(0)
		for c := max(cur-verifyWindow, d.LastCounter+1); c <= cur+verifyWindow; c++ {
			if totpMatch(seed, c, code) && !found {
				found, at = true, c
			}
		}
		if !found {
			return apierr.New(apierr.AccessDenied, msgBadMFACode)
		}
		d.LastCounter = at
		return putJSON(tx, tMFADevices, serial, d)
	})
}
