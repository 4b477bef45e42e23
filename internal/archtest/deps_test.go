package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/iamd/iamd/"

// rule bans imports (transitively) for a package, and says why.
type rule struct {
	pkg    string
	banned func(dep string) bool
	why    string
}

func stdlibOnly(allowed ...string) func(string) bool {
	return func(dep string) bool {
		for _, a := range allowed {
			if dep == mod+a {
				return false
			}
		}
		return !isStdlib(dep)
	}
}

func isStdlib(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

func anyOf(bans ...string) func(string) bool {
	return func(dep string) bool {
		for _, b := range bans {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				return true
			}
		}
		return false
	}
}

var stores = []string{mod + "internal/store", "database/sql", "github.com/jackc/pgx", "modernc.org/sqlite", "github.com/mattn/go-sqlite3"}

var rules = []rule{
	{"internal/arn", stdlibOnly(), "ARNs and ids are vocabulary every package shares; they must stay dependency-free"},
	{"internal/sigv4", stdlibOnly(), "the hot-path verifier is ours and self-contained"},
	{"internal/policy", stdlibOnly("internal/arn"), "the policy engine does no I/O and must be usable anywhere"},
	{"internal/apierr", stdlibOnly(), "the one error type is imported by everyone"},
	{"internal/kv", stdlibOnly(), "the storage contract must not depend on a storage implementation"},
	{"internal/token", stdlibOnly(), "session tokens are opened on every request; no dependencies"},
	{"internal/secretbox", stdlibOnly(), "crypto for secrets at rest is standard library only"},
	{"internal/principal", stdlibOnly("internal/arn"), "who a caller is is vocabulary, not behaviour"},
	{"internal/iam", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/sts", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/revoke", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/audit", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/s3", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/ec2", anyOf(append([]string{"net/http"}, stores...)...), "domain packages know neither HTTP nor a store"},
	{"internal/imds", anyOf(stores...), "the metadata service serves credentials from the domain, never from a store"},
	{"internal/httpapi", anyOf(stores...), "the HTTP edge never touches a store; only internal/app wires them"},
	{"internal/cli", anyOf(append([]string{mod + "internal/app", mod + "internal/iam", mod + "internal/authz"}, stores...)...), "the CLI is a client of the server's API, never of its internals"},
	{"internal/authz", anyOf(stores...), "authorization reads IAM through its cached snapshots, never a store"},
}

func TestImportGraphPointsInward(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}|{{join .Deps ","}}`, "../...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, "|")
		deps[pkg] = strings.Split(list, ",")
	}
	for _, r := range rules {
		ds, ok := deps[mod+r.pkg]
		if !ok {
			t.Errorf("package %s not found", r.pkg)
			continue
		}
		for _, d := range ds {
			if d != "" && r.banned(d) {
				t.Errorf("%s imports %s: %s", r.pkg, d, r.why)
			}
		}
	}
}
