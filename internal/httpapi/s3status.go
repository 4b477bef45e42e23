package httpapi

import (
	"net/http"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/s3"
)

// s3StatusOf is S3's own status table: S3 and IAM disagree on some codes
// (ExpiredToken is 400 in S3, 403 in STS), so S3 errors never go through
// statusOf. https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
var s3StatusOf = map[apierr.Code]int{
	s3.CodeAccessDenied:                      http.StatusForbidden,
	s3.CodeBucketAlreadyOwnedByYou:           http.StatusConflict,
	s3.CodeBucketNotEmpty:                    http.StatusConflict,
	s3.CodeInvalidBucketName:                 http.StatusBadRequest,
	s3.CodeNoSuchBucket:                      http.StatusNotFound,
	s3.CodeNoSuchKey:                         http.StatusNotFound,
	s3.CodeNoSuchUpload:                      http.StatusNotFound,
	s3.CodeNoSuchBucketPolicy:                http.StatusNotFound,
	s3.CodeKeyTooLong:                        http.StatusBadRequest,
	s3.CodeBadDigest:                         http.StatusBadRequest,
	s3.CodeInvalidDigest:                     http.StatusBadRequest,
	s3.CodeIncompleteBody:                    http.StatusBadRequest,
	s3.CodeInvalidRange:                      http.StatusRequestedRangeNotSatisfiable,
	s3.CodeInvalidPart:                       http.StatusBadRequest,
	s3.CodeInvalidPartOrder:                  http.StatusBadRequest,
	s3.CodeEntityTooSmall:                    http.StatusBadRequest,
	s3.CodeEntityTooLarge:                    http.StatusBadRequest,
	s3.CodeMalformedXML:                      http.StatusBadRequest,
	s3.CodeMalformedPolicy:                   http.StatusBadRequest,
	s3.CodeInvalidArgument:                   http.StatusBadRequest,
	s3.CodeInvalidRequest:                    http.StatusBadRequest,
	s3.CodeMethodNotAllowed:                  http.StatusMethodNotAllowed,
	s3.CodeNotImplemented:                    http.StatusNotImplemented,
	s3.CodeInternalError:                     http.StatusInternalServerError,
	s3.CodePreconditionFailed:                http.StatusPreconditionFailed,
	s3.CodeNotModified:                       http.StatusNotModified,
	s3.CodeInvalidLocationConstraint:         http.StatusBadRequest,
	s3.CodeXAmzContentSHA256Mismatch:         http.StatusBadRequest,
	s3.CodeMissingContentLength:              http.StatusLengthRequired,
	s3.CodeInvalidAccessKeyID:                http.StatusForbidden,
	s3.CodeRequestTimeTooSkewed:              http.StatusForbidden,
	s3.CodeAuthorizationHeaderMalformed:      http.StatusBadRequest,
	s3.CodeAuthorizationQueryParametersError: http.StatusBadRequest,
	s3.CodeInvalidToken:                      http.StatusBadRequest,
	apierr.SignatureDoesNotMatch:             http.StatusForbidden,
	apierr.ExpiredToken:                      http.StatusBadRequest,
	apierr.RequestTimeout:                    http.StatusBadRequest,
	apierr.RequestEntityTooLarge:             http.StatusBadRequest,
	apierr.InternalFailure:                   http.StatusInternalServerError,
	apierr.ServiceUnavailable:                http.StatusServiceUnavailable,
}

// S3Status returns S3's HTTP status for an error code (400 when unknown).
func S3Status(code apierr.Code) int {
	if s, ok := s3StatusOf[code]; ok {
		return s
	}
	return http.StatusBadRequest
}
