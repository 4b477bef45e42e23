package policy

import (
	"encoding/json"
	"os"
	"testing"
)

// corpusCase is one case of testdata/corpus.json: policies taken from an
// AWS documentation page (source), a request, and the decision AWS
// documents for it.
type corpusCase struct {
	Name     string            `json:"name"`
	Source   string            `json:"source"`
	Identity []json.RawMessage `json:"identity"`
	Boundary json.RawMessage   `json:"boundary"`
	Session  []json.RawMessage `json:"session"`
	Resource json.RawMessage   `json:"resource"`
	Trust    json.RawMessage   `json:"trust"`
	Request  struct {
		Action    string              `json:"action"`
		Resource  string              `json:"resource"`
		Principal Principal           `json:"principal"`
		Context   map[string][]string `json:"context"`
	} `json:"request"`
	Want string `json:"want"`
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Cases []corpusCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	for _, tc := range corpus.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			if tc.Source == "" {
				t.Fatalf("case has no source page")
			}
			set := &Set{}
			for i, doc := range tc.Identity {
				set.Identity = append(set.Identity, named(t, "identity."+itoa(i+1), "IAM Policy", string(doc), Identity))
			}
			if tc.Boundary != nil {
				n := named(t, "boundary", "permissionsBoundary", string(tc.Boundary), Identity)
				set.Boundary = &n
			}
			for i, doc := range tc.Session {
				set.Session = append(set.Session, named(t, "session."+itoa(i+1), "session", string(doc), Identity))
			}
			if tc.Resource != nil {
				n := named(t, "ResourcePolicy", "resource", string(tc.Resource), Resource)
				set.Resource = &n
			}
			if tc.Trust != nil {
				n := named(t, "TrustPolicy", "resource", string(tc.Trust), Trust)
				set.Resource, set.ResourceIsTrust = &n, true
			}
			ctx := NewContext()
			for k, v := range tc.Request.Context {
				ctx.Set(k, v...)
			}
			d := Evaluate(set, &Request{Action: tc.Request.Action, Resource: tc.Request.Resource, Principal: tc.Request.Principal, Context: ctx})
			if got := d.Result.String(); got != tc.Want {
				t.Errorf("got %s, want %s (source %s)", got, tc.Want, tc.Source)
			}
		})
	}
}
