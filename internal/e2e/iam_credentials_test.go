package e2e

// aws-sdk-go-v2's IAM client against a real iamd for access keys, groups,
// virtual MFA devices and tags: the client is the oracle for the wire
// shapes (element names, lists, blobs, timestamps, error codes).

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testserver"
)

// selfService lets a user manage its own keys, MFA devices and tags.
const selfService = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*","iam:*MFADevice*","iam:ListUserTags"],"Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`

func TestAccessKeysThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	kim := newUser(t, s, "kim", selfService)
	self := s.IAM(kim)

	t.Run("a user creates its second key without naming itself", func(t *testing.T) {
		out := must[*iam.CreateAccessKeyOutput](t)(self.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))
		k := out.AccessKey
		if aws.ToString(k.UserName) != "kim" || k.Status != iamtypes.StatusTypeActive || len(aws.ToString(k.SecretAccessKey)) != 40 || k.CreateDate == nil {
			t.Errorf("got %+v, want an Active key of kim with a 40-character secret and a date", k)
		}
		second := testserver.Creds{KeyID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
		if _, err := s.STS(second).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("the new key does not authenticate: %v", err)
		}
	})
	t.Run("a third key exceeds the quota", func(t *testing.T) {
		_, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("kim")})
		wantCode(t, err, "LimitExceeded")
	})
	t.Run("ListAccessKeys returns metadata and pages", func(t *testing.T) {
		p1 := must[*iam.ListAccessKeysOutput](t)(self.ListAccessKeys(ctx, &iam.ListAccessKeysInput{MaxItems: aws.Int32(1)}))
		if len(p1.AccessKeyMetadata) != 1 || !p1.IsTruncated || p1.Marker == nil {
			t.Fatalf("got %d keys, truncated %v; want 1 and a marker", len(p1.AccessKeyMetadata), p1.IsTruncated)
		}
		p2 := must[*iam.ListAccessKeysOutput](t)(self.ListAccessKeys(ctx, &iam.ListAccessKeysInput{MaxItems: aws.Int32(1), Marker: p1.Marker}))
		if len(p2.AccessKeyMetadata) != 1 || p2.IsTruncated {
			t.Fatalf("second page: got %d keys, truncated %v; want 1, false", len(p2.AccessKeyMetadata), p2.IsTruncated)
		}
		for _, m := range append(p1.AccessKeyMetadata, p2.AccessKeyMetadata...) {
			if aws.ToString(m.UserName) != "kim" || m.Status != iamtypes.StatusTypeActive || m.CreateDate == nil {
				t.Errorf("got %+v, want kim's active key with a date", m)
			}
		}
	})
	t.Run("a key never used reports N/A", func(t *testing.T) {
		must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("pat")}))
		k := must[*iam.CreateAccessKeyOutput](t)(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("pat")})).AccessKey
		out := must[*iam.GetAccessKeyLastUsedOutput](t)(admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}))
		lu := out.AccessKeyLastUsed
		if aws.ToString(out.UserName) != "pat" || lu == nil || lu.LastUsedDate != nil || aws.ToString(lu.ServiceName) != "N/A" || aws.ToString(lu.Region) != "N/A" {
			t.Errorf("got %+v %+v, want pat, no date, N/A, N/A", out, lu)
		}
	})
	t.Run("a used key reports its last use at once", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		if _, err := s.STS(kim).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		out := must[*iam.GetAccessKeyLastUsedOutput](t)(admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(kim.KeyID)}))
		lu := out.AccessKeyLastUsed
		if lu == nil || lu.LastUsedDate == nil || lu.LastUsedDate.Before(before.Truncate(time.Second)) ||
			aws.ToString(lu.ServiceName) != "sts" || aws.ToString(lu.Region) != testserver.Region {
			t.Errorf("got %+v, want a date after %v, sts, %s", lu, before, testserver.Region)
		}
	})
	t.Run("an unknown status is a validation error", func(t *testing.T) {
		_, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: aws.String(kim.KeyID), Status: "Sleeping"})
		wantCode(t, err, "ValidationError")
	})
	t.Run("another user's key is not found", func(t *testing.T) {
		must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("lee")}))
		_, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("lee"), AccessKeyId: aws.String(kim.KeyID)})
		wantCode(t, err, "NoSuchEntity")
	})
	t.Run("a user cannot touch another user's keys", func(t *testing.T) {
		_, err := self.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("lee")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("a deleted key stops working", func(t *testing.T) {
		must[*iam.DeleteAccessKeyOutput](t)(self.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(kim.KeyID)}))
		_, err := s.STS(kim).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
	})
}

func TestGroupsThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	g := must[*iam.CreateGroupOutput](t)(admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs"), Path: aws.String("/eng/")})).Group
	if aws.ToString(g.Arn) != "arn:aws:iam::000000000000:group/eng/Devs" || aws.ToString(g.Path) != "/eng/" || g.CreateDate == nil || len(aws.ToString(g.GroupId)) != 21 {
		t.Errorf("CreateGroup: got %+v", g)
	}
	_, err := admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	wantCode(t, err, "EntityAlreadyExists")

	// A member may read S3 through the group's policy.
	mo := newUser(t, s, "mo", "")
	must[*iam.AddUserToGroupOutput](t)(admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Devs"), UserName: aws.String("mo")}))
	must[*iam.PutGroupPolicyOutput](t)(admin.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Devs"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetGroup","Resource":"*"}]}`)}))
	got := must[*iam.GetGroupOutput](t)(s.IAM(mo).GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Devs")}))
	if aws.ToString(got.Group.GroupName) != "Devs" || len(got.Users) != 1 || aws.ToString(got.Users[0].UserName) != "mo" || got.IsTruncated {
		t.Errorf("GetGroup: got %+v with %d users, want Devs with mo", got.Group, len(got.Users))
	}
	_, err = s.IAM(mo).ListGroups(ctx, &iam.ListGroupsInput{})
	wantCode(t, err, "AccessDenied")

	must[*iam.UpdateGroupOutput](t)(admin.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Devs"), NewGroupName: aws.String("Engineers")}))
	groups := must[*iam.ListGroupsForUserOutput](t)(admin.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("mo")})).Groups
	if len(groups) != 1 || aws.ToString(groups[0].GroupName) != "Engineers" || aws.ToString(groups[0].Arn) != "arn:aws:iam::000000000000:group/eng/Engineers" {
		t.Errorf("ListGroupsForUser after rename: got %+v", groups)
	}
	if _, err := s.IAM(mo).GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Engineers")}); err != nil {
		t.Errorf("the group's policy did not follow the rename: %v", err)
	}
	list := must[*iam.ListGroupsOutput](t)(admin.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng/")}))
	if len(list.Groups) != 1 {
		t.Errorf("ListGroups /eng/: got %d groups, want 1", len(list.Groups))
	}
	empty := must[*iam.ListGroupsOutput](t)(admin.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/none/")}))
	if len(empty.Groups) != 0 || empty.IsTruncated {
		t.Errorf("ListGroups /none/: got %+v, want none", empty.Groups)
	}

	_, err = admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Engineers")})
	wantCode(t, err, "DeleteConflict")
	must[*iam.RemoveUserFromGroupOutput](t)(admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Engineers"), UserName: aws.String("mo")}))
	_, err = admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Engineers"), UserName: aws.String("mo")})
	wantCode(t, err, "NoSuchEntity")
	must[*iam.DeleteGroupPolicyOutput](t)(admin.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("Engineers"), PolicyName: aws.String("read")}))
	must[*iam.DeleteGroupOutput](t)(admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Engineers")}))
	_, err = admin.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Engineers")})
	wantCode(t, err, "NoSuchEntity")
}

// totpAt is an authenticator app's code for a base32 seed at t.
func totpAt(t *testing.T, seed []byte, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.DecodeString(string(seed))
	if err != nil {
		t.Fatalf("Base32StringSeed %q is not base32: %v", seed, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	h := m.Sum(nil)
	o := h[19] & 15
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(h[o:])&0x7fffffff)%1_000_000)
}

func TestVirtualMFAThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	nia := newUser(t, s, "nia", selfService)
	self := s.IAM(nia)

	d := must[*iam.CreateVirtualMFADeviceOutput](t)(admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{
		VirtualMFADeviceName: aws.String("nia")})).VirtualMFADevice
	serial := aws.ToString(d.SerialNumber)
	if serial != "arn:aws:iam::000000000000:mfa/nia" || len(d.Base32StringSeed) != 32 || d.QRCodePNG != nil {
		t.Fatalf("got serial %q, seed %q, QR %d bytes; want the ARN, 32 base32 characters and no QR code", serial, d.Base32StringSeed, len(d.QRCodePNG))
	}
	seed := d.Base32StringSeed
	now := time.Now()

	_, err := self.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("nia"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totpAt(t, seed, now)), AuthenticationCode2: aws.String(totpAt(t, seed, now))})
	wantCode(t, err, "InvalidAuthenticationCode")
	must[*iam.EnableMFADeviceOutput](t)(self.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("nia"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totpAt(t, seed, now.Add(-30*time.Second))), AuthenticationCode2: aws.String(totpAt(t, seed, now))}))

	devs := must[*iam.ListMFADevicesOutput](t)(self.ListMFADevices(ctx, &iam.ListMFADevicesInput{})).MFADevices
	if len(devs) != 1 || aws.ToString(devs[0].SerialNumber) != serial || aws.ToString(devs[0].UserName) != "nia" || devs[0].EnableDate == nil {
		t.Errorf("ListMFADevices: got %+v", devs)
	}
	for _, tc := range []struct {
		status iamtypes.AssignmentStatusType
		want   int
	}{{iamtypes.AssignmentStatusTypeAssigned, 1}, {iamtypes.AssignmentStatusTypeUnassigned, 0}, {iamtypes.AssignmentStatusTypeAny, 1}} {
		v := must[*iam.ListVirtualMFADevicesOutput](t)(admin.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: tc.status})).VirtualMFADevices
		if len(v) != tc.want {
			t.Errorf("ListVirtualMFADevices %s: got %d, want %d", tc.status, len(v), tc.want)
			continue
		}
		if tc.want == 1 && (v[0].User == nil || aws.ToString(v[0].User.UserName) != "nia" || v[0].EnableDate == nil || v[0].Base32StringSeed != nil) {
			t.Errorf("ListVirtualMFADevices %s: got %+v, want nia's device with its user and no seed", tc.status, v[0])
		}
	}
	_, err = admin.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantCode(t, err, "DeleteConflict")

	// GetSessionToken with the next code works once.
	code := totpAt(t, seed, now.Add(30*time.Second))
	in := &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code)}
	if _, err := s.STS(nia).GetSessionToken(ctx, in); err != nil {
		t.Fatalf("GetSessionToken with MFA: %v", err)
	}
	_, err = s.STS(nia).GetSessionToken(ctx, in)
	wantCode(t, err, "AccessDenied")

	must[*iam.DeactivateMFADeviceOutput](t)(self.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(serial)}))
	must[*iam.DeleteVirtualMFADeviceOutput](t)(admin.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}))
	_, err = admin.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantCode(t, err, "NoSuchEntity")
}

