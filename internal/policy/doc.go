// Package policy implements AWS's IAM policy language: it parses a JSON
// policy document (Parse), compiles it into matchers (Compile), and answers
// authorization questions against every policy that applies to a request
// (Evaluate), explaining the answer the way the IAM policy simulator does.
//
// What it does:
//
//   - Parse validates like IAM does (MalformedPolicyDocument messages, with a
//     JSON path): duplicate keys, unknown elements, Effect, Action/NotAction,
//     vendor prefixes, Sid rules, Principal rules per Kind, condition
//     operators and values.
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
//   - Compile lower-cases nothing it does not need to, pre-splits wildcard
//     patterns, parses condition values by operator type and pre-splits
//     policy variables, so evaluation needs no regexp and, on the hot path,
//     allocates only the slice of matched statements. Larger policies get
//     an index by action vendor, so evaluation skips statements that can
//     only match other services' actions (never one that could deny).
//   - Evaluate implements the single-account evaluation logic: explicit
//     deny wins; identity-based allow limited by permissions boundary and
//     session policies; resource-based grants; trust policies, whose grants
//     the caller's permissions boundary still limits.
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//   - Every condition operator, …IfExists and ForAllValues:/ForAnyValue:.
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   - Policy variables in Resource and string-type condition values.
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
//
// What it does not do: no I/O, no clock and no global state. It does not
// know which principals, resources or condition keys exist: the caller puts
// the time (aws:CurrentTime, aws:EpochTime), aws:username, tags and the rest
// into the Context. It does not model SCPs/RCPs, cross-account evaluation
// (callers evaluate each account's side and combine) or the root user's
// default allow. It does not check that actions or condition keys are ones
// some AWS service defines.
package policy
