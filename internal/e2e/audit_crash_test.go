package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/revoke"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/testserver"
)

// TestAuditSurvivesKill9 runs the real iamd binary, bursts writes and
// AssumeRoles at it from many clients, kills it with SIGKILL mid-burst,
// and checks that every call that returned success has its record, that
// every AssumeRole that returned credentials has its session in the
// inventory, and that `iamd audit verify` passes.
func TestAuditSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the iamd binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "iamd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/iamd/iamd/cmd/iamd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "IAMD_ADMIN_ACCESS_KEY_ID="+testserver.AdminKeyID, "IAMD_ADMIN_SECRET_ACCESS_KEY="+testserver.AdminSecret)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "iamd serving") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("iamd did not start")
	}
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testserver.AdminKeyID, testserver.AdminSecret, "")}
	admin := iam.NewFromConfig(cfg)
	bg := context.Background()
	if _, err := admin.CreateRole(bg, &iam.CreateRoleInput{RoleName: aws.String("crash"), AssumeRolePolicyDocument: aws.String(trustAccount)}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	succeeded := map[string]string{} // request id → what
	var issued []string              // access key ids of returned credentials
	var calls atomic.Int64
	ctx, stop := context.WithCancel(bg)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stsc := sts.NewFromConfig(cfg)
			for i := 0; ctx.Err() == nil; i++ {
				var md smithymw.Metadata
				var what, key string
				if i%2 == 0 {
					out, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d-%d", w, i))})
					if err != nil {
						continue
					}
					md, what = out.ResultMetadata, "CreateUser"
				} else {
					out, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/crash"), RoleSessionName: aws.String(fmt.Sprintf("s%d", i))})
					if err != nil {
						continue
					}
					md, what, key = out.ResultMetadata, "AssumeRole", aws.ToString(out.Credentials.AccessKeyId)
				}
				calls.Add(1)
				mu.Lock()
				if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
					succeeded[id] = what
				}
				if key != "" {
					issued = append(issued, key)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-burst
		t.Fatal(err)
	}
	cmd.Wait()
	stop()
	wg.Wait()
	if len(succeeded) < 50 {
		t.Fatalf("only %d calls succeeded before the kill; the test proves nothing", len(succeeded))
	}

	st, err := sqlite.OpenAudit(bg, filepath.Join(data, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recorded := map[string]string{}
	if err := st.Scan(bg, 1, func(r *audit.Record) error {
		var ev struct {
			RequestID string `json:"requestID"`
			ErrorCode string `json:"errorCode"`
		}
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			return err
		}
		if ev.ErrorCode == "" {
			recorded[ev.RequestID] = r.EventName
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id, what := range succeeded {
		if recorded[id] != what {
			missing++
			if missing < 5 {
				t.Errorf("%s %s returned success but has no record", what, id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d successful calls have no record", missing, len(succeeded))
	}
	t.Logf("%d successful calls before SIGKILL, all recorded (%d records)", len(succeeded), len(recorded))

	// The session inventory: every session whose credentials went out.
	kvs, err := sqlite.Open(bg, filepath.Join(data, "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer kvs.Close()
	inv, err := revoke.New(bg, revoke.Config{Store: kvs})
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) < 20 {
		t.Fatalf("only %d AssumeRoles returned credentials before the kill; the test proves nothing", len(issued))
	}
	missing = 0
	for _, key := range issued {
		if _, err := inv.Session(bg, key); err != nil {
			missing++
			if missing < 5 {
				t.Errorf("session %s was handed out but is not in the inventory: %v", key, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d issued sessions are not in the inventory", missing, len(issued))
	}
	t.Logf("%d sessions issued before SIGKILL, all in the inventory", len(issued))
	out, err := exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Fatalf("iamd audit verify: %v\n%s", err, out)
	}
}
