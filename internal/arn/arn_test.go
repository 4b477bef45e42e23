package arn

import "testing"

func TestParseRoundTrips(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"arn:aws:iam::000000000000:role/a/b/Name",
		"arn:aws:s3:::bucket/key:with:colons",
		"arn:aws:sts::123456789012:assumed-role/R/S",
	} {
		a, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if got := a.String(); got != s {
			t.Errorf("got %q, want %q", got, s)
		}
	}
}

func TestParseRejectsNonARNs(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "arn:", "arn:aws", "arn:aws:iam::1", "urn:aws:iam::1:x", "arn::iam::1:x"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}

func TestSplitPathName(t *testing.T) {
	t.Parallel()
	typ, path, name := SplitPathName("role/a/b/Name")
	if typ != "role" || path != "/a/b/" || name != "Name" {
		t.Errorf("got %q %q %q, want role /a/b/ Name", typ, path, name)
	}
	typ, path, name = SplitPathName("user/bob")
	if typ != "user" || path != "/" || name != "bob" {
		t.Errorf("got %q %q %q, want user / bob", typ, path, name)
	}
}

func TestAssumedRoleOmitsPath(t *testing.T) {
	t.Parallel()
	if got, want := AssumedRole("000000000000", "ops", "alice"), "arn:aws:sts::000000000000:assumed-role/ops/alice"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
