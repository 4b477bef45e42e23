package httpapi

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateCoverage = flag.Bool("update-coverage", false, "regenerate docs/api-coverage.md from botocore's service models")

const coverageDoc = "../../docs/api-coverage.md"

// coverageService is one service in the table: the actions the server
// answers and the botocore model they are checked against.
type coverageService struct {
	name    string
	actions []string
	model   string // botocore data directory: service/version
	title   string
	full    bool // list every operation of the model, not only the served ones
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// s3Operations are the S3 operations the REST router names (c.op = "…"),
// read from its source: S3 routes by method and path, not by a table.
func s3Operations(t *testing.T) []string {
	files, _ := filepath.Glob("s3*.go")
	re := regexp.MustCompile(`\.op = "([A-Za-z0-9]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	return keys(seen)
}

func coverageServices(t *testing.T) []coverageService {
	return []coverageService{
		{"iam", keys(IAMService(nil, nil).Actions), "iam/2010-05-08", "IAM (Query protocol, `Version=2010-05-08`)", true},
		{"sts", keys(STSService(nil, nil).Actions), "sts/2011-06-15", "STS (Query protocol, `Version=2011-06-15`)", true},
		{"cloudtrail", keys(CloudTrailService(nil).Actions), "cloudtrail/2013-11-01", "CloudTrail (JSON 1.1 protocol, `X-Amz-Target`)", false},
		{"s3", s3Operations(t), "s3/2006-03-01", "S3 (REST-XML, path-style)", false},
		{"ec2", keys(EC2Service(nil).Actions), "ec2/2016-11-15", "EC2 (EC2 Query protocol, `Version=2016-11-15`)", false},
	}
}

// TestAPICoverageDocMatchesTheCode keeps docs/api-coverage.md honest: the
// actions marked "yes" under each service's heading are exactly the actions
// the server answers. Regenerate the table with
// go test ./internal/httpapi -run Coverage -update-coverage.
func TestAPICoverageDocMatchesTheCode(t *testing.T) {
	if *updateCoverage {
		writeCoverageDoc(t)
	}
	doc, err := os.ReadFile(coverageDoc)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = strings.ToLower(strings.Fields(strings.TrimPrefix(line, "## "))[0])
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) == 4 && strings.TrimSpace(cells[2]) == "yes" {
			documented[section] = append(documented[section], strings.TrimSpace(cells[1]))
		}
	}
	for _, c := range coverageServices(t) {
		got := documented[c.name]
		sort.Strings(got)
		if diff := cmp.Diff(c.actions, got); diff != "" {
			t.Errorf("%s: docs/api-coverage.md disagrees with the served actions (-served +documented); regenerate with -update-coverage:\n%s", c.name, diff)
		}
	}
}

func writeCoverageDoc(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import botocore, os; print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Fatalf("find botocore: %v", err)
	}
	data := filepath.Join(strings.TrimSpace(string(out)), "data")
	var b strings.Builder
	b.WriteString(`# API coverage

What iamd implements of each AWS API it speaks, against the operations in
AWS's service models (botocore's ` + "`service-2.json`" + `). ` + "`yes`" + ` means the action
is implemented with AWS's parameters, output shape and errors. A test
(` + "`internal/httpapi/coverage_test.go`" + `) keeps this table true to the code:
every action the server answers is ` + "`yes`" + ` here and every ` + "`yes`" + ` is answered.
Regenerate it with ` + "`go test ./internal/httpapi -run Coverage -update-coverage`" + `.

`)
	for _, c := range coverageServices(t) {
		f, err := os.Open(filepath.Join(data, c.model, "service-2.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var model struct {
			Operations map[string]json.RawMessage `json:"operations"`
		}
		if err := json.NewDecoder(zr).Decode(&model); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var ops []string
		for op := range model.Operations {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		served := map[string]bool{}
		for _, a := range c.actions {
			served[a] = true
		}
		n := 0
		for _, op := range ops {
			if served[op] {
				n++
			}
		}
		fmt.Fprintf(&b, "## %s\n\n%d of %d operations.\n\n| action | implemented |\n|---|---|\n", c.title, n, len(ops))
		inModel := map[string]bool{}
		for _, op := range ops {
			inModel[op] = true
			yes := "no"
			if served[op] {
				yes = "yes"
			} else if !c.full {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |\n", op, yes)
		}
		if !c.full {
			b.WriteString("\nOperations of the model not listed are not implemented.\n")
		}
		var own []string
		for _, a := range c.actions {
			if !inModel[a] {
				own = append(own, a)
			}
		}
		if len(own) > 0 {
			b.WriteString("\niamd's own actions in this namespace (not AWS's):\n\n| action | implemented |\n|---|---|\n")
			for _, a := range own {
				fmt.Fprintf(&b, "| %s | yes |\n", a)
			}
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(coverageDoc, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
