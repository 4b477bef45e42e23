package httpapi

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/iamd/iamd/internal/iam"
)

// The wire shapes of the access key, group, MFA and tag actions, pinned
// as golden files. Regenerate with: go test ./internal/httpapi -run Golden -update
func TestCredentialShapesGolden(t *testing.T) {
	t.Parallel()
	user := &iam.User{ID: "AIDAEXAMPLEEXAMPLE123", Name: "alice", Path: "/staff/", ARN: "arn:aws:iam::123456789012:user/staff/alice",
		CreateDate: goldenTime, Tags: []iam.Tag{{Key: "team", Value: "core"}}}
	group := &iam.Group{ID: "AGPAEXAMPLEEXAMPLE123", Name: "Devs", Path: "/eng/", ARN: "arn:aws:iam::123456789012:group/eng/Devs", CreateDate: goldenTime}
	key := iam.AccessKey{ID: "AKIAEXAMPLEEXAMPLE12", UserName: "alice", Status: iam.StatusActive, CreateDate: goldenTime}
	device := iam.MFADevice{SerialNumber: "arn:aws:iam::123456789012:mfa/staff/alice", Name: "alice", Path: "/staff/",
		CreateDate: goldenTime, UserName: "alice", EnableDate: goldenTime}
	spare := iam.MFADevice{SerialNumber: "arn:aws:iam::123456789012:mfa/spare", Name: "spare", Path: "/", CreateDate: goldenTime}

	for _, tc := range []struct {
		action string
		result any
	}{
		{"CreateAccessKey", newAccessKeyOf(&iam.NewAccessKey{AccessKey: key, SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})},
		{"ListAccessKeys", accessKeyListOf(&iam.Paged[iam.AccessKey]{Items: []*iam.AccessKey{&key}, IsTruncated: true, Marker: "bWFya2Vy"})},
		{"GetAccessKeyLastUsed", lastUsedOf("alice", iam.LastUsed{Date: goldenTime, ServiceName: "sts", Region: "eu-west-1"})},
		{"GetAccessKeyLastUsed-never", lastUsedOf("alice", iam.LastUsed{ServiceName: iam.NotUsed, Region: iam.NotUsed})},
		{"UpdateAccessKey", nil},
		{"CreateGroup", struct{ Group xmlGroup }{groupOf(group)}},
		{"GetGroup", groupWithUsersOf(group, &iam.Paged[iam.User]{Items: []*iam.User{user}})},
		{"GetGroup-empty", groupWithUsersOf(group, &iam.Paged[iam.User]{})},
		{"ListGroups", groupListOf(&iam.Paged[iam.Group]{Items: []*iam.Group{group}})},
		{"ListGroupsForUser-empty", groupListOf(&iam.Paged[iam.Group]{})},
		{"CreateVirtualMFADevice", newVirtualMFAOf(&iam.NewVirtualMFADevice{MFADevice: spare, Base32Seed: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})},
		{"ListMFADevices", mfaListOf(&iam.Paged[iam.MFADevice]{Items: []*iam.MFADevice{&device}})},
		{"ListVirtualMFADevices", virtualMFAListOf(&iam.Paged[iam.VirtualMFADevice]{Items: []*iam.VirtualMFADevice{
			{MFADevice: device, User: user}, {MFADevice: spare},
		}})},
		{"ListUserTags", tagListOf(&iam.Paged[iam.Tag]{Items: []*iam.Tag{{Key: "Env", Value: "prod"}, {Key: "team", Value: ""}}})},
		{"ListRoleTags-empty", tagListOf(&iam.Paged[iam.Tag]{})},
	} {
		t.Run(tc.action+" renders as AWS does", func(t *testing.T) {
			t.Parallel()
			action := tc.action
			if i := len(action) - len("-empty"); i > 0 && action[i:] == "-empty" {
				action = action[:i]
			}
			if i := len(action) - len("-never"); i > 0 && action[i:] == "-never" {
				action = action[:i]
			}
			got, err := encodeQueryResult(action, IAMNamespace, "00000000-0000-4000-8000-000000000000", tc.result)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "iam_credentials", tc.action+".xml")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
