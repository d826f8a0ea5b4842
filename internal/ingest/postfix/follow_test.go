package postfixlog

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/store"
)

// maillogLines returns the capture's lines, each with its "\n".
func maillogLines(t testing.TB) []string {
	t.Helper()
	data := postfixLines(t, "testdata/captures/maillog")
	return strings.SplitAfter(strings.TrimSuffix(string(data), "\n")+"\n", "\n")[:57]
}

// wantAll is the record set of the whole capture (the golden file), sorted.
func wantAll(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/golden/maillog.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Split(strings.TrimSpace(string(data)), "\n")
	slices.Sort(out)
	return out
}

// waitRecords polls the store until it holds n records (or gives up after
// a generous while) and returns them normalized and sorted.
func (e *env) waitRecords(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := e.normalize(e.records(t))
		if len(got) >= n || time.Now().After(deadline) {
			slices.Sort(got)
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func appendFile(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

type follow struct {
	cancel context.CancelFunc
	done   chan error
}

func (e *env) follow(t testing.TB, cfg FollowConfig) *follow {
	t.Helper()
	p := e.processor(t)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Poll = 5 * time.Millisecond
	if cfg.Logger == nil {
		cfg.Logger = e.cfg.Logger
	}
	f := &follow{cancel: cancel, done: make(chan error, 1)}
	go func() { f.done <- Follow(ctx, p, cfg) }()
	t.Cleanup(func() { f.stop(t) })
	return f
}

func (f *follow) stop(t testing.TB) {
	if f.cancel == nil {
		return
	}
	f.cancel()
	f.cancel = nil
	if err := <-f.done; err != nil {
		t.Errorf("Follow: %v", err)
	}
}

func sameRecords(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %d records, want %d\ngot:\n%s\nwant:\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// logrotate's default: rename the file, Postfix keeps writing to the old
// one for a moment, then a new file appears at the path. A message whose
// lines span both files is joined.
func TestFollowRenameCreate(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	appendFile(t, path, lines[:20]...)
	e.follow(t, FollowConfig{Path: path, Checkpoint: filepath.Join(e.dir, "cp.json")})
	e.waitRecords(t, 4)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", lines[20:33]...) // written to the old file after the rename
	time.Sleep(20 * time.Millisecond)
	appendFile(t, path, lines[33:]...)
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// copytruncate: the file is copied away and truncated in place, then
// written from offset 0 again.
func TestFollowCopyTruncate(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	appendFile(t, path, lines[:33]...)
	e.follow(t, FollowConfig{Path: path})
	e.waitRecords(t, 9)
	time.Sleep(20 * time.Millisecond)
	data, _ := os.ReadFile(path)
	os.WriteFile(path+".1", data, 0o644)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	appendFile(t, path, lines[33:]...)
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// copytruncate where the new content outgrows the old offset before the
// follower looks: caught by the fingerprint of the first bytes.
func TestFollowCopyTruncateRegrown(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	cp := filepath.Join(e.dir, "cp.json")
	appendFile(t, path, lines[:10]...)
	f := e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	e.waitRecords(t, 2)
	f.stop(t)
	// Not running: truncate and write more than before; the checkpoint's
	// offset is inside the new content, only the fingerprint tells.
	os.Truncate(path, 0)
	appendFile(t, path, lines[10:]...)
	e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// Restart from the checkpoint in the middle of a message: the message is
// rebuilt from the low-water mark and nothing is stored twice.
func TestFollowRestartFromCheckpoint(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	cp := filepath.Join(e.dir, "cp.json")
	appendFile(t, path, lines[:33]...)
	f := e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	e.waitRecords(t, 9) // up to the auth record of 9DEBD988151 (line 30)
	time.Sleep(30 * time.Millisecond)
	f.stop(t)
	saved, err := os.ReadFile(cp)
	if err != nil || !bytes.Contains(saved, []byte(`"dedup"`)) {
		t.Fatalf("checkpoint: %v %s", err, saved)
	}
	appendFile(t, path, lines[33:]...)
	e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
	time.Sleep(50 * time.Millisecond)
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// Rotated while mailtrail was down: the checkpoint's file is now
// maillog.1; its rest is read, then the new maillog.
func TestFollowRotatedWhileDown(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	cp := filepath.Join(e.dir, "cp.json")
	appendFile(t, path, lines[:20]...)
	f := e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	e.waitRecords(t, 4)
	time.Sleep(30 * time.Millisecond)
	f.stop(t)
	appendFile(t, path, lines[20:33]...)
	os.Rename(path, path+".1")
	appendFile(t, path, lines[33:]...)
	e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

func TestFollowOverlongLine(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	appendFile(t, path, lines[:20]...)
	appendFile(t, path, "Nov 22 18:26:40 mail postfix/smtpd[1]: "+strings.Repeat("x", 5000)+"\n")
	appendFile(t, path, lines[20:]...)
	e.follow(t, FollowConfig{Path: path, MaxLine: 1024})
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// The store refuses records: Follow stops there and saves no checkpoint
// past them; once the store is back, a new follower stores everything.
func TestFollowStoreDown(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	cp := filepath.Join(e.dir, "cp.json")
	appendFile(t, path, lines...)
	e.st.Close()
	p := e.processor(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, p, FollowConfig{Path: path, Checkpoint: cp, Poll: 5 * time.Millisecond, Logger: e.cfg.Logger})
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err == nil {
		t.Error("Follow returned nil with the store down")
	}
	if _, err := os.Stat(cp); err == nil {
		t.Error("checkpoint saved past records that were not stored")
	}
	st, err := store.Open(filepath.Join(e.dir, "store"), store.Options{Logger: e.cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.sink = mailserver.NewSink(st, nil)
	e.cfg.Sink = e.sink
	e.follow(t, FollowConfig{Path: path, Checkpoint: cp})
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// A message that stays pending (deferred) does not pin the resume point
// beyond MaxReread.
func TestFollowMaxReread(t *testing.T) {
	e := newEnv(t)
	lines := maillogLines(t)
	path := filepath.Join(e.dir, "maillog")
	cp := filepath.Join(e.dir, "cp.json")
	// Scenario 23 leaves B851D9884D3 deferred (pending) at line 44.
	appendFile(t, path, lines...)
	f := e.follow(t, FollowConfig{Path: path, Checkpoint: cp, MaxReread: 300})
	e.waitRecords(t, len(wantAll(t)))
	time.Sleep(30 * time.Millisecond)
	f.stop(t)
	data, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	var c checkpoint
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Read-c.Offset > 300 {
		t.Errorf("resume offset %d is %d bytes behind the read offset %d, limit 300", c.Offset, c.Read-c.Offset, c.Read)
	}
}
