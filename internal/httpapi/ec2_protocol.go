package httpapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
)

// EC2's dialect of the Query protocol: the same form-encoded requests with
// flattened lists (InstanceId.1, Filter.1.Value.1), but a response with no
// Result wrapper and a lower-case requestId first,
//
//	<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
//	  <requestId>…</requestId><reservationId>…</reservationId>…
//	</RunInstancesResponse>
//
// lists as <item> elements, and errors as
//
//	<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
//
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html

// EC2's API version and XML namespace.
const (
	EC2Version   = "2016-11-15"
	EC2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// EC2 spellings of the common errors.
const (
	ec2UnauthorizedOperation apierr.Code = "UnauthorizedOperation"
	ec2AuthFailure           apierr.Code = "AuthFailure"
	ec2InternalError         apierr.Code = "InternalError"
	ec2DryRunOperation       apierr.Code = "DryRunOperation"
)

type ec2Protocol struct{}

func (ec2Protocol) EncodeResult(action, namespace, requestID string, result any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + `Response xmlns="` + namespace + `"><requestId>`)
	xml.EscapeText(&b, []byte(requestID))
	b.WriteString("</requestId>")
	if result != nil {
		// Encode the result's fields as the envelope's children: render it
		// under a placeholder element and keep what is inside.
		var inner bytes.Buffer
		if err := xml.NewEncoder(&inner).EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "r"}}); err != nil {
			return nil, err
		}
		body := inner.Bytes()
		body = bytes.TrimPrefix(body, []byte("<r>"))
		body = bytes.TrimSuffix(body, []byte("</r>"))
		b.Write(body)
	}
	b.WriteString("</" + action + "Response>")
	return b.Bytes(), nil
}

func (ec2Protocol) WriteResult(w http.ResponseWriter, body []byte, requestID string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

type ec2ErrorDoc struct {
	XMLName   xml.Name       `xml:"Response"`
	Errors    []ec2ErrorItem `xml:"Errors>Error"`
	RequestID string
}

type ec2ErrorItem struct {
	Code    string
	Message string
}

func (ec2Protocol) WriteError(w http.ResponseWriter, _ string, requestID string, e *apierr.Error) {
	code, status := ec2ErrorCode(e.Code)
	msg := e.Message
	if code == ec2AuthFailure {
		msg = "AWS was not able to validate the provided access credentials"
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	xml.NewEncoder(&b).Encode(ec2ErrorDoc{Errors: []ec2ErrorItem{{Code: string(code), Message: msg}}, RequestID: requestID})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// ec2ErrorCode renames the codes shared with IAM's edge to EC2's and gives
// the HTTP status: EC2 answers every client error with 400 except these.
func ec2ErrorCode(c apierr.Code) (apierr.Code, int) {
	switch c {
	case apierr.AccessDenied, ec2UnauthorizedOperation:
		return ec2UnauthorizedOperation, http.StatusForbidden
	case apierr.InvalidClientTokenID, apierr.SignatureDoesNotMatch, apierr.IncompleteSignature, apierr.MissingAuthenticationToken, ec2AuthFailure:
		return ec2AuthFailure, http.StatusUnauthorized
	case apierr.ExpiredToken:
		return apierr.RequestExpired, http.StatusBadRequest
	case apierr.InternalFailure, apierr.ServiceFailure, ec2InternalError:
		return ec2InternalError, http.StatusInternalServerError
	case apierr.ServiceUnavailable:
		return "Unavailable", http.StatusServiceUnavailable
	case apierr.ValidationError:
		return apierr.InvalidParameterValue, http.StatusBadRequest
	case apierr.RequestEntityTooLarge:
		return c, http.StatusRequestEntityTooLarge
	case ec2DryRunOperation:
		return c, http.StatusPreconditionFailed
	case apierr.MalformedQueryString:
		return c, http.StatusBadRequest
	}
	if strings.HasPrefix(string(c), "InternalError") {
		return c, http.StatusInternalServerError
	}
	return c, http.StatusBadRequest
}
