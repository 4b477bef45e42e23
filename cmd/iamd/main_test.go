package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeBootstrapsAndStopsCleanly runs the real binary: the first start
// writes the administrator's credentials once (0600, profile iamd), health
// answers, SIGTERM stops it with status 0, and a restart reuses the data.
func TestServeBootstrapsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "iamd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	start := func() (*exec.Cmd, string, *syncBuffer) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve", "--data", data)
		cmd.Env = append(os.Environ(), "IAMD_ADDR="+addr, "IAMD_ADMIN_ACCESS_KEY_ID=", "IAMD_ADMIN_SECRET_ACCESS_KEY=")
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/_iamd/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("server did not become healthy: %v\n%s", err, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		return cmd, addr, stderr
	}
	stop := func(cmd *exec.Cmd, stderr *syncBuffer) {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("no exit within 15 s of SIGTERM\n%s", stderr.String())
		}
	}

	cmd, _, stderr := start()
	credsPath := filepath.Join(data, "admin.credentials")
	fi, err := os.Stat(credsPath)
	if err != nil {
		t.Fatalf("admin.credentials: %v\n%s", err, stderr.String())
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.credentials mode: got %v, want 0600", fi.Mode().Perm())
	}
	f, _ := os.Open(credsPath)
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	f.Close()
	if len(lines) != 3 || lines[0] != "[iamd]" || !strings.HasPrefix(lines[1], "aws_access_key_id = AKIA") || !strings.HasPrefix(lines[2], "aws_secret_access_key = ") {
		t.Errorf("admin.credentials: got %q, want a [iamd] profile with an AKIA key", lines)
	}
	if !strings.Contains(stderr.String(), credsPath) {
		t.Errorf("the server did not say where the credentials are:\n%s", stderr.String())
	}
	secret := strings.TrimPrefix(lines[2], "aws_secret_access_key = ")
	if strings.Contains(stderr.String(), secret) {
		t.Error("the log contains the administrator's secret access key")
	}
	stop(cmd, stderr)

	before, _ := os.ReadFile(credsPath)
	cmd, _, stderr = start()
	after, _ := os.ReadFile(credsPath)
	if string(before) != string(after) {
		t.Error("a restart rewrote admin.credentials")
	}
	stop(cmd, stderr)
}

func TestUnknownCommandsFail(t *testing.T) {
	t.Parallel()
	var out, errw strings.Builder
	if err := run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errw); err == nil {
		t.Error("run accepted an unknown command")
	}
	if err := run(t.Context(), []string{"version"}, func(string) string { return "" }, &out, &errw); err != nil || !strings.HasPrefix(out.String(), "iamd ") {
		t.Errorf("version: got %q, %v", out.String(), err)
	}
}

// syncBuffer collects a child process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
