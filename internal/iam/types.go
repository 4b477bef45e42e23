package iam

import "time"

// Tag is a key/value tag on a user or role.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// User is an IAM user.
type User struct {
	ID         string    `json:"id"` // AIDA…
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ARN        string    `json:"arn"`
	CreateDate time.Time `json:"created"`
	Boundary   string    `json:"boundary,omitempty"` // permissions boundary policy ARN
	Tags       []Tag     `json:"tags,omitempty"`
}

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is a long-term access key (AKIA…). Secret is sealed at rest.
type AccessKey struct {
	ID         string    `json:"id"`
	UserName   string    `json:"user"`
	Status     string    `json:"status"`
	CreateDate time.Time `json:"created"`
	Secret     []byte    `json:"secret"` // sealed by Config.Secrets
	LastUsed   *LastUsed `json:"last_used,omitempty"`
}

// LastUsed is what GetAccessKeyLastUsed reports.
type LastUsed struct {
	Date        time.Time `json:"date"`
	ServiceName string    `json:"service"`
	Region      string    `json:"region"`
}

// Group is an IAM group.
type Group struct {
	ID         string    `json:"id"` // AGPA…
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ARN        string    `json:"arn"`
	CreateDate time.Time `json:"created"`
}

// Role is an IAM role.
type Role struct {
	ID                 string    `json:"id"` // AROA…
	Name               string    `json:"name"`
	Path               string    `json:"path"`
	ARN                string    `json:"arn"`
	CreateDate         time.Time `json:"created"`
	TrustPolicy        string    `json:"trust"` // AssumeRolePolicyDocument as submitted
	Description        string    `json:"description,omitempty"`
	MaxSessionDuration int       `json:"max_session"` // seconds, 3600..43200
	Boundary           string    `json:"boundary,omitempty"`
	Tags               []Tag     `json:"tags,omitempty"`
	LastUsed           *LastUsed `json:"last_used,omitempty"`
}

// InlinePolicy is a policy embedded in a user, group or role.
type InlinePolicy struct {
	Kind     string `json:"kind"`   // KindUser, KindGroup, KindRole
	Entity   string `json:"entity"` // the entity's name as created
	Name     string `json:"name"`
	Document string `json:"doc"`
}

// ManagedPolicy is a customer managed policy or one of the AWS managed
// policies iamd ships.
type ManagedPolicy struct {
	ID               string    `json:"id"` // ANPA…
	Name             string    `json:"name"`
	Path             string    `json:"path"`
	ARN              string    `json:"arn"`
	Description      string    `json:"description,omitempty"`
	DefaultVersionID string    `json:"default_version"`
	NextVersion      int       `json:"next_version"` // versions are v1, v2, … and never reused
	AttachmentCount  int       `json:"attachments"`
	BoundaryUsage    int       `json:"boundary_usage"`
	IsAttachable     bool      `json:"attachable"`
	CreateDate       time.Time `json:"created"`
	UpdateDate       time.Time `json:"updated"`
	AWSManaged       bool      `json:"aws_managed,omitempty"`
	Tags             []Tag     `json:"tags,omitempty"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	PolicyARN  string    `json:"policy"`
	VersionID  string    `json:"id"` // "v1"
	Document   string    `json:"doc"`
	IsDefault  bool      `json:"default"`
	CreateDate time.Time `json:"created"`
}

// InstanceProfile is a container for (at most) one role, handed to EC2
// instances.
type InstanceProfile struct {
	ID         string    `json:"id"` // AIPA…
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ARN        string    `json:"arn"`
	CreateDate time.Time `json:"created"`
	Roles      []string  `json:"roles,omitempty"` // role names
	Tags       []Tag     `json:"tags,omitempty"`
}

// MFADevice is a virtual MFA device (TOTP, RFC 6238).
type MFADevice struct {
	SerialNumber string    `json:"serial"` // arn:aws:iam::A:mfa/path/name
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	Seed         []byte    `json:"seed"` // sealed raw seed bytes
	CreateDate   time.Time `json:"created"`
	UserName     string    `json:"user,omitempty"` // set once enabled
	EnableDate   time.Time `json:"enabled,omitempty"`
	// LastCounter is the TOTP time step of the last accepted code: a code
	// is accepted once, and never one older than the last.
	LastCounter int64 `json:"last_counter,omitempty"`
	// Drift is the device clock's offset in time steps, learnt by
	// ResyncMFADevice.
	Drift int64 `json:"drift,omitempty"`
	Tags  []Tag `json:"tags,omitempty"`
}
