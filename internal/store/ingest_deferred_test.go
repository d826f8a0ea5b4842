package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// TestAppendDeferred checks the promises of AppendDeferred and Sync:
// deferred events are readable at once, done is called only once they are
// in segments listed in the manifest (so a reopen without Close finds
// them), they never reach the WAL, and Sync waits for all of them.
func TestAppendDeferred(t *testing.T) {
	for _, tc := range []struct {
		name     string
		memBytes int // small: many flushes during the appends
		mixed    bool
	}{
		{"one memtable", 0, false},
		{"many memtables", 16 << 10, false},
		{"many memtables with WAL appends", 16 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// No merges: the store is copied while open, below.
			s := openTest(t, dir, Options{MemtableBytes: tc.memBytes, MergeMinSegments: 1 << 30})
			must(t, s.CreateLogGroup(acct, "/d", GroupOptions{}))
			must(t, s.CreateLogStream(acct, "/d", "s"))
			var acked atomic.Int64
			var mu sync.Mutex
			var doneErrs []error
			const batches, per = 40, 100
			for b := 0; b < batches; b++ {
				evs := make([]Event, per)
				for i := range evs {
					evs[i] = Event{Timestamp: 1746057600000 + int64(b*per+i), Message: []byte(fmt.Sprintf(`{"b":%d,"i":%d}`, b, i))}
				}
				if tc.mixed && b%2 == 1 {
					must(t, s.Append(acct, "/d", "s", evs))
					continue
				}
				must(t, s.AppendDeferred(acct, "/d", "s", evs, func(err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						doneErrs = append(doneErrs, err)
					}
					acked.Add(per)
				}))
			}
			if rows, _ := countRows(t, s, "/d"); rows != batches*per {
				t.Errorf("before Sync: %d rows readable, want %d", rows, batches*per)
			}
			must(t, s.Sync())
			want := int64(batches * per)
			if tc.mixed {
				want /= 2
			}
			if acked.Load() != want || len(doneErrs) > 0 {
				t.Fatalf("after Sync: %d deferred events acknowledged (want %d), errors %v", acked.Load(), want, doneErrs)
			}
			must(t, s.Sync()) // nothing pending: returns at once

			// The deferred events are durable without the WAL: copy the
			// store as a crash would leave it (no Close), minus the WAL,
			// and open the copy. Only WAL appends may be lost that way,
			// and those are in segments already after Sync.
			snap := t.TempDir()
			copyTree(t, dir, snap)
			must(t, os.RemoveAll(filepath.Join(snap, "wal")))
			must(t, os.Remove(filepath.Join(snap, "LOCK")))
			s2 := openTest(t, snap, Options{})
			if rows, _ := countRows(t, s2, "/d"); rows != batches*per {
				t.Errorf("copy without WAL: %d rows, want %d", rows, batches*per)
			}
			must(t, s2.Close())
			must(t, s.Close())
			if err := s.AppendDeferred(acct, "/d", "s", []Event{{Timestamp: 1, Message: []byte("x")}}, func(error) { t.Error("done called after a refused append") }); !errors.Is(err, ErrClosed) {
				t.Errorf("AppendDeferred after Close: %v, want ErrClosed", err)
			}
			if err := s.Sync(); !errors.Is(err, ErrClosed) {
				t.Errorf("Sync after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestAppendDeferredClose checks that Close flushes deferred events and
// answers their done functions.
func TestAppendDeferredClose(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	must(t, s.CreateLogGroup(acct, "/d", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/d", "s"))
	var answered atomic.Int32
	must(t, s.AppendDeferred(acct, "/d", "s", []Event{{Timestamp: 1746057600000, Message: []byte(`{"a":1}`)}}, func(err error) {
		must(t, err)
		answered.Add(1)
	}))
	if err := s.AppendDeferred(acct, "/d", "nope", []Event{{Timestamp: 1, Message: []byte("x")}}, func(error) {}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown stream: %v, want ErrNotFound", err)
	}
	must(t, s.Close())
	if answered.Load() != 1 {
		t.Fatalf("done called %d times by Close, want 1", answered.Load())
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	if rows, _ := countRows(t, s, "/d"); rows != 1 {
		t.Errorf("after reopen: %d rows, want 1", rows)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	// The store is open: its background flush may delete a WAL file
	// between the listing and the read. A file gone by then is one a
	// crash at that moment would not have left either, so it is skipped.
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	must(t, err)
}
