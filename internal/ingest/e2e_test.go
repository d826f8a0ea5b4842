package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
	"github.com/mailtrail/mailtrail/internal/store"
)

// The end-to-end tests build the real mailtrail binary and drive it as a
// user would; -short skips them.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func mailtrail(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailtrail-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mailtrail")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/mailtrail").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/mailtrail: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// storedRows counts the events of a group by scanning the store.
func storedRows(t *testing.T, dir, group string) int {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	n := 0
	err = st.Scan(context.Background(), &scan.Request{Account: store.DefaultAccount, Groups: []string{group},
		Start: scan.MinTime, End: scan.MaxTime, Columns: []string{"@timestamp"}}, func(_ int, b *scan.Block) error {
		mu.Lock()
		n += b.Rows
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestGenPipeIngest is the acceptance test:
// mailtrail gen -n 200000 -seed 7 | mailtrail ingest --data D --group g -
func TestGenPipeIngest(t *testing.T) {
	bin := mailtrail(t)
	data := filepath.Join(t.TempDir(), "D")
	gen := exec.Command(bin, "gen", "-n", "200000", "-seed", "7")
	ing := exec.Command(bin, "ingest", "--data", data, "--group", "g", "-")
	pipe, err := gen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ing.Stdin = pipe
	var stdout, stderr bytes.Buffer
	ing.Stdout, ing.Stderr = &stdout, &stderr
	if err := gen.Start(); err != nil {
		t.Fatal(err)
	}
	err = ing.Run()
	if genErr := gen.Wait(); genErr != nil {
		t.Fatalf("gen: %v", genErr)
	}
	if err != nil {
		t.Fatalf("ingest: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 200,000 records, stored 200,000, rejected 0") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not empty (no progress bar off a terminal, no rejects): %q", stderr.String())
	}
	if n := storedRows(t, data, "g"); n != 200000 {
		t.Errorf("store holds %d events, want 200000", n)
	}
}

// TestTruncatedLineE2E: a file with a truncated JSON line in the middle
// stores the rest, reports the line, and exits 1.
func TestTruncatedLineE2E(t *testing.T) {
	bin := mailtrail(t)
	dir := t.TempDir()
	out, err := exec.Command(bin, "gen", "-n", "1000", "-seed", "3").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	lines[499] = lines[499][:len(lines[499])/2]
	file := filepath.Join(dir, "audit.ndjson")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	cmd := exec.Command(bin, "ingest", "--data", filepath.Join(dir, "D"), "--group", "g", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit code %d, want 1\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), file+":500: invalid JSON") {
		t.Errorf("stderr does not report line 500:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 1,000 records, stored 999, rejected 1") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	if n := storedRows(t, filepath.Join(dir, "D"), "g"); n != 999 {
		t.Errorf("store holds %d events, want 999", n)
	}
}

// TestManyRejectsE2E: at most 100 rejects are listed, then a count.
func TestManyRejectsE2E(t *testing.T) {
	bin := mailtrail(t)
	dir := t.TempDir()
	var in bytes.Buffer
	for i := range 300 {
		if i%2 == 0 {
			fmt.Fprintf(&in, "{\"event_timestamp\":%d}\n", i)
		} else {
			fmt.Fprintf(&in, "not json %d\n", i)
		}
	}
	cmd := exec.Command(bin, "ingest", "--data", filepath.Join(dir, "D"), "--group", "g", "-")
	cmd.Stdin = &in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if code := exitCode(cmd.Run()); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	listed := strings.Count(stderr.String(), "<stdin>:")
	if listed != 100 || !strings.Contains(stderr.String(), "... and 50 more rejected") || !strings.Contains(stderr.String(), "<stdin>:2: invalid JSON at byte 0") {
		t.Errorf("%d listed; stderr:\n%s", listed, stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 300 records, stored 150, rejected 150") {
		t.Errorf("summary:\n%s", stdout.String())
	}
}

// TestSourcesE2E: a gzip'd CloudTrail log file, a digest, and a CloudWatch
// Logs export in one run.
func TestSourcesE2E(t *testing.T) {
	bin := mailtrail(t)
	dir := t.TempDir()
	gzFile := func(name string, data []byte) string {
		p := filepath.Join(dir, "in", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	ct, _ := os.ReadFile("testdata/cloudtrail-insights-start-end.logfile.json")
	dg, _ := os.ReadFile("testdata/cloudtrail-digest.sample.json")
	files := []string{
		gzFile("AWSLogs/111122223333/CloudTrail/us-east-1/2019/11/14/111122223333_CloudTrail_us-east-1_20191114T0055Z_abcdefghij012345.json.gz", ct),
		gzFile("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz", dg),
		gzFile("exportedlogs/task1/mystream/000000.gz", []byte("2024-05-01T12:00:00.000Z {\"a\":1}\n2024-05-01T12:00:01.000Z {\"a\":2}\n")),
	}
	cmd := exec.Command(bin, append([]string{"ingest", "--data", filepath.Join(dir, "D"), "--group", "trail"}, files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 4 records, stored 4, rejected 0") || !strings.Contains(stderr.String(), "1 log file referenced, not stored") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if n := storedRows(t, filepath.Join(dir, "D"), "trail"); n != 4 {
		t.Errorf("store holds %d events, want 4", n)
	}

	// The same files found by walking their directory.
	cmd = exec.Command(bin, "ingest", "--data", filepath.Join(dir, "D2"), "--group", "trail", filepath.Join(dir, "in"))
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 4 records, stored 4, rejected 0") || !strings.Contains(stdout.String(), "files 3") {
		t.Errorf("directory: stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	st, err := store.Open(filepath.Join(dir, "D2"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	streams, err := st.DescribeLogStreams(store.DefaultAccount, "trail", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range streams {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "111122223333_CloudTrail_us-east-1 mystream" {
		t.Errorf("streams %q", got)
	}
}

// TestInterruptE2E: SIGINT while stdin is open stores what was read, says
// where it stopped, and exits 130.
func TestInterruptE2E(t *testing.T) {
	bin := mailtrail(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "ingest", "--data", filepath.Join(dir, "D"), "--group", "g", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		fmt.Fprintf(stdin, `{"event_timestamp":%d,"n":%d}`+"\n", 1718000000000+int64(i), i)
	}
	// Give the reader a moment; whatever it has read by the signal must be
	// stored, however much that is.
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	stdin.Close()
	if code := exitCode(err); code != 130 {
		t.Fatalf("exit code %d, want 130\n%s\n%s", code, stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`interrupted: stopped at <stdin>:(\d+); everything read up to there \(([\d,]+) records\) is stored`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	if m[1] != strings.ReplaceAll(m[2], ",", "") {
		t.Errorf("stopped at line %s but stored %s", m[1], m[2])
	}
	want, _ := strconv.Atoi(m[1])
	if n := storedRows(t, filepath.Join(dir, "D"), "g"); n != want {
		t.Errorf("store holds %d events, want %d", n, want)
	}
}

// TestStreamByTypeE2E: gen's mixed output lands in one stream per log type.
func TestStreamByTypeE2E(t *testing.T) {
	bin := mailtrail(t)
	dir := t.TempDir()
	out, err := exec.Command(bin, "gen", "-n", "5000", "-seed", "4").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "ingest", "--data", filepath.Join(dir, "D"), "--group", "g", "--stream-by-type", "-")
	cmd.Stdin = bytes.NewReader(out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	st, err := store.Open(filepath.Join(dir, "D"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	streams, err := st.DescribeLogStreams(store.DefaultAccount, "g", "")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range streams {
		names[s.Name] = true
	}
	for _, want := range []string{"AUTHENTICATION_LOGS", "WORKMAIL_MAILBOX_ACCESS_LOGS", "ACCESS_CONTROL_LOGS", "WORKMAIL_EMAIL_EVENT_LOGS"} {
		if !names[want] {
			t.Errorf("no stream %s among %v", want, names)
		}
	}
}
