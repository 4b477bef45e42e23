package policy

// NonWhitespaceLen returns the number of characters in doc that are not
// whitespace. IAM's policy size quotas (2,048 for a user's inline policies,
// 6,144 for a managed policy, …) count characters this way.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
func NonWhitespaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}
