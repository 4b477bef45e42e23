// Package arn parses and formats Amazon Resource Names and defines the typed
// identifiers iamd passes around (account ids, access key ids, unique ids).
//
// It knows the shape of an ARN and the prefixes of AWS identifiers; it does
// not know which resources exist. Standard library only.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
package arn

import (
	"errors"
	"strings"
)

// AccountID is a 12-digit AWS account id. It is a string: leading zeros matter.
type AccountID string

// AccessKeyID is an access key id: AKIA… (long-term) or ASIA… (temporary).
type AccessKeyID string

// Temporary reports whether the key was issued by STS (ASIA prefix).
func (k AccessKeyID) Temporary() bool { return strings.HasPrefix(string(k), PrefixTemporaryKey) }

// Identifier prefixes, from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes
const (
	PrefixLongTermKey     = "AKIA"
	PrefixTemporaryKey    = "ASIA"
	PrefixUser            = "AIDA"
	PrefixRole            = "AROA"
	PrefixGroup           = "AGPA"
	PrefixManagedPolicy   = "ANPA"
	PrefixPolicyVersion   = "ANVA"
	PrefixInstanceProfile = "AIPA"
)

// ARN is a parsed Amazon Resource Name:
// arn:partition:service:region:account-id:resource.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

// ErrMalformed is returned by Parse for text that is not an ARN.
var ErrMalformed = errors.New("arn: malformed")

// Parse splits s into its six components. The resource part may itself
// contain colons.
func Parse(s string) (ARN, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, ErrMalformed
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] == "" {
		return ARN{}, ErrMalformed
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, nil
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// IAM builds arn:aws:iam::ACCOUNT:resource.
func IAM(account AccountID, resource string) string {
	return "arn:aws:iam::" + string(account) + ":" + resource
}

// User is the ARN of an IAM user; path is "/" or "/a/b/".
func User(account AccountID, path, name string) string {
	return IAM(account, "user"+normPath(path)+name)
}

// Role is the ARN of an IAM role.
func Role(account AccountID, path, name string) string {
	return IAM(account, "role"+normPath(path)+name)
}

// Group is the ARN of an IAM group.
func Group(account AccountID, path, name string) string {
	return IAM(account, "group"+normPath(path)+name)
}

// Policy is the ARN of a customer managed policy.
func Policy(account AccountID, path, name string) string {
	return IAM(account, "policy"+normPath(path)+name)
}

// InstanceProfile is the ARN of an instance profile.
func InstanceProfile(account AccountID, path, name string) string {
	return IAM(account, "instance-profile"+normPath(path)+name)
}

// MFA is the ARN (serial number) of a virtual MFA device.
func MFA(account AccountID, path, name string) string {
	return IAM(account, "mfa"+normPath(path)+name)
}

// Root is the ARN of the account's root principal.
func Root(account AccountID) string { return IAM(account, "root") }

// AssumedRole is the ARN of a role session. The role's path is not part of it.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
func AssumedRole(account AccountID, roleName, sessionName string) string {
	return "arn:aws:sts::" + string(account) + ":assumed-role/" + roleName + "/" + sessionName
}

func normPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// SplitPathName splits the resource part of an IAM ARN such as
// "role/a/b/name" into its type ("role"), path ("/a/b/") and name ("name").
func SplitPathName(resource string) (typ, path, name string) {
	i := strings.IndexByte(resource, '/')
	if i < 0 {
		return resource, "", ""
	}
	typ, rest := resource[:i], resource[i:]
	j := strings.LastIndexByte(rest, '/')
	return typ, rest[:j+1], rest[j+1:]
}
