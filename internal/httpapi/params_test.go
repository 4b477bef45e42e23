package httpapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamd/iamd/internal/apierr"
)

func TestListsDecodeInMemberOrder(t *testing.T) {
	t.Parallel()
	p, err := ParseQuery("Action=X&Names.member.2=b&Names.member.1=a&Names.member.3=c&Names.member.5=skipped")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.List("Names")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("List mismatch (-want +got):\n%s", diff)
	}
}

func TestAnEmptyListIsNameWithNoValue(t *testing.T) {
	t.Parallel()
	// botocore sends an empty list as "Name=".
	p, _ := ParseQuery("Action=X&Names=")
	got, err := p.List("Names")
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v; want no members", got, err)
	}
}

func TestStructListsScopeEachMember(t *testing.T) {
	t.Parallel()
	p, _ := ParseQuery("Tags.member.1.Key=team&Tags.member.1.Value=red&Tags.member.2.Key=env&Tags.member.2.Value=")
	ms, err := p.Structs("Tags")
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string
	for _, m := range ms {
		got = append(got, [2]string{m.Get("Key"), m.Get("Value")})
	}
	if diff := cmp.Diff([][2]string{{"team", "red"}, {"env", ""}}, got); diff != "" {
		t.Errorf("Structs mismatch (-want +got):\n%s", diff)
	}
}

func TestValidationMessagesAreAWSs(t *testing.T) {
	t.Parallel()
	p, _ := ParseQuery("RoleSessionName=has%20space&Short=a")
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"a missing required parameter is null", func() error { _, err := p.Required("UserName", ruleUserName); return err },
			"1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		{"a pattern mismatch names the pattern", func() error { _, err := p.Required("RoleSessionName", ruleSessionName); return err },
			`1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"a short value names the minimum", func() error { _, err := p.Optional("Short", StringRule{}.Len(2, 5)); return err },
			"1 validation error detected: Value 'a' at 'short' failed to satisfy constraint: Member must have length greater than or equal to 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			e := apierr.As(err)
			if e == nil || e.Code != apierr.ValidationError {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			if e.Message != tc.want {
				t.Errorf("got %q, want %q", e.Message, tc.want)
			}
		})
	}
}

func TestMalformedFormsAreRejected(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"a=%zz", "a=%", "a=\xff", strings.Repeat("a=1&", maxParams+1)} {
		if _, err := ParseQuery(q); !apierr.Is(err, apierr.MalformedQueryString) {
			t.Errorf("ParseQuery(%.20q): got %v, want MalformedQueryString", q, err)
		}
	}
}

func TestIntegersAreBounded(t *testing.T) {
	t.Parallel()
	p, _ := ParseQuery("MaxItems=0&Big=99999999999999999999&Word=ten")
	for _, name := range []string{"MaxItems", "Big", "Word"} {
		if _, err := p.Int(name, 1, 1000, 100); !apierr.Is(err, apierr.ValidationError) {
			t.Errorf("Int(%s): got %v, want ValidationError", name, err)
		}
	}
	if n, err := p.Int("Absent", 1, 1000, 100); n != 100 || err != nil {
		t.Errorf("absent: got %d, %v; want the default 100", n, err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"Action=ListUsers&Version=2010-05-08", "Tags.member.1.Key=a&Tags.member.1.Value=b", "a=%zz", "X.member.1=&X.member.2=%20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseQuery(s)
		if err != nil {
			return
		}
		p.Get("Action")
		p.List("X")
		ms, _ := p.Structs("Tags")
		for _, m := range ms {
			m.Get("Key")
		}
		p.Int("MaxItems", 1, 1000, 100)
		p.Bool("B")
	})
}
