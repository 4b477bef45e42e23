package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	icli "github.com/iamd/iamd/internal/cli"
	"github.com/iamd/iamd/internal/testserver"
)

// TestIamdInstances runs the built iamd binary's `instances` command
// against a server with a running instance of a role, one without a
// profile, and a stopped one.
func TestIamdInstances(t *testing.T) {
	t.Parallel()
	w := newInstanceWorld(t)
	w.role(t, "app", ec2Trust)
	web := w.run(t, "app", "")
	bare := w.run(t, "", "")
	stopped := aws.ToString(w.run(t, "app", "").InstanceId)
	if _, err := w.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatal(err)
	}
	webID, bareID := aws.ToString(web.InstanceId), aws.ToString(bare.InstanceId)
	webEP := endpointOf(t, web)

	t.Run("--output json lists every instance with its state, role, endpoint and launch time", func(t *testing.T) {
		out := iamdJSON[struct{ Instances []icli.InstanceInfo }](t, w.s, testserver.Admin(), "instances")
		if len(out.Instances) != 3 {
			t.Fatalf("got %d instances, want 3: %+v", len(out.Instances), out.Instances)
		}
		by := map[string]icli.InstanceInfo{}
		for _, in := range out.Instances {
			by[in.InstanceId] = in
		}
		got := by[webID]
		if got.State != "running" || got.RoleName != "app" || got.RoleArn != "arn:aws:iam::000000000000:role/app" ||
			got.InstanceProfileArn != "arn:aws:iam::000000000000:instance-profile/app" || got.ImdsEndpoint != webEP {
			t.Errorf("got %+v, want running, role app, profile app, endpoint %s", got, webEP)
		}
		if lt, err := time.Parse(time.RFC3339Nano, got.LaunchTime); err != nil || time.Since(lt) > time.Minute {
			t.Errorf("got launch time %q (%v), want a recent timestamp", got.LaunchTime, err)
		}
		if b := by[bareID]; b.State != "running" || b.RoleName != "" || b.InstanceProfileArn != "" || b.ImdsEndpoint == "" {
			t.Errorf("got %+v, want a running instance with an endpoint and no role", b)
		}
		if s := by[stopped]; s.State != "stopped" || s.RoleName != "app" {
			t.Errorf("got %+v, want the stopped instance of app", s)
		}
	})

	t.Run("the table shows one line per instance under a header", func(t *testing.T) {
		out := mustIamd(t, w.s, testserver.Admin(), "instances")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "INSTANCE") || !strings.Contains(lines[0], "IMDS ENDPOINT") {
			t.Fatalf("got\n%s\nwant a header and 3 rows", out)
		}
		var row string
		for _, l := range lines {
			if strings.HasPrefix(l, webID) {
				row = l
			}
		}
		if f := strings.Fields(row); len(f) < 6 || f[1] != "running" || f[2] != "app" || f[3] != "app" || f[4] != webEP {
			t.Errorf("got row %q, want %s running app app %s …", row, webID, webEP)
		}
	})

	t.Run("--state and instance ids narrow the list", func(t *testing.T) {
		out := iamdJSON[struct{ Instances []icli.InstanceInfo }](t, w.s, testserver.Admin(), "instances", "--state", "stopped")
		if len(out.Instances) != 1 || out.Instances[0].InstanceId != stopped {
			t.Errorf("--state stopped: got %+v, want only %s", out.Instances, stopped)
		}
		out = iamdJSON[struct{ Instances []icli.InstanceInfo }](t, w.s, testserver.Admin(), "instances", bareID)
		if len(out.Instances) != 1 || out.Instances[0].InstanceId != bareID {
			t.Errorf("by id: got %+v, want only %s", out.Instances, bareID)
		}
	})

	t.Run("EC2's errors reach the user with their code", func(t *testing.T) {
		_, errOut := iamdCLI(t, w.s, testserver.Admin(), "instances", "i-0123456789abcdef0")
		if !strings.Contains(errOut, "InvalidInstanceID.NotFound") {
			t.Errorf("unknown id: got %q, want InvalidInstanceID.NotFound", errOut)
		}
		bob := newUser(t, w.s, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)
		_, errOut = iamdCLI(t, w.s, bob, "instances")
		if !strings.Contains(errOut, "UnauthorizedOperation") {
			t.Errorf("a user without ec2:DescribeInstances: got %q, want UnauthorizedOperation", errOut)
		}
	})
}
