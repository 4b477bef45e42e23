package iam_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/iam"
)

// mfaCode is what an authenticator app shows at t for a base32 seed:
// RFC 6238, written out again here so the test does not check the code
// against itself.
func mfaCode(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.DecodeString(seed)
	if err != nil {
		t.Fatalf("seed %q is not base32: %v", seed, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	h := m.Sum(nil)
	o := h[19] & 15
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(h[o:])&0x7fffffff)%1_000_000)
}

// newDevice creates a virtual device named name and enables it for user,
// with the codes of the previous and current steps.
func newDevice(t *testing.T, w *world, user, name string) *iam.NewVirtualMFADevice {
	t.Helper()
	d := must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, name, "", nil))
	now := w.now()
	if err := w.svc.EnableMFADevice(ctx, user, d.SerialNumber, mfaCode(t, d.Base32Seed, now.Add(-30*time.Second)), mfaCode(t, d.Base32Seed, now)); err != nil {
		t.Fatalf("EnableMFADevice: %v", err)
	}
	return d
}

func TestCreateVirtualMFADevice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, "alice-phone", "/staff/", []iam.Tag{{Key: "k", Value: "v"}}))
	if d.SerialNumber != "arn:aws:iam::123456789012:mfa/staff/alice-phone" {
		t.Errorf("got serial %q, want arn:aws:iam::123456789012:mfa/staff/alice-phone", d.SerialNumber)
	}
	seed, err := base32.StdEncoding.DecodeString(d.Base32Seed)
	if err != nil || len(seed) != 20 || len(d.Base32Seed) != 32 {
		t.Errorf("got seed %q (%v), want 32 base32 characters of 20 bytes", d.Base32Seed, err)
	}
	raw := w.fileBytes(t)
	if !bytes.Contains(raw, []byte("alice-phone")) {
		t.Fatal("the database bytes do not hold the device name; the scan is not looking at the data")
	}
	if bytes.Contains(raw, seed) || bytes.Contains(raw, []byte(d.Base32Seed)) {
		t.Error("the database holds the MFA seed in plaintext")
	}
	_, err = w.svc.CreateVirtualMFADevice(ctx, "alice-phone", "/staff/", nil)
	wantCode(t, err, apierr.EntityAlreadyExists, "MFADevice entity at the same path and name already exists.")
	_, err = w.svc.CreateVirtualMFADevice(ctx, "bad name", "", nil)
	wantCode(t, err, apierr.ValidationError, "")
}

func TestEnableMFADevice(t *testing.T) {
	t.Parallel()
	const bad = "Authentication code for device is not valid."
	step := 30 * time.Second
	for _, tc := range []struct {
		name  string
		codes func(seed string, now time.Time) (string, string)
		code  apierr.Code
		msg   string
	}{
		{"the previous and current codes enable the device", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now.Add(-step)), mfaCode(t, s, now)
		}, "", ""},
		{"the current and next codes enable the device", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now), mfaCode(t, s, now.Add(step))
		}, "", ""},
		{"two codes from a minute ago still enable the device", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now.Add(-3*step)), mfaCode(t, s, now.Add(-2*step))
		}, "", ""},
		{"the same code twice is not valid", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now), mfaCode(t, s, now)
		}, apierr.InvalidAuthenticationCode, bad},
		{"codes in the wrong order are not valid", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now), mfaCode(t, s, now.Add(-step))
		}, apierr.InvalidAuthenticationCode, bad},
		{"codes from an hour ago are not valid", func(s string, now time.Time) (string, string) {
			return mfaCode(t, s, now.Add(-time.Hour)), mfaCode(t, s, now.Add(-time.Hour+step))
		}, apierr.InvalidAuthenticationCode, bad},
		{"made-up codes are not valid", func(string, time.Time) (string, string) {
			return "123456", "654321"
		}, apierr.InvalidAuthenticationCode, bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.user(t, "alice")
			d := must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, "phone", "", nil))
			c1, c2 := tc.codes(d.Base32Seed, w.now())
			err := w.svc.EnableMFADevice(ctx, "alice", d.SerialNumber, c1, c2)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				list := must[*iam.Paged[iam.MFADevice]](t)(w.svc.ListMFADevices(ctx, "alice", iam.Page{}))
				if len(list.Items) != 1 || list.Items[0].SerialNumber != d.SerialNumber || !list.Items[0].EnableDate.Equal(epoch) {
					t.Errorf("got devices %+v, want the enabled phone", list.Items)
				}
				return
			}
			wantCode(t, err, tc.code, tc.msg)
			if list := must[*iam.Paged[iam.MFADevice]](t)(w.svc.ListMFADevices(ctx, "alice", iam.Page{})); len(list.Items) != 0 {
				t.Errorf("a failed enable left %d devices enabled", len(list.Items))
			}
		})
	}
}

func TestMFADeviceLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	w.user(t, "bob")
	d := newDevice(t, w, "alice", "alice-phone")
	spare := must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, "spare", "", nil))
	now := w.now()

	t.Run("a device in use cannot be enabled again", func(t *testing.T) {
		err := w.svc.EnableMFADevice(ctx, "bob", d.SerialNumber, mfaCode(t, d.Base32Seed, now), mfaCode(t, d.Base32Seed, now.Add(30*time.Second)))
		wantCode(t, err, apierr.EntityAlreadyExists, "")
	})
	t.Run("a device in use cannot be deleted", func(t *testing.T) {
		wantCode(t, w.svc.DeleteVirtualMFADevice(ctx, d.SerialNumber), apierr.DeleteConflict, "MFA Device is already in use.")
	})
	t.Run("a user with a device cannot be deleted", func(t *testing.T) {
		wantCode(t, w.svc.DeleteUser(ctx, "alice"), apierr.DeleteConflict, "")
	})
	t.Run("ListVirtualMFADevices filters by assignment", func(t *testing.T) {
		for _, tc := range []struct {
			status string
			want   string
		}{
			{"", "[alice-phone:alice spare:]"},
			{"Any", "[alice-phone:alice spare:]"},
			{"Assigned", "[alice-phone:alice]"},
			{"Unassigned", "[spare:]"},
		} {
			res := must[*iam.Paged[iam.VirtualMFADevice]](t)(w.svc.ListVirtualMFADevices(ctx, tc.status, iam.Page{}))
			var got []string
			for _, v := range res.Items {
				u := ""
				if v.User != nil {
					u = v.User.Name
				}
				got = append(got, v.Name+":"+u)
				if v.Seed != nil {
					t.Errorf("ListVirtualMFADevices returned the sealed seed of %s", v.SerialNumber)
				}
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("status %q: got %v, want %s", tc.status, got, tc.want)
			}
		}
		_, err := w.svc.ListVirtualMFADevices(ctx, "Bogus", iam.Page{})
		wantCode(t, err, apierr.ValidationError, "")
	})
	t.Run("renaming the user carries the device along", func(t *testing.T) {
		if err := w.svc.UpdateUser(ctx, "alice", "alicia", ""); err != nil {
			t.Fatal(err)
		}
		devs := must[[]*iam.MFADevice](t)(w.svc.MFAForUser(ctx, "alicia"))
		if len(devs) != 1 || devs[0].UserName != "alicia" {
			t.Errorf("got %+v, want the phone, now alicia's", devs)
		}
	})
	t.Run("only its user can deactivate a device", func(t *testing.T) {
		wantCode(t, w.svc.DeactivateMFADevice(ctx, "bob", d.SerialNumber), apierr.NoSuchEntity, "")
		wantCode(t, w.svc.DeactivateMFADevice(ctx, "bob", spare.SerialNumber), apierr.NoSuchEntity, "")
	})
	t.Run("a deactivated device can be deleted", func(t *testing.T) {
		if err := w.svc.DeactivateMFADevice(ctx, "alicia", d.SerialNumber); err != nil {
			t.Fatal(err)
		}
		if devs := must[[]*iam.MFADevice](t)(w.svc.MFAForUser(ctx, "alicia")); len(devs) != 0 {
			t.Errorf("got %d devices after deactivation, want 0", len(devs))
		}
		if err := w.svc.DeleteVirtualMFADevice(ctx, d.SerialNumber); err != nil {
			t.Fatal(err)
		}
		wantCode(t, w.svc.DeleteVirtualMFADevice(ctx, d.SerialNumber), apierr.NoSuchEntity, "")
		if err := w.svc.DeleteUser(ctx, "alicia"); err != nil {
			t.Errorf("deleting the user without devices: got %v, want nil", err)
		}
	})
}

