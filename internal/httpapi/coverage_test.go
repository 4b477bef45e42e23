package httpapi

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAPICoverageDocMatchesTheCode keeps docs/api-coverage.md honest: the
// actions marked "yes" under each service's heading are exactly the actions
// the server answers. (docs/api-coverage.md is regenerated from botocore's
// models; see its header.)
func TestAPICoverageDocMatchesTheCode(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/api-coverage.md")
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
	for _, svc := range []*Service{IAMService(nil), STSService(nil, nil)} {
		var served []string
		for a := range svc.Actions {
			served = append(served, a)
		}
		sort.Strings(served)
		got := documented[svc.Name]
		sort.Strings(got)
		if diff := cmp.Diff(served, got); diff != "" {
			t.Errorf("%s: docs/api-coverage.md disagrees with the served actions (-served +documented):\n%s", svc.Name, diff)
		}
	}
}
