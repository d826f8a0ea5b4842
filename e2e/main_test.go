// Package e2e holds end-to-end tests: they build the real mailtrail binary,
// start it, and drive it with real clients (the AWS CLI v2, aws-sdk-go-v2,
// boto3) installed by scripts/install-test-deps.sh.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mailtrail-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "mailtrail")
	build := exec.Command("go", "build", "-o", binPath, "../cmd/mailtrail")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building mailtrail:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Test credentials: two accounts, to prove isolation.
const (
	keyA, secretA, accountA = "AKIAMAILTRAILTESTA01", "secret-a-0123456789abcdefghijklmnopqrstuv", "111111111111"
	keyB, secretB, accountB = "AKIAMAILTRAILTESTB02", "secret-b-0123456789abcdefghijklmnopqrstuv", "222222222222"
)

type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	data   string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `mailtrail serve` with a credentials file holding both
// test accounts, and waits until it accepts connections.
func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	creds := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(creds, []byte(fmt.Sprintf("# test keys\n%s %s %s\n%s %s %s\n", keyA, secretA, accountA, keyB, secretB, accountB)), 0o600)
	s := &server{t: t, addr: freePort(t), data: data, done: make(chan error, 1)}
	args := append([]string{"serve", "--data", data, "--addr", s.addr, "--credentials", creds}, extra...)
	s.cmd = exec.Command(binPath, args...)
	pr, pw, _ := os.Pipe()
	s.cmd.Stderr = pw
	s.cmd.Stdout = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited early: %v\n%s", err, s.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen on %s\n%s", s.addr, s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

func (s *server) url() string { return "http://" + s.addr }

// stop sends SIGTERM and waits for the orderly shutdown.
func (s *server) stop() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop after SIGTERM")
	}
}

// need skips the test unless the named program exists (installed by
// scripts/install-test-deps.sh); in CI a missing program is a failure.
func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/install-test-deps.sh should have installed it", path)
		}
		t.Skipf("%s not installed (run scripts/install-test-deps.sh)", path)
	}
}

func clientEnv(key, secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+key,
		"AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_PAGER=",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_DISABLE_HOST_PREFIX_INJECTION=true",
	)
}
