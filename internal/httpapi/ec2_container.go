package httpapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/ec2"
)

// ContainerCredentialsPath is where the container credentials endpoint
// serves an instance's role credentials:
//
//	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8750/_iamd/container-credentials/i-…
//	AWS_CONTAINER_AUTHORIZATION_TOKEN=<the instance's token>
//
// SDKs send the token verbatim as the Authorization header and expect
// {"AccessKeyId","SecretAccessKey","Token","Expiration","RoleArn"}, the
// document the ECS agent serves.
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
const ContainerCredentialsPath = "/_iamd/container-credentials/"

// ContainerCredentials serves GET /_iamd/container-credentials/<instance-id>.
func ContainerCredentials(svc *ec2.Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			containerError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET is supported.")
			return
		}
		id := strings.TrimPrefix(r.URL.Path, ContainerCredentialsPath)
		if ec2.CheckInstanceID(id) != nil {
			containerError(w, http.StatusNotFound, "NotFound", "No such instance.")
			return
		}
		in, err := svc.Instance(r.Context(), id)
		auth := r.Header.Get("Authorization")
		// Compare in constant time, and answer an unknown instance as an
		// unauthorized one so ids cannot be probed without a token.
		if err != nil || auth == "" || subtle.ConstantTimeCompare([]byte(auth), []byte(in.ContainerToken)) != 1 {
			if err != nil && !apierr.Is(err, ec2.InvalidInstanceIDNotFound) {
				log.Error("container credentials", "instance", id, "err", err)
			}
			containerError(w, http.StatusUnauthorized, "Unauthorized", "The authorization token is not valid for this instance.")
			return
		}
		c, err := svc.Credentials(r.Context(), id)
		var te *ec2.TrustError
		switch {
		case errors.As(err, &te):
			containerError(w, http.StatusForbidden, ec2.AssumeRoleUnauthorized, te.Error())
			return
		case errors.Is(err, ec2.ErrNoCredentials):
			containerError(w, http.StatusNotFound, "NotFound", "The instance has no IAM instance profile with a role.")
			return
		case errors.Is(err, ec2.ErrNotRunning):
			containerError(w, http.StatusServiceUnavailable, "InstanceNotRunning", "The instance is not running.")
			return
		case err != nil:
			log.Error("container credentials", "instance", id, "err", err)
			containerError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
			return
		}
		b, _ := json.Marshal(containerDoc{
			AccessKeyId: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
			Expiration: c.Expiration.UTC().Format("2006-01-02T15:04:05Z"), RoleArn: c.RoleARN,
			AccountId: string(svc.Account()),
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	})
}

type containerDoc struct {
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
	RoleArn         string
	AccountId       string
}

// containerError is the error body aws-sdk-go-v2's endpoint provider reads.
func containerError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