func TestVerifyMFA(t *testing.T) {
	t.Parallel()
	const badCode = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	step := 30 * time.Second
	t.Run("a code is accepted once", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		d := newDevice(t, w, "alice", "phone")
		w.advance(2 * step) // the enable codes are used up
		now := w.now()
		code := mfaCode(t, d.Base32Seed, now)
		gen := must[uint64](t)(w.store.Generation(ctx))
		if err := w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, code, now); err != nil {
			t.Fatalf("first use: got %v, want nil", err)
		}
		// The counter is no cache's business: recording it must not make
		// other nodes drop theirs.
		if got := must[uint64](t)(w.store.Generation(ctx)); got != gen {
			t.Errorf("got store generation %d after VerifyMFA, want %d", got, gen)
		}
		wantCode(t, w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, code, now), apierr.AccessDenied, badCode)
		wantCode(t, w.service().VerifyMFA(ctx, "alice", d.SerialNumber, code, now.Add(10*time.Second)), apierr.AccessDenied, badCode)
	})
	t.Run("a code older than the last accepted one is refused", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		d := newDevice(t, w, "alice", "phone")
		w.advance(3 * step)
		now := w.now()
		if err := w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, mfaCode(t, d.Base32Seed, now), now); err != nil {
			t.Fatal(err)
		}
		old := mfaCode(t, d.Base32Seed, now.Add(-step))
		wantCode(t, w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, old, now), apierr.AccessDenied, badCode)
		next := mfaCode(t, d.Base32Seed, now.Add(step))
		if err := w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, next, now.Add(step)); err != nil {
			t.Errorf("the next step's code: got %v, want nil", err)
		}
	})
	t.Run("a code enabling the device cannot be replayed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		d := newDevice(t, w, "alice", "phone")
		now := w.now()
		wantCode(t, w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, mfaCode(t, d.Base32Seed, now), now), apierr.AccessDenied, badCode)
	})
	for _, tc := range []struct {
		name   string
		user   string
		serial func(d *iam.NewVirtualMFADevice) string
		offset time.Duration
	}{
		{"a code two steps old is refused", "alice", nil, -2 * step},
		{"a code two steps ahead is refused", "alice", nil, 2 * step},
		{"another user's device is refused", "bob", nil, 0},
		{"an unknown serial is refused", "alice", func(*iam.NewVirtualMFADevice) string { return "arn:aws:iam::123456789012:mfa/nope" }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.user(t, "alice")
			w.user(t, "bob")
			d := newDevice(t, w, "alice", "phone")
			w.advance(5 * step)
			now := w.now()
			serial := d.SerialNumber
			if tc.serial != nil {
				serial = tc.serial(d)
			}
			err := w.svc.VerifyMFA(ctx, tc.user, serial, mfaCode(t, d.Base32Seed, now.Add(tc.offset)), now)
			wantCode(t, err, apierr.AccessDenied, "")
		})
	}
	t.Run("an unassigned device is refused", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(t, "alice")
		d := must[*iam.NewVirtualMFADevice](t)(w.svc.CreateVirtualMFADevice(ctx, "phone", "", nil))
		now := w.now()
		wantCode(t, w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, mfaCode(t, d.Base32Seed, now), now), apierr.AccessDenied, "")
	})
}

func TestResyncMFADeviceFollowsADriftingClock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "alice")
	d := newDevice(t, w, "alice", "phone")
	w.advance(time.Hour)
	now := w.now()
	drift := 10 * time.Minute // the phone runs ten minutes fast
	if err := w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, mfaCode(t, d.Base32Seed, now.Add(drift)), now); err == nil {
		t.Fatal("a code ten minutes ahead was accepted before resync")
	}
	wantCode(t, w.svc.ResyncMFADevice(ctx, "alice", d.SerialNumber, "000000", "111111"), apierr.InvalidAuthenticationCode, "")
	if err := w.svc.ResyncMFADevice(ctx, "alice", d.SerialNumber,
		mfaCode(t, d.Base32Seed, now.Add(drift)), mfaCode(t, d.Base32Seed, now.Add(drift+30*time.Second))); err != nil {
		t.Fatalf("ResyncMFADevice: %v", err)
	}
	later := now.Add(2 * time.Minute)
	if err := w.svc.VerifyMFA(ctx, "alice", d.SerialNumber, mfaCode(t, d.Base32Seed, later.Add(drift)), later); err != nil {
		t.Errorf("after resync: got %v, want nil", err)
	}
}
