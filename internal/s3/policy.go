package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// BucketPolicy returns the bucket and its compiled policy (nil when it has
// none), for authorization as a resource-based policy. A missing bucket is
// NoSuchBucket; the caller decides whether the caller may learn that.
func (s *Service) BucketPolicy(ctx context.Context, bucket string) (*Bucket, *policy.Named, error) {
	e, err := s.bucketEntry(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	if e.b == nil {
		return nil, nil, errNoSuchBucket()
	}
	return e.b, e.policy, nil
}

// PutBucketPolicy validates doc as a resource-based policy whose resources
// are the bucket and its objects, and sets it.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
func (s *Service) PutBucketPolicy(ctx context.Context, bucket, doc string) error {
	if len(doc) > MaxPolicyLength {
		return apierr.New(CodeMalformedPolicy, "Policies must be less than 20KB")
	}
	p, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		return apierr.Wrap(CodeMalformedPolicy, err, "%s", err.Error())
	}
	for _, st := range p.Statements {
		for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
			if !resourceInBucket(r, bucket) {
				return apierr.New(CodeMalformedPolicy, "Policy has invalid resource")
			}
		}
	}
	if _, err := s.compile(doc); err != nil {
		return apierr.Wrap(CodeMalformedPolicy, err, "%s", err.Error())
	}
	return s.update(ctx, func(tx kv.Tx) error {
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		b.Policy = doc
		return putJSON(tx, tBuckets, bucket, b)
	})
}

// resourceInBucket: a bucket policy may only name the bucket and its
// objects (a wildcard that could match them is accepted, as S3 does).
func resourceInBucket(r, bucket string) bool {
	const p = "arn:aws:s3:::"
	if !strings.HasPrefix(r, p) {
		return false
	}
	rest := r[len(p):]
	name, _, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(name, "*?") {
		return true
	}
	return name == bucket
}

// GetBucketPolicy returns the policy document, or NoSuchBucketPolicy.
func (s *Service) GetBucketPolicy(ctx context.Context, bucket string) (string, error) {
	b, err := s.Bucket(ctx, bucket)
	if err != nil {
		return "", err
	}
	if b.Policy == "" {
		return "", apierr.New(CodeNoSuchBucketPolicy, "The bucket policy does not exist")
	}
	return b.Policy, nil
}

// DeleteBucketPolicy removes the policy; removing none is not an error.
func (s *Service) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	var old string
	err := s.update(ctx, func(tx kv.Tx) error {
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		old, b.Policy = b.Policy, ""
		return putJSON(tx, tBuckets, bucket, b)
	})
	if err == nil && old != "" {
		s.policies.Delete(old)
	}
	if errors.Is(err, kv.ErrNotFound) {
		return errNoSuchBucket()
	}
	return err
}
