package httpapi

import (
	"encoding/json"
	"testing"
)

func TestS3ParamsAppendJSONIsJSONMarshal(t *testing.T) {
	t.Parallel()
	for _, p := range []s3Params{
		{},
		{Host: "127.0.0.1:9000"},
		{Host: "h", BucketName: "bucket"},
		{Host: "h", BucketName: "bucket", Key: `dir/<a> & "b"\c` + "\n\u2028\xff"},
	} {
		want, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