func TestTagsThroughTheSDK(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	admin := s.IAM(testserver.Admin())
	must[*iam.CreateUserOutput](t)(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ola")}))
	must[*iam.CreateRoleOutput](t)(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustAccount)}))

	type target struct {
		kind  string
		tag   func([]iamtypes.Tag) error
		untag func([]string) error
		list  func() ([]iamtypes.Tag, error)
	}
	for _, tt := range []target{
		{"user",
			func(tags []iamtypes.Tag) error {
				_, err := admin.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("ola"), Tags: tags})
				return err
			},
			func(keys []string) error {
				_, err := admin.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("ola"), TagKeys: keys})
				return err
			},
			func() ([]iamtypes.Tag, error) {
				out, err := admin.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("ola")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			}},
		{"role",
			func(tags []iamtypes.Tag) error {
				_, err := admin.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("app"), Tags: tags})
				return err
			},
			func(keys []string) error {
				_, err := admin.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("app"), TagKeys: keys})
				return err
			},
			func() ([]iamtypes.Tag, error) {
				out, err := admin.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("app")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			}},
	} {
		t.Run("a "+tt.kind+" is tagged, retagged and untagged", func(t *testing.T) {
			if err := tt.tag([]iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("Env"), Value: aws.String("prod")}}); err != nil {
				t.Fatal(err)
			}
			if err := tt.tag([]iamtypes.Tag{{Key: aws.String("TEAM"), Value: aws.String("b")}}); err != nil {
				t.Fatal(err)
			}
			tags, err := tt.list()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range tags {
				got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			if fmt.Sprint(got) != "[Env=prod TEAM=b]" {
				t.Errorf("got %v, want [Env=prod TEAM=b]", got)
			}
			wantCode(t, tt.tag([]iamtypes.Tag{{Key: aws.String("x"), Value: aws.String("1")}, {Key: aws.String("X"), Value: aws.String("2")}}), "InvalidInput")
			if err := tt.untag([]string{"env", "team"}); err != nil {
				t.Fatal(err)
			}
			if tags, err := tt.list(); err != nil || len(tags) != 0 {
				t.Errorf("after untag: got %v (%v), want no tags", tags, err)
			}
		})
	}
	_, err := admin.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("nope"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "NoSuchEntity")
}
