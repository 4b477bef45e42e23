package authz

import (
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
)

// Request is one authorization question: may Caller perform Action on
// Resource, in this environment, with these request-specific condition keys?
type Request struct {
	Caller   *principal.Caller
	Action   string // "iam:CreateUser"
	Resource string // ARN or "*"
	Env      Env
	Keys     []Key // request-specific condition keys (sts:ExternalId, s3:prefix, aws:RequestTag/…)
	// ResourcePolicy is the resource's own policy (a bucket policy, or the
	// role's trust policy for sts:AssumeRole), nil if none.
	ResourcePolicy *policy.Named
	// Trust marks ResourcePolicy as a role trust policy: it must allow on
	// its own, as AWS requires.
	Trust bool
}

// Key is a request-specific condition key and its values.
type Key struct {
	Name   string
	Values []string
}

// Option adds to a Request.
type Option func(*Request)

// WithKey adds a condition key.
func WithKey(name string, values ...string) Option {
	return func(r *Request) { r.Keys = append(r.Keys, Key{Name: name, Values: values}) }
}

// WithResourcePolicy evaluates a resource-based policy alongside the
// caller's identity policies.
func WithResourcePolicy(p *policy.Named) Option {
	return func(r *Request) { r.ResourcePolicy = p }
}

// WithTrustPolicy evaluates a role trust policy (sts:AssumeRole and friends).
func WithTrustPolicy(p *policy.Compiled) Option {
	return func(r *Request) {
		r.ResourcePolicy, r.Trust = &policy.Named{ID: "TrustPolicy", Type: "resource", Policy: p}, true
	}
}
