package iam

import (
	"regexp"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
)

// Tag rules: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html
const maxTags = 50

var (
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// checkTags validates a tag list as IAM does: at most 50, keys unique
// without regard to case, keys 1..128 and values 0..256 characters.
func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return apierr.New(apierr.LimitExceeded, "The number of tags has reached the maximum limit.")
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		f := "tags." + itoa(i+1) + ".member"
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 || !tagKeyPattern.MatchString(t.Key) {
			return apierr.Validation(f+".key", t.Key, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
		if n := utf8.RuneCountInString(t.Value); n > 256 || !tagValuePattern.MatchString(t.Value) {
			return apierr.Validation(f+".value", t.Value, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		}
		if seen[lower(t.Key)] {
			return apierr.New(apierr.InvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lower(t.Key)] = true
	}
	return nil
}

// mergeTags returns tags with add applied (replacing same keys without
// regard to case), failing past the limit.
func mergeTags(tags, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), tags...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if lower(out[i].Key) == lower(t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, apierr.New(apierr.LimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags drops the given keys (without regard to case).
func removeTags(tags []Tag, keys []string) []Tag {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[lower(k)] = true
	}
	var out []Tag
	for _, t := range tags {
		if !drop[lower(t.Key)] {
			out = append(out, t)
		}
	}
	return out
}
