package httpapi

import (
	"net/http"

	"github.com/iamd/iamd/internal/apierr"
)

// statusOf maps an AWS error code to the HTTP status AWS answers it with:
// the service models' httpStatusCode for modeled errors, the Common Errors
// page for the rest.
// https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
var statusOf = map[apierr.Code]int{
	apierr.AccessDenied:                  http.StatusForbidden,
	apierr.IncompleteSignature:           http.StatusBadRequest,
	apierr.InternalFailure:               http.StatusInternalServerError,
	apierr.InvalidAction:                 http.StatusBadRequest,
	apierr.InvalidClientTokenID:          http.StatusForbidden,
	apierr.InvalidParameterCombination:   http.StatusBadRequest,
	apierr.InvalidParameterValue:         http.StatusBadRequest,
	apierr.InvalidQueryParameter:         http.StatusBadRequest,
	apierr.MalformedQueryString:          http.StatusNotFound,
	apierr.MissingAction:                 http.StatusBadRequest,
	apierr.MissingAuthenticationToken:    http.StatusForbidden,
	apierr.MissingParameter:              http.StatusBadRequest,
	apierr.OptInRequired:                 http.StatusForbidden,
	apierr.RequestExpired:                http.StatusBadRequest,
	apierr.ServiceUnavailable:            http.StatusServiceUnavailable,
	apierr.SignatureDoesNotMatch:         http.StatusForbidden,
	apierr.Throttling:                    http.StatusBadRequest,
	apierr.ValidationError:               http.StatusBadRequest,
	apierr.ExpiredToken:                  http.StatusForbidden,
	apierr.RequestEntityTooLarge:         http.StatusRequestEntityTooLarge,
	apierr.RequestTimeout:                http.StatusRequestTimeout,
	apierr.NoSuchEntity:                  http.StatusNotFound,
	apierr.EntityAlreadyExists:           http.StatusConflict,
	apierr.LimitExceeded:                 http.StatusConflict,
	apierr.DeleteConflict:                http.StatusConflict,
	apierr.ConcurrentModification:        http.StatusConflict,
	apierr.MalformedPolicyDocument:       http.StatusBadRequest,
	apierr.InvalidInput:                  http.StatusBadRequest,
	apierr.UnmodifiableEntity:            http.StatusBadRequest,
	apierr.PolicyNotAttachable:           http.StatusBadRequest,
	apierr.InvalidAuthenticationCode:     http.StatusForbidden,
	apierr.EntityTemporarilyUnmodifiable: http.StatusConflict,
	apierr.PolicyEvaluation:              http.StatusInternalServerError,
	apierr.ServiceFailure:                http.StatusInternalServerError,
	apierr.PackedPolicyTooLarge:          http.StatusBadRequest,
	apierr.RegionDisabled:                http.StatusForbidden,
}

// Status returns the HTTP status for an error code (400 for unknown client
// errors, so that a forgotten entry never turns into a 500).
func Status(code apierr.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusBadRequest
}
