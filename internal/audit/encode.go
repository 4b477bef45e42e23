package audit

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendEvent appends ev's JSON, byte for byte what json.Marshal(ev)
// writes (TestAppendEventIsJSONMarshal keeps it so, field by field), in a
// fraction of the time: every call is recorded, and encoding the record by
// reflection was a third of an S3 GetObject's own CPU time. The free-form
// members (requestParameters, responseElements, additionalEventData) still
// go through encoding/json.
func appendEvent(b []byte, ev *Event) ([]byte, error) {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, ev.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendIdentity(b, &ev.UserIdentity)
	b = appendField(b, "eventTime", ev.EventTime)
	b = appendField(b, "eventSource", ev.EventSource)
	b = appendField(b, "eventName", ev.EventName)
	b = appendField(b, "awsRegion", ev.AWSRegion)
	b = appendField(b, "sourceIPAddress", ev.SourceIPAddress)
	b = appendField(b, "userAgent", ev.UserAgent)
	b = appendOmitEmpty(b, "errorCode", ev.ErrorCode)
	b = appendOmitEmpty(b, "errorMessage", ev.ErrorMessage)
	var err error
	b = append(b, `,"requestParameters":`...)
	if b, err = appendAny(b, ev.RequestParameters); err != nil {
		return nil, err
	}
	b = append(b, `,"responseElements":`...)
	if b, err = appendAny(b, ev.ResponseElements); err != nil {
		return nil, err
	}
	if len(ev.AdditionalData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		if b, err = appendAny(b, ev.AdditionalData); err != nil {
			return nil, err
		}
	}
	b = appendField(b, "requestID", ev.RequestID)
	b = appendField(b, "eventID", ev.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, ev.ReadOnly)
	if len(ev.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range ev.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if r.AccountID != "" {
				b = append(b, `"accountId":`...)
				b = appendString(b, r.AccountID)
				b = append(b, ',')
			}
			b = append(b, `"type":`...)
			b = appendString(b, r.Type)
			b = appendField(b, "ARN", r.ARN)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendField(b, "eventType", ev.EventType)
	b = appendOmitEmpty(b, "apiVersion", ev.APIVersion)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, ev.ManagementEvent)
	b = appendField(b, "recipientAccountId", ev.RecipientAccountID)
	b = appendField(b, "eventCategory", ev.EventCategory)
	if t := ev.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{"tlsVersion":`...)
		b = appendString(b, t.TLSVersion)
		b = appendField(b, "cipherSuite", t.CipherSuite)
		b = appendField(b, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendIdentity(b []byte, u *UserIdentity) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	b = appendOmitEmpty(b, "principalId", u.PrincipalID)
	b = appendOmitEmpty(b, "arn", u.ARN)
	b = appendOmitEmpty(b, "accountId", u.AccountID)
	b = appendOmitEmpty(b, "accessKeyId", u.AccessKeyID)
	b = appendOmitEmpty(b, "userName", u.UserName)
	if sc := u.SessionContext; sc != nil {
		b = append(b, `,"sessionContext":{`...)
		if si := sc.SessionIssuer; si != nil {
			b = append(b, `"sessionIssuer":{"type":`...)
			b = appendString(b, si.Type)
			b = appendField(b, "principalId", si.PrincipalID)
			b = appendField(b, "arn", si.ARN)
			b = appendField(b, "accountId", si.AccountID)
			b = appendField(b, "userName", si.UserName)
			b = append(b, "},"...)
		}
		b = append(b, `"attributes":{"creationDate":`...)
		b = appendString(b, sc.Attributes.CreationDate)
		b = appendField(b, "mfaAuthenticated", sc.Attributes.MFAAuthenticated)
		b = append(b, '}')
		b = appendOmitEmpty(b, "sourceIdentity", sc.SourceIdentity)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendField appends ,"name":"value".
func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendOmitEmpty(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

// JSONAppender is a value that appends its own JSON encoding, the same
// bytes json.Marshal would write: requestParameters built on every call of
// a hot path (S3's) implement it to skip reflection.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// AppendJSONString appends s as a JSON string, as encoding/json writes it.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

func appendAny(b []byte, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	if a, ok := v.(JSONAppender); ok {
		return a.AppendJSON(b), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

const hexDigits = "0123456789abcdef"

// appendString is encoding/json's string encoding, HTML escaping
// included: <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
