package httpapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
)

// The AWS Query protocol's response envelope:
//
//	<ActionResponse xmlns="…"><ActionResult>…</ActionResult>
//	<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
//
// and its error document, <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
// https://docs.aws.amazon.com/IAM/latest/APIReference/iam-api.pdf

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// encodeQueryResult renders result (nil for actions without output) inside
// the action's envelope.
func encodeQueryResult(action, namespace, requestID string, result any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + `Response xmlns="` + namespace + `">`)
	enc := xml.NewEncoder(&b)
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
	}
	if err := enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	b.WriteString("</" + action + "Response>")
	return b.Bytes(), nil
}

type queryError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     queryErrorBody
	RequestID string `xml:"RequestId"`
}

type queryErrorBody struct {
	Type    string
	Code    string
	Message string
}

// writeQueryError renders e as AWS Query's ErrorResponse.
func writeQueryError(w http.ResponseWriter, namespace, requestID string, e *apierr.Error) {
	status := Status(e.Code)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	body, _ := xml.Marshal(queryError{Xmlns: namespace, Error: queryErrorBody{Type: typ, Code: string(e.Code), Message: e.Message}, RequestID: requestID})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

func writeQueryResult(w http.ResponseWriter, body []byte, requestID string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// PolicyDoc is a policy document as IAM returns it: URL-encoded JSON, with
// spaces as %20 because botocore decodes it with unquote, not unquote_plus.
type PolicyDoc string

// MarshalText percent-encodes the document.
func (d PolicyDoc) MarshalText() ([]byte, error) {
	return []byte(strings.ReplaceAll(url.QueryEscape(string(d)), "+", "%20")), nil
}
