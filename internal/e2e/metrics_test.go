package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testserver"
)

func TestMetricsCountCallsByOutcome(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	must[*sts.GetCallerIdentityOutput](t)(s.STS(testserver.Admin()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	_, err := s.STS(testserver.Creds{KeyID: "AKIAUNKNOWNUNKNOWN00", Secret: "x"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")

	resp, err := http.Get(s.URL + "/_iamd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`iamd_requests_total{action="GetCallerIdentity",code="OK",service="sts"} 1`,
		// A caller that failed to authenticate is not trusted with a label value.
		`iamd_requests_total{action="Unknown",code="InvalidClientTokenId",service="sts"} 1`,
		`iamd_request_duration_seconds_bucket{service="sts"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/_iamd/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, testserver.AdminSecret) {
		t.Error("metrics expose the administrator's secret")
	}
}
