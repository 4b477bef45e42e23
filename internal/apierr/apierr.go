// Package apierr defines the one error type that crosses package boundaries
// in iamd: an AWS error code, a message that is safe to show the client, and
// a wrapped cause that is only ever logged.
//
// It does not know HTTP: the protocol layer (httpapi) maps codes to statuses
// and wire formats. Anything that reaches the edge without being an *Error is
// rendered as InternalFailure with a generic message.
package apierr

import (
	"errors"
	"fmt"
)

// Code is an AWS error code as it appears on the wire.
type Code string

// Error codes iamd returns. Each is AWS's own spelling; see
// https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html and
// the per-action error lists in the IAM and STS API references.
const (
	AccessDenied                Code = "AccessDenied"
	IncompleteSignature         Code = "IncompleteSignature"
	InternalFailure             Code = "InternalFailure"
	InvalidAction               Code = "InvalidAction"
	InvalidClientTokenID        Code = "InvalidClientTokenId"
	InvalidParameterCombination Code = "InvalidParameterCombination"
	InvalidParameterValue       Code = "InvalidParameterValue"
	InvalidQueryParameter       Code = "InvalidQueryParameter"
	MalformedQueryString        Code = "MalformedQueryString"
	MissingAction               Code = "MissingAction"
	MissingAuthenticationToken  Code = "MissingAuthenticationToken"
	MissingParameter            Code = "MissingParameter"
	OptInRequired               Code = "OptInRequired"
	RequestExpired              Code = "RequestExpired"
	ServiceUnavailable          Code = "ServiceUnavailable"
	SignatureDoesNotMatch       Code = "SignatureDoesNotMatch"
	Throttling                  Code = "Throttling"
	ValidationError             Code = "ValidationError"
	ExpiredToken                Code = "ExpiredToken"
	RequestEntityTooLarge       Code = "RequestEntityTooLarge"
	RequestTimeout              Code = "RequestTimeout"

	// IAM modeled errors.
	NoSuchEntity                  Code = "NoSuchEntity"
	EntityAlreadyExists           Code = "EntityAlreadyExists"
	LimitExceeded                 Code = "LimitExceeded"
	DeleteConflict                Code = "DeleteConflict"
	ConcurrentModification        Code = "ConcurrentModification"
	MalformedPolicyDocument       Code = "MalformedPolicyDocument"
	InvalidInput                  Code = "InvalidInput"
	UnmodifiableEntity            Code = "UnmodifiableEntity"
	PolicyNotAttachable           Code = "PolicyNotAttachable"
	InvalidAuthenticationCode     Code = "InvalidAuthenticationCode"
	EntityTemporarilyUnmodifiable Code = "EntityTemporarilyUnmodifiable"
	PolicyEvaluation              Code = "PolicyEvaluation"
	ServiceFailure                Code = "ServiceFailure"
	PasswordPolicyViolation       Code = "PasswordPolicyViolation"
	InvalidUserType               Code = "InvalidUserType"

	// STS modeled errors.
	PackedPolicyTooLarge Code = "PackedPolicyTooLarge"
	RegionDisabled       Code = "RegionDisabledException"
)

// Error is an AWS-style API error.
type Error struct {
	Code    Code
	Message string // safe to show the client; never holds secrets
	Cause   error  // for the log only
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Cause.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an *Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Code: code, Message: format}
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error carrying cause for the log.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.Cause = cause
	return e
}

// Internal wraps an unexpected failure: the client sees InternalFailure and
// a generic message, the log sees the cause.
func Internal(cause error) *Error {
	return &Error{Code: InternalFailure, Message: "We encountered an internal error. Please try again.", Cause: cause}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	e := As(err)
	return e != nil && e.Code == code
}

// NoEntity is the NoSuchEntity error IAM returns for a missing entity, e.g.
// "The user with name bob cannot be found."
func NoEntity(kind, name string) *Error {
	return New(NoSuchEntity, "The %s with name %s cannot be found.", kind, name)
}

// Validation formats a ValidationError the way AWS's Coral framework does:
// "1 validation error detected: Value 'x' at 'roleSessionName' failed to
// satisfy constraint: Member must …".
func Validation(field, value, constraint string) *Error {
	return New(ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}
