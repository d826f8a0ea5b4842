package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestSyncAnsweredAfterFailedFlushes: two frozen memtables fail to flush
// (segment files cannot be created) while Sync waits on the active one.
// The failed ones keep the frozen slots, so the active memtable is never
// frozen; Sync and the active memtable's deferred appends must still be
// answered (with the error), not left waiting until Close — mailtrail
// ingest waits in Sync and would hang.
func TestSyncAnsweredAfterFailedFlushes(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MemtableBytes: 4 << 20, MergeMinSegments: 1 << 30})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/d", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/d", "s"))
	must(t, os.Rename(dir+"/seg", dir+"/seg.bak"))
	must(t, os.WriteFile(dir+"/seg", nil, 0o644))
	raw := make([]byte, 200)
	ts := int64(1746057600000)
	answered := make(chan error, 64)
	var appendErr error
	for i := 0; i < 30 && appendErr == nil; i++ { // ~12 MiB: two frozen, the rest active
		evs := make([]Event, 1000)
		for i := range evs {
			rand.Read(raw)
			evs[i] = Event{Timestamp: ts, Message: []byte(`{"x":"` + hex.EncodeToString(raw) + `"}`)}
			ts++
		}
		appendErr = s.AppendDeferred(acct, "/d", "s", evs, func(err error) { answered <- err })
	}
	ch := make(chan error, 1)
	go func() { ch <- s.Sync() }()
	select {
	case err := <-ch:
		if err == nil {
			t.Error("Sync after failed flushes returned nil")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Sync still waiting 30 s after the flushes failed")
	}
	if len(answered) == 0 {
		t.Error("no deferred append was answered")
	}
	for len(answered) > 0 {
		if err := <-answered; err == nil {
			t.Error("a deferred append was acknowledged although no flush succeeded")
		}
	}
}

// TestFailedManifestWriteStaysFailed: a deferred append answered with an
// error because its memtable's manifest write failed must not become
// durable later when Close writes a manifest after all (a retry would
// store it twice).
func TestFailedManifestWriteStaysFailed(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MergeMinSegments: 1 << 30})
	must(t, s.CreateLogGroup(acct, "/d", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/d", "s"))
	must(t, os.Mkdir(dir+"/MANIFEST.tmp", 0o755)) // the next manifest write fails
	evs := make([]Event, 100)
	for i := range evs {
		evs[i] = Event{Timestamp: 1746057600000 + int64(i), Message: []byte(fmt.Sprintf(`{"i":%d}`, i))}
	}
	doneErr := make(chan error, 1)
	must(t, s.AppendDeferred(acct, "/d", "s", evs, func(err error) { doneErr <- err }))
	if err := s.Sync(); err == nil {
		t.Fatal("Sync succeeded although the manifest could not be written")
	}
	if err := <-doneErr; err == nil {
		t.Fatal("deferred append acknowledged although the manifest could not be written")
	}
	must(t, os.Remove(dir+"/MANIFEST.tmp")) // the trouble passes
	s.Close()
	s2 := openTest(t, dir, Options{})
	defer s2.Close()
	if rows, _ := countRows(t, s2, "/d"); rows != 0 {
		t.Errorf("%d events reported as failed are stored after reopen", rows)
	}
}
