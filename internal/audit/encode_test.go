package audit

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fill sets every field reachable from v to a non-zero value, so that a
// field added to Event without appendEvent learning it fails the test.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), s+string(rune('a'+i%26)))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), s+"0")
		fill(v.Index(1), s+"1")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf(s), reflect.ValueOf(any(s)))
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"k": s, "n": 1}))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestAppendEventIsJSONMarshal(t *testing.T) {
	t.Parallel()
	strs := map[string]string{
		"plain":         "GetObject",
		"quotes":        `a "quoted" \ back\slash`,
		"html":          "<script>&amp;</script>",
		"controls":      "\x00\x01\b\f\n\r\t\x1f\x7f",
		"unicode":       "naïve 日本語 \u2028\u2029 😀",
		"invalid utf-8": "bad\xff\xfe byte \xc3",
		"empty":         "",
		"s3 key":        "2025/salaries (final).csv?x=1&y=<2>",
	}
	for name, s := range strs {
		t.Run("every field set to "+name, func(t *testing.T) {
			var ev Event
			fill(reflect.ValueOf(&ev).Elem(), s)
			compare(t, &ev)
		})
	}
	t.Run("a zero event", func(t *testing.T) { compare(t, &Event{}) })
	t.Run("an S3 data event without session, error or TLS", func(t *testing.T) {
		compare(t, &Event{EventVersion: EventVersion, UserIdentity: UserIdentity{Type: "IAMUser", AccessKeyID: "AKIAEXAMPLE"},
			EventName: "GetObject", RequestParameters: struct {
				Host string `json:"Host"`
				Key  string `json:"key,omitempty"`
			}{"h", "k"}, Resources: []Resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::b/k"}}, EventCategory: "Data"})
	})
	t.Run("a session without an issuer", func(t *testing.T) {
		compare(t, &Event{UserIdentity: UserIdentity{Type: "IAMUser", SessionContext: &SessionContext{}}})
	})
}

func compare(t *testing.T, ev *Event) {
	t.Helper()
	want, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendEvent(make([]byte, 0, 1024), ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := &Event{EventVersion: EventVersion, UserIdentity: UserIdentity{Type: "IAMUser", PrincipalID: "AIDAEXAMPLE", ARN: "arn:aws:iam::000000000000:user/admin",
		AccountID: "000000000000", AccessKeyID: "AKIAEXAMPLE", UserName: "admin"}, EventTime: "2025-01-01T00:00:00Z", EventSource: "s3.amazonaws.com",
		EventName: "GetObject", AWSRegion: "us-east-1", SourceIPAddress: "127.0.0.1", UserAgent: "Go-http-client/1.1",
		RequestParameters: &struct {
			Host string `json:"Host"`
			B    string `json:"bucketName"`
		}{"127.0.0.1:9000", "bench"}, RequestID: "R", EventID: "E", ReadOnly: true,
		Resources: []Resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::bench/obj"}, {AccountID: "000000000000", Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::bench"}},
		EventType: EventTypeAPICall, RecipientAccountID: "000000000000", EventCategory: CategoryData}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(ev)
		}
	})
	b.Run("appendEvent", func(b *testing.B) {
		for b.Loop() {
			appendEvent(make([]byte, 0, 1024), ev)
		}
	})
}
