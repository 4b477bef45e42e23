package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/audit"
)

// The AWS JSON 1.1 protocol (CloudTrail): POST / with
// X-Amz-Target: <targetPrefix>.<Operation>, a JSON body, and a JSON
// answer; errors are {"__type": code, "message": …} with HTTP 400 for
// client faults.
// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html

// JSONHandler runs one JSON action on its decoded-later body; like Handler
// it must authorize before acting.
type JSONHandler func(c *Call, body []byte) (any, error)

// JSONService is one JSON 1.1 service.
type JSONService struct {
	Name         string // signing name and policy prefix: "cloudtrail"
	Version      string // apiVersion, e.g. "2013-11-01"
	TargetPrefix string // e.g. "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	Actions      map[string]JSONHandler
}

// jsonCodes renames Query-style codes for JSON services, whose SDK
// clients know the …Exception spellings.
var jsonCodes = map[apierr.Code]apierr.Code{
	apierr.AccessDenied: "AccessDeniedException",
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	reqID := s.cfg.NewRequestID()
	rec := &CallRecord{Request: r, Time: now, RequestID: reqID}
	fail := func(err error) {
		e := apierr.As(err)
		if e == nil || e.Code == apierr.InternalFailure {
			s.cfg.Log.Error("request failed", "request_id", reqID, "err", err)
			e = apierr.Internal(err)
		}
		rec.Err = e
		if aerr := s.Audit(rec); aerr != nil {
			e = apierr.As(aerr)
		}
		writeJSONError(w, reqID, e)
	}

	target := r.Header.Get("X-Amz-Target")
	prefix, op, _ := cutLast(target, '.')
	var svc *JSONService
	for _, js := range s.cfg.JSONServices {
		// Newer SDKs (aws-sdk-go-v2) send only the last part of the
		// prefix: "CloudTrail_20131101.LookupEvents".
		if prefix != "" && (js.TargetPrefix == prefix || strings.HasSuffix(js.TargetPrefix, "."+prefix)) {
			svc = js
		}
	}
	rec.Action = op
	if svc != nil {
		rec.Service = svc.Name
	} else {
		rec.Service = requestSigningService(r)
	}
	body, err := readBody(w, r, s.cfg.BodyTimeout)
	if err != nil {
		fail(err)
		return
	}
	rec.Parameters = audit.JSONParameters(body)
	if r.Method != http.MethodPost {
		fail(apierr.New("UnknownOperationException", "Only POST is accepted."))
		return
	}
	signing := ""
	if svc != nil {
		signing = svc.Name
	}
	caller, region, err := s.authenticate(r, body, signing, now, rec)
	if err != nil {
		fail(err)
		return
	}
	var h JSONHandler
	if svc != nil {
		h = svc.Actions[op]
	}
	if h == nil {
		fail(apierr.New("UnknownOperationException", "The operation %s is not supported.", target))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	c := &Call{
		Ctx: r.Context(), RequestID: reqID, Service: &Service{Name: svc.Name, Version: svc.Version}, Action: op,
		Caller: caller, Env: envOf(r, now), authz: s.cfg.Authorizer,
	}
	c.Env.Region = region
	out, err := h(c, body)
	err = c.checkAuthorized(err)
	if err != nil {
		fail(err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail(apierr.Internal(err))
		return
	}
	rec.Output = out
	if err := s.Audit(rec); err != nil {
		writeJSONError(w, reqID, apierr.As(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// writeJSONError renders e as JSON 1.1's error document.
func writeJSONError(w http.ResponseWriter, requestID string, e *apierr.Error) {
	code := e.Code
	if c, ok := jsonCodes[code]; ok {
		code = c
	}
	status := Status(e.Code)
	if code != e.Code {
		status = http.StatusBadRequest
	}
	body, _ := json.Marshal(map[string]string{"__type": string(code), "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("X-Amzn-ErrorType", string(code))
	w.WriteHeader(status)
	w.Write(body)
}

func cutLast(s string, sep byte) (string, string, bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return "", s, false
}
