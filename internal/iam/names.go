package iam

import (
	"regexp"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/apierr"
)

// Name and path rules from the IAM service model and
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
var (
	namePattern   = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern   = regexp.MustCompile(`^(?:/|/[\x{21}-\x{7E}]+/)$`)
	prefixPattern = regexp.MustCompile(`^/[\x{21}-\x{7F}]*$`)
)

// checkName validates an entity name: 1..max characters of [\w+=,.@-].
func checkName(field, name string, max int) error {
	switch n := utf8.RuneCountInString(name); {
	case n < 1:
		return apierr.Validation(field, name, "Member must have length greater than or equal to 1")
	case n > max:
		return apierr.Validation(field, name, "Member must have length less than or equal to "+itoa(max))
	case !namePattern.MatchString(name):
		return apierr.Validation(field, name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return nil
}

// checkPath validates a path ("/" or "/a/b/"), defaulting "" to "/".
func checkPath(field, path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 {
		return "", apierr.Validation(field, path, "Member must have length less than or equal to 512")
	}
	if !pathPattern.MatchString(path) {
		return "", apierr.Validation(field, path, `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return path, nil
}

// checkPathPrefix validates a PathPrefix filter, defaulting "" to "/".
func checkPathPrefix(prefix string) (string, error) {
	if prefix == "" {
		return "/", nil
	}
	if len(prefix) > 512 || !prefixPattern.MatchString(prefix) {
		return "", apierr.Validation("pathPrefix", prefix, `Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	}
	return prefix, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
